//! COMMAND COUNT
//!
//! How many top-level commands the server has (subcommands are not counted).

use crate::prelude::*;

register_command!("command-count", command_count);

fn command_count(ctx: &mut Ctx, _args: &Args) -> CommandResult {
    Ok(Reply::Integer(ctx.table.len() as i64))
}
