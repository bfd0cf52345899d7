//! PERSIST key
//!
//! Drops the key's deadline, so that it lives until deleted: 1 when it had one, 0 when it had
//! none or does not exist.

use crate::prelude::*;

register_command!("persist", persist);

fn persist(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let now = ctx.now_ms;
    let key = args.key("key");
    let db = ctx.db();
    // Like any write, PERSIST counts as an access of an existing key, deadline or not.
    let dropped = db.touch(key, now) && db.persist(key, now);
    ctx.mark_dirty(u64::from(dropped));
    Ok(Reply::Integer(i64::from(dropped)))
}
