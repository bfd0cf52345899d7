//! UNLINK key [key ...]
//!
//! DEL as far as clients can tell: Redis only differs in freeing large values on a background
//! thread. Our values are dropped when the last reference goes, which is cheap enough to do
//! here, so this removes exactly as DEL does and replies with how many keys existed.

use crate::prelude::*;

register_command!("unlink", unlink);

fn unlink(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let now = ctx.now_ms;
    let db = ctx.db();
    let removed = args
        .all("key")
        .filter(|key| db.remove(key, now).is_some())
        .count();
    Ok(Reply::Integer(removed as i64))
}
