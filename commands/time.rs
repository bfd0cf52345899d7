//! TIME
//!
//! The server's clock as two bulk strings: seconds since the Unix epoch and the microseconds
//! within that second.

use crate::prelude::*;

register_command!("time", time);

fn time(ctx: &mut Ctx, _args: &Args) -> CommandResult {
    let us = ctx.now_us;
    Ok(Reply::Array(vec![
        Reply::bulk(us.div_euclid(1_000_000).to_string()),
        Reply::bulk(us.rem_euclid(1_000_000).to_string()),
    ]))
}
