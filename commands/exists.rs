//! EXISTS key [key ...]
//!
//! How many of the given keys exist. A key named twice is counted twice, as Redis does.
//! Checking does not count as an access (OBJECT IDLETIME is unchanged).

use crate::prelude::*;

register_command!("exists", exists);

fn exists(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let now = ctx.now_ms;
    let db = ctx.db();
    let found = args
        .all("key")
        .filter(|key| db.read_untouched(key, now).is_some())
        .count();
    Ok(Reply::Integer(found as i64))
}
