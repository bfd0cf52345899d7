//! PSETEX key milliseconds value
//!
//! SET key value PX milliseconds under its older name: stores the value (replacing whatever
//! the key held, of any type) with a time to live in milliseconds. The time must be positive
//! and the deadline it gives must not overflow.

use crate::prelude::*;

register_command!("psetex", psetex);

fn psetex(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let invalid = CommandError::InvalidExpireTime("psetex");
    let millis = args.int("milliseconds").ok_or(CommandError::Syntax)?;
    if millis <= 0 {
        return Err(invalid);
    }
    // Relative to the command's time; a sum past i64::MAX is refused as Redis does.
    let at = millis.checked_add(ctx.now_ms).ok_or(invalid)?;
    let now = ctx.now_ms;
    let value = Value::Str(Str::encoded(args.bytes("value").clone()));
    ctx.db()
        .set(args.key("key").clone(), value, Some(at), false, now);
    ctx.mark_dirty(1);
    // Replicas get an absolute deadline, as Redis 7.0 sends it.
    ctx.propagate_as(vec![
        Bytes::from_static(b"SET"),
        args.key("key").clone(),
        args.bytes("value").clone(),
        Bytes::from_static(b"PXAT"),
        Bytes::from(at.to_string()),
    ]);
    Ok(Reply::ok())
}
