//! GETDEL key
//!
//! Replies with the string at the key and deletes the key; nil (and nothing deleted) when the
//! key does not exist. A key of another type is refused with WRONGTYPE and kept.

use crate::prelude::*;

register_command!("getdel", getdel);

fn getdel(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let key = args.key("key");
    let now = ctx.now_ms;
    let db = ctx.db();
    let value = match db.read(key, now) {
        Some(value) => value.as_str()?.to_bytes(),
        None => return Ok(Reply::Null),
    };
    db.remove(key, now);
    ctx.mark_dirty(1);
    // Replicas get the equivalent DEL, as Redis 7.0 sends it.
    ctx.propagate_as(vec![Bytes::from_static(b"DEL"), key.clone()]);
    Ok(Reply::Bulk(value))
}
