//! CONFIG RESETSTAT
//!
//! Sets the counters INFO reports (commands, errors, connections received) back to zero.

use crate::prelude::*;

register_command!("config-resetstat", config_resetstat);

fn config_resetstat(ctx: &mut Ctx, _args: &Args) -> CommandResult {
    ctx.stats.reset();
    ctx.keyspace.reset_counters();
    ctx.latency.commands.reset();
    Ok(Reply::ok())
}
