//! CLIENT NO-TOUCH ON|OFF
//!
//! Redis 7.2's: while ON, this connection's commands do not update the access time of the
//! keys they look up (OBJECT IDLETIME, and later LRU eviction, do not see them), except TOUCH,
//! which exists to touch. Shown as flag `T` in CLIENT LIST.

use crate::prelude::*;

register_command!("client-no-touch", client_no_touch);

fn client_no_touch(ctx: &mut Ctx, args: &Args) -> CommandResult {
    ctx.client.no_touch = args.oneof("enabled") == Some("on");
    Ok(Reply::ok())
}
