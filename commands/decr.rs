//! DECR key
//!
//! Subtracts one from the integer stored at the key (0 when the key does not exist) and
//! replies with the result: INCRBY with an increment of -1.

use crate::prelude::*;

register_command!("decr", decr);

fn decr(ctx: &mut Ctx, args: &Args) -> CommandResult {
    super::incrby::increment_by(ctx, args.key("key"), -1)
}
