//! MSET key value [key value ...]
//!
//! Stores every value under its key, as that many plain SETs would (encoded like SET, any old
//! time to live dropped); a key given twice ends with its last value. An odd number of words is
//! Redis's arity error: the spec's `unknown_option_error` gives that text for the word left
//! over after the last pair.

use crate::prelude::*;

register_command!("mset", mset);

fn mset(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let now = ctx.now_ms;
    let db = ctx.db();
    let mut written = 0;
    for (key, value) in args.all("key").zip(args.all("value")) {
        let value = Value::Str(Str::encoded_arg(value));
        db.set(key, value, None, false, now);
        written += 1;
    }
    // One change per key given, repeated keys included, as Redis counts.
    ctx.mark_dirty(written);
    Ok(Reply::ok())
}
