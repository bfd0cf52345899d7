//! FLUSHDB [ASYNC|SYNC]
//!
//! Deletes every key of the connection's database. ASYNC lets Redis free the memory in a
//! background thread; here both modes clear synchronously, which a client cannot tell apart
//! (the keys are gone before the reply either way), so the mode is only validated.

use crate::prelude::*;

register_command!("flushdb", flushdb);

fn flushdb(ctx: &mut Ctx, args: &Args) -> CommandResult {
    refuse_repeated_mode(args)?;
    // Every key removed is a change, expired ones not reclaimed yet included, as in Redis.
    let removed = ctx.db().len() as u64;
    ctx.db().clear();
    ctx.mark_dirty(removed);
    // Propagated even when there was nothing to remove, as Redis does.
    ctx.force_propagation();
    Ok(Reply::ok())
}

/// Redis takes exactly one mode word, not a list of options, so `ASYNC ASYNC` is a syntax
/// error even though the framework lets a repeated option through (and ASYNC SYNC is
/// already refused as a conflict). FLUSHALL shares this.
pub(super) fn refuse_repeated_mode(args: &Args) -> Result<(), CommandError> {
    // The oneof and its first member are both called `async`, so the members are counted
    // one by one.
    if args.count("async") > 1 || args.count("sync") > 1 {
        return Err(CommandError::Syntax);
    }
    Ok(())
}
