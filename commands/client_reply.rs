//! CLIENT REPLY ON|OFF|SKIP
//!
//! OFF: no replies from now on, this one included. SKIP: no reply to this command nor to the
//! next. ON: replies again, starting with this OK.

use crate::prelude::*;

register_command!("client-reply", client_reply);

fn client_reply(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let client = &mut *ctx.client;
    match args.oneof("on_off_skip") {
        Some("on") => {
            client.reply_off = false;
            client.reply_skip = false;
            client.reply_skip_next = false;
        }
        Some("off") => client.reply_off = true,
        _ => {
            // SKIP under OFF changes nothing: nothing is sent either way.
            if !client.reply_off {
                client.reply_skip = true;
                client.reply_skip_next = true;
            }
        }
    }
    Ok(Reply::ok())
}
