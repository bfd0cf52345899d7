//! RANDOMKEY
//!
//! A key of the selected database chosen at random, nil when the database is empty. Expired
//! keys met on the way are deleted and never returned.

use crate::prelude::*;

register_command!("randomkey", randomkey);

fn randomkey(ctx: &mut Ctx, _args: &Args) -> CommandResult {
    let now = ctx.now_ms;
    let rng = ctx.rng;
    let db = ctx.db();
    // `Db::random_key` gives up after a bounded number of expired picks and may then hand back
    // an expired key. Redis (as a master) keeps deleting until it finds a live key or the
    // database is empty, so we ask again: each round deletes every expired key it met, and
    // `contains` deletes the one returned if it is due, so the loop ends.
    while let Some(key) = db.random_key(now, || rng.next_u64()) {
        if db.contains(&key, now) {
            return Ok(Reply::Bulk(key));
        }
    }
    Ok(Reply::Null)
}
