//! EXPIRETIME key
//!
//! The Unix time, in seconds rounded to the nearest, at which the key expires; -1 when it has
//! no deadline, -2 when it does not exist. The body is shared with `ttl.rs`.

use super::ttl::{report, Base, Shown};
use crate::prelude::*;

register_command!("expiretime", expiretime);

fn expiretime(ctx: &mut Ctx, args: &Args) -> CommandResult {
    report(ctx, args, Shown::Seconds, Base::Epoch)
}
