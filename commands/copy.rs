//! COPY source destination [DB destination-db] [REPLACE]
//!
//! Copies the value at `source`, with its TTL, to `destination` in the selected database or in
//! database `destination-db`: 1 when copied, 0 when `source` does not exist or `destination`
//! does and REPLACE was not given. Copying a key onto itself in the same database is an error.

use crate::prelude::*;

register_command!("copy", copy);

fn copy(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let (source, destination) = (args.key("source"), args.key("destination"));
    let here = ctx.client.db;
    let there = target_db(args, here, ctx.keyspace.len())?;
    if here == there && source == destination {
        return Err(CommandError::err(
            "source and destination objects are the same",
        ));
    }
    let now = ctx.now_ms;
    // The source lookup counts as an access (Redis's lookupKeyRead).
    let db = ctx.keyspace.db(here);
    let Some(value) = db.read(source, now).cloned() else {
        return Ok(Reply::Integer(0));
    };
    let deadline = db.deadline(source, now).flatten();
    let target = if here == there {
        db
    } else {
        // `there` is a valid index other than `here`, so two_dbs cannot refuse it.
        match ctx.keyspace.two_dbs(here, there) {
            Some((_, target)) => target,
            None => return Err(CommandError::err("DB index is out of range")),
        }
    };
    // A destination that exists (and is not due to expire) blocks the copy unless REPLACE;
    // with REPLACE its value and TTL are dropped for the source's.
    if target.contains(destination, now) && !args.flag("replace") {
        return Ok(Reply::Integer(0));
    }
    target.set(destination, value, deadline, false, now);
    ctx.mark_dirty(1);
    Ok(Reply::Integer(1))
}

/// The database to copy into. Redis reads every `DB` option in turn, converting and checking
/// each as it goes, and keeps the last; the dispatcher converted only the last one, so the
/// earlier ones are checked here, in order, with Redis's errors.
fn target_db(args: &Args, here: usize, databases: usize) -> Result<usize, CommandError> {
    let mut target = here;
    for word in args.all("destination-db") {
        // A string value's `as_int` is Redis's strict integer syntax, the dispatcher's too.
        let db = Str::plain(word.clone())
            .as_int()
            .ok_or(CommandError::NotInteger)?;
        if i32::try_from(db).is_err() {
            return Err(CommandError::err(
                "value is out of range, value must between -2147483648 and 2147483647",
            ));
        }
        target = usize::try_from(db)
            .ok()
            .filter(|&index| index < databases)
            .ok_or(CommandError::err("DB index is out of range"))?;
    }
    Ok(target)
}
