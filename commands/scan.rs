//! SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
//!
//! A few keys of the selected database per call, and the cursor to continue from; a walk that
//! starts and ends at cursor 0 returns every key that was there the whole time at least once,
//! however the table grows or shrinks in between (the dict's reverse-binary cursor).

use crate::prelude::*;

register_command!("scan", scan);

/// Redis's default batch.
const DEFAULT_COUNT: i64 = 10;

fn scan(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let cursor = args.cursor("cursor").ok_or(CommandError::Syntax)?;
    let count = args.int("count").unwrap_or(DEFAULT_COUNT);
    if count < 1 {
        return Err(CommandError::Syntax);
    }
    // As Redis: a pattern of just `*` matches every key, so it is not even tried.
    let pattern = args.opt_bytes("pattern").filter(|p| &p[..] != b"*");
    let wanted_type = args.opt_bytes("type");
    let now = ctx.now_ms;
    let (next, found) = ctx
        .db()
        .scan(cursor, usize::try_from(count).unwrap_or(usize::MAX), now);
    let keys = found
        .into_iter()
        .filter(|(key, _)| pattern.is_none_or(|p| glob_match(p, key, false)))
        .filter(|(_, type_name)| {
            wanted_type.is_none_or(|t| t.eq_ignore_ascii_case(type_name.as_bytes()))
        })
        .map(|(key, _)| Reply::Bulk(key))
        .collect();
    Ok(Reply::Array(vec![
        Reply::Bulk(Bytes::from(next.to_string())),
        Reply::Array(keys),
    ]))
}
