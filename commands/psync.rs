//! PSYNC replicationid offset
//!
//! A replica asks for the stream from `offset` of the history `replicationid`. When the
//! backlog still holds it, the master answers `+CONTINUE <replid>` and sends what the replica
//! lacks; otherwise (or with `? -1`) `+FULLRESYNC <replid> <offset>`, a snapshot of the data,
//! and everything written after it. Either way the connection then belongs to the replication
//! service.

use crate::prelude::*;

register_command!("psync", psync);

fn psync(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let replid = args.bytes("replicationid").clone();
    let offset = args.int("offset").ok_or(CommandError::NotInteger)?;
    let request = (&replid[..] != b"?").then_some((&replid[..], offset));
    ctx.attach_replica(request)
}
