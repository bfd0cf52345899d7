//! CLIENT INFO
//!
//! The current connection's CLIENT LIST line.

use crate::prelude::*;

register_command!("client-info", client_info);

fn client_info(ctx: &mut Ctx, _args: &Args) -> CommandResult {
    let entries: Vec<_> = ctx.clients.get(ctx.client.id).into_iter().collect();
    Ok(Reply::Verbatim {
        format: *b"txt",
        text: Bytes::from(ctx.client_lines(&entries)),
    })
}
