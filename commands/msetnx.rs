//! MSETNX key value [key value ...]
//!
//! Stores every value under its key only when none of the keys exists, replying 1, else
//! stores nothing and replies 0. A key given twice ends with its last value. An odd number of
//! words is Redis's arity error, as for MSET.

use crate::prelude::*;

register_command!("msetnx", msetnx);

fn msetnx(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let now = ctx.now_ms;
    let db = ctx.db();
    // Redis looks the keys up in order as a write would (an access; an expired key is gone)
    // and stops at the first one that exists.
    if args.all("key").any(|key| db.get(key, now).is_some()) {
        return Ok(Reply::Integer(0));
    }
    let mut written = 0;
    for (key, value) in args.all("key").zip(args.all("value")) {
        let value = Value::Str(Str::encoded_arg(value));
        db.set(key, value, None, false, now);
        written += 1;
    }
    ctx.mark_dirty(written);
    Ok(Reply::Integer(1))
}
