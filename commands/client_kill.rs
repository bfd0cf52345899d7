//! CLIENT KILL ip:port
//! CLIENT KILL [ID client-id] [TYPE NORMAL|MASTER|SLAVE|REPLICA|PUBSUB] [USER username]
//!             [ADDR ip:port] [LADDR ip:port] [SKIPME yes|no] ...
//!
//! Closes the matching connections. The old form names one address and answers OK (or `No
//! such client`); the filter form ANDs its filters, skips the caller unless `SKIPME no`, and
//! answers how many clients it closed. A client that kills itself gets its reply first.

use crate::prelude::*;

register_command!("client-kill", client_kill);

fn client_kill(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let old_form = args.oneof("filter") == Some("ip:port");
    let mut filter = Filter {
        id: None,
        addr: None,
        laddr: None,
        normal: true,
        skipme: !old_form,
    };
    if old_form {
        filter.addr = args.bytes_by_token("ip:port", None);
    } else {
        if let Some(id) = args.int("client-id") {
            if id <= 0 {
                return Err(CommandError::err("client-id should be greater than 0"));
            }
            filter.id = Some(id);
        }
        if let Some(kind) = args.oneof("normal_master_slave_pubsub") {
            filter.normal = kind == "normal";
        }
        if let Some(user) = args.opt_bytes("username") {
            if &user[..] != b"default" {
                let mut text = b"ERR No such user '".to_vec();
                text.extend_from_slice(user);
                text.push(b'\'');
                return Err(CommandError::Bytes(text));
            }
        }
        filter.addr = args.bytes_by_token("ip:port", Some("ADDR"));
        filter.laddr = args.bytes_by_token("ip:port", Some("LADDR"));
        if let Some(skipme) = args.opt_bytes("yes/no") {
            filter.skipme = if skipme.eq_ignore_ascii_case(b"yes") {
                true
            } else if skipme.eq_ignore_ascii_case(b"no") {
                false
            } else {
                return Err(CommandError::Syntax);
            };
        }
    }
    let mut killed = 0;
    for entry in ctx.clients.all() {
        let own = entry.id == ctx.client.id;
        if !filter.matches(entry.id, &entry.endpoint.addr, &entry.endpoint.laddr)
            || (own && filter.skipme)
        {
            continue;
        }
        if own {
            ctx.client.close_after_reply = true;
        } else {
            entry.kill();
        }
        killed += 1;
    }
    if old_form {
        if killed == 0 {
            return Err(CommandError::err("No such client"));
        }
        return Ok(Reply::ok());
    }
    Ok(Reply::Integer(killed))
}

struct Filter<'a> {
    id: Option<i64>,
    addr: Option<&'a Bytes>,
    laddr: Option<&'a Bytes>,
    /// Every client here is a normal one: TYPE other than NORMAL matches none.
    normal: bool,
    skipme: bool,
}

impl Filter<'_> {
    fn matches(&self, id: u64, addr: &str, laddr: &str) -> bool {
        self.normal
            && self.id.is_none_or(|want| u64::try_from(want) == Ok(id))
            && self.addr.is_none_or(|want| &want[..] == addr.as_bytes())
            && self.laddr.is_none_or(|want| &want[..] == laddr.as_bytes())
    }
}
