//! SLAVEOF host port | SLAVEOF NO ONE
//!
//! The old name of REPLICAOF, with the same arguments and behaviour.

use crate::prelude::*;

register_command!("slaveof", slaveof);

fn slaveof(ctx: &mut Ctx, args: &Args) -> CommandResult {
    super::replicaof::follow(ctx, args)
}
