//! COMMAND GETKEYS command [arg [arg ...]]
//!
//! The keys the given command line would touch, found with that command's key specs.

use crate::prelude::*;

register_command!("command-getkeys", command_getkeys);

fn command_getkeys(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let keys = introspect::keys_of_request(ctx.table, args.bytes("command"), args.all("arg"))?;
    Ok(Reply::Array(
        keys.into_iter().map(|(key, _)| Reply::Bulk(key)).collect(),
    ))
}
