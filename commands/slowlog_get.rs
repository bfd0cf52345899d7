//! SLOWLOG GET [count]
//!
//! The newest `count` entries of the slow log (10 by default, all with -1), each as
//! `[id, unix time, microseconds, [arguments], "ip:port", "client name"]`.

use crate::prelude::*;

register_command!("slowlog-get", slowlog_get);

fn slowlog_get(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let count = match args.int("count").unwrap_or(10) {
        -1 => None,
        n if n < -1 => {
            return Err(CommandError::err(
                "count should be greater than or equal to -1",
            ))
        }
        n => Some(usize::try_from(n).unwrap_or(usize::MAX)),
    };
    let entries = ctx.slowlog.newest(count);
    Ok(Reply::Array(
        entries
            .into_iter()
            .map(|e| {
                Reply::Array(vec![
                    Reply::Integer(e.id),
                    Reply::Integer(e.time),
                    Reply::Integer(e.duration_us),
                    Reply::Array(e.args.into_iter().map(Reply::Bulk).collect()),
                    Reply::Bulk(e.addr),
                    Reply::Bulk(e.name),
                ])
            })
            .collect(),
    ))
}
