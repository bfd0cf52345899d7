//! RENAMENX key newkey
//!
//! RENAME, but only when `newkey` does not exist: 1 when the key was renamed (its TTL goes
//! with it), 0 when `newkey` is taken, including by the key itself. A missing key is an
//! error.

use crate::prelude::*;

register_command!("renamenx", renamenx);

fn renamenx(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let (key, newkey) = (args.key("key"), args.key("newkey"));
    let now = ctx.now_ms;
    let db = ctx.db();
    // The source is looked up first, as in Redis: a missing key is an error even when the new
    // name is taken or is the same name. Both lookups count as accesses, as Redis's do.
    if db.get(key, now).is_none() {
        return Err(CommandError::err("no such key"));
    }
    if key == newkey || db.get(newkey, now).is_some() {
        return Ok(Reply::Integer(0));
    }
    if let Some(moved) = db.take_to_move(key, now) {
        db.put_moved(newkey.clone(), moved, now);
    }
    ctx.mark_dirty(1);
    Ok(Reply::Integer(1))
}
