//! DEL key [key ...]
//!
//! Removes the given keys and replies with how many of them existed. A key named twice is
//! removed once and counted once; an expired key counts as missing.

use crate::prelude::*;

register_command!("del", del);

/// Also UNLINK's handler.
pub(super) fn del(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let now = ctx.now_ms;
    let db = ctx.db();
    let removed = args
        .all("key")
        .filter(|key| db.remove(key, now).is_some())
        .count();
    ctx.mark_dirty(removed as u64);
    Ok(Reply::Integer(removed as i64))
}
