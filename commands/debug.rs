//! DEBUG <subcommand> [argument ...]
//!
//! Tools for test suites: `DEBUG SLEEP seconds` (stops the whole server; decimals allowed),
//! `DEBUG SET-ACTIVE-EXPIRE 0|1` (turns the active expiry cycle off or on), `DEBUG OBJECT key`
//! (Redis's line about a value), `DEBUG DIGEST` and `DEBUG DIGEST-VALUE key ...` (Redis's
//! SHA-1 fingerprints of the dataset and of values), `DEBUG POPULATE count [prefix] [size]`,
//! `DEBUG ERROR text`, `DEBUG LOG message`, `DEBUG RELOAD` and `DEBUG HELP`. Anything
//! else, or a known subcommand with the wrong number of words, gets Redis's "unknown subcommand
//! or wrong number of arguments".
//!
//! Redis runs DEBUG only as `enable-debug-command` allows (the dispatcher checks the PROTECTED
//! flag). Like Redis's, this command reads its own words: its spec documents no arguments.
//! `DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]` saves the dataset and loads it back (the
//! persistence service does the work; a file that cannot be loaded changes nothing here,
//! where Redis would have flushed already).

use crate::prelude::*;

register_command!("debug", debug);

const HELP: &[&str] = &[
    "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "ERROR <string>",
    "    Return a Redis protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate Redis errors.",
    "LOG <message>",
    "    Write <message> to the server log.",
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
    "    * MERGE: conflicting keys will be loaded from RDB.",
    "    * NOFLUSH: the existing database will not be removed before load, but",
    "      conflicting keys will generate an exception and kill the server.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.",
    "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
    "      the database.",
    "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
    "      existing RDB file.",
    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
    "      file to the database.",
    "POPULATE <count> [<prefix>] [<size>]",
    "    Create <count> string keys named key:<num>. If <prefix> is specified then",
    "    it is used instead of the 'key' prefix. These are not propagated to",
    "    replicas. Cluster slots are not respected so keys not belonging to the",
    "    current node can be created in cluster mode.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "HELP",
    "    Prints this help.",
];

fn debug(ctx: &mut Ctx, args: &Args) -> CommandResult {
    let words = args.words();
    let sub = words[0].to_ascii_lowercase();
    match (sub.as_slice(), words.len()) {
        (b"help", 1) => Ok(Reply::help(HELP)),
        (b"sleep", 2) => {
            ctx.block_server_for(sleep_duration(&words[1]));
            Ok(Reply::ok())
        }
        (b"set-active-expire", 2) => {
            ctx.set_active_expire(c_atoi(&words[1]) != 0);
            Ok(Reply::ok())
        }
        (b"object", 2) => object(ctx, &words[1]),
        (b"error", 2) => {
            // Redis writes this error as it is (newlines turned into spaces), past the
            // counters of error replies.
            ctx.client.error_uncounted = true;
            let text = words[1]
                .iter()
                .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b })
                .collect();
            Err(CommandError::Bytes(text))
        }
        (b"log", 2) => {
            log_warning(&format!("DEBUG LOG: {}", quoted(&words[1])));
            Ok(Reply::ok())
        }
        (b"populate", 2..=4) => populate(ctx, &words[1..]),
        (b"digest", 1) => Ok(Reply::Simple(Bytes::from(ctx.dataset_digest()))),
        (b"digest-value", _) => Ok(Reply::Array(
            words[1..]
                .iter()
                .map(|key| Reply::Simple(Bytes::from(ctx.value_digest(key))))
                .collect(),
        )),
        (b"reload", _) => {
            let (mut merge, mut noflush, mut nosave) = (false, false, false);
            for option in &words[1..] {
                match option.to_ascii_lowercase().as_slice() {
                    b"merge" => merge = true,
                    b"noflush" => noflush = true,
                    b"nosave" => nosave = true,
                    _ => {
                        return Err(CommandError::err(
                            "DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.",
                        ))
                    }
                }
            }
            ctx.debug_reload(merge, noflush, nosave)?;
            Ok(Reply::ok())
        }
        _ => Err(CommandError::err(format_args!(
            "unknown subcommand or wrong number of arguments for '{}'. Try DEBUG HELP.",
            quoted(&words[0])
        ))),
    }
}

/// `Value at:<address> refcount:<n> encoding:<enc> serializedlength:<n> lru:<clock>
/// lru_seconds_idle:<s>` as a status reply. Like Redis, this looks at the table as it is and
/// shows a key past its deadline that nothing has removed yet. The serialized length is what
/// our RDB writer spends on the value (LZF-compressed under `rdbcompression` when worth it).
fn object(ctx: &mut Ctx, key: &Bytes) -> CommandResult {
    let now = ctx.now_ms;
    let (share_integers, compression) = {
        let config = ctx.config();
        let policy = config.maxmemory_policy();
        (
            config.maxmemory() == 0 || !(policy.ends_with("-lru") || policy.ends_with("-lfu")),
            config.rdbcompression(),
        )
    };
    let db = ctx.db();
    let Some(info) = db.object_info(key, now, compression) else {
        return Err(CommandError::err("no such key"));
    };
    let refcount = if info.shared_integer && share_integers {
        i64::from(i32::MAX)
    } else {
        1
    };
    Ok(Reply::Simple(Bytes::from(format!(
        "Value at:{:#x} refcount:{} encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{}",
        info.address, refcount, info.encoding, info.serialized_len, info.lru, info.idle_seconds
    ))))
}

/// `POPULATE count [prefix] [size]`: keys `prefix:0` .. `prefix:count-1` (prefix `key`) with
/// values `value:N`, cut or padded with zero bytes to `size` when given; keys that exist are
/// left alone. A count whose table Redis could not allocate is refused as Redis refuses it,
/// and so is a value size over `proto-max-bulk-len`, which Redis would try to allocate.
fn populate(ctx: &mut Ctx, words: &[Bytes]) -> CommandResult {
    // Redis answers a word that is no integer the same way as a negative one.
    let positive = |word: &Bytes| {
        Str::plain(word.clone())
            .as_int()
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(|| CommandError::err("value is out of range, must be positive"))
    };
    let count = positive(&words[0])?;
    let prefix = words.get(1).map_or(&b"key"[..], |p| &p[..]);
    let size = words.get(2).map(positive).transpose()?;
    let (max_value, memory) = {
        let config = ctx.config();
        (
            config.proto_max_bulk_len(),
            ctx.stats.process().total_system_memory,
        )
    };
    // Redis sizes the table for `count` keys first (8 bytes a bucket) and says so when the
    // memory is not there.
    if count
        .checked_next_power_of_two()
        .is_none_or(|n| n.saturating_mul(8) > memory)
    {
        return Err(CommandError::err("OOM in dictTryExpand"));
    }
    if size.is_some_and(|s| s > max_value) {
        return Err(CommandError::err(
            "DEBUG POPULATE value size is over proto-max-bulk-len",
        ));
    }
    let now = ctx.now_ms;
    let db = ctx.db();
    for n in 0..count {
        // Redis formats the key into a 128-byte buffer: longer names are cut.
        let mut key = prefix.to_vec();
        key.push(b':');
        key.extend_from_slice(n.to_string().as_bytes());
        key.truncate(127);
        if db.contains(&key, now) {
            continue;
        }
        let mut value = format!("value:{n}").into_bytes();
        if let Some(size) = size.filter(|&s| s > 0) {
            value.resize(usize::try_from(size).unwrap_or(usize::MAX), 0);
        }
        db.set(
            &Bytes::from(key),
            Value::Str(Str::plain(Bytes::from(value))),
            None,
            false,
            now,
        );
    }
    Ok(Reply::ok())
}

/// Seconds as C's `strtod` reads them (leading number, the rest ignored; nothing is 0), turned
/// into a sleep; negative or absurd values sleep not at all or at most a day.
fn sleep_duration(word: &[u8]) -> std::time::Duration {
    let text = String::from_utf8_lossy(word);
    let text = text.trim_start();
    let numeric: String = text
        .char_indices()
        .take_while(|&(i, c)| {
            c.is_ascii_digit() || c == '.' || ((c == '-' || c == '+') && i == 0) || c == 'e'
        })
        .map(|(_, c)| c)
        .collect();
    // The longest prefix that parses, as strtod stops at the first byte it cannot use.
    let seconds = (1..=numeric.len())
        .rev()
        .find_map(|end| numeric[..end].parse::<f64>().ok())
        .unwrap_or(0.0);
    if seconds.is_finite() && seconds > 0.0 {
        std::time::Duration::from_secs_f64(seconds.min(86_400.0))
    } else {
        std::time::Duration::ZERO
    }
}

/// C's `atoi`: optional spaces and sign, then digits; anything else stops it (so `abc` is 0).
fn c_atoi(word: &[u8]) -> i64 {
    let text = String::from_utf8_lossy(word);
    let text = text.trim_start();
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let value = digits
        .bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0i64, |n, d| {
            n.wrapping_mul(10).wrapping_add(i64::from(d - b'0'))
        });
    if negative {
        -value
    } else {
        value
    }
}

/// A client's word inside an error text: Redis prints it with `%.128s`, so it stops at a NUL
/// byte and after 128 bytes.
fn quoted(word: &[u8]) -> String {
    let end = word
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(word.len())
        .min(128);
    String::from_utf8_lossy(&word[..end]).into_owned()
}
