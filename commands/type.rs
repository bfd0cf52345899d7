//! TYPE key
//!
//! The name of the type of the value at the key (`string`, ...), or `none` when there is no
//! such key, as a status reply. Asking does not count as an access.

use crate::prelude::*;

register_command!("type", key_type);

fn key_type(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let now = ctx.now_ms;
    let name = ctx
        .db()
        .read_untouched(args.key("key"), now)
        .map_or("none", Value::type_name);
    Ok(Reply::simple(name))
}
