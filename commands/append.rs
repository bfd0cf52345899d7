//! APPEND key value
//!
//! Appends the value to the string at the key and replies with the new length. A missing key
//! is created holding the value, encoded as SET would store it (`int`, `embstr` or `raw`); an
//! existing value becomes `raw`, because Redis turns it into a private growable buffer before
//! appending. The key keeps its time to live.

use crate::prelude::*;

register_command!("append", append);

fn append(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let now = ctx.now_ms;
    let limit = ctx.config().proto_max_bulk_len();
    let key = args.key("key");
    let tail = args.bytes("value");
    let db = ctx.db();
    let Some(value) = db.get_mut(key, now) else {
        db.set(
            key,
            Value::Str(Str::encoded(tail.clone())),
            None,
            false,
            now,
        );
        ctx.mark_dirty(1);
        return Ok(Reply::Integer(tail.len() as i64));
    };
    let current = value.as_str_mut()?;
    let total = checked_length(current.len(), tail.len(), limit)?;
    let old = std::mem::replace(current, Str::Int(0));
    *current = appended(old, tail);
    ctx.mark_dirty(1);
    Ok(Reply::Integer(total as i64))
}

/// The length after appending, refused as Redis does when it would pass `proto-max-bulk-len`
/// (a value no client could send in one piece).
fn checked_length(current: usize, added: usize, limit: u64) -> Result<u64, CommandError> {
    let total = current as u64 + added as u64;
    if total > limit {
        return Err(CommandError::err(
            "string exceeds maximum allowed size (proto_max_bulk_len)",
        ));
    }
    Ok(total)
}

/// `old` followed by `tail`, as a `raw` string. The old buffer is reused when nothing else
/// shares it (a `Vec` grows by doubling), so appending many small pieces costs amortised
/// O(1) per piece, as Redis's growable strings do, instead of a full copy every time.
fn appended(old: Str, tail: &[u8]) -> Str {
    let mut buffer: Vec<u8> = match old {
        Str::Int(n) => n.to_string().into_bytes(),
        Str::Embstr(bytes) => bytes.to_vec(),
        Str::Raw(bytes) => Vec::from(bytes),
    };
    buffer.extend_from_slice(tail);
    Str::Raw(Bytes::from(buffer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_appended_value_is_raw() {
        // Redis: APPEND to an int or embstr value leaves OBJECT ENCODING raw, even when the
        // result is short or reads as an integer.
        let cases = [
            (Str::Int(5), &b"5"[..], &b"55"[..]),
            (Str::Int(-12), b"", b"-12"),
            (Str::plain(Bytes::from_static(b"ab")), b"cd", b"abcd"),
            (Str::Raw(Bytes::from(vec![b'x'; 50])), b"y", &[b'x'; 50][..]),
        ];
        for (old, tail, prefix) in cases {
            let new = appended(old, tail);
            assert_eq!(new.encoding(), "raw");
            assert!(new.to_bytes().starts_with(prefix));
            assert!(new.to_bytes().ends_with(tail));
        }
    }

    #[test]
    fn the_buffer_is_reused_when_unshared() {
        let mut value = Str::Raw(Bytes::from(b"start".to_vec()));
        for _ in 0..1000 {
            value = appended(value, b"0123456789");
        }
        assert_eq!(value.len(), 5 + 10_000);
        let Str::Raw(bytes) = &value else {
            panic!("raw expected");
        };
        // A shared buffer is copied, never changed under its other owner.
        let other = bytes.clone();
        let grown = appended(value, b"!");
        assert_eq!(other.len(), 10_005);
        assert_eq!(grown.len(), 10_006);
    }

    #[test]
    fn the_length_limit_is_proto_max_bulk_len() {
        assert_eq!(checked_length(10, 5, 15), Ok(15));
        assert_eq!(
            checked_length(10, 6, 15).unwrap_err().to_string(),
            "ERR string exceeds maximum allowed size (proto_max_bulk_len)"
        );
    }
}
