//! DEBUG <subcommand> [argument ...]
//!
//! Tools for test suites: `DEBUG SLEEP seconds` (stops the whole server; decimals allowed),
//! `DEBUG SET-ACTIVE-EXPIRE 0|1` (turns the active expiry cycle off or on), `DEBUG OBJECT key`
//! (Redis's line about a value), `DEBUG RELOAD` and `DEBUG HELP`. Anything else, or a known subcommand with
//! the wrong number of words, gets Redis's "unknown subcommand or wrong number of arguments".
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
        (b"help", 1) => Ok(Reply::Array(
            HELP.iter().copied().map(Reply::simple).collect(),
        )),
        (b"sleep", 2) => {
            ctx.block_server_for(sleep_duration(&words[1]));
            Ok(Reply::ok())
        }
        (b"set-active-expire", 2) => {
            ctx.set_active_expire(c_atoi(&words[1]) != 0);
            Ok(Reply::ok())
        }
        (b"object", 2) => object(ctx, &words[1]),
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
/// shows a key past its deadline that nothing has removed yet. The serialized length is the uncompressed RDB
/// size: Redis reports the LZF-compressed size for compressible strings over 20 bytes.
fn object(ctx: &mut Ctx, key: &Bytes) -> CommandResult {
    let now = ctx.now_ms;
    let share_integers = {
        let config = ctx.config();
        let policy = config.maxmemory_policy();
        config.maxmemory() == 0 || !(policy.ends_with("-lru") || policy.ends_with("-lfu"))
    };
    let db = ctx.db();
    let Some(info) = db.object_info(key, now) else {
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
