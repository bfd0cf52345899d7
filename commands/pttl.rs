//! PTTL key
//!
//! The time the key has left to live, in milliseconds; -1 when it has no deadline, -2 when it
//! does not exist. The body is shared with `ttl.rs`.

use super::ttl::{report, Base, Shown};
use crate::prelude::*;

register_command!("pttl", pttl);

fn pttl(ctx: &mut Ctx, args: &Args) -> CommandResult {
    report(ctx, args, Shown::Milliseconds, Base::Now)
}
