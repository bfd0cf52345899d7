//! OBJECT IDLETIME key
//!
//! Whole seconds since the value at the key was last accessed, nil when there is no such key.
//! Asking does not count as an access. Under an LFU policy Redis keeps an access counter in
//! place of the access time, so it refuses (after looking the key up, as here).

use crate::prelude::*;

register_command!("object-idletime", object_idletime);

fn object_idletime(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let now = ctx.now_ms;
    let lfu = ctx.config().access_clock().is_lfu();
    let db = ctx.db();
    let idle = db.idle_seconds(args.key("key"), now);
    db.count_read(idle.is_some());
    let Some(idle) = idle else {
        return Ok(Reply::Null);
    };
    if lfu {
        return Err(CommandError::err(
            "An LFU maxmemory policy is selected, idle time not tracked. Please note that when \
             switching between policies at runtime LRU and LFU data will take some time to adjust.",
        ));
    }
    Ok(Reply::Integer(i64::try_from(idle).unwrap_or(i64::MAX)))
}
