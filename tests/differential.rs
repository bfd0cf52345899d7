//! A random command stream, sent to a real redis-server 7.0 and to us, compared byte for byte.
//!
//! A fixed-seed xorshift generator builds PING / ECHO / SET / GET / CONFIG GET commands (and
//! wrong arities, unknown commands and subcommands) over a small key pool, so that NX, XX, GET
//! and KEEPTTL interact with what earlier commands left behind. SET gets random options in
//! random order and case, with expiration values that are valid, zero, negative, huge,
//! overflowing, non-numeric, decimal, signed or zero-padded; conflicting options, missing
//! option values and unknown words. Values are binary (CR, LF, NUL), empty, or a few KB.
//!
//! There are no timing races: a relative expiration is either invalid or at least 1000 s, an
//! absolute one is either long past or far in the future. CONFIG GET asks only for exact names
//! whose values do not depend on how the two servers were started (not `dir`, `port`, `bind`,
//! `maxclients`) and never for glob patterns (their order is unspecified).
//!
//! The stream goes out in pipelined batches of 1 to 50 commands, each batch in one write, and
//! every reply is compared as raw bytes. `REDIS_CLONE_DIFF_SEED` and `REDIS_CLONE_DIFF_COMMANDS`
//! override the seed and the length.

mod support;

use std::io::{BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use support::{quote, read_reply, ServerProcess};

const DEFAULT_SEED: u64 = 0x5EED_2024_0007_0015;
const DEFAULT_COMMANDS: usize = 20_000;
const MAX_BATCH: usize = 50;

/// xorshift64*: small, fast, and the same sequence everywhere for a given seed.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    /// True with probability `num / den`.
    fn chance(&mut self, num: usize, den: usize) -> bool {
        self.below(den) < num
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }

    /// `word` with each letter's case chosen at random (most often left alone).
    fn case(&mut self, word: &str) -> Vec<u8> {
        match self.below(4) {
            0 => word.to_ascii_lowercase().into_bytes(),
            1 => word
                .bytes()
                .map(|b| {
                    if self.chance(1, 2) {
                        b.to_ascii_lowercase()
                    } else {
                        b.to_ascii_uppercase()
                    }
                })
                .collect(),
            _ => word.as_bytes().to_vec(),
        }
    }
}

/// Keys: few, so that commands meet each other's keys; two of them binary, one empty.
const KEYS: &[&[u8]] = &[
    b"k1",
    b"k2",
    b"k3",
    b"user:1000",
    b"",
    b"bin\r\n\0key",
    b"K1",
];

fn key(rng: &mut Rng) -> Vec<u8> {
    rng.pick(KEYS).to_vec()
}

fn value(rng: &mut Rng) -> Vec<u8> {
    match rng.below(10) {
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
        _ => format!("value-{}", rng.below(1000)).into_bytes(),
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

/// An expiration option's value: valid (and safely far from now) or invalid.
fn expiration_value(rng: &mut Rng, token: &str) -> Vec<u8> {
    if rng.chance(1, 3) {
        return bad_number(rng);
    }
    let n: u64 = match token {
        // Relative: at least 1000 s, up to values whose conversion or sum overflows.
        "EX" => match rng.below(5) {
            0 => 9_223_372_036_854,         // ms fits, far future
            1 => 9_223_372_036_854_775,     // seconds * 1000 overflows
            2 => 9_223_372_036_854_775_807, // i64::MAX
            _ => rng.range(1000, 100_000_000),
        },
        "PX" => match rng.below(5) {
            0 => 9_223_372_036_854_775_807, // now + this overflows
            1 => 9_000_000_000_000_000_000,
            _ => rng.range(1_000_000, 100_000_000_000),
        },
        // Absolute: long past (the key is gone at once) or far future.
        "EXAT" => match rng.below(6) {
            0 => 1,
            1 => rng.range(1, 999_999_999),
            2 => 9_223_372_036_854_775, // * 1000 still fits
            3 => 9_223_372_036_854_776, // * 1000 overflows
            _ => rng.range(4_102_444_800, 40_000_000_000),
        },
        "PXAT" => match rng.below(6) {
            0 => 1,
            1 => rng.range(1, 999_999_999_999),
            2 => 9_223_372_036_854_775_807,
            _ => rng.range(4_102_444_800_000, 40_000_000_000_000),
        },
        other => unreachable!("no expiration token {other}"),
    };
    n.to_string().into_bytes()
}

fn set_command(rng: &mut Rng) -> Vec<Vec<u8>> {
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

fn config_command(rng: &mut Rng) -> Vec<Vec<u8>> {
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

fn unknown_command(rng: &mut Rng) -> Vec<Vec<u8>> {
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

fn random_command(rng: &mut Rng) -> Vec<Vec<u8>> {
    match rng.below(100) {
        0..=34 => set_command(rng),
        35..=59 => {
            let mut argv = vec![rng.case("GET")];
            match rng.below(25) {
                0 => {}
                1 => argv.extend([key(rng), key(rng)]),
                _ => argv.push(key(rng)),
            }
            argv
        }
        60..=67 => {
            let mut argv = vec![rng.case("PING")];
            for _ in 0..*rng.pick(&[0, 0, 1, 1, 1, 2, 3]) {
                argv.push(value(rng));
            }
            argv
        }
        68..=77 => {
            let mut argv = vec![rng.case("ECHO")];
            for _ in 0..*rng.pick(&[0, 1, 1, 1, 1, 2]) {
                argv.push(value(rng));
            }
            argv
        }
        78..=91 => config_command(rng),
        _ => unknown_command(rng),
    }
}

/// The request bytes for one command: usually multibulk, sometimes inline when every word is
/// plain enough to survive Redis's inline splitting unchanged.
fn encode(rng: &mut Rng, argv: &[Vec<u8>]) -> Vec<u8> {
    let plain = |w: &Vec<u8>| {
        !w.is_empty()
            && w.iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'-' | b'.' | b'+'))
    };
    if !argv.is_empty() && argv.iter().all(plain) && rng.chance(1, 10) {
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

/// Whether the reply's element order is Redis's hash-table order: CONFIG GET of several names.
fn unordered(argv: &[Vec<u8>]) -> bool {
    argv.len() > 3
        && argv[0].eq_ignore_ascii_case(b"CONFIG")
        && argv[1].eq_ignore_ascii_case(b"GET")
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

fn show_argv(argv: &[Vec<u8>]) -> String {
    argv.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" ")
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
    let mut theirs = Peer::new("redis-server", &reference);
    let mut mine = Peer::new("redis-clone", &ours);

    let started = Instant::now();
    let mut rng = Rng::new(seed);
    let mut compared = 0usize;
    let mut batches = 0usize;
    let mut kinds: std::collections::BTreeMap<String, usize> = Default::default();
    while compared < total {
        let size = (1 + rng.below(MAX_BATCH)).min(total - compared);
        let commands: Vec<Vec<Vec<u8>>> = (0..size).map(|_| random_command(&mut rng)).collect();
        let mut request = Vec::new();
        for argv in &commands {
            request.extend(encode(&mut rng, argv));
        }
        let expected = theirs.exchange(&request, size);
        let got = mine.exchange(&request, size);
        for (n, argv) in commands.iter().enumerate() {
            let same = got[n] == expected[n]
                || (unordered(argv) && sorted_pairs(&got[n]) == sorted_pairs(&expected[n]));
            if !same {
                let health: Vec<String> =
                    [("redis-server", &mut reference), ("redis-clone", &mut ours)]
                        .into_iter()
                        .map(|(name, server)| match support::identity_problem(server) {
                            Some(problem) => format!("{name}: {problem}"),
                            None => format!("{name}: alive on its own port"),
                        })
                        .collect();
                panic!(
                    "reply differs from redis-server (seed {seed:#x}, command #{} of the stream, \
                     #{n} of a batch of {size}):\n  command:      {}\n  redis-server: {}\n  redis-clone:  {}\n\
                     ({})\nrerun with REDIS_CLONE_DIFF_SEED={seed:#x}",
                    compared + n,
                    show_argv(argv),
                    quote(&expected[n]),
                    quote(&got[n]),
                    health.join("; "),
                );
            }
            let kind = String::from_utf8_lossy(&argv[0]).to_ascii_uppercase();
            let kind = match kind.as_str() {
                "SET" | "GET" | "PING" | "ECHO" | "CONFIG" => kind,
                _ => "unknown".to_string(),
            };
            *kinds.entry(kind).or_default() += 1;
        }
        compared += size;
        batches += 1;
    }
    // Both still agree on the state the stream left behind.
    for key in KEYS {
        let argv = vec![b"GET".to_vec(), key.to_vec()];
        let request = support::encode_command(&argv);
        assert_eq!(
            mine.exchange(&request, 1),
            theirs.exchange(&request, 1),
            "final GET {} (seed {seed:#x})",
            quote(key)
        );
    }
    // Written straight to stderr so the count shows even though the test passed.
    let _ = std::io::stderr().write_all(
        format!(
            "differential: {compared} commands in {batches} pipelined batches compared byte for byte \
             with redis-server, identical (seed {seed:#x}, {:?}; {kinds:?})\n",
            started.elapsed()
        )
        .as_bytes(),
    );
}
