//! FLUSHALL [ASYNC|SYNC]
//!
//! Deletes every key of every database. As with FLUSHDB, ASYNC clears synchronously here: a
//! client cannot tell the difference, the keys are gone before the reply either way. As in
//! Redis, a background save in progress is abandoned and, when save points are configured,
//! the empty dataset is saved at once.

use super::flushdb::refuse_repeated_mode;
use crate::prelude::*;

register_command!("flushall", flushall);

fn flushall(ctx: &mut Ctx, args: &Args) -> CommandResult {
    refuse_repeated_mode(args)?;
    let removed = ctx.keyspace.total_keys() as u64;
    ctx.keyspace.clear();
    ctx.mark_dirty(removed);
    ctx.save_after_flushall();
    // Propagated even when there was nothing to remove, as Redis does.
    ctx.force_propagation();
    Ok(Reply::ok())
}
