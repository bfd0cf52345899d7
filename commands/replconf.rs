//! REPLCONF [option value ...]
//!
//! What a replica tells its master before and after PSYNC: `listening-port <port>`,
//! `ip-address <ip>`, `capa <eof|psync2|...>` (capabilities; unknown ones are ignored), and,
//! once it streams, `ACK <offset>` (no reply) — the replica link reads those itself. `GETACK`
//! is what a master sends its replica; the replica's link answers it, so it gets no reply here.
//!
//! REPLCONF has no argument list in its spec (Redis declares none), so this handler reads the
//! request's words in pairs from `ctx.argv`.

use crate::prelude::*;

register_command!("replconf", replconf);

fn replconf(ctx: &mut Ctx, _args: &Args) -> CommandResult {
    let words = ctx.argv;
    if words.len().is_multiple_of(2) {
        return Err(CommandError::Syntax);
    }
    for pair in words[1..].chunks(2) {
        let (option, value) = (&pair[0], &pair[1]);
        let name = option.to_ascii_lowercase();
        match &name[..] {
            b"listening-port" => {
                let port = std::str::from_utf8(value)
                    .ok()
                    .and_then(|v| v.parse::<i64>().ok())
                    .ok_or(CommandError::NotInteger)?;
                ctx.client.replica_hello.listening_port = u16::try_from(port).unwrap_or(0);
            }
            b"ip-address" => {
                ctx.client.replica_hello.ip = Some(String::from_utf8_lossy(value).into_owned());
            }
            b"capa" => {
                if value.eq_ignore_ascii_case(b"eof") {
                    ctx.client.replica_hello.capa_eof = true;
                } else if value.eq_ignore_ascii_case(b"psync2") {
                    ctx.client.replica_hello.capa_psync2 = true;
                }
            }
            // Only meaningful on a replica's link (read there): a normal client gets no reply.
            b"ack" | b"getack" => {
                ctx.client.suppress_reply = true;
                return Ok(Reply::ok());
            }
            _ => {
                return Err(CommandError::err(format_args!(
                    "Unrecognized REPLCONF option: {}",
                    String::from_utf8_lossy(option)
                )))
            }
        }
    }
    Ok(Reply::ok())
}
