//! SET key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]
//!
//! Stores the value. NX only sets a missing key, XX only an existing one; GET replies with the
//! old value (nil when there was none) instead of OK; the expiration options set a deadline or
//! keep the current one. The dispatcher has already rejected bad syntax and non-integers; what
//! remains here are SET's own rules: the deadline must be positive and must not overflow.

use crate::prelude::*;

register_command!("set", set, key_flags = key_flags);

/// The key's flags for one call (COMMAND GETKEYSANDFLAGS): with GET the old value is read
/// (RW, access), without it the key is only overwritten (OW).
fn key_flags(args: &Args) -> &'static [&'static str] {
    if args.flag("get") {
        &["RW", "ACCESS", "UPDATE"]
    } else {
        &["OW", "UPDATE"]
    }
}

fn set(ctx: &mut Ctx, args: &Args) -> CommandResult {
    // Each option is looked up once: SET is the command pipelines send most.
    let get = args.flag("get");
    let expiration = args.oneof("expiration");
    let expire_at = deadline(args, expiration, ctx.now_ms, "set")?;
    let key = args.key("key");
    let now = ctx.now_ms;
    let db = ctx.db();
    // With GET the old value is read first, so a wrong type stops the SET altogether.
    let old = if get {
        match db.read(key, now) {
            Some(old) => old.as_str()?.to_reply(),
            None => Reply::Null,
        }
    } else {
        Reply::Null
    };
    // Only NX and XX need to know whether the key exists: a plain SET skips the lookup.
    let refused = match args.oneof("condition") {
        // A refused NX still counts as an access (Redis's write lookup); a successful
        // write counts its access as it stores (see `Db::set`).
        Some("nx") => db.get(key, now).is_some(),
        Some("xx") => !db.contains(key, now),
        _ => false,
    };
    if !refused {
        let keep_ttl = expiration == Some("keepttl");
        let value = Value::Str(Str::encoded_arg(args.bytes("value")));
        db.set(key, value, expire_at, keep_ttl, now);
        ctx.mark_dirty(1);
        propagate(ctx, args, expiration, expire_at, get);
    }
    Ok(match (get, refused) {
        (true, _) => old,
        (false, true) => Reply::Null,
        (false, false) => Reply::ok(),
    })
}

/// As Redis 7.0 propagates SET: a relative or second-based expiry becomes `PXAT <ms>` (the
/// replica must not count from its own clock), and GET is dropped (a replica has no one to
/// answer).
fn propagate(
    ctx: &mut Ctx,
    args: &Args,
    expiration: Option<&str>,
    expire_at: Option<i64>,
    get: bool,
) {
    let argv = ctx.argv;
    match expire_at {
        Some(at) if expiration != Some("unix-time-milliseconds") => {
            ctx.propagate_as(vec![
                argv[0].clone(),
                args.key("key").clone(),
                args.bytes("value").clone(),
                Bytes::from_static(b"PXAT"),
                Bytes::from(at.to_string()),
            ]);
        }
        _ if get => {
            let mut rewritten = argv[..3].to_vec();
            let mut dropped = false;
            for word in &argv[3..] {
                if !dropped && word.eq_ignore_ascii_case(b"get") {
                    dropped = true;
                } else {
                    rewritten.push(word.clone());
                }
            }
            ctx.propagate_as(rewritten);
        }
        _ => {}
    }
}

/// The absolute deadline in Unix ms asked for by EX/PX/EXAT/PXAT, checked as Redis does: the
/// number must be positive, seconds must survive the conversion to milliseconds, and the
/// relative forms must not overflow when added to the current time. `expiration` is the member
/// of the `expiration` oneof given; `command` names the command in the error (SET and GETEX
/// share these rules).
pub(super) fn deadline(
    args: &Args,
    expiration: Option<&str>,
    now: i64,
    command: &'static str,
) -> Result<Option<i64>, CommandError> {
    let (name, seconds, relative) = match expiration {
        Some(name @ "seconds") => (name, true, true),
        Some(name @ "milliseconds") => (name, false, true),
        Some(name @ "unix-time-seconds") => (name, true, false),
        Some(name @ "unix-time-milliseconds") => (name, false, false),
        _ => return Ok(None),
    };
    let invalid = CommandError::InvalidExpireTime(command);
    let value = args.int(name).ok_or(CommandError::Syntax)?;
    if value <= 0 {
        return Err(invalid);
    }
    let millis = if seconds {
        value.checked_mul(1000).ok_or(invalid.clone())?
    } else {
        value
    };
    let at = if relative {
        millis.checked_add(now).ok_or(invalid)?
    } else {
        millis
    };
    Ok(Some(at))
}
