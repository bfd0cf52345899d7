//! RESET
//!
//! Puts the connection back the way a new one starts: database 0, RESP2, no name, and
//! authenticated only if the default user needs no password. Answers RESET.

use crate::prelude::*;

register_command!("reset", reset);

fn reset(ctx: &mut Ctx, _args: &Args) -> CommandResult {
    ctx.client.db = 0;
    ctx.client.set_protocol_version(2);
    ctx.set_client_name(&Bytes::new());
    let open = ctx.config().requirepass().is_empty();
    ctx.client.authenticated = open;
    Ok(Reply::simple("RESET"))
}
