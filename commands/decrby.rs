//! DECRBY key decrement
//!
//! Subtracts the decrement from the integer stored at the key (0 when the key does not
//! exist) and replies with the result: INCRBY with the amount negated. The one amount that
//! cannot be negated, -9223372036854775808, is refused with Redis's own words before the key
//! is even looked at.

use crate::prelude::*;

register_command!("decrby", decrby);

fn decrby(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let decrement = args.int("decrement").ok_or(CommandError::NotInteger)?;
    let delta = decrement
        .checked_neg()
        .ok_or_else(|| CommandError::err("decrement would overflow"))?;
    super::incrby::increment_by(ctx, args.key("key"), delta)
}
