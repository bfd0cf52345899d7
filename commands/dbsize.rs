//! DBSIZE
//!
//! The number of keys in the selected database. Like Redis, this counts keys whose TTL has
//! run out but that nothing has reclaimed yet (no access, no active expiry round), since
//! checking every key would make an O(1) command O(N).

use crate::prelude::*;

register_command!("dbsize", dbsize);

fn dbsize(ctx: &mut Ctx, _args: &Args) -> CommandResult {
    Ok(Reply::Integer(ctx.db().len() as i64))
}
