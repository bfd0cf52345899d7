//! LATENCY LATEST
//!
//! For every event the latency monitor has recorded: `[event, unix time of its newest sample,
//! that sample's milliseconds, the worst milliseconds ever]`.

use crate::prelude::*;

register_command!("latency-latest", latency_latest);

fn latency_latest(ctx: &mut Ctx, _args: &Args) -> CommandResult {
    Ok(Reply::Array(
        ctx.latency
            .latest()
            .into_iter()
            .map(|e| {
                Reply::Array(vec![
                    Reply::Bulk(Bytes::from(e.event)),
                    Reply::Integer(e.time),
                    Reply::Integer(i64::try_from(e.latency).unwrap_or(i64::MAX)),
                    Reply::Integer(i64::try_from(e.max).unwrap_or(i64::MAX)),
                ])
            })
            .collect(),
    ))
}
