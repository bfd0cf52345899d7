//! COMMAND INFO [command-name [command-name ...]]
//!
//! One COMMAND INFO entry per name, nil for an unknown one; no names means every top-level
//! command.

use crate::prelude::*;

register_command!("command-info", command_info);

fn command_info(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let table = ctx.table;
    let names: Vec<&Bytes> = args.all("command-name").collect();
    if names.is_empty() {
        return Ok(Reply::Array(
            table.commands().into_iter().map(introspect::info).collect(),
        ));
    }
    Ok(Reply::Array(
        names
            .into_iter()
            .map(|name| table.get_full(name).map_or(Reply::Null, introspect::info))
            .collect(),
    ))
}
