//! SETNX key value
//!
//! Stores the value only when the key does not exist: 1 when it was stored, 0 when the key
//! was already there (whatever its type: SETNX never looks at the old value).

use crate::prelude::*;

register_command!("setnx", setnx);

fn setnx(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let key = args.key("key");
    let now = ctx.now_ms;
    let db = ctx.db();
    // An expired key counts as missing: the lookup reclaims it first. It counts as an
    // access, as Redis's write lookup does.
    if db.get(key, now).is_some() {
        return Ok(Reply::Integer(0));
    }
    // Stored as SET stores it, so an integer value gets the int encoding.
    let value = Value::Str(Str::encoded_arg(args.bytes("value")));
    db.set(key, value, None, false, now);
    ctx.mark_dirty(1);
    Ok(Reply::Integer(1))
}
