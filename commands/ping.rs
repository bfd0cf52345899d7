//! PING [message]
//!
//! Answers PONG, or the message itself when one is given.

use crate::prelude::*;

register_command!("ping", ping);

fn ping(_ctx: &mut Ctx, args: &Args) -> CommandResult {
    Ok(match args.opt_bytes("message") {
        Some(message) => Reply::Bulk(message.clone()),
        None => Reply::simple("PONG"),
    })
}
