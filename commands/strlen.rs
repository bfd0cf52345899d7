//! STRLEN key
//!
//! The length in bytes of the string stored at the key, 0 when the key does not exist,
//! WRONGTYPE when it holds another type. An integer-encoded value is measured without being
//! formatted.

use crate::prelude::*;

register_command!("strlen", strlen);

fn strlen(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let now = ctx.now_ms;
    // A read like GET: Redis counts it as an access of the key (OBJECT IDLETIME).
    let len = match ctx.db().read(args.key("key"), now) {
        Some(value) => value.as_str()?.len(),
        None => 0,
    };
    Ok(Reply::Integer(len as i64))
}
