//! CLIENT SETNAME connection-name
//!
//! Names the connection (an empty name removes it). Names are printable ASCII without spaces,
//! since CLIENT LIST prints them unquoted.

use crate::prelude::*;

register_command!("client-setname", client_setname);

fn client_setname(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let name = args.bytes("connection-name");
    validate_name(name)?;
    ctx.set_client_name(name);
    Ok(Reply::ok())
}

/// Redis's rule for client names (also HELLO SETNAME): only `!` to `~`.
pub fn validate_name(name: &[u8]) -> Result<(), CommandError> {
    if name.iter().all(|&b| (b'!'..=b'~').contains(&b)) {
        Ok(())
    } else {
        Err(CommandError::err(
            "Client names cannot contain spaces, newlines or special characters.",
        ))
    }
}
