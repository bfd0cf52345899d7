//! MGET key [key ...]
//!
//! The string stored at each key, in order: nil for a missing key and, unlike GET, also nil
//! (not WRONGTYPE) for a key holding another type.

use crate::prelude::*;

register_command!("mget", mget);

fn mget(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let now = ctx.now_ms;
    let db = ctx.db();
    let values = args
        .all("key")
        .map(|key| match db.read(key, now).map(Value::as_str) {
            Some(Ok(s)) => s.to_reply(),
            _ => Reply::Null,
        })
        .collect();
    Ok(Reply::Array(values))
}
