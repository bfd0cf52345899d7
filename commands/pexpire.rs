//! PEXPIRE key milliseconds [NX|XX|GT|LT]
//!
//! EXPIRE with the time to live in milliseconds. The conditions, the replies and the errors are
//! EXPIRE's, so the body is shared with `expire.rs`.

use super::expire::{check_conditions, set_expiry, Form};
use crate::prelude::*;

register_command!("pexpire", pexpire, check = check_conditions);

fn pexpire(ctx: &mut Ctx, args: &Args) -> CommandResult {
    set_expiry(
        ctx,
        args,
        Form {
            command: "pexpire",
            argument: "milliseconds",
            seconds: false,
            relative: true,
        },
    )
}
