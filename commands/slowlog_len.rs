//! SLOWLOG LEN
//!
//! How many entries the slow log holds.

use crate::prelude::*;

register_command!("slowlog-len", slowlog_len);

fn slowlog_len(ctx: &mut Ctx, _args: &Args) -> CommandResult {
    Ok(Reply::Integer(ctx.slowlog.len() as i64))
}
