//! PSETEX key milliseconds value
//!
//! SET key value PX milliseconds under its older name: stores the value (replacing whatever
//! the key held, of any type) with a time to live in milliseconds. The time must be positive
//! and the deadline it gives must not overflow.

use crate::prelude::*;

register_command!("psetex", psetex);

fn psetex(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let invalid = CommandError::InvalidExpireTime("psetex");
    let millis = args.int("milliseconds").ok_or(CommandError::Syntax)?;
    if millis <= 0 {
        return Err(invalid);
    }
    // Relative to the command's time; a sum past i64::MAX is refused as Redis does.
    let at = millis.checked_add(ctx.now_ms).ok_or(invalid)?;
    super::setex::store_until(ctx, args, at)
}
