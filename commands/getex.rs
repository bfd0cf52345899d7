//! GETEX key [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|PERSIST]
//!
//! Replies with the string at the key, like GET, and then changes its deadline: EX/PX set a
//! relative one, EXAT/PXAT an absolute one (a moment already past deletes the key after the
//! reply is taken), PERSIST removes it. Redis looks the key up before it checks the number's
//! range, so a missing key is nil even with `EX 0`.

use crate::prelude::*;

register_command!("getex", getex);

fn getex(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let key = args.key("key");
    let now = ctx.now_ms;
    let db = ctx.db();
    let value = match db.read(key, now) {
        Some(value) => value.as_str()?.to_bytes(),
        None => return Ok(Reply::Null),
    };
    if args.flag("persist") {
        if db.persist(key, now) {
            ctx.mark_dirty(1);
            ctx.propagate_as(vec![Bytes::from_static(b"PERSIST"), key.clone()]);
        }
    } else if let Some(at) = super::set::deadline(args, args.oneof("expiration"), now, "getex")? {
        // A deadline that has already passed deletes the key, as Redis does for EXAT/PXAT.
        db.set_deadline(key, at, now);
        ctx.mark_dirty(1);
        // Replicas get an absolute deadline, or the deletion, as Redis 7.0 sends them.
        ctx.propagate_as(if at <= now {
            vec![Bytes::from_static(b"DEL"), key.clone()]
        } else {
            vec![
                Bytes::from_static(b"PEXPIREAT"),
                key.clone(),
                Bytes::from(at.to_string()),
            ]
        });
    }
    Ok(Reply::Bulk(value))
}
