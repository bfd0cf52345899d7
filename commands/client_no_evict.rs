//! CLIENT NO-EVICT ON|OFF
//!
//! Marks the connection as exempt from client eviction (shown as flag `e` in CLIENT LIST).

use crate::prelude::*;

register_command!("client-no-evict", client_no_evict);

fn client_no_evict(ctx: &mut Ctx, args: &Args) -> CommandResult {
    ctx.client.no_evict = args.oneof("enabled") == Some("on");
    Ok(Reply::ok())
}
