//! GETRANGE key start end
//!
//! The bytes of the string at the key from `start` to `end`, both included. Negative offsets
//! count from the end (-1 is the last byte); offsets past either end are clamped; an empty
//! string when the range is empty or the key does not exist. The reply shares the stored
//! bytes, so even a huge range allocates nothing.

use crate::prelude::*;

register_command!("getrange", getrange);

/// Also SUBSTR's handler: the two specs describe the same arguments.
pub(super) fn getrange(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let start = args.int("start").ok_or(CommandError::Syntax)?;
    let end = args.int("end").ok_or(CommandError::Syntax)?;
    let now = ctx.now_ms;
    let value = match ctx.db().read(args.key("key"), now) {
        Some(value) => value.as_str()?.to_bytes(),
        None => return Ok(Reply::Bulk(Bytes::new())),
    };
    let part = byte_range(value.len(), start, end)
        .map_or_else(Bytes::new, |(first, last)| value.slice(first..=last));
    Ok(Reply::Bulk(part))
}

/// The first and last byte `start` and `end` select in a string of `len` bytes, by Redis's
/// rules (which SUBSTR repeats): two negative offsets in the wrong order select nothing; a
/// negative offset counts from the end and stops at the first byte; `end` stops at the last
/// byte; `None` when nothing is left.
fn byte_range(len: usize, start: i64, end: i64) -> Option<(usize, usize)> {
    if start < 0 && end < 0 && start > end {
        return None;
    }
    // A stored string is far shorter than i64::MAX, and `len + offset` with a negative offset
    // cannot overflow.
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
