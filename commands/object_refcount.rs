//! OBJECT REFCOUNT key
//!
//! How many references Redis would hold to the value at the key, nil when there is no such
//! key. Small integers are shared objects (reported as 2147483647) unless a memory limit is
//! set with an LRU or LFU policy, which turns sharing off; every other value has one owner.
//!
//! Redis decides about sharing when it stores a value; we decide when asked, so the two differ
//! only for values stored before the memory settings last changed.

use crate::prelude::*;

register_command!("object-refcount", object_refcount);

fn object_refcount(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let share_integers = {
        let config = ctx.config();
        let policy = config.maxmemory_policy();
        config.maxmemory() == 0 || !(policy.ends_with("-lru") || policy.ends_with("-lfu"))
    };
    let now = ctx.now_ms;
    let db = ctx.db();
    let refcount = db.refcount(args.key("key"), now, share_integers);
    db.count_read(refcount.is_some());
    Ok(match refcount {
        Some(count) => Reply::Integer(count),
        None => Reply::Null,
    })
}
