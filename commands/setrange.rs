//! SETRANGE key offset value
//!
//! Overwrites the string at the key with `value` from byte `offset` on, padding with zero
//! bytes when the string is shorter than the offset, and replies with the new length. A
//! missing key counts as an empty string, but an empty value creates nothing. The key keeps
//! its deadline, and the result is stored `raw`, as Redis stores a string modified in place.

use crate::prelude::*;

register_command!("setrange", setrange);

fn setrange(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let offset = args.int("offset").ok_or(CommandError::Syntax)?;
    if offset < 0 {
        return Err(CommandError::err("offset is out of range"));
    }
    let value = args.bytes("value");
    let limit = ctx.config().proto_max_bulk_len();
    let (key, now) = (args.key("key"), ctx.now_ms);
    let db = ctx.db();
    // Redis checks the type, then answers an empty write, and only then checks the size.
    match db.get_mut(key, now) {
        Some(stored) => {
            let old = stored.as_str_mut()?;
            if !value.is_empty() {
                let start = write_start(offset, value.len(), limit)?;
                *old = overwrite(&old.to_bytes(), start, value);
            }
            let len = old.len() as i64;
            // An empty value changes nothing and is not counted, as in Redis.
            ctx.mark_dirty(u64::from(!value.is_empty()));
            Ok(Reply::Integer(len))
        }
        None if value.is_empty() => Ok(Reply::Integer(0)),
        None => {
            let start = write_start(offset, value.len(), limit)?;
            let new = overwrite(&[], start, value);
            let len = new.len() as i64;
            db.set(key, Value::Str(new), None, false, now);
            ctx.mark_dirty(1);
            Ok(Reply::Integer(len))
        }
    }
}

/// The offset as an index, refused as Redis refuses it when the string would grow past
/// `proto-max-bulk-len` (which also bounds what a client can make us allocate).
fn write_start(offset: i64, len: usize, limit: u64) -> Result<usize, CommandError> {
    let too_long = || CommandError::err("string exceeds maximum allowed size (proto-max-bulk-len)");
    u64::try_from(offset)
        .ok()
        .filter(|&offset| {
            offset
                .checked_add(len as u64)
                .is_some_and(|end| end <= limit)
        })
        .and_then(|offset| usize::try_from(offset).ok())
        .ok_or_else(too_long)
}

/// `old` with `value` written at `start`, zero-padded up to `start` when shorter.
fn overwrite(old: &[u8], start: usize, value: &[u8]) -> Str {
    let end = start + value.len();
    let mut bytes = Vec::with_capacity(old.len().max(end));
    bytes.extend_from_slice(old);
    bytes.resize(old.len().max(end), 0);
    bytes[start..end].copy_from_slice(value);
    Str::Raw(Bytes::from(bytes))
}
