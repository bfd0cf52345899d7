//! SUBSTR key start end
//!
//! GETRANGE under its name from before Redis 2.0, with the same arguments and replies: the
//! bytes of the string at the key from `start` to `end`, both included, negative offsets
//! counting from the end. Command modules share nothing but the prelude, so the range rules
//! are repeated here; `tests/cases/substr.txt` runs GETRANGE's cases to keep them in step.

use crate::prelude::*;

register_command!("substr", substr);

fn substr(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let start = args.int("start").ok_or(CommandError::Syntax)?;
    let end = args.int("end").ok_or(CommandError::Syntax)?;
    let now = ctx.now_ms;
    let value = match ctx.db().get(args.key("key"), now) {
        Some(value) => value.as_str()?.to_bytes(),
        None => return Ok(Reply::Bulk(Bytes::new())),
    };
    let part = byte_range(value.len(), start, end)
        .map_or_else(Bytes::new, |(first, last)| value.slice(first..=last));
    Ok(Reply::Bulk(part))
}

/// The first and last byte `start` and `end` select in a string of `len` bytes, by
/// GETRANGE's rules; `None` when nothing is left.
fn byte_range(len: usize, start: i64, end: i64) -> Option<(usize, usize)> {
    if start < 0 && end < 0 && start > end {
        return None;
    }
    let len = i64::try_from(len).ok()?;
    let from_end = |offset: i64| {
        if offset < 0 {
            (len + offset).max(0)
        } else {
            offset
        }
    };
    let (start, end) = (from_end(start), from_end(end).min(len - 1));
    if start > end {
        return None;
    }
    Some((usize::try_from(start).ok()?, usize::try_from(end).ok()?))
}
