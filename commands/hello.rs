//! HELLO [protover [AUTH username password] [SETNAME clientname]]
//!
//! Switches the connection to RESP2 or RESP3, optionally authenticating and naming it at the
//! same time, and describes the server. Without arguments it only describes.

use crate::prelude::*;

use super::auth::wrongpass;
use super::client_setname::validate_name;

register_command!("hello", hello);

fn hello(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let version = args.int("protover");
    if let Some(v) = version {
        if !(2..=3).contains(&v) {
            return Err(CommandError::Custom(
                "NOPROTO unsupported protocol version".into(),
            ));
        }
    }
    // Redis 7.0 acts on each option as it reads it: a failed AUTH stops before SETNAME, and a
    // name is set even when the client then turns out not to be authenticated.
    if let (Some(user), Some(password)) = (args.opt_bytes("username"), args.opt_bytes("password")) {
        if !ctx.authenticate(Some(user), password) {
            return Err(wrongpass());
        }
    }
    if let Some(name) = args.opt_bytes("clientname") {
        validate_name(name)?;
        ctx.set_client_name(name);
    }
    if ctx.auth_required() {
        return Err(CommandError::Custom(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time".into(),
        ));
    }
    if let Some(v) = version {
        ctx.client.set_protocol_version(v);
    }
    Ok(Reply::Map(vec![
        (Reply::bulk_static("server"), Reply::bulk_static("redis")),
        (
            Reply::bulk_static("version"),
            Reply::bulk_static(ctx.server_version()),
        ),
        (
            Reply::bulk_static("proto"),
            Reply::Integer(ctx.client.protocol_version()),
        ),
        (
            Reply::bulk_static("id"),
            Reply::Integer(i64::try_from(ctx.client.id).unwrap_or(i64::MAX)),
        ),
        (Reply::bulk_static("mode"), Reply::bulk_static("standalone")),
        (Reply::bulk_static("role"), Reply::bulk_static("master")),
        (Reply::bulk_static("modules"), Reply::Array(Vec::new())),
    ]))
}
