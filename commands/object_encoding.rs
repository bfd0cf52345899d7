//! OBJECT ENCODING key
//!
//! Redis's name for how the value at the key is stored (`int`, `embstr`, `raw` for strings),
//! nil when there is no such key. Asking does not count as an access.

use crate::prelude::*;

register_command!("object-encoding", object_encoding);

fn object_encoding(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let now = ctx.now_ms;
    Ok(match ctx.db().read_untouched(args.key("key"), now) {
        Some(value) => Reply::Bulk(Bytes::from_static(value.encoding().as_bytes())),
        None => Reply::Null,
    })
}
