//! SELECT index
//!
//! Makes this connection work on database `index` from now on. The index must fit a C int
//! (Redis reads it as one, with its own wording for the overflow) and name an existing
//! database.

use crate::prelude::*;

register_command!("select", select);

fn select(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let index = args.int("index").ok_or(CommandError::Syntax)?;
    if i32::try_from(index).is_err() {
        return Err(CommandError::err(
            "value is out of range, value must between -2147483648 and 2147483647",
        ));
    }
    let index = usize::try_from(index)
        .ok()
        .filter(|&i| i < ctx.keyspace.len())
        .ok_or_else(|| CommandError::err("DB index is out of range"))?;
    ctx.client.db = index;
    Ok(Reply::ok())
}
