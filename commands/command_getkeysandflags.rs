//! COMMAND GETKEYSANDFLAGS command [arg [arg ...]]
//!
//! Like COMMAND GETKEYS, with each key's key-spec flags (RW, access, update, ...).

use crate::prelude::*;

register_command!("command-getkeysandflags", command_getkeysandflags);

fn command_getkeysandflags(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let keys = introspect::keys_of_request(ctx.table, args.bytes("command"), args.all("arg"))?;
    Ok(Reply::Array(
        keys.into_iter()
            .map(|(key, flags)| {
                Reply::Array(vec![Reply::Bulk(key), introspect::key_flags_reply(&flags)])
            })
            .collect(),
    ))
}
