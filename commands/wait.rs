//! WAIT numreplicas timeout
//!
//! Blocks the client until at least `numreplicas` replicas acknowledged every write it made,
//! or `timeout` milliseconds passed (0: no limit), and replies with how many did. Answers at
//! once when enough already have.

use crate::prelude::*;

register_command!("wait", wait);

fn wait(ctx: &mut Ctx, args: &Args) -> CommandResult {
    if ctx.replication.is_replica() {
        return Err(CommandError::err(
            "WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.",
        ));
    }
    let replicas = args.int("numreplicas").ok_or(CommandError::NotInteger)?;
    let timeout = args.int("timeout").ok_or(CommandError::NotInteger)?;
    if timeout < 0 {
        return Err(CommandError::err("timeout is negative"));
    }
    Ok(Reply::Integer(ctx.wait_for_replicas(replicas, timeout)))
}
