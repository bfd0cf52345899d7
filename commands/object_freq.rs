//! OBJECT FREQ key
//!
//! The logarithmic access-frequency counter of the value at the key, nil when there is no such
//! key. The counter exists only under an LFU `maxmemory-policy`; otherwise Redis refuses
//! (after looking the key up, as here). Asking does not count as an access; the counter is
//! shown after its decay for the minutes the key has been idle.

use crate::prelude::*;

register_command!("object-freq", object_freq);

fn object_freq(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let now = ctx.now_ms;
    let clock = ctx.config().access_clock();
    let decay_time = match clock {
        AccessClock::Lfu { decay_time, .. } => Some(decay_time),
        AccessClock::Lru => None,
    };
    let db = ctx.db();
    let freq = db.lfu_frequency(args.key("key"), decay_time.unwrap_or(0), now);
    db.count_read(freq.is_some());
    let Some(freq) = freq else {
        return Ok(Reply::Null);
    };
    if decay_time.is_none() {
        return Err(CommandError::err(
            "An LFU maxmemory policy is not selected, access frequency not tracked. Please note \
             that when switching between policies at runtime LRU and LFU data will take some \
             time to adjust.",
        ));
    }
    Ok(Reply::Integer(i64::from(freq)))
}
