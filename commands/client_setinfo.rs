//! CLIENT SETINFO LIB-NAME libname | LIB-VER libver
//!
//! Redis 7.2's command, which today's client libraries send on connect; Redis 7.0 does not
//! have it. The values follow the rule for client names and are kept with the connection.

use crate::prelude::*;

register_command!("client-setinfo", client_setinfo);

fn client_setinfo(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let (attr, value) = match args.oneof("attr") {
        Some("libname") => ("lib-name", args.bytes("libname")),
        _ => ("lib-ver", args.bytes("libver")),
    };
    if !value.iter().all(|&b| (b'!'..=b'~').contains(&b)) {
        return Err(CommandError::err(format_args!(
            "{attr} cannot contain spaces, newlines or special characters."
        )));
    }
    let value = (!value.is_empty()).then(|| value.clone());
    if attr == "lib-name" {
        ctx.client.lib_name = value;
    } else {
        ctx.client.lib_ver = value;
    }
    Ok(Reply::ok())
}
