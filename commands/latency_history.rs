//! LATENCY HISTORY event
//!
//! Every sampled second of one event, oldest first, as `[unix time, milliseconds]` pairs;
//! empty for an event the monitor has not seen.

use crate::prelude::*;

register_command!("latency-history", latency_history);

fn latency_history(ctx: &mut Ctx, args: &Args) -> CommandResult {
    Ok(Reply::Array(
        ctx.latency
            .history(args.bytes("event"))
            .into_iter()
            .map(|s| {
                Reply::Array(vec![
                    Reply::Integer(s.time),
                    Reply::Integer(i64::try_from(s.latency).unwrap_or(i64::MAX)),
                ])
            })
            .collect(),
    ))
}
