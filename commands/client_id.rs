//! CLIENT ID
//!
//! The connection's id: unique for the life of the server, never reused.

use crate::prelude::*;

register_command!("client-id", client_id);

fn client_id(ctx: &mut Ctx, _args: &Args) -> CommandResult {
    Ok(Reply::Integer(
        i64::try_from(ctx.client.id).unwrap_or(i64::MAX),
    ))
}
