//! SLOWLOG RESET
//!
//! Empties the slow log; entry ids keep counting.

use crate::prelude::*;

register_command!("slowlog-reset", slowlog_reset);

fn slowlog_reset(ctx: &mut Ctx, _args: &Args) -> CommandResult {
    ctx.slowlog.reset();
    Ok(Reply::ok())
}
