//! ROLE
//!
//! A master answers `master`, its replication offset and its online replicas (address,
//! listening port and acknowledged offset, as strings); a replica answers `slave`, its
//! master's host and port, the state of the link (`connect`, `connecting`, `handshake`,
//! `sync`, `connected`) and its offset (-1 until it is connected).

use crate::prelude::*;

register_command!("role", role);

fn role(ctx: &mut Ctx, _args: &Args) -> CommandResult {
    Ok(ctx.replication.role())
}
