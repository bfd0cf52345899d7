//! COMMAND DOCS [command-name [command-name ...]]
//!
//! A map from command name to its documentation. Unknown names are left out; no names means
//! every top-level command. redis-cli builds its hints and `help` from this reply.

use crate::prelude::*;

register_command!("command-docs", command_docs);

fn command_docs(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let table = ctx.table;
    let names: Vec<&Bytes> = args.all("command-name").collect();
    let commands: Vec<&Command> = if names.is_empty() {
        table.commands()
    } else {
        names
            .iter()
            .filter_map(|name| table.get_full(name))
            .collect()
    };
    Ok(Reply::Map(
        commands
            .into_iter()
            .map(|c| {
                (
                    Reply::Bulk(Bytes::copy_from_slice(c.full_name.as_bytes())),
                    introspect::docs(c),
                )
            })
            .collect(),
    ))
}
