//! LASTSAVE
//!
//! The Unix time, in seconds, of the last successful save (SAVE, BGSAVE, a save point, the
//! save FLUSHALL does); the server's start counts as one, as in Redis.

use crate::prelude::*;

register_command!("lastsave", lastsave);

fn lastsave(ctx: &mut Ctx, _args: &Args) -> CommandResult {
    Ok(Reply::Integer(ctx.last_save()))
}
