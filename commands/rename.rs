//! RENAME key newkey
//!
//! Moves the value at `key` to `newkey`, with its TTL (or lack of one); whatever `newkey` held
//! is dropped, TTL included. Renaming a key to its own name changes nothing. A missing key is
//! an error.

use crate::prelude::*;

register_command!("rename", rename);

fn rename(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let (key, newkey) = (args.key("key"), args.key("newkey"));
    let now = ctx.now_ms;
    let db = ctx.db();
    // Redis looks the source up before it compares the names, so renaming a missing key to
    // itself is still "no such key". The lookup counts as an access, as in Redis.
    if db.get(key, now).is_none() {
        return Err(CommandError::err("no such key"));
    }
    if key != newkey {
        if let Some(moved) = db.take_to_move(key, now) {
            db.put_moved(newkey.clone(), moved, now);
            ctx.mark_dirty(1);
        }
    }
    Ok(Reply::ok())
}
