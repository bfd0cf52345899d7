//! SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]
//!
//! Stops the server gracefully (no new connections, replies in flight finished). Redis saves
//! the dataset first when asked to (SAVE) or when save points are configured (the default),
//! and refuses to stop if that save fails, unless FORCE. This server cannot save yet (RDB
//! persistence is issue #6), so a shutdown that needs a save fails the way a failed save makes
//! Redis's fail, with the reason in the log; NOSAVE or FORCE stop at once. On success the
//! client gets no reply: the connection closes, as with Redis.

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
    let save_points = !ctx.config().save().is_empty();
    let must_save = args.flag("save") || (save_points && !args.flag("nosave"));
    if must_save && !args.flag("force") {
        log_warning("SHUTDOWN needs to save the dataset, and RDB persistence is not implemented yet: use SHUTDOWN NOSAVE (or FORCE)");
        return Err(CommandError::err("Errors trying to SHUTDOWN. Check logs."));
    }
    ctx.request_shutdown();
    ctx.client.close_after_reply = true;
    ctx.client.suppress_reply = true;
    Ok(Reply::ok())
}
