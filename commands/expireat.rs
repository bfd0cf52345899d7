//! EXPIREAT key unix-time-seconds [NX|XX|GT|LT]
//!
//! EXPIRE with an absolute deadline, a Unix time in seconds. The conditions, the replies and
//! the errors are EXPIRE's, so the body is shared with `expire.rs`.

use super::expire::{check_conditions, set_expiry, Form};
use crate::prelude::*;

register_command!("expireat", expireat, check = check_conditions);

fn expireat(ctx: &mut Ctx, args: &Args) -> CommandResult {
    set_expiry(
        ctx,
        args,
        Form {
            command: "expireat",
            argument: "unix-time-seconds",
            seconds: true,
            relative: false,
        },
    )
}
