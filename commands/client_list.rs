//! CLIENT LIST [TYPE NORMAL|MASTER|REPLICA|PUBSUB] [ID client-id [client-id ...]]
//!
//! One line of `field=value` pairs per connected client, in id order. Every client here is a
//! normal one, so TYPE NORMAL lists them all and the other types none.

use crate::prelude::*;

register_command!("client-list", client_list);

fn client_list(ctx: &mut Ctx, args: &Args) -> CommandResult {
    // Redis takes TYPE or ID, not both.
    if args.oneof("normal_master_replica_pubsub").is_some() && args.count("client-id") > 0 {
        return Err(CommandError::Syntax);
    }
    let mut entries = ctx.clients.all();
    if let Some(kind) = args.oneof("normal_master_replica_pubsub") {
        if kind != "normal" {
            entries.clear();
        }
    }
    if args.count("client-id") > 0 {
        // The dispatcher has already checked that every id is an integer.
        let ids: Vec<i64> = args
            .all("client-id")
            .filter_map(|w| std::str::from_utf8(w).ok()?.parse().ok())
            .collect();
        entries.retain(|e| ids.iter().any(|&id| u64::try_from(id) == Ok(e.id)));
    }
    Ok(Reply::Verbatim {
        format: *b"txt",
        text: Bytes::from(ctx.client_lines(&entries)),
    })
}
