//! GET key
//!
//! The string stored at the key, nil when the key does not exist, WRONGTYPE when it holds
//! another type.

use crate::prelude::*;

register_command!("get", get);

fn get(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let now = ctx.now_ms;
    match ctx.db().read(args.key("key"), now) {
        Some(value) => Ok(value.as_str()?.to_reply()),
        None => Ok(Reply::Null),
    }
}
