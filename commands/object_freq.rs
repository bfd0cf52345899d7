//! OBJECT FREQ key
//!
//! The logarithmic access-frequency counter of the value at the key, nil when there is no such
//! key. Redis keeps that counter only under an LFU policy and refuses otherwise (after looking
//! the key up, as here).
//!
//! We keep no counter. Redis starts one at 5 for a new value, takes one off per idle minute
//! (lfu-decay-time 1) and adds to it, with a falling probability, on each access. We answer
//! what it shows for a value not read since it was stored: 5 less the minutes since its last
//! access, never below 0. For a value that is read, Redis's counter is higher.

use crate::prelude::*;

register_command!("object-freq", object_freq);

/// The counter Redis gives a new value (LFU_INIT_VAL).
const LFU_INITIAL: u64 = 5;

fn object_freq(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let now = ctx.now_ms;
    let lfu = ctx.config().maxmemory_policy().ends_with("-lfu");
    let db = ctx.db();
    let idle = db.idle_seconds(args.key("key"), now);
    db.count_read(idle.is_some());
    let Some(idle) = idle else {
        return Ok(Reply::Null);
    };
    if !lfu {
        return Err(CommandError::err(
            "An LFU maxmemory policy is not selected, access frequency not tracked. Please note \
             that when switching between policies at runtime LRU and LFU data will take some \
             time to adjust.",
        ));
    }
    Ok(Reply::Integer(LFU_INITIAL.saturating_sub(idle / 60) as i64))
}
