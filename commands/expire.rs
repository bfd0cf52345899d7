//! EXPIRE key seconds [NX|XX|GT|LT]
//!
//! Gives an existing key a deadline `seconds` from now; 1 when the deadline was set (or the key
//! deleted because the deadline is already past), 0 when the key does not exist or a condition
//! refused. NX: only a key without a deadline; XX: only a key with one; GT / LT: only when the
//! new deadline is later / earlier than the current one, a key without a deadline counting as
//! one infinitely far away. PEXPIRE, EXPIREAT and PEXPIREAT differ only in how they read their
//! number, so they share `set_expiry` and `check_conditions` with this module.

use crate::prelude::*;

register_command!("expire", expire, check = check_conditions);

fn expire(ctx: &mut Ctx, args: &Args) -> CommandResult {
    set_expiry(
        ctx,
        args,
        Form {
            command: "expire",
            argument: "seconds",
            seconds: true,
            relative: true,
        },
    )
}

/// How a command of the EXPIRE family reads its number.
pub(super) struct Form {
    /// The name in `invalid expire time in '<command>' command`.
    pub command: &'static str,
    /// The spec name of the number argument.
    pub argument: &'static str,
    /// The number counts seconds (EXPIRE, EXPIREAT) rather than milliseconds.
    pub seconds: bool,
    /// The number is relative to now (EXPIRE, PEXPIRE) rather than a Unix time.
    pub relative: bool,
}

/// The combinations Redis refuses, checked before the number is converted (so `EXPIRE k abc
/// NX XX` names the conflict, not the number). XX may go with GT or LT; NX goes with nothing.
pub(super) fn check_conditions(args: &Args) -> Result<(), CommandError> {
    let (nx, xx, gt, lt) = (
        args.flag("nx"),
        args.flag("xx"),
        args.flag("gt"),
        args.flag("lt"),
    );
    if nx && (xx || gt || lt) {
        return Err(CommandError::err(
            "NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if gt && lt {
        return Err(CommandError::err(
            "GT and LT options at the same time are not compatible",
        ));
    }
    Ok(())
}

/// The shared body of EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT, in Redis's order: the deadline
/// must be computable (overflow is an error even for a missing key), then the key must exist,
/// then the conditions must hold.
pub(super) fn set_expiry(ctx: &mut Ctx, args: &Args, form: Form) -> CommandResult {
    let now = ctx.now_ms;
    let when = deadline(args, &form, now)?;
    let key = args.key("key");
    let db = ctx.db();
    // Like any write, EXPIRE counts as an access of the key, even when a condition refuses.
    if !db.touch(key, now) {
        return Ok(Reply::Integer(0));
    }
    let current = db.deadline(key, now).flatten();
    if !conditions_allow(args, current, when) {
        return Ok(Reply::Integer(0));
    }
    // A deadline that is already past deletes the key, and that still counts as done.
    db.set_deadline(key, when, now);
    ctx.mark_dirty(1);
    // Replicas get an absolute deadline in milliseconds with the same conditions, or the
    // deletion, as Redis 7.0 sends them.
    let argv = ctx.argv;
    let rewritten = if when <= now {
        vec![Bytes::from_static(b"DEL"), key.clone()]
    } else {
        let mut words = vec![
            Bytes::from_static(b"PEXPIREAT"),
            key.clone(),
            Bytes::from(when.to_string()),
        ];
        words.extend_from_slice(&argv[3..]);
        words
    };
    ctx.propagate_as(rewritten);
    Ok(Reply::Integer(1))
}

/// The absolute deadline in Unix ms. Negative and past values are allowed (they delete the
/// key); only a value whose conversion to milliseconds, or whose sum with now, leaves the
/// 64-bit range is refused.
fn deadline(args: &Args, form: &Form, now: i64) -> Result<i64, CommandError> {
    let invalid = || CommandError::InvalidExpireTime(form.command);
    let value = args.int(form.argument).ok_or(CommandError::Syntax)?;
    let millis = if form.seconds {
        value.checked_mul(1000).ok_or_else(invalid)?
    } else {
        value
    };
    if form.relative {
        millis.checked_add(now).ok_or_else(invalid)
    } else {
        Ok(millis)
    }
}

/// Whether NX/XX/GT/LT let `when` replace the key's `current` deadline (`None`: it has none,
/// which counts as infinitely far away: GT always refuses, LT always accepts).
fn conditions_allow(args: &Args, current: Option<i64>, when: i64) -> bool {
    if args.flag("nx") && current.is_some() {
        return false;
    }
    if args.flag("xx") && current.is_none() {
        return false;
    }
    if args.flag("gt") && current.is_none_or(|c| when <= c) {
        return false;
    }
    if args.flag("lt") && current.is_some_and(|c| when >= c) {
        return false;
    }
    true
}
