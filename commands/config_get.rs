//! CONFIG GET parameter [parameter ...]
//!
//! The parameters whose names match any of the glob patterns, with their values. An exact
//! name is echoed as typed; every parameter appears once.

use crate::prelude::*;

register_command!("config-get", config_get);

fn config_get(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let patterns: Vec<&[u8]> = args.all("parameter").map(|p| &p[..]).collect();
    let pairs = ctx.config().get(&patterns);
    Ok(Reply::Map(
        pairs
            .into_iter()
            .map(|(name, value)| (Reply::Bulk(name), Reply::Bulk(value)))
            .collect(),
    ))
}
