//! INCRBYFLOAT key increment
//!
//! Adds the increment to the number stored at the key (0 when the key does not exist) and
//! replies with the result as text. Redis does this in C's `long double` (x87 extended
//! precision) and prints with `%.17Lf` minus trailing zeros; `LongDouble` reproduces both
//! exactly, so `0.1 + 0.2` is `0.3` here too. The result is stored as that text (`embstr` or
//! `raw`, never `int`, even when it reads as an integer) and the key keeps its time to live.

use crate::prelude::*;

register_command!("incrbyfloat", incrbyfloat);

fn incrbyfloat(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let now = ctx.now_ms;
    let key = args.key("key");
    let db = ctx.db();
    let current = match db.get_mut(key, now) {
        Some(value) => Some(value.as_str_mut()?),
        None => None,
    };
    // Redis's order: the key's type, then the stored value, then the increment.
    let old = match current.as_deref() {
        Some(s) => stored_number(s)?,
        None => LongDouble::ZERO,
    };
    let increment = LongDouble::parse(args.bytes("increment")).ok_or(CommandError::NotFloat)?;
    let (new, text) = summed(old, increment)?;
    match current {
        Some(s) => *s = new,
        None => db.set(key, Value::Str(new), None, false, now),
    }
    ctx.mark_dirty(1);
    // Replicas get the result, not the addition: long double arithmetic may differ there.
    ctx.propagate_as(vec![
        Bytes::from_static(b"SET"),
        key.clone(),
        text.clone(),
        Bytes::from_static(b"KEEPTTL"),
    ]);
    Ok(Reply::Bulk(text))
}

/// The number a stored string holds, as Redis reads it for INCRBYFLOAT.
fn stored_number(s: &Str) -> Result<LongDouble, CommandError> {
    match s {
        Str::Int(n) => Ok(LongDouble::from_i64(*n)),
        Str::Embstr(text) => LongDouble::parse(text).ok_or(CommandError::NotFloat),
        Str::Raw(text) => LongDouble::parse(text).ok_or(CommandError::NotFloat),
    }
}

/// The sum as it is stored (text, by length `embstr` or `raw`) and as it is replied.
fn summed(old: LongDouble, increment: LongDouble) -> Result<(Str, Bytes), CommandError> {
    let sum = old + increment;
    if !sum.is_finite() {
        return Err(CommandError::err("increment would produce NaN or Infinity"));
    }
    let text = Bytes::from(sum.to_human());
    Ok((Str::plain(text.clone()), text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(text: &str) -> LongDouble {
        LongDouble::parse(text.as_bytes()).expect(text)
    }

    #[test]
    fn results_are_stored_as_text() {
        // Redis: OBJECT ENCODING after INCRBYFLOAT is embstr even for "3", raw past 44 bytes.
        let (new, text) = summed(n("1.5"), n("1.5")).unwrap();
        assert_eq!(new, Str::plain(Bytes::from_static(b"3")));
        assert_eq!(text, "3");
        let (new, _) = summed(n("1e30"), n("1e40")).unwrap();
        assert_eq!(new.encoding(), "embstr");
        assert_eq!(new.to_bytes(), "10000000001000000000073757053179303821312");
        let (new, _) = summed(n("1e50"), n("0")).unwrap();
        assert_eq!(new.encoding(), "raw");
    }

    #[test]
    fn stored_values_of_every_encoding() {
        assert_eq!(stored_number(&Str::Int(-7)), Ok(LongDouble::from_i64(-7)));
        assert_eq!(
            stored_number(&Str::Raw(Bytes::from_static(b"10.5"))),
            Ok(n("10.5"))
        );
        assert_eq!(
            stored_number(&Str::plain(Bytes::from_static(b"1 "))),
            Err(CommandError::NotFloat)
        );
    }

    #[test]
    fn infinite_results_are_refused() {
        let err = CommandError::err("increment would produce NaN or Infinity");
        assert_eq!(summed(n("1"), n("inf")), Err(err.clone()));
        assert_eq!(summed(n("inf"), n("-inf")), Err(err.clone()));
        assert_eq!(summed(n("1e4932"), n("1e4932")), Err(err));
    }
}
