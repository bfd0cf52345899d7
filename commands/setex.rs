//! SETEX key seconds value
//!
//! SET key value EX seconds under its older name: stores the value (replacing whatever the key
//! held, of any type) with a time to live. The time must be positive and must not overflow
//! once turned into an absolute deadline in milliseconds.

use crate::prelude::*;

register_command!("setex", setex);

fn setex(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let invalid = CommandError::InvalidExpireTime("setex");
    let seconds = args.int("seconds").ok_or(CommandError::Syntax)?;
    // Redis refuses what SET ... EX refuses: zero or less, seconds too large to be counted
    // in milliseconds, and a deadline past the end of i64 time.
    if seconds <= 0 {
        return Err(invalid);
    }
    let at = seconds
        .checked_mul(1000)
        .and_then(|ms| ms.checked_add(ctx.now_ms))
        .ok_or(invalid)?;
    store_until(ctx, args, at)
}

/// Store `value` at `key` until `at` (Unix ms), the shared end of SETEX and PSETEX; replicas
/// get `SET key value PXAT at`, the absolute form Redis 7.0 sends.
pub(super) fn store_until(ctx: &mut Ctx, args: &Args, at: i64) -> CommandResult {
    let now = ctx.now_ms;
    let value = Value::Str(Str::encoded_arg(args.bytes("value")));
    ctx.db().set(args.key("key"), value, Some(at), false, now);
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
