//! ECHO message
//!
//! Sends the message back as a bulk string.

use crate::prelude::*;

register_command!("echo", echo);

fn echo(_ctx: &mut Ctx, args: &Args) -> CommandResult {
    Ok(Reply::Bulk(args.bytes("message").clone()))
}
