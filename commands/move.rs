//! MOVE key db
//!
//! Moves the key, with its TTL, from the selected database to database `db`: 1 when moved, 0
//! when the key does not exist here or already exists there. The index is checked as Redis
//! checks it: a C int first, then a database that exists, then a database other than this one.

use crate::prelude::*;

register_command!("move", move_key);

fn move_key(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let key = args.key("key");
    let db = args.int("db").ok_or(CommandError::NotInteger)?;
    let target = db_index(db, ctx.keyspace.len())?;
    let now = ctx.now_ms;
    let Some((here, there)) = ctx.keyspace.two_dbs(ctx.client.db, target) else {
        // The only valid index two_dbs refuses is the selected database itself.
        return Err(CommandError::err(
            "source and destination objects are the same",
        ));
    };
    // Both lookups count as accesses and expire a due key, as Redis's lookupKeyWrite does.
    if here.get(key, now).is_none() || there.get(key, now).is_some() {
        return Ok(Reply::Integer(0));
    }
    match here.take_to_move(key, now) {
        Some(moved) => {
            there.put_moved(key.clone(), moved, now);
            ctx.mark_dirty(1);
            Ok(Reply::Integer(1))
        }
        None => Ok(Reply::Integer(0)),
    }
}

/// A database index as Redis reads one (getIntFromObjectOrReply, then selectDb).
fn db_index(db: i64, databases: usize) -> Result<usize, CommandError> {
    if i32::try_from(db).is_err() {
        return Err(CommandError::err(
            "value is out of range, value must between -2147483648 and 2147483647",
        ));
    }
    usize::try_from(db)
        .ok()
        .filter(|&index| index < databases)
        .ok_or(CommandError::err("DB index is out of range"))
}
