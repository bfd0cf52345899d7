//! SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]
//!
//! Stops the server gracefully (no new connections, replies in flight finished). The dataset
//! is saved first when asked to (SAVE) or when save points are configured (the default),
//! unless NOSAVE; a background save in progress is abandoned. If that save fails the server
//! stays up and the client gets an error, unless FORCE. On success the client gets no reply:
//! the connection closes, as with Redis.

use crate::prelude::*;

register_command!("shutdown", shutdown);

fn shutdown(ctx: &mut Ctx, args: &Args) -> CommandResult {
    if args.flag("abort") {
        // No shutdown ever waits here (no replicas, no save in progress), so none can be
        // aborted; ABORT with anything else is a syntax error, as in Redis.
        if args.flag("nosave") || args.flag("save") || args.flag("now") || args.flag("force") {
            return Err(CommandError::Syntax);
        }
        return Err(CommandError::err("No shutdown in progress."));
    }
    let must_save = args.flag("save") || (ctx.save_points_configured() && !args.flag("nosave"));
    if let Err(reason) = ctx.save_for_shutdown(must_save) {
        if !args.flag("force") {
            log_warning(&format!(
                "Error trying to save the DB, can't exit: {reason}"
            ));
            return Err(CommandError::err("Errors trying to SHUTDOWN. Check logs."));
        }
    }
    ctx.request_shutdown();
    ctx.client.close_after_reply = true;
    ctx.client.suppress_reply = true;
    Ok(Reply::ok())
}
