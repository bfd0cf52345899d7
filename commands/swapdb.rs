//! SWAPDB index1 index2
//!
//! Exchanges the contents of two databases: every client connected to one now sees the other's
//! keys (and their deadlines). Swapping a database with itself is allowed and does nothing.

use crate::prelude::*;

register_command!("swapdb", swapdb);

fn swapdb(ctx: &mut Ctx, args: &Args) -> CommandResult {
    // Redis reads each index as a C int and names the one that does not fit. (It says the
    // same of a word that is not an integer at all, but the framework has already answered
    // that one with its own text: see tests/cases/swapdb.txt.)
    let first = c_int(args, "index1", "ERR invalid first DB index")?;
    let second = c_int(args, "index2", "ERR invalid second DB index")?;
    let databases = ctx.keyspace.len();
    let existing = |index: i64| usize::try_from(index).ok().filter(|&i| i < databases);
    let (Some(first), Some(second)) = (existing(first), existing(second)) else {
        return Err(CommandError::err("DB index is out of range"));
    };
    ctx.keyspace.swap(first, second);
    ctx.mark_dirty(1);
    Ok(Reply::ok())
}

/// The argument `name`, refused with `error` unless it fits a C int.
fn c_int(args: &Args, name: &str, error: &str) -> Result<i64, CommandError> {
    args.int(name)
        .filter(|&n| i32::try_from(n).is_ok())
        .ok_or_else(|| CommandError::Custom(error.to_string()))
}
