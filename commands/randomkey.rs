//! RANDOMKEY
//!
//! A key of the selected database chosen at random, nil when the database is empty. Expired
//! keys met on the way are deleted and never returned.

use crate::prelude::*;

register_command!("randomkey", randomkey);

fn randomkey(ctx: &mut Ctx, _args: &Args) -> CommandResult {
    let now = ctx.now_ms;
    let rng = ctx.rng;
    Ok(ctx
        .db()
        .random_key(now, || rng.next_u64())
        .map_or(Reply::Null, Reply::Bulk))
}
