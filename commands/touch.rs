//! TOUCH key [key ...]
//!
//! Marks each existing key as just accessed (what OBJECT IDLETIME measures from) and replies
//! with how many of them exist. A key named twice is counted twice, as Redis does.

use crate::prelude::*;

register_command!("touch", touch);

fn touch(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let now = ctx.now_ms;
    let db = ctx.db();
    let touched = args
        .all("key")
        .filter(|key| db.read(key, now).is_some())
        .count();
    Ok(Reply::Integer(touched as i64))
}
