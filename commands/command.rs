//! COMMAND
//!
//! The COMMAND INFO entry of every top-level command (subcommands nested inside their
//! container's entry). With a second word it is a container: `COMMAND INFO`, `COMMAND DOCS`...

use crate::prelude::*;

register_command!("command", command);

fn command(ctx: &mut Ctx, _args: &Args) -> CommandResult {
    Ok(Reply::Array(
        ctx.table
            .commands()
            .into_iter()
            .map(introspect::info)
            .collect(),
    ))
}
