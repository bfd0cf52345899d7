//! CONFIG SET parameter value [parameter value ...]
//!
//! Changes configuration parameters, all or none: every name is checked, then every value,
//! and nothing changes unless all of them are valid. The server reads most parameters where
//! it uses them (`maxclients`, `timeout`, `hz`, the protocol limits), so a change takes effect
//! at once; the log level is pushed to the logger here.

use crate::prelude::*;

register_command!("config-set", config_set);

fn config_set(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let pairs: Vec<(&[u8], &[u8])> = args
        .all("parameter")
        .zip(args.all("value"))
        .map(|(name, value)| (&name[..], &value[..]))
        .collect();
    // `enable-protected-configs local` lets loopback clients change `dir` and `dbfilename`.
    let local = ctx.client.local;
    let mut config = ctx.config_mut();
    config
        .config_set(&pairs, local)
        .map_err(CommandError::err)?;
    let loglevel = config.loglevel().to_string();
    drop(config);
    if pairs
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case(b"loglevel"))
    {
        ctx.log_level.set(&loglevel);
    }
    Ok(Reply::ok())
}
