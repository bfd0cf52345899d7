//! SAVE
//!
//! Writes every database to the RDB file (`dir`/`dbfilename`) now, holding every other client
//! until it is done, the way Redis's SAVE blocks its single thread. Refused while a BGSAVE
//! runs; a failed write answers a bare `ERR` (the reason is in the log), as Redis does.

use crate::prelude::*;

register_command!("save", save);

fn save(ctx: &mut Ctx, _args: &Args) -> CommandResult {
    ctx.save()?;
    Ok(Reply::ok())
}
