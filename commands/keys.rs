//! KEYS pattern
//!
//! Every live key of the selected database that matches the glob pattern, in no particular
//! order. Keys whose TTL has run out are left out but not deleted, as in Redis, so listing
//! stays a pure read. The pattern `*` on its own matches every key, the empty key included
//! (`Db::keys` takes care of that quirk).

use crate::prelude::*;

register_command!("keys", keys);

fn keys(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let now = ctx.now_ms;
    let found = ctx.db().keys(args.bytes("pattern"), now);
    Ok(Reply::Array(found.into_iter().map(Reply::Bulk).collect()))
}
