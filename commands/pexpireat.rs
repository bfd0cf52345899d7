//! PEXPIREAT key unix-time-milliseconds [NX|XX|GT|LT]
//!
//! EXPIRE with an absolute deadline, a Unix time in milliseconds. The conditions, the replies
//! and the errors are EXPIRE's, so the body is shared with `expire.rs`.

use super::expire::{check_conditions, set_expiry, Form};
use crate::prelude::*;

register_command!("pexpireat", pexpireat, check = check_conditions);

fn pexpireat(ctx: &mut Ctx, args: &Args) -> CommandResult {
    set_expiry(
        ctx,
        args,
        Form {
            command: "pexpireat",
            argument: "unix-time-milliseconds",
            seconds: false,
            relative: false,
        },
    )
}
