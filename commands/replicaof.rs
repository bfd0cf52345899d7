//! REPLICAOF host port | REPLICAOF NO ONE
//!
//! Makes the server a replica of the master at host:port (it keeps its data until the first
//! sync replaces it, and answers `OK Already connected to specified master` when it already
//! follows that one), or, with NO ONE, stops following and becomes a master that keeps its
//! data and its replication history.

use crate::prelude::*;

register_command!("replicaof", replicaof);

fn replicaof(ctx: &mut Ctx, args: &Args) -> CommandResult {
    follow(ctx, args)
}

/// REPLICAOF and SLAVEOF share their arguments and behaviour.
pub(super) fn follow(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let master = match args.oneof("args") {
        Some("no-one") => None,
        _ => {
            let port = args
                .int("port")
                .and_then(|p| u16::try_from(p).ok())
                .ok_or_else(|| CommandError::err("Invalid master port"))?;
            let host = String::from_utf8_lossy(args.bytes("host")).into_owned();
            Some((host, port))
        }
    };
    Ok(Reply::simple(ctx.replicaof(master)))
}
