//! CLIENT GETNAME
//!
//! The connection's name, or null when it has none.

use crate::prelude::*;

register_command!("client-getname", client_getname);

fn client_getname(ctx: &mut Ctx, _args: &Args) -> CommandResult {
    Ok(match &ctx.client.name {
        Some(name) => Reply::Bulk(name.clone()),
        None => Reply::Null,
    })
}
