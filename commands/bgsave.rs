//! BGSAVE [SCHEDULE]
//!
//! Saves every database to the RDB file in the background and replies at once. The snapshot
//! is the dataset at the moment of the command; writes that follow are not in it. With a
//! save already running, Redis refuses even with SCHEDULE (SCHEDULE only waits for other
//! kinds of background work, which this server does not have).

use crate::prelude::*;

register_command!("bgsave", bgsave, check = once);

/// Redis takes SCHEDULE once, and only alone.
fn once(args: &Args) -> Result<(), CommandError> {
    if args.count("schedule") > 1 {
        return Err(CommandError::Syntax);
    }
    Ok(())
}

fn bgsave(ctx: &mut Ctx, _args: &Args) -> CommandResult {
    ctx.bgsave()?;
    Ok(Reply::simple("Background saving started"))
}
