//! TTL key
//!
//! The time the key has left to live, in seconds rounded to the nearest (half up); -1 when it
//! has no deadline, -2 when it does not exist. PTTL, EXPIRETIME and PEXPIRETIME report the same
//! deadline in other forms, so they share `report` with this module.

use crate::prelude::*;

register_command!("ttl", ttl);

fn ttl(ctx: &mut Ctx, args: &Args) -> CommandResult {
    report(ctx, args, Shown::Seconds, Base::Now)
}

/// The unit a command of the TTL family answers in.
pub(super) enum Shown {
    Seconds,
    Milliseconds,
}

/// What a command of the TTL family measures the deadline from.
pub(super) enum Base {
    /// The time left (TTL, PTTL).
    Now,
    /// The deadline itself, as a Unix time (EXPIRETIME, PEXPIRETIME).
    Epoch,
}

/// The key's deadline in the asked form; -2 for a missing key, -1 for one without a deadline.
pub(super) fn report(ctx: &mut Ctx, args: &Args, shown: Shown, base: Base) -> CommandResult {
    let now = ctx.now_ms;
    // Reading a deadline does not count as an access of the key (OBJECT IDLETIME stays).
    let db = ctx.db();
    let deadline = db.deadline(args.key("key"), now);
    db.count_read(deadline.is_some());
    let Some(deadline) = deadline else {
        return Ok(Reply::Integer(-2));
    };
    let Some(when) = deadline else {
        return Ok(Reply::Integer(-1));
    };
    let millis = match base {
        // A live key's deadline is still ahead; the floor at 0 only guards the arithmetic.
        Base::Now => when.saturating_sub(now).max(0),
        Base::Epoch => when,
    };
    Ok(Reply::Integer(match shown {
        Shown::Milliseconds => millis,
        Shown::Seconds => round_to_seconds(millis),
    }))
}

/// Milliseconds to seconds, rounded half up as Redis does (`(ms + 500) / 1000`). Done in i128
/// so that a deadline near i64::MAX (PEXPIREAT k 9223372036854775807) gives the exact result,
/// as Redis's build does, rather than overflowing.
fn round_to_seconds(millis: i64) -> i64 {
    let seconds = (i128::from(millis) + 500) / 1000;
    i64::try_from(seconds).unwrap_or(i64::MAX)
}
