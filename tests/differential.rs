//! A random command stream, sent to a real redis-server 7.0 and to us, compared byte for byte.
//!
//! A fixed-seed xorshift generator picks commands from a weighted table of generators, one or
//! more per command in `commands/`: the keyspace (DEL UNLINK EXISTS TYPE KEYS RANDOMKEY DBSIZE
//! RENAME RENAMENX COPY MOVE TOUCH OBJECT SELECT SWAPDB FLUSHDB FLUSHALL), expiry (EXPIRE PEXPIRE
//! EXPIREAT PEXPIREAT TTL PTTL EXPIRETIME PEXPIRETIME PERSIST), strings (SET GET APPEND STRLEN
//! INCR DECR INCRBY DECRBY INCRBYFLOAT MGET MSET MSETNX SETNX SETEX PSETEX GETSET GETDEL GETEX
//! GETRANGE SUBSTR SETRANGE LCS), PING ECHO CONFIG, the COMMAND family for named commands, and
//! unknown commands. Keys come from a small pool (two binary, one empty, one full of glob
//! characters) in several databases, so that commands meet each other's keys; options come in
//! random order and case, repeated, conflicting, missing their values or unknown; numbers are
//! valid, zero, negative, i64 extremes, overflowing, decimal, signed, zero-padded or not
//! numbers at all; values are binary (CR, LF, NUL), empty, numeric, near the encodings'
//! limits, a few KB, and now and then 20 to 100 KB.
//!
//! Every reply is compared as raw bytes, except where Redis itself is not deterministic:
//!
//! - TTL and PTTL count down from the moment each server runs them: two positive replies may
//!   differ by a few seconds' worth (-1 and -2 are compared exactly). EXPIRETIME and
//!   PEXPIRETIME are exact, unless a model of the keyspace (fed with Redis's replies) says the
//!   key may have a deadline set relative to the clock (EX, PX, EXPIRE, SETEX, ...).
//! - KEYS: the reply's elements are sorted first. CONFIG GET of several names: its pairs.
//! - RANDOMKEY: only nil against a name is compared; the batch ends after it, and each server
//!   then confirms that the name it gave exists.
//! - DBSIZE counts expired keys until they are reclaimed, which happens at different moments in
//!   the two servers: every DBSIZE is preceded by an EXISTS of the whole key pool, which
//!   reclaims them.
//! - OBJECT IDLETIME: both integers (see `equivalent` for why no closer).
//! - COMMAND DOCS: summary, complexity and history texts are in our own words (masked).
//!
//! There are no timing races: a relative expiration is either invalid or at least 1000 s (and
//! drawn from wide ranges, so that GT/LT never compare two deadlines a few ms apart), an
//! absolute one is either long past or far in the future, and the two kinds never come near
//! each other. CONFIG GET asks only for exact names whose values do not depend on how the two
//! servers were started (not `dir`, `port`, `bind`, `maxclients`), never for glob patterns.
//!
//! A few differences are known and documented in the case files (`!differs`); the generator
//! avoids them or the comparison accepts exactly them, each with a comment naming it.
//!
//! The stream goes out in pipelined batches of 1 to 50 commands, each batch in one write.
//! `REDIS_CLONE_DIFF_SEED` and `REDIS_CLONE_DIFF_COMMANDS` override the seed and the length.

mod support;

use std::collections::{BTreeMap, HashMap};
use std::io::{BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use support::{quote, read_reply, Rng, ServerProcess};

const DEFAULT_SEED: u64 = 0x5EED_2024_0007_0015;
const DEFAULT_COMMANDS: usize = 20_000;
const MAX_BATCH: usize = 50;
/// Both servers run with Redis's default `databases 16`.
const DATABASES: usize = 16;
/// LCS fills an (N+1)*(M+1) table; beyond this many cells it is slow in a debug build, so the
/// generator only asks for it on keys known to be shorter.
const LCS_CELLS: usize = 150_000;
/// proto-max-bulk-len, the longest string SETRANGE may make.
const MAX_STRING: i64 = 512 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Keys, values and numbers
// ---------------------------------------------------------------------------------------------

/// Keys: few, so that commands meet each other's keys; two of them binary, one empty.
const KEYS: &[&[u8]] = &[
    b"k1",
    b"k2",
    b"k3",
    b"user:1000",
    b"",
    b"bin\r\n\0key",
    b"K1",
    b"a*[b]\\c?",
];

fn key(rng: &mut Rng) -> Vec<u8> {
    rng.pick(KEYS).to_vec()
}

/// `min..=max` keys, repeats allowed.
fn keys(rng: &mut Rng, min: u64, max: u64) -> Vec<Vec<u8>> {
    (0..rng.range(min, max)).map(|_| key(rng)).collect()
}

fn value(rng: &mut Rng) -> Vec<u8> {
    match rng.below(17) {
        0 => Vec::new(),
        1 => {
            let len = rng.range(0, 64) as usize;
            rng.bytes(len)
        }
        2 => {
            let len = rng.range(256, 4096) as usize;
            rng.bytes(len)
        }
        3 => b"\r\n".to_vec(),
        4 => b"with\0nul\r\nand crlf".to_vec(),
        5 => format!("{}", rng.next() as i64).into_bytes(),
        6 => rng
            .pick(&["NX", "XX", "GET", "EX", "KEEPTTL", "PX"])
            .as_bytes()
            .to_vec(),
        7..=9 => numeric(rng),
        10 if rng.chance(1, 25) => huge(rng),
        // Around the encodings' limits: embstr holds up to 44 bytes, int up to 20 characters.
        11 => {
            let len = rng.range(42, 47) as usize;
            let byte = *rng.pick(b"a1");
            vec![byte; len]
        }
        12 => {
            let digits = rng.range(18, 21) as usize;
            let mut text = rng.pick(&["", "-", "0"]).as_bytes().to_vec();
            text.extend((0..digits).map(|i| b'1' + ((i * 7) % 9) as u8));
            text
        }
        _ => format!("value-{}", rng.below(1000)).into_bytes(),
    }
}

/// 20 to 100 KB: past Redis's 32 KB "big argument" threshold, where it builds the value
/// straight from the query buffer.
fn huge(rng: &mut Rng) -> Vec<u8> {
    let len = rng.range(20_000, 100_000) as usize;
    if rng.chance(1, 2) {
        rng.bytes(len)
    } else {
        let byte = *rng.pick(b"x0\0\r");
        vec![byte; len]
    }
}

/// Integers that matter somewhere: shared-integer bounds, C int and i64 bounds.
const INTEGERS: &[&str] = &[
    "0",
    "1",
    "-1",
    "9999",
    "10000",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775806",
    "-9223372036854775807",
    "4611686018427387904",
    "2147483647",
    "2147483648",
    "-2147483649",
    "1000000",
    "100",
];

/// Values meant for INCR and friends: integers, floats, and near misses.
fn numeric(rng: &mut Rng) -> Vec<u8> {
    match rng.below(6) {
        0 => rng.irange(-50, 10_050).to_string().into_bytes(),
        1 => rng.pick(INTEGERS).as_bytes().to_vec(),
        2 => ((rng.next() as i64) >> rng.below(64))
            .to_string()
            .into_bytes(),
        3 | 4 => float_text(rng),
        _ => bad_number(rng),
    }
}

/// A number that is not a valid expiration: zero, negative, out of range, or not an integer
/// in Redis's strict syntax. Never a small valid number, which would race with real time.
fn bad_number(rng: &mut Rng) -> Vec<u8> {
    let fixed: &[&str] = &[
        "0",
        "-1",
        "-0",
        "-1000",
        "-9223372036854775808",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775809",
        "99999999999999999999",
        "18446744073709551616",
        "abc",
        "",
        " ",
        "1.5",
        "1000.0",
        "1e3",
        "+1000",
        "01000",
        "00",
        " 1000",
        "1000 ",
        "0x10",
        "1000abc",
        "10\r\n",
        "\0",
        "--1",
        "1-",
    ];
    match rng.below(4) {
        0 => format!("-{}", rng.range(1, 1 << 40)).into_bytes(),
        _ => rng.pick(fixed).as_bytes().to_vec(),
    }
}

/// An integer argument: mostly valid (small, or one of the interesting bounds), sometimes not.
fn integer_arg(rng: &mut Rng) -> Vec<u8> {
    match rng.below(8) {
        0 | 1 => bad_number(rng),
        2 => rng.pick(INTEGERS).as_bytes().to_vec(),
        3 => (rng.next() as i64).to_string().into_bytes(),
        _ => rng.irange(-1000, 1000).to_string().into_bytes(),
    }
}

/// Texts strtold reads (or almost reads), for INCRBYFLOAT and the values it meets.
const FLOATS: &[&str] = &[
    "1.5",
    "-1.5",
    "0.1",
    "-0.1",
    "3.0",
    "1e3",
    "1E3",
    "2.5e-3",
    "-4e+2",
    "1e20",
    "1e400",
    "-1e400",
    "1.18e4932",
    "1.2e4932",
    "1e-4950",
    "1e-20",
    "5e-324",
    "1.7976931348623157e308",
    "1e309",
    "inf",
    "-inf",
    "+Infinity",
    "nan",
    "-nan",
    "0x10",
    "0x1p4",
    "0x1.8p1",
    "-0xA.Bp3",
    " 1",
    "1 ",
    "",
    ".5",
    "5.",
    "+.5",
    "-.5e1",
    "1e",
    "e1",
    "1.5.5",
    "1,5",
    "0",
    "-0",
    "0.0",
    "00012.50",
    "1_0",
    "1\x002",
    "123456789012345678901234567890",
    "3.14159265358979323846264338327950288",
    "0.30000000000000004",
    "0.333333333333333333333333",
    "12345678.9",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551617",
];

fn float_text(rng: &mut Rng) -> Vec<u8> {
    match rng.below(8) {
        0 => format!("{}", rng.irange(-1_000_000, 1_000_000) as f64 / 1000.0).into_bytes(),
        1 => {
            let x = f64::from_bits(rng.next());
            if x.is_finite() {
                format!("{x:e}").into_bytes()
            } else {
                b"1".to_vec()
            }
        }
        2 => format!("{}.{}", rng.irange(-99_999, 99_999), rng.range(0, 999_999)).into_bytes(),
        3 if rng.chance(1, 4) => {
            // Redis reads at most 5119 characters: 10^100 written with 5119 or 5120.
            let len = *rng.pick(&[5119usize, 5120]);
            let mut text = format!("1{}.", "0".repeat(100)).into_bytes();
            text.resize(len, b'0');
            text
        }
        _ => rng.pick(FLOATS).as_bytes().to_vec(),
    }
}

/// Redis's strict integer syntax (string2ll): no sign but a minus, no leading zeros, no "-0".
fn canonical_int(word: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(word).ok()?;
    let n: i64 = text.parse().ok()?;
    (n.to_string() == text).then_some(n)
}

/// A database index that SELECT, SWAPDB, MOVE and COPY accept.
fn db_index(word: &[u8]) -> Option<usize> {
    canonical_int(word)
        .filter(|n| (0..DATABASES as i64).contains(n))
        .map(|n| n as usize)
}

/// A database index: mostly the first few (so keys meet), sometimes any, sometimes invalid.
fn db_arg(rng: &mut Rng) -> Vec<u8> {
    match rng.below(12) {
        0 => rng.range(0, DATABASES as u64 - 1).to_string().into_bytes(),
        1 => rng
            .pick(&["16", "-1", "2147483647", "2147483648", "-2147483649", "100"])
            .as_bytes()
            .to_vec(),
        2 => bad_number(rng),
        _ => rng.range(0, 3).to_string().into_bytes(),
    }
}

// ---------------------------------------------------------------------------------------------
// Deadlines
// ---------------------------------------------------------------------------------------------
//
// Relative deadlines land in [now + 1000 s, now + 3.2 years] or [now + 31 000 years, i64 ms);
// absolute ones are before 2002 (past), in [2100, 3237] or beyond 2.8e8 years. The ranges never
// meet, so comparing any two deadlines (GT, LT) has the same outcome on both servers, and a
// relative one drawn from such wide ranges never falls within milliseconds of another.

/// A deadline amount that is valid and leaves the key alive for the whole run.
fn far_deadline(rng: &mut Rng, millis: bool, absolute: bool) -> i64 {
    let huge = rng.chance(1, 6);
    let (lo, hi): (i64, i64) = match (absolute, millis, huge) {
        (false, false, false) => (1000, 100_000_000),
        (false, false, true) => (1_000_000_000_000, 8_000_000_000_000_000),
        (false, true, false) => (1_000_000, 100_000_000_000),
        (false, true, true) => (100_000_000_000_000_000, 8_000_000_000_000_000_000),
        (true, false, false) => (4_102_444_800, 40_000_000_000),
        (true, false, true) => (9_000_000_000_000_000, i64::MAX / 1000),
        (true, true, false) => (4_102_444_800_000, 40_000_000_000_000),
        (true, true, true) => (9_000_000_000_000_000_000, i64::MAX),
    };
    rng.irange(lo, hi)
}

/// A deadline at or before now: zero, negative, or (absolute) long past.
fn past_deadline(rng: &mut Rng, millis: bool, absolute: bool) -> i64 {
    match rng.below(4) {
        0 => 0,
        1 => -1,
        2 if absolute => rng.irange(1, if millis { 999_999_999_999 } else { 999_999_999 }),
        _ => -rng.irange(1, 1 << 40),
    }
}

/// A deadline whose conversion to milliseconds or addition of now overflows (far from the
/// boundary, which moves with the clock).
fn overflowing_deadline(rng: &mut Rng, millis: bool, absolute: bool) -> i64 {
    let max_s = i64::MAX / 1000;
    match (absolute, millis, rng.below(3)) {
        // seconds * 1000 + now overflows
        (false, false, 0) => rng.irange(9_223_372_036_854_000, max_s),
        // seconds * 1000 overflows
        (_, false, 1) => rng.irange(max_s + 1, i64::MAX),
        (_, false, _) => -rng.irange(max_s + 1, i64::MAX),
        // milliseconds + now overflows
        (false, true, _) => rng.irange(i64::MAX - 1_000_000_000_000, i64::MAX),
        // nothing overflows an absolute time in milliseconds
        (true, true, _) => i64::MIN,
    }
}

/// An expiration option's value (SET, GETEX): valid, past, overflowing or not a number.
fn expiration_value(rng: &mut Rng, token: &str) -> Vec<u8> {
    let (millis, absolute) = match token {
        "EX" => (false, false),
        "PX" => (true, false),
        "EXAT" => (false, true),
        "PXAT" => (true, true),
        other => unreachable!("no expiration token {other}"),
    };
    match rng.below(9) {
        0..=2 => bad_number(rng),
        3 => past_deadline(rng, millis, absolute)
            .to_string()
            .into_bytes(),
        4 => overflowing_deadline(rng, millis, absolute)
            .to_string()
            .into_bytes(),
        _ => far_deadline(rng, millis, absolute).to_string().into_bytes(),
    }
}

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

/// The generator's state: the random sequence, upper bounds of value lengths (to keep LCS
/// cheap), the command names in specs/, and commands to send before the one generated.
struct Gen {
    rng: Rng,
    sizes: Sizes,
    /// Every command and subcommand we have (`get`, `config|get`), containers left out.
    names: Vec<String>,
    before: Vec<Vec<Vec<u8>>>,
}

type Generator = fn(&mut Gen) -> Vec<Vec<u8>>;

/// The table: (name in the coverage count, weight, generator).
const GENERATORS: &[(&str, u32, Generator)] = &[
    ("SET", 90, set_command),
    ("GET", 45, |g| key_command(g, "GET")),
    ("PING", 12, ping_command),
    ("ECHO", 12, echo_command),
    ("CONFIG", 20, config_command),
    ("unknown", 12, unknown_command),
    // keyspace
    ("DEL", 22, |g| keys_command(g, "DEL")),
    ("UNLINK", 8, |g| keys_command(g, "UNLINK")),
    ("EXISTS", 15, |g| keys_command(g, "EXISTS")),
    ("TOUCH", 6, |g| keys_command(g, "TOUCH")),
    ("TYPE", 8, |g| key_command(g, "TYPE")),
    ("KEYS", 10, keys_pattern_command),
    ("RANDOMKEY", 3, randomkey_command),
    ("DBSIZE", 5, dbsize_command),
    ("RENAME", 14, |g| two_keys_command(g, "RENAME")),
    ("RENAMENX", 8, |g| two_keys_command(g, "RENAMENX")),
    ("COPY", 14, copy_command),
    ("MOVE", 10, move_command),
    ("OBJECT ENCODING", 12, |g| object_command(g, "ENCODING")),
    ("OBJECT REFCOUNT", 8, |g| object_command(g, "REFCOUNT")),
    ("OBJECT IDLETIME", 3, |g| object_command(g, "IDLETIME")),
    ("OBJECT FREQ", 2, |g| object_command(g, "FREQ")),
    ("OBJECT other", 3, object_other),
    ("SELECT", 18, select_command),
    ("SWAPDB", 6, swapdb_command),
    ("FLUSHDB", 2, |g| flush_command(g, "FLUSHDB")),
    ("FLUSHALL", 1, |g| flush_command(g, "FLUSHALL")),
    // expiry
    ("EXPIRE", 14, |g| expire_command(g, "EXPIRE")),
    ("PEXPIRE", 10, |g| expire_command(g, "PEXPIRE")),
    ("EXPIREAT", 10, |g| expire_command(g, "EXPIREAT")),
    ("PEXPIREAT", 10, |g| expire_command(g, "PEXPIREAT")),
    ("TTL", 12, |g| key_command(g, "TTL")),
    ("PTTL", 8, |g| key_command(g, "PTTL")),
    ("EXPIRETIME", 10, |g| key_command(g, "EXPIRETIME")),
    ("PEXPIRETIME", 10, |g| key_command(g, "PEXPIRETIME")),
    ("PERSIST", 8, |g| key_command(g, "PERSIST")),
    // strings
    ("APPEND", 16, |g| key_value_command(g, "APPEND")),
    ("STRLEN", 10, |g| key_command(g, "STRLEN")),
    ("INCR", 10, |g| key_command(g, "INCR")),
    ("DECR", 6, |g| key_command(g, "DECR")),
    ("INCRBY", 10, |g| incrby_command(g, "INCRBY")),
    ("DECRBY", 8, |g| incrby_command(g, "DECRBY")),
    ("INCRBYFLOAT", 16, incrbyfloat_command),
    ("MGET", 12, |g| keys_command(g, "MGET")),
    ("MSET", 12, |g| mset_command(g, "MSET")),
    ("MSETNX", 6, |g| mset_command(g, "MSETNX")),
    ("SETNX", 8, |g| key_value_command(g, "SETNX")),
    ("SETEX", 8, |g| setex_command(g, "SETEX")),
    ("PSETEX", 8, |g| setex_command(g, "PSETEX")),
    ("GETSET", 8, |g| key_value_command(g, "GETSET")),
    ("GETDEL", 8, |g| key_command(g, "GETDEL")),
    ("GETEX", 16, getex_command),
    ("GETRANGE", 12, |g| getrange_command(g, "GETRANGE")),
    ("SUBSTR", 5, |g| getrange_command(g, "SUBSTR")),
    ("SETRANGE", 12, setrange_command),
    ("LCS", 8, lcs_command),
    // the COMMAND family, for named commands only (the whole-table forms list what each
    // server has, and are checked against specs/ in tests/introspection.rs)
    ("COMMAND INFO", 6, command_info),
    ("COMMAND DOCS", 5, command_docs),
    ("COMMAND GETKEYS", 8, |g| command_getkeys(g, "GETKEYS")),
    ("COMMAND GETKEYSANDFLAGS", 4, |g| {
        command_getkeys(g, "GETKEYSANDFLAGS")
    }),
    ("COMMAND other", 2, command_other),
];

impl Gen {
    fn new(seed: u64) -> Gen {
        Gen {
            rng: Rng::new(seed),
            sizes: Sizes::new(),
            names: command_names(),
            before: Vec::new(),
        }
    }

    /// A generator from the table, by weight.
    fn pick(&mut self) -> &'static (&'static str, u32, Generator) {
        let total: u32 = GENERATORS.iter().map(|g| g.1).sum();
        let mut n = self.rng.below(total as usize) as u32;
        for entry in GENERATORS {
            if n < entry.1 {
                return entry;
            }
            n -= entry.1;
        }
        unreachable!()
    }

    fn name(&mut self, name: &str) -> Vec<Vec<u8>> {
        vec![self.rng.case(name)]
    }
}

/// The names of specs/*.json as COMMAND INFO takes them (`config-get.json` is `config|get`),
/// without containers: their replies list subcommands in Redis's hash-table order.
fn command_names() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("specs");
    let mut stems: Vec<String> = std::fs::read_dir(&dir)
        .expect("specs/")
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".json").map(str::to_string)
        })
        .collect();
    stems.sort();
    let containers: Vec<String> = stems
        .iter()
        .filter(|s| stems.iter().any(|t| t.starts_with(&format!("{s}-"))))
        .cloned()
        .collect();
    stems
        .into_iter()
        // CLIENT SETINFO and NO-TOUCH are Redis 7.2's; the 7.0 reference lacks them.
        .filter(|s| !containers.contains(s) && s != "client-setinfo" && s != "client-no-touch")
        .map(|s| s.replacen('-', "|", 1))
        .collect()
}

/// NAME key, now and then with a wrong number of arguments.
fn key_command(g: &mut Gen, name: &str) -> Vec<Vec<u8>> {
    let mut argv = g.name(name);
    match g.rng.below(30) {
        0 => {}
        1 => argv.extend([key(&mut g.rng), value(&mut g.rng)]),
        _ => argv.push(key(&mut g.rng)),
    }
    argv
}

/// NAME key [key ...] (none now and then).
fn keys_command(g: &mut Gen, name: &str) -> Vec<Vec<u8>> {
    let mut argv = g.name(name);
    let (min, max) = match g.rng.below(50) {
        0 | 1 => (0, 0),
        2 => (20, 200),
        _ => (1, 5),
    };
    argv.extend(keys(&mut g.rng, min, max));
    argv
}

/// NAME key value.
fn key_value_command(g: &mut Gen, name: &str) -> Vec<Vec<u8>> {
    let mut argv = g.name(name);
    match g.rng.below(30) {
        0 => argv.push(key(&mut g.rng)),
        1 => argv.extend([key(&mut g.rng), value(&mut g.rng), value(&mut g.rng)]),
        _ => argv.extend([key(&mut g.rng), value(&mut g.rng)]),
    }
    argv
}

/// NAME key key (RENAME, RENAMENX).
fn two_keys_command(g: &mut Gen, name: &str) -> Vec<Vec<u8>> {
    let mut argv = g.name(name);
    let n = match g.rng.below(30) {
        0 => 1,
        1 => 3,
        _ => 2,
    };
    argv.extend(keys(&mut g.rng, n, n));
    argv
}

fn ping_command(g: &mut Gen) -> Vec<Vec<u8>> {
    let mut argv = g.name("PING");
    for _ in 0..*g.rng.pick(&[0, 0, 1, 1, 1, 2, 3]) {
        argv.push(value(&mut g.rng));
    }
    argv
}

fn echo_command(g: &mut Gen) -> Vec<Vec<u8>> {
    let mut argv = g.name("ECHO");
    for _ in 0..*g.rng.pick(&[0, 1, 1, 1, 1, 2]) {
        argv.push(value(&mut g.rng));
    }
    argv
}

fn set_command(g: &mut Gen) -> Vec<Vec<u8>> {
    let rng = &mut g.rng;
    let mut argv = vec![rng.case("SET")];
    match rng.below(30) {
        0 => return argv,
        1 => {
            argv.push(key(rng));
            return argv;
        }
        _ => {}
    }
    argv.push(key(rng));
    argv.push(value(rng));
    // Mostly zero to two options, sometimes a pile of them (repeats and conflicts included).
    let options = match rng.below(10) {
        0..=2 => 0,
        3..=5 => 1,
        6..=7 => 2,
        8 => 3,
        _ => rng.range(4, 7) as usize,
    };
    for i in 0..options {
        let last = i + 1 == options;
        match rng.below(20) {
            0..=2 => argv.push(rng.case("NX")),
            3..=5 => argv.push(rng.case("XX")),
            6..=8 => argv.push(rng.case("GET")),
            9..=10 => argv.push(rng.case("KEEPTTL")),
            11..=17 => {
                let token = *rng.pick(&["EX", "PX", "EXAT", "PXAT"]);
                argv.push(rng.case(token));
                // A token at the very end sometimes has no value.
                if !(last && rng.chance(1, 6)) {
                    argv.push(expiration_value(rng, token));
                }
            }
            _ => {
                let word = *rng.pick(&["FOO", "NXX", "EXPIRE", "", "KEEP", "EX10", "1000", "GETT"]);
                argv.push(rng.case(word));
            }
        }
    }
    argv
}

/// Parameter names we hold whose values cannot differ between the two servers as started
/// (both with Redis's defaults, except the ones left out here).
const CONFIG_NAMES: &[&str] = &[
    "protected-mode",
    "enable-protected-configs",
    "enable-debug-command",
    "tcp-backlog",
    "tcp-keepalive",
    "timeout",
    "io-threads",
    "daemonize",
    "pidfile",
    "loglevel",
    "logfile",
    "databases",
    "dbfilename",
    "save",
    "rdbcompression",
    "rdbchecksum",
    "stop-writes-on-bgsave-error",
    "appendonly",
    "appendfilename",
    "appendfsync",
    "requirepass",
    "masterauth",
    "replicaof",
    "slaveof",
    "replica-read-only",
    "slave-read-only",
    "repl-backlog-size",
    "maxmemory",
    "maxmemory-policy",
    "maxmemory-samples",
    "lfu-log-factor",
    "lfu-decay-time",
    "proto-max-bulk-len",
    "client-query-buffer-limit",
    "hz",
    "slowlog-log-slower-than",
    "slowlog-max-len",
    "rdb-key-save-delay",
    // No such parameter: an empty reply.
    "nosuch-parameter",
    "maxmemoryx",
    "",
];

fn config_command(g: &mut Gen) -> Vec<Vec<u8>> {
    let rng = &mut g.rng;
    let mut argv = vec![rng.case("CONFIG")];
    match rng.below(20) {
        0 => return argv,
        1 => {
            argv.push(rng.case("GET"));
            return argv;
        }
        2 => {
            argv.push(rng.case("HELP"));
            return argv;
        }
        3 => {
            let sub = *rng.pick(&["FOO", "GETT", "", "HELPME", "G"]);
            argv.push(rng.case(sub));
            if rng.chance(1, 2) {
                argv.push(b"maxmemory".to_vec());
            }
            return argv;
        }
        _ => argv.push(rng.case("GET")),
    }
    let names = match rng.below(10) {
        0..=5 => 1,
        6..=8 => 2,
        _ => rng.range(3, 6) as usize,
    };
    for _ in 0..names {
        let name = *rng.pick(CONFIG_NAMES);
        argv.push(if rng.chance(1, 5) {
            rng.case(&name.to_ascii_uppercase())
        } else {
            name.as_bytes().to_vec()
        });
    }
    argv
}

/// Names that no Redis 7.0 command has.
const UNKNOWN: &[&str] = &[
    "FOOBAR", "nosuch", "xyzzy", "SETT", "GETX", "ECH0", "PINGG", "", "CONFIGS",
];

fn unknown_command(g: &mut Gen) -> Vec<Vec<u8>> {
    let rng = &mut g.rng;
    let name = *rng.pick(UNKNOWN);
    let mut name = rng.case(name);
    match rng.below(6) {
        0 => {
            name = b"zz".to_vec();
            let tail = rng.range(0, 12) as usize;
            name.extend(rng.bytes(tail));
        }
        1 => name = format!("long{}", "x".repeat(rng.range(100, 300) as usize)).into_bytes(),
        _ => {}
    }
    let mut argv = vec![name];
    for _ in 0..rng.below(4) {
        argv.push(if rng.chance(1, 4) {
            "y".repeat(rng.range(100, 200) as usize).into_bytes()
        } else {
            value(rng)
        });
    }
    argv
}

/// KEYS pattern: wildcards, sets, ranges, escapes, a key as its own pattern.
fn keys_pattern_command(g: &mut Gen) -> Vec<Vec<u8>> {
    const PATTERNS: &[&[u8]] = &[
        b"*",
        b"**",
        b"k*",
        b"?",
        b"k?",
        b"*1*",
        b"[kK]1",
        b"[^k]*",
        b"[!k]*",
        b"[a-z]*",
        b"[z-a]*",
        b"user:*",
        b"user:100[0-9]",
        b"bin*",
        b"bin\r\n\0*",
        b"*\r\n*",
        b"",
        b"\\*",
        b"k\\1",
        b"[",
        b"k[",
        b"*[",
        b"K1",
        b"?*",
        b"nomatch*",
    ];
    // Pieces of random patterns: glob syntax, whole and broken, and bits of the pool's keys.
    const PIECES: &[&[u8]] = &[
        b"*", b"*", b"?", b"?", b"[", b"]", b"^", b"-", b"\\", b"[a-z]", b"[^k]", b"[!0-9]",
        b"[K-k]", b"[\\]]", b"k", b"K", b"1", b"2", b":", b"u", b"user", b"bin", b"\r\n\0", b"\0",
        b"key",
    ];
    let mut argv = g.name("KEYS");
    match g.rng.below(25) {
        0 => {}
        1 => argv.extend([b"*".to_vec(), b"*".to_vec()]),
        2..=4 => argv.push(key(&mut g.rng)),
        5..=14 => {
            let pattern = (0..g.rng.range(1, 6))
                .flat_map(|_| g.rng.pick(PIECES).to_vec())
                .collect();
            argv.push(pattern);
        }
        _ => argv.push(g.rng.pick(PATTERNS).to_vec()),
    }
    argv
}

fn randomkey_command(g: &mut Gen) -> Vec<Vec<u8>> {
    let mut argv = g.name("RANDOMKEY");
    if g.rng.chance(1, 15) {
        argv.push(key(&mut g.rng));
    }
    argv
}

/// DBSIZE, after an EXISTS of every key in the pool: Redis counts keys whose deadline has
/// passed until something reclaims them (a lookup, or its active expiry cycle, which runs at
/// its own moments); looking every key up reclaims them in both servers alike.
fn dbsize_command(g: &mut Gen) -> Vec<Vec<u8>> {
    g.before.push(sweep());
    let mut argv = g.name("DBSIZE");
    if g.rng.chance(1, 15) {
        argv.push(key(&mut g.rng));
    }
    argv
}

fn sweep() -> Vec<Vec<u8>> {
    let mut argv = vec![b"EXISTS".to_vec()];
    argv.extend(KEYS.iter().map(|k| k.to_vec()));
    argv
}

/// COPY source destination [DB index] [REPLACE], options in any order, repeated or wrong.
fn copy_command(g: &mut Gen) -> Vec<Vec<u8>> {
    let rng = &mut g.rng;
    let mut argv = vec![rng.case("COPY")];
    match rng.below(30) {
        0 => return argv,
        1 => {
            argv.push(key(rng));
            return argv;
        }
        _ => argv.extend([key(rng), key(rng)]),
    }
    // Known difference (tests/cases/copy.txt, `!differs COPY src x DB 16 FOO`): Redis checks
    // each DB value's range as it reads the options, so an out-of-range DB wins over a later
    // bad word, a missing value or a DB that is not an integer; we check the range after the
    // whole option list. After an out-of-range DB, only well-formed options follow.
    let mut out_of_range = false;
    for _ in 0..*rng.pick(&[0, 0, 1, 1, 1, 2, 3]) {
        match rng.below(10) {
            0..=3 => argv.push(rng.case("REPLACE")),
            4..=8 => {
                argv.push(rng.case("DB"));
                let mut db = db_arg(rng);
                if out_of_range && canonical_int(&db).is_none() {
                    db = b"1".to_vec();
                }
                out_of_range |= canonical_int(&db).is_some() && db_index(&db).is_none();
                argv.push(db);
            }
            _ if !out_of_range => {
                let word = *rng.pick(&["FOO", "DB", "REPLACEX", "", "1"]);
                argv.push(rng.case(word));
            }
            _ => {}
        }
    }
    argv
}

fn move_command(g: &mut Gen) -> Vec<Vec<u8>> {
    let mut argv = g.name("MOVE");
    match g.rng.below(30) {
        0 => argv.push(key(&mut g.rng)),
        1 => argv.extend([key(&mut g.rng), b"1".to_vec(), b"2".to_vec()]),
        _ => argv.extend([key(&mut g.rng), db_arg(&mut g.rng)]),
    }
    argv
}

/// OBJECT <subcommand> key, sometimes with a wrong number of arguments.
fn object_command(g: &mut Gen, sub: &str) -> Vec<Vec<u8>> {
    let mut argv = g.name("OBJECT");
    argv.push(g.rng.case(sub));
    match g.rng.below(30) {
        0 => {}
        1 => argv.extend([key(&mut g.rng), key(&mut g.rng)]),
        _ => argv.push(key(&mut g.rng)),
    }
    argv
}

/// OBJECT alone, OBJECT HELP, unknown subcommands.
fn object_other(g: &mut Gen) -> Vec<Vec<u8>> {
    let mut argv = g.name("OBJECT");
    match g.rng.below(5) {
        0 => {}
        1 | 2 => {
            argv.push(g.rng.case("HELP"));
            if g.rng.chance(1, 4) {
                argv.push(key(&mut g.rng));
            }
        }
        _ => {
            let sub = *g.rng.pick(&["FOO", "ENCODINGS", "", "with space", "REF"]);
            argv.push(g.rng.case(sub));
            if g.rng.chance(2, 3) {
                argv.push(key(&mut g.rng));
            }
        }
    }
    argv
}

fn select_command(g: &mut Gen) -> Vec<Vec<u8>> {
    let mut argv = g.name("SELECT");
    match g.rng.below(30) {
        0 => {}
        1 => argv.extend([b"1".to_vec(), b"2".to_vec()]),
        _ => argv.push(db_arg(&mut g.rng)),
    }
    argv
}

fn swapdb_command(g: &mut Gen) -> Vec<Vec<u8>> {
    let mut argv = g.name("SWAPDB");
    if g.rng.chance(1, 30) {
        argv.push(db_arg(&mut g.rng));
        return argv;
    }
    let first = db_arg(&mut g.rng);
    let mut second = db_arg(&mut g.rng);
    // Known difference (tests/cases/swapdb.txt, `!differs SWAPDB 2147483648 abc`): Redis
    // range-checks the first index as a C int before it reads the second; we convert both
    // first. An integer first index that is no C int is followed by an integer.
    let c_int = |w: &[u8]| canonical_int(w).is_some_and(|n| i32::try_from(n).is_ok());
    if canonical_int(&first).is_some() && !c_int(&first) && canonical_int(&second).is_none() {
        second = b"0".to_vec();
    }
    argv.extend([first, second]);
    argv
}

fn flush_command(g: &mut Gen, name: &str) -> Vec<Vec<u8>> {
    let mut argv = g.name(name);
    match g.rng.below(6) {
        0 => argv.push(g.rng.case("ASYNC")),
        1 => argv.push(g.rng.case("SYNC")),
        2 => {
            let word = *g.rng.pick(&["FOO", "ASYNC SYNC", "", "LAZY"]);
            argv.push(g.rng.case(word));
        }
        3 if g.rng.chance(1, 3) => argv.extend([b"ASYNC".to_vec(), b"SYNC".to_vec()]),
        _ => {}
    }
    argv
}

/// EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT: key amount [NX|XX|GT|LT ...].
fn expire_command(g: &mut Gen, name: &str) -> Vec<Vec<u8>> {
    let millis = name.starts_with('P');
    let absolute = name.ends_with("AT");
    let rng = &mut g.rng;
    let mut argv = vec![rng.case(name)];
    match rng.below(40) {
        0 => return argv,
        1 => {
            argv.push(key(rng));
            return argv;
        }
        _ => argv.push(key(rng)),
    }
    let amount = match rng.below(10) {
        0 | 1 => bad_number(rng),
        2 => past_deadline(rng, millis, absolute)
            .to_string()
            .into_bytes(),
        3 => overflowing_deadline(rng, millis, absolute)
            .to_string()
            .into_bytes(),
        _ => far_deadline(rng, millis, absolute).to_string().into_bytes(),
    };
    argv.push(amount);
    let options = match rng.below(20) {
        0..=9 => 0,
        10..=15 => 1,
        16..=18 => 2,
        _ => rng.range(3, 5) as usize,
    };
    for _ in 0..options {
        let word = if rng.chance(1, 12) {
            *rng.pick(&["FOO", "NXX", "", "EX", "10", "G T"])
        } else {
            *rng.pick(&["NX", "XX", "GT", "LT"])
        };
        argv.push(rng.case(word));
    }
    argv
}

fn incrby_command(g: &mut Gen, name: &str) -> Vec<Vec<u8>> {
    let mut argv = g.name(name);
    match g.rng.below(30) {
        0 => argv.push(key(&mut g.rng)),
        1 => argv.extend([key(&mut g.rng), b"1".to_vec(), b"1".to_vec()]),
        _ => argv.extend([key(&mut g.rng), integer_arg(&mut g.rng)]),
    }
    argv
}

fn incrbyfloat_command(g: &mut Gen) -> Vec<Vec<u8>> {
    let mut argv = g.name("INCRBYFLOAT");
    match g.rng.below(30) {
        0 => argv.push(key(&mut g.rng)),
        1 => argv.extend([key(&mut g.rng), b"1".to_vec(), b"1".to_vec()]),
        _ => {
            let increment = if g.rng.chance(1, 5) {
                numeric(&mut g.rng)
            } else {
                float_text(&mut g.rng)
            };
            argv.extend([key(&mut g.rng), increment]);
        }
    }
    argv
}

/// MSET / MSETNX key value [key value ...], with an odd count now and then.
fn mset_command(g: &mut Gen, name: &str) -> Vec<Vec<u8>> {
    let mut argv = g.name(name);
    for _ in 0..g.rng.range(1, 4) {
        argv.extend([key(&mut g.rng), value(&mut g.rng)]);
    }
    if g.rng.chance(1, 15) {
        argv.pop();
    }
    argv
}

/// SETEX / PSETEX key amount value: the amount is relative and must be positive.
fn setex_command(g: &mut Gen, name: &str) -> Vec<Vec<u8>> {
    let millis = name == "PSETEX";
    let rng = &mut g.rng;
    let mut argv = vec![rng.case(name)];
    if rng.chance(1, 30) {
        argv.extend([key(rng), b"1000".to_vec()]);
        return argv;
    }
    let amount = match rng.below(8) {
        0 | 1 => bad_number(rng),
        2 => past_deadline(rng, millis, false).to_string().into_bytes(),
        3 => overflowing_deadline(rng, millis, false)
            .to_string()
            .into_bytes(),
        _ => far_deadline(rng, millis, false).to_string().into_bytes(),
    };
    argv.extend([key(rng), amount, value(rng)]);
    argv
}

/// GETEX key [EX n | PX n | EXAT n | PXAT n | PERSIST], repeated, conflicting or wrong.
fn getex_command(g: &mut Gen) -> Vec<Vec<u8>> {
    let rng = &mut g.rng;
    let mut argv = vec![rng.case("GETEX")];
    if rng.chance(1, 30) {
        return argv;
    }
    argv.push(key(rng));
    let options = match rng.below(10) {
        0..=2 => 0,
        3..=7 => 1,
        8 => 2,
        _ => 3,
    };
    for i in 0..options {
        match rng.below(12) {
            0..=7 => {
                let token = *rng.pick(&["EX", "PX", "EXAT", "PXAT"]);
                argv.push(rng.case(token));
                if !(i + 1 == options && rng.chance(1, 8)) {
                    argv.push(expiration_value(rng, token));
                }
            }
            8..=10 => argv.push(rng.case("PERSIST")),
            _ => {
                let word = *rng.pick(&["KEEPTTL", "NX", "GET", "FOO", "", "PERSISTS"]);
                argv.push(rng.case(word));
            }
        }
    }
    argv
}

/// An index into a string: near the ends, the i64 extremes, or not a number.
fn string_index(rng: &mut Rng) -> Vec<u8> {
    match rng.below(10) {
        0 => bad_number(rng),
        1 => rng.pick(INTEGERS).as_bytes().to_vec(),
        2 => format!("-{}", rng.range(0, 5000)).into_bytes(),
        3 => rng.range(0, 5000).to_string().into_bytes(),
        _ => rng.irange(-20, 20).to_string().into_bytes(),
    }
}

fn getrange_command(g: &mut Gen, name: &str) -> Vec<Vec<u8>> {
    let mut argv = g.name(name);
    match g.rng.below(30) {
        0 => argv.extend([key(&mut g.rng), b"0".to_vec()]),
        _ => argv.extend([
            key(&mut g.rng),
            string_index(&mut g.rng),
            string_index(&mut g.rng),
        ]),
    }
    argv
}

/// SETRANGE key offset value. An offset that is valid and large would make both servers
/// allocate up to 512 MB: large offsets are either refused (past the limit) or come with an
/// empty value (nothing is written).
fn setrange_command(g: &mut Gen) -> Vec<Vec<u8>> {
    let rng = &mut g.rng;
    let mut argv = vec![rng.case("SETRANGE")];
    if rng.chance(1, 30) {
        argv.extend([key(rng), b"0".to_vec()]);
        return argv;
    }
    let value = if rng.chance(1, 8) {
        Vec::new()
    } else {
        value(rng)
    };
    let len = value.len() as i64;
    let offset = match rng.below(12) {
        0 => bad_number(rng),
        1 => format!("-{}", rng.range(1, 1000)).into_bytes(),
        2 => {
            // Just past what proto-max-bulk-len allows, or far past it.
            let lo = (MAX_STRING - len + 1).max(MAX_STRING - 10);
            rng.irange(lo, MAX_STRING + 10).to_string().into_bytes()
        }
        3 => rng
            .pick(&["9223372036854775807", "-9223372036854775808", "4294967296"])
            .as_bytes()
            .to_vec(),
        4 if len == 0 => rng.irange(0, MAX_STRING).to_string().into_bytes(),
        5 => rng.range(0, 100_000).to_string().into_bytes(),
        6 | 7 => rng.range(0, 5000).to_string().into_bytes(),
        _ => rng.range(0, 64).to_string().into_bytes(),
    };
    // Never a large valid write (see above).
    let offset = match canonical_int(&offset) {
        Some(n) if n > 100_000 && len > 0 && n.saturating_add(len) <= MAX_STRING => {
            MAX_STRING.to_string().into_bytes()
        }
        _ => offset,
    };
    argv.extend([key(rng), offset, value]);
    argv
}

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN], on keys short enough (as far as
/// the generator knows) to keep the table small.
fn lcs_command(g: &mut Gen) -> Vec<Vec<u8>> {
    let mut argv = g.name("LCS");
    let mut pair = None;
    for _ in 0..10 {
        let (a, b) = (key(&mut g.rng), key(&mut g.rng));
        if (g.sizes.bound(&a) + 1) * (g.sizes.bound(&b) + 1) <= LCS_CELLS {
            pair = Some((a, b));
            break;
        }
    }
    let Some((a, b)) = pair else {
        // Every pair tried may be long: a wrong arity instead.
        argv.push(key(&mut g.rng));
        return argv;
    };
    argv.extend([a, b]);
    let rng = &mut g.rng;
    for _ in 0..*rng.pick(&[0, 0, 1, 1, 2, 2, 3, 4]) {
        match rng.below(12) {
            0..=1 => argv.push(rng.case("LEN")),
            2..=5 => argv.push(rng.case("IDX")),
            6..=7 => argv.push(rng.case("WITHMATCHLEN")),
            8..=10 => {
                argv.push(rng.case("MINMATCHLEN"));
                if rng.chance(7, 8) {
                    argv.push(if rng.chance(1, 4) {
                        integer_arg(rng)
                    } else {
                        rng.irange(-1, 6).to_string().into_bytes()
                    });
                }
            }
            _ => {
                let word = *rng.pick(&["FOO", "", "LENS", "1"]);
                argv.push(rng.case(word));
            }
        }
    }
    argv
}

/// A command name for COMMAND INFO / DOCS: one of ours, in any case, or an unknown one.
fn command_name(g: &mut Gen, skip: &[&str]) -> Vec<u8> {
    if g.rng.chance(1, 8) {
        let name = *g.rng.pick(&[
            "nosuch",
            "",
            "get|x",
            "config|nosuch",
            "object|nosuch",
            "xyzzy|get",
            "|",
        ]);
        return name.as_bytes().to_vec();
    }
    loop {
        let name = g.rng.pick(&g.names).clone();
        if !skip.contains(&name.as_str()) {
            return g.rng.case(&name);
        }
    }
}

fn command_info(g: &mut Gen) -> Vec<Vec<u8>> {
    let mut argv = g.name("COMMAND");
    argv.push(g.rng.case("INFO"));
    for _ in 0..*g.rng.pick(&[1, 1, 1, 2, 3]) {
        let name = command_name(g, &[]);
        argv.push(name);
    }
    argv
}

fn command_docs(g: &mut Gen) -> Vec<Vec<u8>> {
    let mut argv = g.name("COMMAND");
    argv.push(g.rng.case("DOCS"));
    for _ in 0..*g.rng.pick(&[1, 1, 1, 2, 3]) {
        // Known difference (tests/cases/command-docs.txt): GETKEYS and GETKEYSANDFLAGS
        // document their arguments as Redis 7.2 does; 7.0's spec lists none.
        let name = command_name(g, &["command|getkeys", "command|getkeysandflags"]);
        argv.push(name);
    }
    argv
}

/// COMMAND GETKEYS / GETKEYSANDFLAGS followed by any command the other generators make.
fn command_getkeys(g: &mut Gen, sub: &str) -> Vec<Vec<u8>> {
    let mut argv = g.name("COMMAND");
    argv.push(g.rng.case(sub));
    loop {
        let (name, _, generator) = g.pick();
        if name.starts_with("COMMAND") {
            continue;
        }
        // Known difference (tests/cases/command-getkeysandflags.txt): Redis narrows SET's key
        // flags to what the call does; we report the spec's.
        if sub == "GETKEYSANDFLAGS" && *name == "SET" {
            continue;
        }
        let inner = generator(g);
        g.before.clear();
        argv.extend(inner);
        return argv;
    }
}

/// COMMAND HELP, wrong arities, unknown subcommands, malformed COMMAND LIST filters.
fn command_other(g: &mut Gen) -> Vec<Vec<u8>> {
    let mut argv = g.name("COMMAND");
    let tail: &[&str] = match g.rng.below(8) {
        0 | 1 => &["HELP"],
        2 => &["HELP", "extra"],
        3 => &["COUNT", "extra"],
        4 => &["FOO"],
        5 => &["LIST", "FILTERBY", "FOO", "bar"],
        6 => &["LIST", "FILTERBY", "PATTERN"],
        _ => &["GETKEYS"],
    };
    for word in tail {
        argv.push(g.rng.case(word));
    }
    argv
}

// ---------------------------------------------------------------------------------------------
// What the generator knows: upper bounds of value lengths
// ---------------------------------------------------------------------------------------------

/// Upper bounds of the length of each key's value, per database, updated as commands are
/// generated (before their replies are known, so every guess is pessimistic). Used only to
/// keep LCS cheap; a wrong guess costs time, not correctness.
struct Sizes {
    db: usize,
    dbs: Vec<HashMap<Vec<u8>, usize>>,
}

impl Sizes {
    fn new() -> Sizes {
        Sizes {
            db: 0,
            dbs: vec![HashMap::new(); DATABASES],
        }
    }

    fn bound(&self, key: &[u8]) -> usize {
        self.dbs[self.db].get(key).copied().unwrap_or(0)
    }

    fn grow(&mut self, db: usize, key: &[u8], len: usize) {
        let slot = self.dbs[db].entry(key.to_vec()).or_insert(0);
        *slot = (*slot).max(len);
    }

    fn apply(&mut self, argv: &[Vec<u8>]) {
        let name = String::from_utf8_lossy(&argv[0]).to_ascii_uppercase();
        let db = self.db;
        let n = argv.len();
        match (name.as_str(), n) {
            ("SELECT", 2) => {
                if let Some(index) = db_index(&argv[1]) {
                    self.db = index;
                }
            }
            ("SWAPDB", 3) => {
                if let (Some(a), Some(b)) = (db_index(&argv[1]), db_index(&argv[2])) {
                    self.dbs.swap(a, b);
                }
            }
            ("FLUSHALL", 1) => self.dbs.iter_mut().for_each(HashMap::clear),
            ("FLUSHDB", 1) => self.dbs[db].clear(),
            ("DEL" | "UNLINK", _) => argv[1..].iter().for_each(|k| {
                self.dbs[db].remove(k);
            }),
            ("GETDEL", 2) => {
                self.dbs[db].remove(&argv[1]);
            }
            ("SET", 3) | ("GETSET", 3) => {
                self.dbs[db].insert(argv[1].clone(), argv[2].len());
            }
            ("SET" | "SETNX", _) if n >= 3 => self.grow(db, &argv[1], argv[2].len()),
            ("SETEX" | "PSETEX", 4) => self.grow(db, &argv[1], argv[3].len()),
            ("MSET" | "MSETNX", _) => {
                for pair in argv[1..].chunks(2) {
                    if let [k, v] = pair {
                        self.grow(db, k, v.len());
                    }
                }
            }
            ("APPEND", 3) => {
                let len = self.bound(&argv[1]) + argv[2].len();
                self.grow(db, &argv[1], len);
            }
            ("SETRANGE", 4) => {
                if let Some(offset) = canonical_int(&argv[2]) {
                    if offset >= 0 && offset.saturating_add(argv[3].len() as i64) <= MAX_STRING {
                        self.grow(db, &argv[1], offset as usize + argv[3].len());
                    }
                }
            }
            ("INCR" | "DECR" | "INCRBY" | "DECRBY", _) if n >= 2 => self.grow(db, &argv[1], 20),
            // A sum may print hundreds or thousands of digits.
            ("INCRBYFLOAT", _) if n >= 2 => self.grow(db, &argv[1], 5000),
            ("RENAME" | "RENAMENX", 3) => {
                let len = self.bound(&argv[1]);
                self.grow(db, &argv[2], len);
            }
            ("COPY", _) if n >= 3 => {
                let len = self.bound(&argv[1]);
                self.grow(db, &argv[2], len);
                for target in argv[3..].iter().filter_map(|w| db_index(w)) {
                    self.grow(target, &argv[2], len);
                }
            }
            ("MOVE", 3) => {
                if let Some(target) = db_index(&argv[2]) {
                    let len = self.bound(&argv[1]);
                    self.grow(target, &argv[1], len);
                }
            }
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// What the comparison knows: a model of the keyspace fed with Redis's replies
// ---------------------------------------------------------------------------------------------

/// What the model records about a key, both false for most keys.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
struct Marks {
    /// The key may have a deadline set relative to the clock (EX, PX, EXPIRE, SETEX, ...),
    /// which the two servers computed from their own clocks, some milliseconds apart.
    relative: bool,
    /// The key's value may be a COPY of another (see `known_difference`, OBJECT REFCOUNT).
    copied: bool,
}

/// The selected database and the marks of every key, updated after each command with the
/// reply redis-server gave (ours was identical, or the test has already failed). Errors change
/// nothing; where a reply does not tell what happened, marks only ever get added.
struct Model {
    db: usize,
    dbs: Vec<HashMap<Vec<u8>, Marks>>,
}

const NIL: &[u8] = b"$-1\r\n";
const OK: &[u8] = b"+OK\r\n";
const ONE: &[u8] = b":1\r\n";

impl Model {
    fn new() -> Model {
        Model {
            db: 0,
            dbs: vec![HashMap::new(); DATABASES],
        }
    }

    fn marks(&self, key: &[u8]) -> Marks {
        self.dbs[self.db].get(key).copied().unwrap_or_default()
    }

    fn put(&mut self, db: usize, key: &[u8], marks: Marks) {
        if marks == Marks::default() {
            self.dbs[db].remove(key);
        } else {
            self.dbs[db].insert(key.to_vec(), marks);
        }
    }

    /// The key now has a fresh value without a deadline (or is gone).
    fn reset(&mut self, key: &[u8]) {
        self.dbs[self.db].remove(key);
    }

    fn set_relative(&mut self, key: &[u8], relative: bool) {
        let marks = Marks {
            relative,
            ..self.marks(key)
        };
        self.put(self.db, key, marks);
    }

    fn apply(&mut self, argv: &[Vec<u8>], reply: &[u8]) {
        if reply.starts_with(b"-") {
            return;
        }
        let name = String::from_utf8_lossy(&argv[0]).to_ascii_uppercase();
        let db = self.db;
        match name.as_str() {
            "SELECT" => self.db = db_index(&argv[1]).expect("SELECT succeeded"),
            "SWAPDB" => {
                let (a, b) = (db_index(&argv[1]), db_index(&argv[2]));
                self.dbs.swap(a.expect("index"), b.expect("index"));
            }
            "FLUSHDB" => self.dbs[db].clear(),
            "FLUSHALL" => self.dbs.iter_mut().for_each(HashMap::clear),
            "DEL" | "UNLINK" => argv[1..].iter().for_each(|k| self.reset(k)),
            "GETDEL" | "GETSET" => self.reset(&argv[1]),
            "SETNX" if reply == ONE => self.reset(&argv[1]),
            "MSET" => argv[1..].chunks(2).for_each(|p| self.reset(&p[0])),
            "MSETNX" if reply == ONE => argv[1..].chunks(2).for_each(|p| self.reset(&p[0])),
            "SETEX" | "PSETEX" => self.put(
                db,
                &argv[1],
                Marks {
                    relative: true,
                    copied: false,
                },
            ),
            "SET" => {
                let (mut relative, mut keepttl, mut condition, mut get) =
                    (false, false, None, false);
                let mut words = argv[3..].iter();
                while let Some(word) = words.next() {
                    match word.to_ascii_uppercase().as_slice() {
                        b"EX" | b"PX" => {
                            relative = true;
                            words.next();
                        }
                        b"EXAT" | b"PXAT" => {
                            words.next();
                        }
                        b"KEEPTTL" => keepttl = true,
                        b"GET" => get = true,
                        b"NX" => condition = Some(true),
                        b"XX" => condition = Some(false),
                        _ => {}
                    }
                }
                let written = match (get, condition) {
                    (false, _) => reply == OK,
                    (true, None) => true,
                    // NX with GET: written when there was no old value.
                    (true, Some(nx)) => (reply == NIL) == nx,
                };
                if written {
                    let old = self.marks(&argv[1]);
                    let marks = Marks {
                        relative: relative || (keepttl && old.relative),
                        copied: false,
                    };
                    self.put(db, &argv[1], marks);
                }
            }
            "GETEX" => {
                if reply == NIL {
                    self.reset(&argv[1]);
                    return;
                }
                let last = argv[2..]
                    .iter()
                    .rev()
                    .map(|w| w.to_ascii_uppercase())
                    .find(|w| {
                        matches!(w.as_slice(), b"EX" | b"PX" | b"EXAT" | b"PXAT" | b"PERSIST")
                    });
                match last.as_deref() {
                    Some(b"EX" | b"PX") => self.set_relative(&argv[1], true),
                    Some(_) => self.set_relative(&argv[1], false),
                    None => {}
                }
            }
            "PERSIST" => self.set_relative(&argv[1], false),
            "EXPIRE" | "PEXPIRE" if reply == ONE => {
                if canonical_int(&argv[2]).is_some_and(|n| n > 0) {
                    self.set_relative(&argv[1], true);
                } else {
                    self.reset(&argv[1]);
                }
            }
            "EXPIREAT" | "PEXPIREAT" if reply == ONE => self.set_relative(&argv[1], false),
            "RENAME" | "RENAMENX" if (reply == OK || reply == ONE) && argv[1] != argv[2] => {
                let marks = self.marks(&argv[1]);
                self.reset(&argv[1]);
                self.put(db, &argv[2], marks);
            }
            "COPY" if reply == ONE => {
                let mut target = db;
                let mut words = argv[3..].iter();
                while let Some(word) = words.next() {
                    if word.eq_ignore_ascii_case(b"DB") {
                        target = db_index(words.next().expect("DB value")).expect("index");
                    }
                }
                let marks = Marks {
                    copied: true,
                    ..self.marks(&argv[1])
                };
                self.put(target, &argv[2], marks);
            }
            "MOVE" if reply == ONE => {
                let target = db_index(&argv[2]).expect("index");
                let marks = self.marks(&argv[1]);
                self.reset(&argv[1]);
                self.put(target, &argv[1], marks);
            }
            "INCR" | "DECR" | "INCRBY" | "DECRBY" | "INCRBYFLOAT" => {
                let marks = Marks {
                    copied: false,
                    ..self.marks(&argv[1])
                };
                self.put(db, &argv[1], marks);
            }
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Comparing replies
// ---------------------------------------------------------------------------------------------

fn integer(raw: &[u8]) -> Option<i64> {
    let text = raw.strip_prefix(b":")?.strip_suffix(b"\r\n")?;
    std::str::from_utf8(text).ok()?.parse().ok()
}

/// Both integer replies of at least `min`, at most `tolerance` apart.
fn close(a: &[u8], b: &[u8], min: i64, tolerance: i64) -> bool {
    match (integer(a), integer(b)) {
        (Some(a), Some(b)) => a >= min && b >= min && (a - b).abs() <= tolerance,
        _ => false,
    }
}

fn is_bulk(raw: &[u8]) -> bool {
    bulk_payload(raw).is_some()
}

/// The payload of a bulk string reply.
fn bulk_payload(raw: &[u8]) -> Option<&[u8]> {
    let rest = raw.strip_prefix(b"$")?;
    let end = rest.windows(2).position(|w| w == b"\r\n")?;
    let len: usize = std::str::from_utf8(&rest[..end]).ok()?.parse().ok()?;
    rest.get(end + 2..end + 2 + len)
}

/// Whether our reply `got` stands for redis-server's `expected` to `argv`: identical bytes,
/// or different only where Redis is not deterministic (see the module comment), or one of the
/// differences documented in the case files.
fn equivalent(argv: &[Vec<u8>], expected: &[u8], got: &[u8], model: &Model) -> bool {
    if expected == got {
        return true;
    }
    let name = String::from_utf8_lossy(&argv[0]).to_ascii_uppercase();
    let sub = argv
        .get(1)
        .map(|s| String::from_utf8_lossy(s).to_ascii_uppercase())
        .unwrap_or_default();
    let marks = || argv.get(1).map(|k| model.marks(k)).unwrap_or_default();
    match (name.as_str(), sub.as_str()) {
        ("CONFIG", "GET") if argv.len() > 3 => sorted_pairs(got) == sorted_pairs(expected),
        ("KEYS", _) => {
            let sorted = Some(support::Sort::Elements);
            support::render(got, sorted) == support::render(expected, sorted)
        }
        ("COMMAND", "DOCS") => {
            let prose = |raw| support::render_for_comparison(raw, None, support::Compare::Prose);
            prose(got) == prose(expected)
        }
        ("RANDOMKEY", _) => is_bulk(expected) && is_bulk(got),
        ("TTL", _) => close(expected, got, 0, 5),
        ("PTTL", _) => close(expected, got, 0, 5000),
        ("EXPIRETIME", _) => marks().relative && close(expected, got, 0, 5),
        ("PEXPIRETIME", _) => marks().relative && close(expected, got, 0, 5000),
        // Only that both are idle times. The two servers' second boundaries do not line up;
        // and (a difference of ours, not yet fixed) for a key holding a shared integer
        // 0..9999 Redis reports the idle time of the shared object, untouched since startup
        // or since any key holding that number was last read: `SET a 73` then
        // `OBJECT IDLETIME a` is `:<seconds since startup>` there, `:0` here.
        ("OBJECT", "IDLETIME") => close(expected, got, 0, i64::MAX),
        // Known difference (tests/cases/object-refcount.txt): COPY gives Redis a private copy
        // of a shared integer (refcount 1); our values carry no "shared" mark.
        ("OBJECT", "REFCOUNT") => {
            argv.len() == 3
                && model.marks(&argv[2]).copied
                && expected == b":1\r\n"
                && got == b":2147483647\r\n"
        }
        // Known difference (tests/cases/getex.txt, `!differs GETEX missing EX abc`): Redis
        // converts the number only once it has found the key, so a missing key is nil; our
        // dispatcher converts it first. Redis's nil says the key was missing.
        ("GETEX", _) => {
            expected == NIL && got == b"-ERR value is not an integer or out of range\r\n"
        }
        _ => false,
    }
}

/// A flat array of bulk strings read as name/value pairs, sorted, and encoded again; any other
/// reply unchanged. Redis returns CONFIG GET's pairs in the order of a hash table with a
/// per-process random seed, so only the set of pairs can be compared.
fn sorted_pairs(raw: &[u8]) -> Vec<u8> {
    fn line(raw: &[u8], pos: &mut usize) -> Option<Vec<u8>> {
        let end = raw[*pos..].windows(2).position(|w| w == b"\r\n")? + *pos;
        let text = raw[*pos..end].to_vec();
        *pos = end + 2;
        Some(text)
    }
    fn parse(raw: &[u8]) -> Option<Vec<Vec<u8>>> {
        let mut pos = 0;
        let head = line(raw, &mut pos)?;
        let count: usize = std::str::from_utf8(head.strip_prefix(b"*")?)
            .ok()?
            .parse()
            .ok()?;
        let mut items = Vec::with_capacity(count);
        for _ in 0..count {
            let head = line(raw, &mut pos)?;
            let len: usize = std::str::from_utf8(head.strip_prefix(b"$")?)
                .ok()?
                .parse()
                .ok()?;
            items.push(raw.get(pos..pos + len)?.to_vec());
            pos += len + 2;
        }
        (pos == raw.len() && count.is_multiple_of(2)).then_some(items)
    }
    let Some(items) = parse(raw) else {
        return raw.to_vec();
    };
    let mut pairs: Vec<&[Vec<u8>]> = items.chunks(2).collect();
    pairs.sort();
    support::encode_command(&pairs.concat())
}

// ---------------------------------------------------------------------------------------------
// Running the stream
// ---------------------------------------------------------------------------------------------

/// The request bytes for one command: usually multibulk, sometimes inline when every word is
/// plain enough to survive Redis's inline splitting unchanged.
fn encode(rng: &mut Rng, argv: &[Vec<u8>]) -> Vec<u8> {
    let plain = |w: &Vec<u8>| {
        !w.is_empty()
            && w.iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'-' | b'.' | b'+'))
    };
    // (Short lines only: an inline request over 64 KB is a protocol error that closes the
    // connection.)
    let short = argv.iter().map(|w| w.len() + 1).sum::<usize>() < 4096;
    if !argv.is_empty() && short && argv.iter().all(plain) && rng.chance(1, 10) {
        let mut line = argv.join(&b' ');
        line.extend_from_slice(b"\r\n");
        line
    } else {
        support::encode_command(argv)
    }
}

/// A connection to one of the two servers.
struct Peer {
    name: &'static str,
    stream: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Peer {
    fn new(name: &'static str, server: &ServerProcess) -> Peer {
        let stream = server.connect();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let reader = BufReader::new(stream.try_clone().expect("clone"));
        Peer {
            name,
            stream,
            reader,
        }
    }

    /// Write the batch (from a second thread, so that neither side can stall the other on
    /// full socket buffers) and read `count` replies.
    fn exchange(&mut self, request: &[u8], count: usize) -> Vec<Vec<u8>> {
        let Peer {
            name,
            stream,
            reader,
        } = self;
        std::thread::scope(|scope| {
            let writer = scope.spawn(|| stream.write_all(request));
            let replies: Vec<Vec<u8>> = (0..count)
                .map(|n| {
                    read_reply(reader).unwrap_or_else(|e| {
                        panic!("{name}: reading reply {n} of a batch of {count}: {e}")
                    })
                })
                .collect();
            writer
                .join()
                .expect("writer thread")
                .unwrap_or_else(|e| panic!("{name}: write: {e}"));
            replies
        })
    }

    fn call(&mut self, argv: &[Vec<u8>]) -> Vec<u8> {
        self.exchange(&support::encode_command(argv), 1)
            .pop()
            .expect("one reply")
    }
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
        Err(_) => default,
    }
}

fn seed() -> u64 {
    match std::env::var("REDIS_CLONE_DIFF_SEED") {
        Ok(v) => {
            let v = v.trim();
            v.strip_prefix("0x")
                .map_or_else(|| v.parse().ok(), |hex| u64::from_str_radix(hex, 16).ok())
                .unwrap_or_else(|| panic!("REDIS_CLONE_DIFF_SEED={v:?} is not a number"))
        }
        Err(_) => DEFAULT_SEED,
    }
}

fn show_argv(argv: &[Vec<u8>]) -> String {
    argv.iter()
        .map(|a| {
            if a.len() > 300 {
                format!("<{} bytes: {}...>", a.len(), quote(&a[..100]))
            } else {
                quote(a)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn show_reply(raw: &[u8]) -> String {
    if raw.len() > 2000 {
        format!("<{} bytes: {}...>", raw.len(), quote(&raw[..1000]))
    } else {
        quote(raw)
    }
}

struct Run {
    seed: u64,
    reference: ServerProcess,
    ours: ServerProcess,
    theirs: Peer,
    mine: Peer,
    model: Model,
    compared: usize,
}

impl Run {
    /// Send a batch to both servers and compare every reply; `history` is the tail of the
    /// stream before it, shown when a reply differs.
    fn batch(
        &mut self,
        commands: &[Vec<Vec<u8>>],
        request: &[u8],
        history: &[Vec<Vec<u8>>],
    ) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
        let size = commands.len();
        let expected = self.theirs.exchange(request, size);
        let got = self.mine.exchange(request, size);
        for (n, argv) in commands.iter().enumerate() {
            if !equivalent(argv, &expected[n], &got[n], &self.model) {
                let health: Vec<String> = [
                    ("redis-server", &mut self.reference),
                    ("redis-clone", &mut self.ours),
                ]
                .into_iter()
                .map(|(name, server)| match support::identity_problem(server) {
                    Some(problem) => format!("{name}: {problem}"),
                    None => format!("{name}: alive on its own port"),
                })
                .collect();
                let recent: Vec<String> = history
                    .iter()
                    .chain(&commands[..n])
                    .map(|a| format!("    {}", show_argv(a)))
                    .collect();
                let recent = &recent[recent.len().saturating_sub(30)..];
                panic!(
                    "reply differs from redis-server (seed {seed:#x}, command #{} of the stream, \
                     #{n} of a batch of {size}, database {}):\n  command:      {}\n  redis-server: {}\n  \
                     redis-clone:  {}\n({})\nthe commands before it, oldest first:\n{}\n\
                     rerun with REDIS_CLONE_DIFF_SEED={seed:#x}",
                    self.compared + n,
                    self.model.db,
                    show_argv(argv),
                    show_reply(&expected[n]),
                    show_reply(&got[n]),
                    health.join("; "),
                    recent.join("\n"),
                    seed = self.seed,
                );
            }
            self.model.apply(argv, &expected[n]);
        }
        self.compared += size;
        (expected, got)
    }
}

#[test]
fn random_stream_matches_redis() {
    let Some(binary) = support::reference_server() else {
        return;
    };
    let seed = seed();
    let total: usize = env_or("REDIS_CLONE_DIFF_COMMANDS", DEFAULT_COMMANDS);
    let mut reference = support::start_reference("differential-reference", &binary);
    let mut ours = support::start_ours("differential-ours", &[]);
    // Each port must be answered by the process started for it, not by a stranger that won a
    // race for the port.
    for server in [&mut reference, &mut ours] {
        if let Some(problem) = support::identity_problem(server) {
            panic!("{problem}");
        }
    }
    let theirs = Peer::new("redis-server", &reference);
    let mine = Peer::new("redis-clone", &ours);
    let mut run = Run {
        seed,
        reference,
        ours,
        theirs,
        mine,
        model: Model::new(),
        compared: 0,
    };

    let started = Instant::now();
    let mut gen = Gen::new(seed);
    let mut batches = 0usize;
    // Per generator: commands, error replies, replies equivalent but not identical.
    let mut kinds: BTreeMap<&'static str, [usize; 3]> = Default::default();
    let mut history: Vec<Vec<Vec<u8>>> = Vec::new();
    let mut randomkeys = 0usize;
    while run.compared < total {
        let size = 1 + gen.rng.below(MAX_BATCH);
        let mut commands: Vec<Vec<Vec<u8>>> = Vec::with_capacity(size);
        let mut tags: Vec<&'static str> = Vec::with_capacity(size);
        let mut ends_in_randomkey = false;
        while commands.len() < size && run.compared + commands.len() < total {
            let (name, _, generator) = gen.pick();
            let argv = generator(&mut gen);
            tags.extend(gen.before.iter().map(|_| "(EXISTS before DBSIZE)"));
            commands.append(&mut gen.before);
            tags.push(name);
            commands.push(argv);
            // RANDOMKEY ends the batch: each server then shows that its answer exists.
            if *name == "RANDOMKEY" {
                ends_in_randomkey = true;
                break;
            }
        }
        let mut request = Vec::new();
        for argv in &commands {
            gen.sizes.apply(argv);
            request.extend(encode(&mut gen.rng, argv));
        }
        let (expected, got) = run.batch(&commands, &request, &history);
        for (n, tag) in tags.iter().enumerate() {
            let counts = kinds.entry(tag).or_default();
            counts[0] += 1;
            counts[1] += usize::from(expected[n].starts_with(b"-"));
            counts[2] += usize::from(expected[n] != got[n]);
        }
        if ends_in_randomkey && commands.last().is_some_and(|argv| argv.len() == 1) {
            randomkeys += 1;
            let last = commands.len() - 1;
            for (peer, reply) in [
                (&mut run.theirs, &expected[last]),
                (&mut run.mine, &got[last]),
            ] {
                if let Some(name) = bulk_payload(reply) {
                    let exists = peer.call(&[b"EXISTS".to_vec(), name.to_vec()]);
                    assert_eq!(
                        exists,
                        b":1\r\n",
                        "{}: RANDOMKEY answered {}, which does not exist (seed {seed:#x})",
                        peer.name,
                        quote(name)
                    );
                }
            }
        }
        history.extend(commands);
        let excess = history.len().saturating_sub(30);
        history.drain(..excess);
        batches += 1;
    }
    let streamed = run.compared;

    // Both still agree on the state the stream left behind, in every database.
    let mut check: Vec<Vec<Vec<u8>>> = Vec::new();
    for db in 0..DATABASES {
        check.push(vec![b"SELECT".to_vec(), db.to_string().into_bytes()]);
        check.push(sweep());
        check.push(vec![b"DBSIZE".to_vec()]);
        for key in KEYS {
            for command in ["GET", "PEXPIRETIME", "TYPE"] {
                check.push(vec![command.as_bytes().to_vec(), key.to_vec()]);
            }
            check.push(vec![b"OBJECT".to_vec(), b"ENCODING".to_vec(), key.to_vec()]);
        }
    }
    let request: Vec<u8> = check
        .iter()
        .flat_map(|a| support::encode_command(a))
        .collect();
    run.batch(&check, &request, &history);

    // Written straight to stderr so the count shows even though the test passed.
    let coverage: Vec<String> = kinds
        .iter()
        .map(|(name, [n, errors, relaxed])| {
            format!("{name} {n} ({errors} errors, {relaxed} not identical)")
        })
        .collect();
    let _ = std::io::stderr().write_all(
        format!(
            "differential: {streamed} commands in {batches} pipelined batches compared with \
             redis-server, equivalent (seed {seed:#x}, {:?}; {randomkeys} RANDOMKEY answers \
             confirmed; final state of {DATABASES} databases identical)\n  {}\n",
            started.elapsed(),
            coverage.join("\n  "),
        )
        .as_bytes(),
    );
}
