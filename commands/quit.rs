//! QUIT
//!
//! Answers OK, then the connection closes once the reply is written.

use crate::prelude::*;

register_command!("quit", quit);

fn quit(ctx: &mut Ctx, _args: &Args) -> CommandResult {
    ctx.client.close_after_reply = true;
    Ok(Reply::ok())
}
