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
    let value = match db.get(key, now) {
        Some(value) => value.as_str()?.to_bytes(),
        None => return Ok(Reply::Null),
    };
    if args.flag("persist") {
        db.persist(key, now);
    } else if let Some(at) = deadline(args, now)? {
        // A deadline that has already passed deletes the key, as Redis does for EXAT/PXAT.
        db.set_deadline(key, at, now);
    }
    Ok(Reply::Bulk(value))
}

/// The absolute deadline in Unix ms asked for by EX/PX/EXAT/PXAT, with Redis's checks: the
/// number must be positive, seconds must survive the conversion to milliseconds, and the
/// relative forms must not overflow when added to the current time.
fn deadline(args: &Args, now: i64) -> Result<Option<i64>, CommandError> {
    let invalid = CommandError::InvalidExpireTime("getex");
    let (name, seconds, relative) = match args.oneof("expiration") {
        Some(name @ "seconds") => (name, true, true),
        Some(name @ "milliseconds") => (name, false, true),
        Some(name @ "unix-time-seconds") => (name, true, false),
        Some(name @ "unix-time-milliseconds") => (name, false, false),
        _ => return Ok(None),
    };
    let value = args.int(name).ok_or(CommandError::Syntax)?;
    if value <= 0 {
        return Err(invalid);
    }
    let millis = if seconds {
        value.checked_mul(1000).ok_or(invalid.clone())?
    } else {
        value
    };
    if relative {
        millis.checked_add(now).map(Some).ok_or(invalid)
    } else {
        Ok(Some(millis))
    }
}
