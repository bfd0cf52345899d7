//! INCRBY key increment
//!
//! Adds the increment to the integer stored at the key (0 when the key does not exist) and
//! replies with the result. The value must read as a 64-bit integer exactly as Redis reads one
//! (no spaces, no `+`, no leading zeros) and the sum must not overflow. The result is stored
//! `int`-encoded and the key keeps its time to live.
//!
//! INCR, DECR and DECRBY are this command with a fixed or negated amount, as in Redis; they
//! call [`increment_by`].

use crate::prelude::*;

register_command!("incrby", incrby);

fn incrby(ctx: &mut Ctx, args: &Args) -> CommandResult {
    // The dispatcher has already refused a non-integer increment, before the key is looked
    // at, which is Redis's order too.
    let delta = args.int("increment").ok_or(CommandError::NotInteger)?;
    increment_by(ctx, args.key("key"), delta)
}

/// The shared body of INCR, DECR, INCRBY and DECRBY: add `delta` to the integer at `key`.
/// The result is stored `int`-encoded whatever the old encoding was, as Redis does.
pub(super) fn increment_by(ctx: &mut Ctx, key: &Bytes, delta: i64) -> CommandResult {
    let now = ctx.now_ms;
    let db = ctx.db();
    let new = match db.get_mut(key, now) {
        Some(value) => {
            // Changed in place, so the key keeps its time to live.
            let current = value.as_str_mut()?;
            let new = added(Some(current), delta)?;
            *current = Str::Int(new);
            new
        }
        None => {
            let new = added(None, delta)?;
            db.set(key, Value::Str(Str::Int(new)), None, false, now);
            new
        }
    };
    ctx.mark_dirty(1);
    Ok(Reply::Integer(new))
}

/// `current + delta`, a missing key counting as 0.
fn added(current: Option<&Str>, delta: i64) -> Result<i64, CommandError> {
    let old = match current {
        Some(s) => s.as_int().ok_or(CommandError::NotInteger)?,
        None => 0,
    };
    old.checked_add(delta)
        .ok_or_else(|| CommandError::err("increment or decrement would overflow"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_of_any_encoding() {
        let cases = [
            (None, 5, 5),
            (Some(Str::Int(41)), 1, 42),
            (Some(Str::plain(Bytes::from_static(b"10"))), -3, 7),
            (Some(Str::Raw(Bytes::from_static(b"-10"))), 10, 0),
            (Some(Str::Int(i64::MAX - 1)), 1, i64::MAX),
        ];
        for (old, delta, new) in cases {
            assert_eq!(added(old.as_ref(), delta), Ok(new));
        }
    }

    #[test]
    fn refusals() {
        let overflow = CommandError::err("increment or decrement would overflow");
        assert_eq!(added(Some(&Str::Int(i64::MAX)), 1), Err(overflow.clone()));
        assert_eq!(added(Some(&Str::Int(i64::MIN)), -1), Err(overflow));
        for text in [&b"abc"[..], b"", b" 1", b"+1", b"01", b"1.0", b"-0"] {
            let s = Str::plain(Bytes::copy_from_slice(text));
            assert_eq!(added(Some(&s), 1), Err(CommandError::NotInteger));
        }
    }
}
