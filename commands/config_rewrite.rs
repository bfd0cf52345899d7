//! CONFIG REWRITE
//!
//! Writes the running configuration back to the config file the server started from.

use crate::prelude::*;

register_command!("config-rewrite", config_rewrite);

fn config_rewrite(_ctx: &mut Ctx, _args: &Args) -> CommandResult {
    Err(CommandError::err(
        "The server is running without a config file",
    ))
}
