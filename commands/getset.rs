//! GETSET key value
//!
//! Stores the value and replies with the string the key held before (nil when it had none).
//! Like a plain SET, the key loses any deadline it had. Redis keeps it for old clients;
//! `SET key value GET` does the same.

use crate::prelude::*;

register_command!("getset", getset);

fn getset(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let key = args.key("key");
    let now = ctx.now_ms;
    let db = ctx.db();
    // The old value is read first, so a key of another type stops the whole command.
    let old = match db.read(key, now) {
        Some(old) => old.as_str()?.to_reply(),
        None => Reply::Null,
    };
    let value = Value::Str(Str::encoded_arg(args.bytes("value")));
    db.set(key, value, None, false, now);
    ctx.mark_dirty(1);
    // Replicas get the equivalent SET, as Redis 7.0 sends it.
    ctx.propagate_as(vec![
        Bytes::from_static(b"SET"),
        key.clone(),
        args.bytes("value").clone(),
    ]);
    Ok(old)
}
