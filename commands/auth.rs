//! AUTH [username] password
//!
//! Authenticates the connection as the default user (the only user until ACLs exist): with the
//! password alone against `requirepass`, or ACL style with the username `default`.

use crate::prelude::*;

register_command!("auth", auth);

fn auth(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let username = args.opt_bytes("username");
    if username.is_none() && ctx.config().requirepass().is_empty() {
        return Err(CommandError::err(
            "AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
        ));
    }
    if ctx.authenticate(username.map(|u| &u[..]), args.bytes("password")) {
        Ok(Reply::ok())
    } else {
        Err(wrongpass())
    }
}

/// The one answer to a failed authentication, whatever was wrong.
pub fn wrongpass() -> CommandError {
    CommandError::Custom("WRONGPASS invalid username-password pair or user is disabled.".into())
}
