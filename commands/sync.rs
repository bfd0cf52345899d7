//! SYNC
//!
//! The replication request of replicas older than PSYNC: always a full copy, sent as the
//! snapshot alone (no status line before it), then the stream.

use crate::prelude::*;

register_command!("sync", sync);

fn sync(ctx: &mut Ctx, _args: &Args) -> CommandResult {
    // The old protocol has no way to announce capabilities: a `$<length>` snapshot.
    ctx.client.replica_hello.capa_eof = false;
    ctx.client.replica_hello.capa_psync2 = false;
    let reply = ctx.attach_replica(None)?;
    ctx.client.suppress_reply = true;
    Ok(reply)
}
