//! LATENCY RESET [event ...]
//!
//! Forgets the samples of the named events, or of every event without names; replies with
//! how many events were forgotten (a name given twice counts once).

use crate::prelude::*;

register_command!("latency-reset", latency_reset);

fn latency_reset(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let names: Vec<Bytes> = args.all("event").cloned().collect();
    let names = (!names.is_empty()).then_some(&names[..]);
    let forgotten = ctx.latency.reset(names);
    Ok(Reply::Integer(i64::try_from(forgotten).unwrap_or(i64::MAX)))
}
