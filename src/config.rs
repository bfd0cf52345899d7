//! The configuration: one declarative table of parameters ([`TABLE`]) and their typed values.
//!
//! Each row gives a parameter's name, aliases, kind (how its text is parsed, validated and
//! printed), default and whether CONFIG SET may change it. Adding a parameter is one row; a typed
//! getter for the server is one `const` index and one short method.
//!
//! This file owns parsing and printing exactly as Redis 7.0.15 does (checked against the live
//! server), CONFIG GET's matching rules, CONFIG SET's validation and error texts, and reading the
//! `redis-server` command line and config file. It does not act on values: rebinding sockets,
//! opening log files or resizing anything is the server's job, and `dir` is resolved to an
//! absolute path here instead of changing the process's working directory (Redis `chdir`s; a
//! library must not, and the server builds its file paths from [`Config::dir`]).

use std::fmt;
use std::path::{Path, PathBuf};

use bytes::Bytes;

use crate::glob::glob_match;

/// A configuration error at startup (command line or config file): one line naming the directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// How a parameter's text is parsed, validated and printed.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// `yes` / `no`, case-insensitive.
    Bool,
    /// A strict decimal integer within `min..=max`.
    Int { min: i64, max: i64 },
    /// Like `Int`, but a valid value is then clamped into `lo..=hi` (Redis does this for `hz`
    /// instead of refusing the value).
    ClampedInt {
        min: i64,
        max: i64,
        lo: i64,
        hi: i64,
    },
    /// A byte count with an optional unit (`b k kb m mb g gb`), printed as plain bytes. Redis
    /// keeps some of these in a signed type; for those `max` is `i64::MAX`, so a value that wraps
    /// past it is refused the same way. A value below `runtime_floor` set through CONFIG SET is
    /// raised to it (Redis does so when it resizes the replication backlog; a startup value is
    /// kept as given).
    Memory {
        min: u64,
        max: u64,
        runtime_floor: u64,
    },
    /// One of a fixed list of words, case-insensitive; the error lists them in this order.
    Enum(&'static [&'static str]),
    /// Any bytes.
    Str,
    /// A file name without `/` (Redis refuses paths for the RDB and AOF names).
    FileName,
    /// The working directory: must exist; stored absolute.
    Dir,
    /// `save`: pairs of `<seconds> <changes>`.
    Save,
    /// `bind`: up to 16 addresses.
    Bind,
    /// `replicaof`: `<host> <port>`, or `no one` / empty for none.
    ReplicaOf,
    /// `client-output-buffer-limit`: groups of `<class> <hard> <soft> <soft-seconds>`; each
    /// group replaces that class's limits and leaves the others as they were.
    OutputBufferLimits,
    /// `latency-tracking-info-percentiles`: numbers between 0 and 100, space-separated.
    Percentiles,
}

/// Who may change a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// CONFIG SET may change it.
    Mutable,
    /// Only the command line and the config file may set it.
    Immutable,
    /// CONFIG SET may change it only as `enable-protected-configs` allows (Redis guards `dir`
    /// and `dbfilename` this way, since writing files to arbitrary places is an attack vector).
    Protected,
}

/// One row of the table.
#[derive(Debug, Clone, Copy)]
struct Param {
    name: &'static str,
    aliases: &'static [&'static str],
    kind: Kind,
    /// The default, as text in the parameter's own syntax (parsed at startup, so defaults go
    /// through exactly the same validation as user values).
    default: &'static str,
    access: Access,
    /// Hidden parameters answer CONFIG GET by exact name only, never to a glob.
    hidden: bool,
}

/// Builds a mutable, visible row without aliases; the methods below adjust it.
const fn p(name: &'static str, kind: Kind, default: &'static str) -> Param {
    Param {
        name,
        aliases: &[],
        kind,
        default,
        access: Access::Mutable,
        hidden: false,
    }
}

impl Param {
    const fn alias(mut self, aliases: &'static [&'static str]) -> Param {
        self.aliases = aliases;
        self
    }
    const fn immutable(mut self) -> Param {
        self.access = Access::Immutable;
        self
    }
    const fn protected(mut self) -> Param {
        self.access = Access::Protected;
        self
    }
    const fn hidden(mut self) -> Param {
        self.hidden = true;
        self
    }
}

const BOOL: Kind = Kind::Bool;
const I32: i64 = i32::MAX as i64;
const fn int(min: i64, max: i64) -> Kind {
    Kind::Int { min, max }
}
const fn mem(min: u64, max: u64) -> Kind {
    Kind::Memory {
        min,
        max,
        runtime_floor: 0,
    }
}
/// Memory kept in a signed 64-bit integer by Redis.
const SIGNED_MEM_MAX: u64 = i64::MAX as u64;
/// `no`, `yes`, or `local` (only for connections from loopback or a Unix socket).
const NO_YES_LOCAL: Kind = Kind::Enum(&["no", "yes", "local"]);

/// Loglevel words; 7.0 has no `nothing` (that came in 7.2).
const LOGLEVELS: Kind = Kind::Enum(&["debug", "verbose", "notice", "warning"]);
const FSYNC_POLICIES: Kind = Kind::Enum(&["everysec", "always", "no"]);
/// In the order Redis lists them in its error message.
const EVICTION_POLICIES: Kind = Kind::Enum(&[
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "noeviction",
]);
/// Redis refuses a smaller replication backlog than 16 KiB at runtime.
const BACKLOG_SIZE: Kind = Kind::Memory {
    min: 1,
    max: SIGNED_MEM_MAX,
    runtime_floor: 16 * 1024,
};
/// `hz` accepts 0..=INT_MAX but Redis clamps it into 1..=500 rather than refusing.
const HZ_KIND: Kind = Kind::ClampedInt {
    min: 0,
    max: I32,
    lo: 1,
    hi: 500,
};
const MIB: u64 = 1024 * 1024;

/// Every parameter, with Redis 7.0.15's defaults, bounds and mutability.
// One row per line reads as a table; rustfmt would spread the longer rows over many lines.
#[rustfmt::skip]
const TABLE: &[Param] = &[
    // Redis's default: every interface, IPv6 if there is any; protected mode keeps a server
    // without a password to loopback clients.
    p("bind",                        Kind::Bind,                "* -::*"),
    p("port",                        int(0, 65535),             "6379"),
    p("protected-mode",              BOOL,                      "yes"),
    p("enable-protected-configs",    NO_YES_LOCAL,              "no").immutable(),
    p("enable-debug-command",        NO_YES_LOCAL,              "no").immutable(),
    p("tcp-backlog",                 int(0, I32),               "511").immutable(),
    p("tcp-keepalive",               int(0, I32),               "300"),
    p("timeout",                     int(0, I32),               "0"),
    p("maxclients",                  int(1, u32::MAX as i64),   "10000"),
    p("io-threads",                  int(1, 128),               "1").immutable(),
    p("daemonize",                   BOOL,                      "no").immutable(),
    p("pidfile",                     Kind::Str,                 "").immutable(),
    p("loglevel",                    LOGLEVELS,                 "notice"),
    p("logfile",                     Kind::Str,                 "").immutable(),
    p("databases",                   int(1, I32),               "16").immutable(),
    // An empty `dir` default stands for the working directory at startup.
    p("dir",                         Kind::Dir,                 "").protected(),
    p("dbfilename",                  Kind::FileName,            "dump.rdb").protected(),
    p("save",                        Kind::Save,                "3600 1 300 100 60 10000"),
    p("rdbcompression",              BOOL,                      "yes"),
    p("rdbchecksum",                 BOOL,                      "yes").immutable(),
    p("stop-writes-on-bgsave-error", BOOL,                      "yes"),
    p("appendonly",                  BOOL,                      "no"),
    p("appendfilename",              Kind::FileName,            "appendonly.aof").immutable(),
    p("appendfsync",                 FSYNC_POLICIES,            "everysec"),
    p("requirepass",                 Kind::Str,                 ""),
    p("masterauth",                  Kind::Str,                 ""),
    p("replicaof",                   Kind::ReplicaOf,           "").alias(&["slaveof"]).immutable(),
    p("replica-read-only",           BOOL,                      "yes").alias(&["slave-read-only"]),
    p("repl-backlog-size",           BACKLOG_SIZE,              "1mb"),
    p("replica-serve-stale-data",    BOOL,                      "yes").alias(&["slave-serve-stale-data"]),
    p("repl-ping-replica-period",    int(1, I32),               "10").alias(&["repl-ping-slave-period"]),
    p("repl-timeout",                int(1, I32),               "60"),
    p("repl-diskless-sync",          BOOL,                      "yes"),
    p("min-replicas-to-write",       int(0, I32),               "0").alias(&["min-slaves-to-write"]),
    p("min-replicas-max-lag",        int(0, I32),               "10").alias(&["min-slaves-max-lag"]),
    p("maxmemory",                   mem(0, u64::MAX),          "0"),
    p("maxmemory-policy",            EVICTION_POLICIES,         "noeviction"),
    p("maxmemory-samples",           int(1, I32),               "5"),
    p("lfu-log-factor",              int(0, I32),               "10"),
    p("lfu-decay-time",              int(0, I32),               "1"),
    p("proto-max-bulk-len",          mem(MIB, SIGNED_MEM_MAX),  "512mb"),
    p("client-query-buffer-limit",   mem(MIB, SIGNED_MEM_MAX),  "1gb"),
    p("client-output-buffer-limit",  Kind::OutputBufferLimits,  "normal 0 0 0 slave 256mb 64mb 60 pubsub 32mb 8mb 60"),
    p("hz",                          HZ_KIND,                   "10"),
    p("slowlog-log-slower-than",     int(-1, i64::MAX),         "10000"),
    p("slowlog-max-len",             int(0, i64::MAX),          "128"),
    p("latency-monitor-threshold",   int(0, i64::MAX),          "0"),
    p("latency-tracking",            BOOL,                      "yes"),
    p("latency-tracking-info-percentiles", Kind::Percentiles,   "50 99 99.9"),
    // A debugging knob of Redis's, hidden from globs there; accepted and reported for
    // compatibility, nothing reads it.
    p("rdb-key-save-delay",          int(i32::MIN as i64, I32), "0").hidden(),
];

/// Index of a row by canonical name, checked at compile time: a typo fails the build.
const fn index_of(name: &str) -> usize {
    let mut i = 0;
    while i < TABLE.len() {
        if str_eq(TABLE[i].name, name) {
            return i;
        }
        i += 1;
    }
    panic!("no such configuration parameter in TABLE");
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

const BIND: usize = index_of("bind");
const PORT: usize = index_of("port");
const PROTECTED_MODE: usize = index_of("protected-mode");
const ENABLE_PROTECTED_CONFIGS: usize = index_of("enable-protected-configs");
const ENABLE_DEBUG_COMMAND: usize = index_of("enable-debug-command");
const TCP_BACKLOG: usize = index_of("tcp-backlog");
const TCP_KEEPALIVE: usize = index_of("tcp-keepalive");
const LATENCY_MONITOR_THRESHOLD: usize = index_of("latency-monitor-threshold");
const LATENCY_TRACKING: usize = index_of("latency-tracking");
const LATENCY_TRACKING_INFO_PERCENTILES: usize = index_of("latency-tracking-info-percentiles");
const TIMEOUT: usize = index_of("timeout");
const MAXCLIENTS: usize = index_of("maxclients");
const IO_THREADS: usize = index_of("io-threads");
const DAEMONIZE: usize = index_of("daemonize");
const PIDFILE: usize = index_of("pidfile");
const LOGLEVEL: usize = index_of("loglevel");
const LOGFILE: usize = index_of("logfile");
const DATABASES: usize = index_of("databases");
const DIR: usize = index_of("dir");
const DBFILENAME: usize = index_of("dbfilename");
const SAVE: usize = index_of("save");
const RDBCOMPRESSION: usize = index_of("rdbcompression");
const RDBCHECKSUM: usize = index_of("rdbchecksum");
const STOP_WRITES_ON_BGSAVE_ERROR: usize = index_of("stop-writes-on-bgsave-error");
const APPENDONLY: usize = index_of("appendonly");
const APPENDFILENAME: usize = index_of("appendfilename");
const APPENDFSYNC: usize = index_of("appendfsync");
const REQUIREPASS: usize = index_of("requirepass");
const MASTERAUTH: usize = index_of("masterauth");
const REPLICAOF: usize = index_of("replicaof");
const REPLICA_READ_ONLY: usize = index_of("replica-read-only");
const REPL_BACKLOG_SIZE: usize = index_of("repl-backlog-size");
const REPLICA_SERVE_STALE_DATA: usize = index_of("replica-serve-stale-data");
const REPL_PING_REPLICA_PERIOD: usize = index_of("repl-ping-replica-period");
const REPL_TIMEOUT: usize = index_of("repl-timeout");
const REPL_DISKLESS_SYNC: usize = index_of("repl-diskless-sync");
const MIN_REPLICAS_TO_WRITE: usize = index_of("min-replicas-to-write");
const MIN_REPLICAS_MAX_LAG: usize = index_of("min-replicas-max-lag");
const MAXMEMORY: usize = index_of("maxmemory");
const MAXMEMORY_POLICY: usize = index_of("maxmemory-policy");
const MAXMEMORY_SAMPLES: usize = index_of("maxmemory-samples");
const LFU_LOG_FACTOR: usize = index_of("lfu-log-factor");
const LFU_DECAY_TIME: usize = index_of("lfu-decay-time");
const PROTO_MAX_BULK_LEN: usize = index_of("proto-max-bulk-len");
const CLIENT_QUERY_BUFFER_LIMIT: usize = index_of("client-query-buffer-limit");
const CLIENT_OUTPUT_BUFFER_LIMIT: usize = index_of("client-output-buffer-limit");
const HZ: usize = index_of("hz");
const SLOWLOG_LOG_SLOWER_THAN: usize = index_of("slowlog-log-slower-than");
const SLOWLOG_MAX_LEN: usize = index_of("slowlog-max-len");

/// Redis refuses more bind addresses than this.
const MAX_BIND_ADDRESSES: usize = 16;

/// A parameter's current value; the variant always follows the row's [`Kind`].
#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Bool(bool),
    Int(i64),
    Memory(u64),
    /// Index into the kind's word list.
    Enum(usize),
    Str(Bytes),
    Dir(PathBuf),
    /// `(seconds, changes)`; Redis keeps `changes` in a C `int`, so larger values wrap.
    Save(Vec<(i64, i32)>),
    Bind(Vec<String>),
    ReplicaOf(Option<(String, u16)>),
    /// The bits of each percentile (f64 has no `Eq`; -0 and 0 print differently anyway).
    Percentiles(Vec<u64>),
    /// Limits per client class, in [`ClientClass`] order.
    OutputBufferLimits([OutputBufferLimit; 3]),
    /// What a `client-output-buffer-limit` text says, before it is laid over the current
    /// limits (see [`Config::settle`]); never stored.
    OutputBufferLimitChanges(Vec<(ClientClass, OutputBufferLimit)>),
}

/// The classes of client that `client-output-buffer-limit` distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientClass {
    Normal = 0,
    Replica = 1,
    Pubsub = 2,
}

impl ClientClass {
    const ALL: [ClientClass; 3] = [
        ClientClass::Normal,
        ClientClass::Replica,
        ClientClass::Pubsub,
    ];

    /// Redis's names: `normal`, `slave` (or `replica`), `pubsub`; `master` is a class Redis
    /// knows but refuses here.
    fn from_name(name: &[u8]) -> Option<ClientClass> {
        match name.to_ascii_lowercase().as_slice() {
            b"normal" => Some(ClientClass::Normal),
            b"slave" | b"replica" => Some(ClientClass::Replica),
            b"pubsub" => Some(ClientClass::Pubsub),
            _ => None,
        }
    }
}

/// One class's output buffer limits: a client whose pending replies reach `hard` bytes, or stay
/// at or above `soft` bytes for more than `soft_seconds`, is disconnected. 0 disables a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutputBufferLimit {
    pub hard: u64,
    pub soft: u64,
    pub soft_seconds: u64,
}

/// The server's configuration: one typed value per row of [`TABLE`].
#[derive(Debug, Clone)]
pub struct Config {
    values: Vec<Value>,
    /// The config file the server started from, absolute (for INFO and CONFIG REWRITE); none
    /// without one or when it came from standard input.
    file: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Config {
        Config::defaults()
    }
}

/// Why a directive from the command line or the config file was refused.
enum DirectiveError {
    Unknown,
    Invalid(String),
}

impl Config {
    /// Defaults only (dir = current working directory, absolute).
    // Both this and `Default` exist because callers were promised `Config::default()` as an
    // inherent function; they are the same thing.
    #[allow(clippy::should_implement_trait)]
    pub fn default() -> Config {
        Config::defaults()
    }

    fn defaults() -> Config {
        let cwd = std::env::current_dir()
            .and_then(|d| d.canonicalize())
            .unwrap_or_else(|_| PathBuf::from("/"));
        let values = TABLE
            .iter()
            .map(|param| match param.kind {
                // The default `dir` is the working directory itself, resolved just above.
                Kind::Dir => Value::Dir(cwd.clone()),
                _ => parse(param, param.default.as_bytes(), &cwd, false).unwrap_or_else(|reason| {
                    // Only a broken table row can get here, and a unit test parses every row.
                    panic!("default of {} does not parse: {reason}", param.name)
                }),
            })
            .map(|value| match value {
                // The default names every class; laid over zeros it is complete.
                Value::OutputBufferLimitChanges(changes) => {
                    let mut all = [OutputBufferLimit::default(); 3];
                    for (class, limit) in changes {
                        all[class as usize] = limit;
                    }
                    Value::OutputBufferLimits(all)
                }
                other => other,
            })
            .collect();
        Config { values, file: None }
    }

    /// Turns a parsed value into the value to store: `client-output-buffer-limit` changes only
    /// the classes it names, so its changes are laid over the current limits.
    fn settle(&self, index: usize, value: Value) -> Value {
        match (value, &self.values[index]) {
            (Value::OutputBufferLimitChanges(changes), Value::OutputBufferLimits(current)) => {
                let mut all = *current;
                for (class, limit) in changes {
                    all[class as usize] = limit;
                }
                Value::OutputBufferLimits(all)
            }
            (value, _) => value,
        }
    }

    /// Parses a `redis-server`-style command line (without the program name): an optional
    /// config file path first (anything not starting with `--`; `-` reads standard input), then
    /// `--name value...` groups whose values run until the next argument starting with `--`.
    /// Command-line directives apply after the file's, as if appended to it.
    pub fn from_args(args: &[String]) -> Result<Config, ConfigError> {
        let mut config = Config::defaults();
        // `save` lines accumulate across the file and the command line; see `apply_directive`.
        let mut save_seen = false;
        let mut rest = args;
        if let Some(first) = args.first() {
            if !first.starts_with("--") {
                config.load_file(first, &mut save_seen)?;
                if first != "-" {
                    let path = Path::new(first);
                    config.file = Some(path.canonicalize().unwrap_or_else(|_| path.to_path_buf()));
                }
                rest = &args[1..];
            }
        }
        let mut i = 0;
        while i < rest.len() {
            let Some(name) = rest[i].strip_prefix("--") else {
                return Err(ConfigError(format!(
                    "unexpected argument '{}': options must start with '--'",
                    rest[i]
                )));
            };
            let mut end = i + 1;
            while end < rest.len() && !rest[end].starts_with("--") {
                end += 1;
            }
            let values: Vec<Vec<u8>> = rest[i + 1..end]
                .iter()
                .map(|v| v.as_bytes().to_vec())
                .collect();
            config
                .apply_directive(&name.to_ascii_lowercase(), &values, &mut save_seen)
                .map_err(|e| match e {
                    DirectiveError::Unknown => {
                        ConfigError(format!("--{name}: unknown directive '{name}'"))
                    }
                    DirectiveError::Invalid(reason) => ConfigError(format!("--{name}: {reason}")),
                })?;
            i = end;
        }
        Ok(config)
    }

    /// Reads a config file: `name arg...` lines split with Redis's quoting rules, `#` comment
    /// lines and blank lines ignored.
    fn load_file(&mut self, path: &str, save_seen: &mut bool) -> Result<(), ConfigError> {
        let text = if path == "-" {
            let mut buf = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf).map(|_| buf)
        } else {
            std::fs::read(path)
        }
        .map_err(|e| {
            ConfigError(format!(
                "can't open config file '{path}': {}",
                os_reason(&e)
            ))
        })?;

        for (number, raw) in text.split(|&b| b == b'\n').enumerate() {
            let line = raw.trim_ascii();
            if line.is_empty() || line[0] == b'#' {
                continue;
            }
            let at = |what: String| {
                ConfigError(format!("config file {path} line {}: {what}", number + 1))
            };
            let Some(argv) = crate::codec::split_args(line) else {
                return Err(at("unbalanced quotes in configuration line".to_string()));
            };
            let Some((name, values)) = argv.split_first() else {
                continue;
            };
            let name = String::from_utf8_lossy(name).to_ascii_lowercase();
            self.apply_directive(&name, values, save_seen)
                .map_err(|e| match e {
                    DirectiveError::Unknown => at(format!("unknown directive '{name}'")),
                    DirectiveError::Invalid(reason) => at(format!("{name}: {reason}")),
                })?;
        }
        Ok(())
    }

    /// Applies one startup directive with its separate arguments.
    fn apply_directive(
        &mut self,
        name: &str,
        args: &[Vec<u8>],
        save_seen: &mut bool,
    ) -> Result<(), DirectiveError> {
        let index = lookup(name.as_bytes()).ok_or(DirectiveError::Unknown)?;
        let param = &TABLE[index];
        let wrong_arity = || DirectiveError::Invalid("wrong number of arguments".to_string());
        let text = match param.kind {
            // Multi-argument parameters take their arguments joined by spaces, which is also the
            // form CONFIG SET gives them. Zero arguments (`--save` alone) means empty.
            Kind::Save | Kind::Bind | Kind::OutputBufferLimits | Kind::Percentiles => {
                args.join(&b' ')
            }
            Kind::ReplicaOf if args.len() == 2 => args.join(&b' '),
            Kind::ReplicaOf => return Err(wrong_arity()),
            _ if args.len() == 1 => args[0].clone(),
            _ => return Err(wrong_arity()),
        };
        let mut value = parse(param, &text, self.dir(), false).map_err(DirectiveError::Invalid)?;
        value = self.settle(index, value);
        if let (Value::Save(new), Value::Save(old)) = (&mut value, &self.values[index]) {
            // The first `save` directive replaces the default; later ones add to it (so a file
            // can list one rule per line), except that `save ""` clears everything.
            if *save_seen && !text.is_empty() {
                let mut all = old.clone();
                all.append(new);
                *new = all;
            }
            *save_seen = true;
        }
        self.values[index] = value;
        Ok(())
    }

    /// CONFIG GET with any number of patterns. A pattern without `*`, `?` or `[` is an exact,
    /// case-insensitive lookup (hidden parameters included) whose reply echoes the name as typed;
    /// a glob matches every visible name and alias case-insensitively. A name already returned
    /// (compared case-insensitively) is not repeated; the first spelling wins. Unknown names
    /// give nothing. Pairs come in pattern order, then table order (Redis uses hash order, which
    /// clients cannot rely on).
    pub fn get(&self, patterns: &[&[u8]]) -> Vec<(Bytes, Bytes)> {
        let mut out: Vec<(Bytes, Bytes)> = Vec::new();
        let mut push = |name: Bytes, index: usize| {
            if !out.iter().any(|(seen, _)| seen.eq_ignore_ascii_case(&name)) {
                out.push((name, self.render(index)));
            }
        };
        for &pattern in patterns {
            if !pattern.iter().any(|b| matches!(b, b'*' | b'?' | b'[')) {
                if let Some(index) = lookup(pattern) {
                    push(Bytes::copy_from_slice(pattern), index);
                }
                continue;
            }
            for (index, param) in TABLE.iter().enumerate().filter(|(_, param)| !param.hidden) {
                for &name in std::iter::once(&param.name).chain(param.aliases) {
                    if glob_match(pattern, name.as_bytes(), true) {
                        push(Bytes::from_static(name.as_bytes()), index);
                    }
                }
            }
        }
        out
    }

    /// Sets one parameter (by name or alias, case-insensitively) from its text, as CONFIG SET
    /// or the config file would, validating it. The error is Redis's CONFIG SET reason, e.g.
    /// `argument must be 'yes' or 'no'`. With `runtime`, immutable parameters are refused and
    /// protected ones are allowed as for a local client (see [`Config::config_set`] to say
    /// otherwise). An unknown name gives `Unknown option or number of arguments for CONFIG SET -
    /// '<name>'` (which CONFIG SET sends without the "failed" prefix: use `config_set`).
    pub fn set(&mut self, name: &str, value: &[u8], runtime: bool) -> Result<(), String> {
        let Some(index) = lookup(name.as_bytes()) else {
            return Err(unknown_option(name.as_bytes()));
        };
        if runtime {
            self.check_runtime_access(index, true)?;
        }
        let value = parse(&TABLE[index], value, self.dir(), runtime)?;
        self.values[index] = self.settle(index, value);
        Ok(())
    }

    /// The whole of CONFIG SET: `pairs` are (name, value) as typed; `local_client` says whether
    /// the caller came over loopback or a Unix socket (for `enable-protected-configs local`).
    /// All-or-nothing like Redis: names are checked first (unknown, immutable or protected,
    /// repeated), then values are applied in order and everything is rolled back on a failure.
    /// The error is the full reply text after `ERR `, e.g. `CONFIG SET failed (possibly related
    /// to argument 'timeout') - argument must be between 0 and 2147483647 inclusive`.
    pub fn config_set(
        &mut self,
        pairs: &[(&[u8], &[u8])],
        local_client: bool,
    ) -> Result<(), String> {
        let failed = |name: &[u8], reason: &str| {
            format!(
                "CONFIG SET failed (possibly related to argument '{}') - {reason}",
                String::from_utf8_lossy(name)
            )
        };
        let mut indices = Vec::with_capacity(pairs.len());
        for (i, &(name, _)) in pairs.iter().enumerate() {
            let index = lookup(name).ok_or_else(|| unknown_option(name))?;
            self.check_runtime_access(index, local_client)
                .map_err(|reason| failed(name, &reason))?;
            // Redis compares the names as given, so `slaveof` and `replicaof` together are not
            // duplicates (the later one wins).
            if pairs[..i]
                .iter()
                .any(|(earlier, _)| earlier.eq_ignore_ascii_case(name))
            {
                return Err(failed(name, "duplicate parameter"));
            }
            indices.push(index);
        }
        let backup = self.values.clone();
        for (&(name, value), &index) in pairs.iter().zip(&indices) {
            match parse(&TABLE[index], value, self.dir(), true) {
                Ok(v) => self.values[index] = self.settle(index, v),
                Err(reason) => {
                    self.values = backup;
                    // Redis reports value errors with the name lowercased.
                    return Err(failed(&name.to_ascii_lowercase(), &reason));
                }
            }
        }
        Ok(())
    }

    /// CONFIG REWRITE: rewrites the config file the server started from, as Redis does (see
    /// [`Config::rewrite_text`]), through a temporary file renamed over it so a crash never
    /// leaves half a file. The error is the reply text after `ERR `.
    pub fn rewrite(&self) -> Result<(), String> {
        let Some(path) = self.config_file() else {
            return Err("The server is running without a config file".to_string());
        };
        let failed = |e: std::io::Error| format!("Rewriting config file: {}", os_reason(&e));
        // A missing file is rewritten from nothing, as Redis does.
        let old = match std::fs::read(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(failed(e)),
        };
        let text = self.rewrite_text(&old);
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(format!(".tmp-{}", std::process::id()));
        let tmp = PathBuf::from(tmp);
        let write = || -> std::io::Result<()> {
            use std::io::Write as _;
            let mut file = std::fs::File::create(&tmp)?;
            file.write_all(&text)?;
            file.sync_all()?;
            if let Ok(meta) = std::fs::metadata(path) {
                std::fs::set_permissions(&tmp, meta.permissions())?;
            }
            std::fs::rename(&tmp, path)
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            failed(e)
        })
    }

    /// The new text of a config file whose old text is `old`, by Redis's rules: comments,
    /// blank lines and order are kept; each parameter's lines are replaced in place with its
    /// current value; lines of a parameter left over (a repeated directive, a `save` rule fewer)
    /// are blanked; parameters not in the file are appended under `# Generated by CONFIG
    /// REWRITE` when they differ from their default (`dir` always); runs of blank lines become
    /// one.
    pub fn rewrite_text(&self, old: &[u8]) -> Vec<u8> {
        const SIGNATURE: &[u8] = b"# Generated by CONFIG REWRITE";
        let mut lines: Vec<Vec<u8>> = Vec::new();
        // For each parameter (by table index), the numbers of the lines that set it.
        let mut at: Vec<std::collections::VecDeque<usize>> = vec![Default::default(); TABLE.len()];
        let mut needs_signature = true;
        if !old.is_empty() {
            let text = old.strip_suffix(b"\n").unwrap_or(old);
            for raw in text.split(|&b| b == b'\n') {
                let line = raw.trim_ascii();
                if line.is_empty() || line[0] == b'#' {
                    if line == SIGNATURE {
                        needs_signature = false;
                    }
                    lines.push(line.to_vec());
                    continue;
                }
                let index = crate::codec::split_args(line)
                    .and_then(|argv| argv.first().and_then(|name| lookup(name)));
                if let Some(index) = index {
                    at[index].push_back(lines.len());
                }
                lines.push(line.to_vec());
            }
            // Redis ends what it read with an empty line, which keeps appended lines apart.
            lines.push(Vec::new());
        }
        let defaults = Config::defaults();
        for (index, param) in TABLE.iter().enumerate() {
            // Redis always writes `dir`, and `latency-tracking-info-percentiles` too (its
            // rewrite does not compare with the default).
            let force = matches!(param.kind, Kind::Dir | Kind::Percentiles)
                || self.values[index] != defaults.values[index];
            for (line_index, new) in self.rewrite_lines(index).into_iter().enumerate() {
                // Redis decides per class whether a `client-output-buffer-limit` line must be
                // added; an existing line is rewritten either way.
                let force = match (&self.values[index], &defaults.values[index]) {
                    (Value::OutputBufferLimits(now), Value::OutputBufferLimits(default)) => {
                        now[line_index] != default[line_index]
                    }
                    _ => force,
                };
                if let Some(number) = at[index].pop_front() {
                    lines[number] = new;
                } else if force {
                    if needs_signature {
                        lines.push(SIGNATURE.to_vec());
                        needs_signature = false;
                    }
                    lines.push(new);
                }
            }
        }
        // Whatever lines are left set a parameter more times than it has values: blank them.
        for number in at.into_iter().flatten() {
            lines[number].clear();
        }
        let mut out = Vec::new();
        let mut was_empty = false;
        for line in lines {
            if line.is_empty() {
                if was_empty {
                    continue;
                }
                was_empty = true;
            } else {
                was_empty = false;
            }
            out.extend_from_slice(&line);
            out.push(b'\n');
        }
        out
    }

    /// The lines that set parameter `index` to its current value, as Redis writes them: memory
    /// in the largest unit that divides it, strings quoted, one `save` line per rule (`save ""`
    /// for none), no `replicaof` line for none.
    fn rewrite_lines(&self, index: usize) -> Vec<Vec<u8>> {
        let name = TABLE[index].name;
        let line = |value: &[u8]| {
            let mut out = format!("{name} ").into_bytes();
            out.extend_from_slice(value);
            out
        };
        match &self.values[index] {
            Value::Memory(n) => vec![line(memory_for_rewrite(*n).as_bytes())],
            Value::Str(s) => vec![line(&sds_repr(s))],
            Value::Dir(d) => vec![line(&sds_repr(d.to_string_lossy().as_bytes()))],
            Value::Save(rules) if rules.is_empty() => vec![line(b"\"\"")],
            Value::Percentiles(bits) if bits.is_empty() => vec![line(b"\"\"")],
            Value::Save(rules) => rules
                .iter()
                .map(|(seconds, changes)| line(format!("{seconds} {changes}").as_bytes()))
                .collect(),
            Value::ReplicaOf(None) => Vec::new(),
            // One line per class, as Redis writes them (the replica class by its new name).
            Value::OutputBufferLimits(limits) => ClientClass::ALL
                .iter()
                .zip(limits)
                .map(|(class, l)| {
                    let name = match class {
                        ClientClass::Normal => "normal",
                        ClientClass::Replica => "replica",
                        ClientClass::Pubsub => "pubsub",
                    };
                    line(
                        format!(
                            "{name} {} {} {}",
                            memory_for_rewrite(l.hard),
                            memory_for_rewrite(l.soft),
                            l.soft_seconds
                        )
                        .as_bytes(),
                    )
                })
                .collect(),
            _ => vec![line(&self.render(index))],
        }
    }

    fn check_runtime_access(&self, index: usize, local_client: bool) -> Result<(), String> {
        match TABLE[index].access {
            Access::Mutable => Ok(()),
            Access::Immutable => Err("can't set immutable config".to_string()),
            Access::Protected => match self.enable_protected_configs() {
                "yes" => Ok(()),
                "local" if local_client => Ok(()),
                _ => Err("can't set protected config".to_string()),
            },
        }
    }

    /// A parameter's value as CONFIG GET prints it.
    fn render(&self, index: usize) -> Bytes {
        match &self.values[index] {
            Value::Bool(b) => Bytes::from_static(if *b { b"yes" } else { b"no" }),
            Value::Int(n) => Bytes::from(n.to_string()),
            Value::Memory(n) => Bytes::from(n.to_string()),
            Value::Enum(_) => Bytes::from_static(self.word(index).as_bytes()),
            Value::Str(s) => s.clone(),
            Value::Dir(d) => Bytes::from(d.to_string_lossy().into_owned()),
            Value::Save(rules) => {
                let parts: Vec<String> = rules.iter().map(|(s, c)| format!("{s} {c}")).collect();
                Bytes::from(parts.join(" "))
            }
            Value::Bind(addrs) => Bytes::from(addrs.join(" ")),
            Value::ReplicaOf(None) => Bytes::new(),
            Value::ReplicaOf(Some((host, port))) => Bytes::from(format!("{host} {port}")),
            Value::OutputBufferLimits(limits) => {
                let parts: Vec<String> = ["normal", "slave", "pubsub"]
                    .iter()
                    .zip(limits)
                    .map(|(name, l)| format!("{name} {} {} {}", l.hard, l.soft, l.soft_seconds))
                    .collect();
                Bytes::from(parts.join(" "))
            }
            Value::OutputBufferLimitChanges(_) => {
                unreachable!(
                    "client-output-buffer-limit changes are settled before they are stored"
                )
            }
            Value::Percentiles(bits) => Bytes::from(
                bits.iter()
                    .map(|&b| crate::latency::format_percentile(f64::from_bits(b)))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
        }
    }

    // ---- typed access for the server -------------------------------------------------------
    // Each row's value variant is fixed by its kind, so a mismatch below is a bug in this file;
    // the `getters_follow_the_table` test calls every getter.

    fn int(&self, index: usize) -> i64 {
        match &self.values[index] {
            Value::Int(n) => *n,
            other => unreachable!("{} holds {other:?}, not an integer", TABLE[index].name),
        }
    }

    fn memory(&self, index: usize) -> u64 {
        match &self.values[index] {
            Value::Memory(n) => *n,
            other => unreachable!("{} holds {other:?}, not a memory value", TABLE[index].name),
        }
    }

    fn flag(&self, index: usize) -> bool {
        match &self.values[index] {
            Value::Bool(b) => *b,
            other => unreachable!("{} holds {other:?}, not a bool", TABLE[index].name),
        }
    }

    fn word(&self, index: usize) -> &'static str {
        match (&self.values[index], TABLE[index].kind) {
            (Value::Enum(i), Kind::Enum(words)) => words[*i],
            (other, _) => unreachable!("{} holds {other:?}, not an enum", TABLE[index].name),
        }
    }

    fn bytes(&self, index: usize) -> &[u8] {
        match &self.values[index] {
            Value::Str(s) => s,
            other => unreachable!("{} holds {other:?}, not a string", TABLE[index].name),
        }
    }

    /// A string parameter used as a path or name; a value that is not UTF-8 reads as empty.
    fn text(&self, index: usize) -> &str {
        std::str::from_utf8(self.bytes(index)).unwrap_or("")
    }

    /// The config file the server started from, if any (absolute).
    pub fn config_file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    pub fn port(&self) -> u16 {
        // Bounded to 0..=65535 by the table.
        u16::try_from(self.int(PORT)).unwrap_or(0)
    }

    /// The addresses to listen on; one starting with `-` is optional (skip it if it cannot be
    /// bound). Empty means "listen nowhere".
    pub fn bind(&self) -> Vec<String> {
        match &self.values[BIND] {
            Value::Bind(addrs) => addrs.clone(),
            other => unreachable!("bind holds {other:?}"),
        }
    }

    /// The working directory for persistence files: absolute, and existed when it was set.
    pub fn dir(&self) -> &Path {
        match &self.values[DIR] {
            Value::Dir(d) => d,
            other => unreachable!("dir holds {other:?}"),
        }
    }

    /// `debug`, `verbose`, `notice` or `warning` (7.0 has no `nothing`; that came in 7.2).
    pub fn loglevel(&self) -> &str {
        self.word(LOGLEVEL)
    }

    /// Empty means standard output/error.
    pub fn logfile(&self) -> &str {
        self.text(LOGFILE)
    }

    /// Server cron frequency, already clamped to 1..=500.
    pub fn hz(&self) -> u32 {
        u32::try_from(self.int(HZ)).unwrap_or(10)
    }

    pub fn databases(&self) -> usize {
        usize::try_from(self.int(DATABASES)).unwrap_or(16)
    }

    pub fn proto_max_bulk_len(&self) -> u64 {
        self.memory(PROTO_MAX_BULK_LEN)
    }

    pub fn client_query_buffer_limit(&self) -> u64 {
        self.memory(CLIENT_QUERY_BUFFER_LIMIT)
    }

    /// The output buffer limits of one class of client.
    pub fn client_output_buffer_limit(&self, class: ClientClass) -> OutputBufferLimit {
        match &self.values[CLIENT_OUTPUT_BUFFER_LIMIT] {
            Value::OutputBufferLimits(limits) => limits[class as usize],
            other => unreachable!("client-output-buffer-limit holds {other:?}"),
        }
    }

    pub fn maxclients(&self) -> u32 {
        u32::try_from(self.int(MAXCLIENTS)).unwrap_or(u32::MAX)
    }

    /// Idle client timeout in seconds; 0 disables it.
    pub fn timeout(&self) -> u64 {
        u64::try_from(self.int(TIMEOUT)).unwrap_or(0)
    }

    /// Empty means no password.
    pub fn requirepass(&self) -> &[u8] {
        self.bytes(REQUIREPASS)
    }

    pub fn masterauth(&self) -> &[u8] {
        self.bytes(MASTERAUTH)
    }

    pub fn protected_mode(&self) -> bool {
        self.flag(PROTECTED_MODE)
    }

    /// `no`, `yes` or `local`: who may change protected parameters such as `dir`.
    pub fn enable_protected_configs(&self) -> &str {
        self.word(ENABLE_PROTECTED_CONFIGS)
    }

    /// `no`, `yes` or `local`: who may run DEBUG.
    pub fn enable_debug_command(&self) -> &str {
        self.word(ENABLE_DEBUG_COMMAND)
    }

    pub fn tcp_backlog(&self) -> u32 {
        u32::try_from(self.int(TCP_BACKLOG)).unwrap_or(511)
    }

    /// Seconds; 0 disables keepalive.
    pub fn tcp_keepalive(&self) -> u64 {
        u64::try_from(self.int(TCP_KEEPALIVE)).unwrap_or(0)
    }

    pub fn io_threads(&self) -> u32 {
        u32::try_from(self.int(IO_THREADS)).unwrap_or(1)
    }

    pub fn daemonize(&self) -> bool {
        self.flag(DAEMONIZE)
    }

    pub fn pidfile(&self) -> &str {
        self.text(PIDFILE)
    }

    pub fn dbfilename(&self) -> &str {
        self.text(DBFILENAME)
    }

    /// The RDB snapshot rules as `(seconds, changes)`; empty means no automatic snapshots.
    pub fn save(&self) -> &[(i64, i32)] {
        match &self.values[SAVE] {
            Value::Save(rules) => rules,
            other => unreachable!("save holds {other:?}"),
        }
    }

    pub fn rdbcompression(&self) -> bool {
        self.flag(RDBCOMPRESSION)
    }

    pub fn rdbchecksum(&self) -> bool {
        self.flag(RDBCHECKSUM)
    }

    pub fn stop_writes_on_bgsave_error(&self) -> bool {
        self.flag(STOP_WRITES_ON_BGSAVE_ERROR)
    }

    pub fn appendonly(&self) -> bool {
        self.flag(APPENDONLY)
    }

    pub fn appendfilename(&self) -> &str {
        self.text(APPENDFILENAME)
    }

    /// `everysec`, `always` or `no`.
    pub fn appendfsync(&self) -> &str {
        self.word(APPENDFSYNC)
    }

    /// The master to replicate from, if any.
    pub fn replicaof(&self) -> Option<(&str, u16)> {
        match &self.values[REPLICAOF] {
            Value::ReplicaOf(master) => master.as_ref().map(|(host, port)| (host.as_str(), *port)),
            other => unreachable!("replicaof holds {other:?}"),
        }
    }

    pub fn replica_read_only(&self) -> bool {
        self.flag(REPLICA_READ_ONLY)
    }

    pub fn repl_backlog_size(&self) -> u64 {
        self.memory(REPL_BACKLOG_SIZE)
    }

    /// Change the master at run time (REPLICAOF), which CONFIG SET may not do.
    pub fn set_replicaof(&mut self, master: Option<(String, u16)>) {
        self.values[REPLICAOF] = Value::ReplicaOf(master);
    }

    /// Whether a replica whose link is down still answers normal commands.
    pub fn replica_serve_stale_data(&self) -> bool {
        self.flag(REPLICA_SERVE_STALE_DATA)
    }

    /// Seconds between the PINGs a master sends its replicas.
    pub fn repl_ping_replica_period(&self) -> u64 {
        u64::try_from(self.int(REPL_PING_REPLICA_PERIOD)).unwrap_or(10)
    }

    /// Seconds of silence after which a replication link is considered dead.
    pub fn repl_timeout(&self) -> u64 {
        u64::try_from(self.int(REPL_TIMEOUT)).unwrap_or(60)
    }

    /// Whether a full sync streams the snapshot with an EOF marker (to replicas that can read
    /// it) instead of announcing its length first.
    pub fn repl_diskless_sync(&self) -> bool {
        self.flag(REPL_DISKLESS_SYNC)
    }

    /// Writes are refused unless at least this many replicas are online and recent (0: off).
    pub fn min_replicas_to_write(&self) -> u64 {
        u64::try_from(self.int(MIN_REPLICAS_TO_WRITE)).unwrap_or(0)
    }

    /// Seconds since its last ACK within which a replica counts for `min-replicas-to-write`.
    pub fn min_replicas_max_lag(&self) -> u64 {
        u64::try_from(self.int(MIN_REPLICAS_MAX_LAG)).unwrap_or(10)
    }

    /// Bytes; 0 means no limit.
    pub fn maxmemory(&self) -> u64 {
        self.memory(MAXMEMORY)
    }

    pub fn maxmemory_policy(&self) -> &str {
        self.word(MAXMEMORY_POLICY)
    }

    pub fn maxmemory_samples(&self) -> u32 {
        u32::try_from(self.int(MAXMEMORY_SAMPLES)).unwrap_or(5)
    }

    /// How keys' access words are kept under the current `maxmemory-policy`, with
    /// `lfu-log-factor` and `lfu-decay-time` (minutes).
    pub fn access_clock(&self) -> crate::access::AccessClock {
        crate::access::AccessClock::from_config(
            self.maxmemory_policy(),
            u32::try_from(self.int(LFU_LOG_FACTOR)).unwrap_or(10),
            u32::try_from(self.int(LFU_DECAY_TIME)).unwrap_or(1),
        )
    }

    /// Microseconds; -1 disables the slow log, 0 logs everything.
    pub fn slowlog_log_slower_than(&self) -> i64 {
        self.int(SLOWLOG_LOG_SLOWER_THAN)
    }

    pub fn slowlog_max_len(&self) -> u64 {
        u64::try_from(self.int(SLOWLOG_MAX_LEN)).unwrap_or(0)
    }

    /// Whether per-command latency histograms are kept (LATENCY HISTOGRAM, INFO latencystats).
    pub fn latency_tracking(&self) -> bool {
        matches!(self.values[LATENCY_TRACKING], Value::Bool(true))
    }

    /// The percentiles INFO latencystats reports.
    pub fn latency_tracking_info_percentiles(&self) -> Vec<f64> {
        match &self.values[LATENCY_TRACKING_INFO_PERCENTILES] {
            Value::Percentiles(bits) => bits.iter().map(|&b| f64::from_bits(b)).collect(),
            other => unreachable!("percentiles hold {other:?}"),
        }
    }

    /// Milliseconds; 0 turns the latency monitor off.
    pub fn latency_monitor_threshold(&self) -> u64 {
        u64::try_from(self.int(LATENCY_MONITOR_THRESHOLD)).unwrap_or(0)
    }
}

/// A byte count as CONFIG REWRITE writes it: in the largest unit that divides it.
fn memory_for_rewrite(n: u64) -> String {
    const KB: u64 = 1024;
    if n != 0 && n.is_multiple_of(KB * KB * KB) {
        format!("{}gb", n / (KB * KB * KB))
    } else if n != 0 && n.is_multiple_of(KB * KB) {
        format!("{}mb", n / (KB * KB))
    } else if n != 0 && n.is_multiple_of(KB) {
        format!("{}kb", n / KB)
    } else {
        n.to_string()
    }
}

/// `client-output-buffer-limit`'s text, as Redis 7.0.15 reads it: words separated by single
/// spaces (so two spaces make an empty word), in groups of four; every group is checked before
/// any applies. Byte counts are memory values; the seconds too, but Redis keeps them in a C
/// `int`, so larger values wrap, and a negative result is refused.
fn parse_output_buffer_limits(
    text: &[u8],
) -> Result<Vec<(ClientClass, OutputBufferLimit)>, String> {
    let words: Vec<&[u8]> = if text.is_empty() {
        Vec::new()
    } else {
        text.split(|&b| b == b' ').collect()
    };
    if !words.len().is_multiple_of(4) {
        return Err("Wrong number of arguments in buffer limit configuration.".to_string());
    }
    let bad_number =
        || "Error in hard, soft or soft_seconds setting in buffer limit configuration.".to_string();
    let mut changes = Vec::with_capacity(words.len() / 4);
    for group in words.chunks(4) {
        let class = ClientClass::from_name(group[0]).ok_or_else(|| {
            "Invalid client class specified in buffer limit configuration.".to_string()
        })?;
        let hard = parse_memory(group[1]).ok_or_else(bad_number)?;
        let soft = parse_memory(group[2]).ok_or_else(bad_number)?;
        let seconds = parse_memory(group[3]).ok_or_else(bad_number)?;
        // Truncation to 32 bits is the point: that is what Redis's `int` keeps.
        let seconds = seconds as u32 as i32;
        let soft_seconds = u64::try_from(seconds).map_err(|_| bad_number())?;
        changes.push((
            class,
            OutputBufferLimit {
                hard,
                soft,
                soft_seconds,
            },
        ));
    }
    Ok(changes)
}

/// Finds a row by name or alias, ASCII case-insensitively.
fn lookup(name: &[u8]) -> Option<usize> {
    TABLE.iter().position(|param| {
        std::iter::once(&param.name)
            .chain(param.aliases)
            .any(|n| n.as_bytes().eq_ignore_ascii_case(name))
    })
}

fn unknown_option(name: &[u8]) -> String {
    format!(
        "Unknown option or number of arguments for CONFIG SET - '{}'",
        String::from_utf8_lossy(name)
    )
}

/// Parses and validates a value for `param`; `dir` is the base for a relative new `dir`, and
/// `runtime` says whether this is CONFIG SET (rather than startup).
fn parse(param: &Param, text: &[u8], dir: &Path, runtime: bool) -> Result<Value, String> {
    match param.kind {
        Kind::Bool => {
            if text.eq_ignore_ascii_case(b"yes") {
                Ok(Value::Bool(true))
            } else if text.eq_ignore_ascii_case(b"no") {
                Ok(Value::Bool(false))
            } else {
                Err("argument must be 'yes' or 'no'".to_string())
            }
        }
        Kind::Int { min, max } => parse_int(text, min, max).map(Value::Int),
        Kind::ClampedInt { min, max, lo, hi } => {
            parse_int(text, min, max).map(|n| Value::Int(n.clamp(lo, hi)))
        }
        Kind::Memory {
            min,
            max,
            runtime_floor,
        } => match parse_memory(text) {
            Some(n) if (min..=max).contains(&n) => Ok(Value::Memory(if runtime {
                n.max(runtime_floor)
            } else {
                n
            })),
            Some(_) => Err(format!(
                "argument must be between {min} and {max} inclusive"
            )),
            None => Err("argument must be a memory value".to_string()),
        },
        Kind::Enum(words) => words
            .iter()
            .position(|w| w.as_bytes().eq_ignore_ascii_case(text))
            .map(Value::Enum)
            .ok_or_else(|| {
                format!(
                    "argument(s) must be one of the following: {}",
                    words.join(", ")
                )
            }),
        Kind::Str => Ok(Value::Str(Bytes::copy_from_slice(text))),
        Kind::FileName => {
            if text.contains(&b'/') {
                Err(format!("{} can't be a path, just a filename", param.name))
            } else {
                Ok(Value::Str(Bytes::copy_from_slice(text)))
            }
        }
        Kind::Dir => resolve_dir(dir, text).map(Value::Dir),
        Kind::Save => parse_save(text).map(Value::Save),
        Kind::Bind => parse_bind(text).map(Value::Bind),
        Kind::ReplicaOf => parse_replicaof(text).map(Value::ReplicaOf),
        Kind::OutputBufferLimits => {
            parse_output_buffer_limits(text).map(Value::OutputBufferLimitChanges)
        }
        Kind::Percentiles => parse_percentiles(text).map(Value::Percentiles),
    }
}

/// Redis's strict integers: optional `-`, no `+`, no leading zeros, no spaces, no `-0`.
fn parse_int(text: &[u8], min: i64, max: i64) -> Result<i64, String> {
    let digits = text.strip_prefix(b"-").unwrap_or(text);
    let canonical = !digits.is_empty()
        && digits.iter().all(u8::is_ascii_digit)
        && (digits == b"0" || digits[0] != b'0')
        && text != b"-0";
    let n = std::str::from_utf8(text)
        .ok()
        .filter(|_| canonical)
        .and_then(|s| s.parse::<i64>().ok())
        .ok_or_else(|| "argument couldn't be parsed into an integer".to_string())?;
    if n < min || n > max {
        return Err(format!(
            "argument must be between {min} and {max} inclusive"
        ));
    }
    Ok(n)
}

/// A byte count with an optional unit, as Redis reads it: the digits may be absent (meaning 0,
/// so `""` and `kb` are 0), no sign or spaces are allowed, too many digits saturate, and the
/// unit multiplication wraps around 2^64 exactly as Redis's unsigned arithmetic does.
fn parse_memory(text: &[u8]) -> Option<u64> {
    let split = text
        .iter()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let multiplier: u64 = match unit.to_ascii_lowercase().as_slice() {
        b"" | b"b" => 1,
        b"k" => 1000,
        b"kb" => 1024,
        b"m" => 1000 * 1000,
        b"mb" => 1024 * 1024,
        b"g" => 1000 * 1000 * 1000,
        b"gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    let n = digits.iter().fold(0u64, |acc, d| {
        acc.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    });
    Some(n.wrapping_mul(multiplier))
}

/// An integer the way C's `strtoll` reads a whole token: leading white space and a sign are
/// allowed, out-of-range values saturate, and an empty token reads as 0. Redis uses this for
/// `save` rules and the `replicaof` port, so we must too to accept the same inputs.
fn parse_c_integer(token: &[u8]) -> Option<i64> {
    if token.is_empty() {
        return Some(0);
    }
    let mut i = 0;
    while i < token.len() && matches!(token[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let negative = match token.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let digits = &token[i..];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let magnitude = digits.iter().fold(0i128, |acc, d| {
        (acc * 10 + i128::from(d - b'0')).min(i128::from(u64::MAX))
    });
    let n = if negative { -magnitude } else { magnitude };
    Some(n.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
}

/// Splits a multi-value text on single spaces, as Redis does for CONFIG SET: empty text means
/// no values, and doubled spaces give empty values.
fn split_spaces(text: &[u8]) -> Vec<&[u8]> {
    if text.is_empty() {
        Vec::new()
    } else {
        text.split(|&b| b == b' ').collect()
    }
}

/// Percentiles as Redis reads them: words split on single spaces, each a number (as C's
/// `strtod` takes it, the whole word) between 0 and 100.
fn parse_percentiles(text: &[u8]) -> Result<Vec<u64>, String> {
    split_spaces(text)
        .into_iter()
        .map(|word| {
            let value = std::str::from_utf8(word)
                .ok()
                .filter(|w| !w.starts_with(|c: char| c.is_ascii_whitespace()))
                .and_then(|w| w.parse::<f64>().ok())
                .filter(|v| !v.is_nan())
                .ok_or_else(|| {
                    "Invalid latency-tracking-info-percentiles parameters".to_string()
                })?;
            if !(0.0..=100.0).contains(&value) {
                return Err(
                    "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
                        .to_string(),
                );
            }
            Ok(value.to_bits())
        })
        .collect()
}

fn parse_save(text: &[u8]) -> Result<Vec<(i64, i32)>, String> {
    let invalid = || "Invalid save parameters".to_string();
    let tokens = split_spaces(text);
    if !tokens.len().is_multiple_of(2) {
        return Err(invalid());
    }
    tokens
        .chunks(2)
        .map(|pair| {
            let seconds = parse_c_integer(pair[0]).ok_or_else(invalid)?;
            let changes = parse_c_integer(pair[1]).ok_or_else(invalid)?;
            if seconds < 1 || changes < 0 {
                return Err(invalid());
            }
            // Redis stores the change count in an int: keep its truncation.
            Ok((seconds, changes as i32))
        })
        .collect()
}

fn parse_bind(text: &[u8]) -> Result<Vec<String>, String> {
    let addrs = split_spaces(text);
    if addrs.len() > MAX_BIND_ADDRESSES {
        return Err("Too many bind addresses specified.".to_string());
    }
    // Redis only notices an empty address when binding fails; nothing can bind to it.
    if addrs.iter().any(|a| a.is_empty()) {
        return Err("Failed to bind to specified addresses.".to_string());
    }
    Ok(addrs
        .iter()
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect())
}

fn parse_replicaof(text: &[u8]) -> Result<Option<(String, u16)>, String> {
    let parts = split_spaces(text);
    match parts.as_slice() {
        [] => Ok(None),
        [no, one] if no.eq_ignore_ascii_case(b"no") && one.eq_ignore_ascii_case(b"one") => Ok(None),
        [host, port] => {
            let port = parse_c_integer(port)
                .and_then(|p| u16::try_from(p).ok())
                .ok_or_else(|| "Invalid master port".to_string())?;
            Ok(Some((String::from_utf8_lossy(host).into_owned(), port)))
        }
        _ => Err("wrong number of arguments".to_string()),
    }
}

/// Resolves a new `dir` against the current one, as `chdir` would, and reports failures with
/// the system's text (`No such file or directory`, `Not a directory`) like Redis.
fn resolve_dir(base: &Path, text: &[u8]) -> Result<PathBuf, String> {
    if text.is_empty() {
        return Err("No such file or directory".to_string());
    }
    let path = base.join(String::from_utf8_lossy(text).as_ref());
    let absolute = path.canonicalize().map_err(|e| os_reason(&e))?;
    if !absolute.is_dir() {
        return Err("Not a directory".to_string());
    }
    Ok(absolute)
}

/// A string as Redis's `sdscatrepr` writes it: in double quotes, with `\\`, `\"`, `\n`, `\r`,
/// `\t`, `\a`, `\b` escaped and other unprintable bytes as `\xHH` (the config file reads it
/// back; the query buffer limit's log line shows a request this way too).
pub(crate) fn sds_repr(text: &[u8]) -> Vec<u8> {
    let mut out = vec![b'"'];
    for &b in text {
        match b {
            b'\\' | b'"' => out.extend_from_slice(&[b'\\', b]),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            b' '..=b'~' => out.push(b),
            _ => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
        }
    }
    out.push(b'"');
    out
}

/// The `strerror` part of an I/O error, without Rust's " (os error N)" suffix.
fn os_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error ") {
        Some(end) => text[..end].to_string(),
        None => text,
    }
}

/// The server's live configuration, shared by every connection, with a generation number that
/// moves with every change: a connection reads the settings it needs per request once, and
/// reads them again only when the generation moved (one atomic load instead of the lock).
#[derive(Debug, Default)]
pub struct SharedConfig {
    lock: std::sync::RwLock<Config>,
    generation: std::sync::atomic::AtomicU64,
}

impl SharedConfig {
    pub fn new(config: Config) -> SharedConfig {
        SharedConfig {
            lock: std::sync::RwLock::new(config),
            generation: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Read access (a panic while the lock was held left a usable configuration behind:
    /// every change is one assignment).
    pub fn read(&self) -> std::sync::RwLockReadGuard<'_, Config> {
        self.lock.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Write access; the generation moves when the guard is let go.
    pub fn write(&self) -> ConfigWriteGuard<'_> {
        ConfigWriteGuard {
            guard: self.lock.write().unwrap_or_else(|p| p.into_inner()),
            generation: &self.generation,
        }
    }

    /// How many times the configuration was written. A reader that saw generation `g`, then
    /// read the configuration, has read it as of `g` or later.
    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Acquire)
    }
}

/// Write access to the [`SharedConfig`]; moves its generation on the way out, while the lock
/// is still held, so a reader that sees the new generation reads the new configuration.
pub struct ConfigWriteGuard<'a> {
    guard: std::sync::RwLockWriteGuard<'a, Config>,
    generation: &'a std::sync::atomic::AtomicU64,
}

impl std::ops::Deref for ConfigWriteGuard<'_> {
    type Target = Config;
    fn deref(&self) -> &Config {
        &self.guard
    }
}

impl std::ops::DerefMut for ConfigWriteGuard<'_> {
    fn deref_mut(&mut self) -> &mut Config {
        &mut self.guard
    }
}

impl Drop for ConfigWriteGuard<'_> {
    fn drop(&mut self) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn get1(config: &Config, pattern: &str) -> Vec<(String, String)> {
        config
            .get(&[pattern.as_bytes()])
            .into_iter()
            .map(|(n, v)| {
                (
                    String::from_utf8_lossy(&n).into_owned(),
                    String::from_utf8_lossy(&v).into_owned(),
                )
            })
            .collect()
    }

    fn value(config: &Config, name: &str) -> String {
        let got = get1(config, name);
        assert_eq!(got.len(), 1, "{name}: {got:?}");
        got[0].1.clone()
    }

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    /// A fresh file under the system temp directory, removed on drop.
    struct TempPath(PathBuf);

    impl TempPath {
        fn new(tag: &str) -> TempPath {
            static COUNTER: AtomicUsize = AtomicUsize::new(0);
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            TempPath(std::env::temp_dir().join(format!(
                "redis-clone-config-{}-{tag}-{n}",
                std::process::id()
            )))
        }
        fn file(tag: &str, contents: &str) -> TempPath {
            let path = TempPath::new(tag);
            std::fs::write(&path.0, contents).expect("write temp config file");
            path
        }
        fn as_str(&self) -> &str {
            self.0.to_str().expect("temp path is UTF-8")
        }
    }

    impl Drop for TempPath {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
            let _ = std::fs::remove_dir(&self.0);
        }
    }

    #[test]
    fn rewrite_keeps_the_file_and_updates_it_as_redis_does() {
        // The file and the changes of a live session with redis-server 7.0.15, whose rewrite
        // is reproduced here apart from the parameters we do not have.
        let old = "# my comment\nport 7433\nmaxmemory 100mb\n\n# another\ntimeout 10\n\
                   save 900 1\nsave 300 10\nloglevel notice\nmaxclients 5000\n\
                   maxclients 6000\nrequirepass \"a b\"\n";
        let path = TempPath::file("rewrite", old);
        let mut c = Config::from_args(&args(&[path.as_str()])).expect("config file loads");
        let pairs: &[(&[u8], &[u8])] = &[
            (b"maxmemory", b"0"),
            (b"timeout", b"0"),
            (b"hz", b"20"),
            (b"loglevel", b"warning"),
            (b"proto-max-bulk-len", b"100mb"),
            (b"client-query-buffer-limit", b"2000000"),
            (b"bind", b"127.0.0.1 ::1"),
            (b"appendfsync", b"always"),
            (b"maxclients", b"10000"),
            (b"slowlog-max-len", b"5000"),
        ];
        assert_eq!(c.config_set(pairs, true), Ok(()));
        c.rewrite().expect("rewrite");
        let dir = format!("dir \"{}\"\n", c.dir().display());
        let first = format!(
            "# my comment\nport 7433\nmaxmemory 0\n\n# another\ntimeout 0\nsave 900 1\n\
             save 300 10\nloglevel warning\nmaxclients 10000\n\nrequirepass \"a b\"\n\n\
             # Generated by CONFIG REWRITE\nbind 127.0.0.1 ::1\n{dir}appendfsync always\n\
             proto-max-bulk-len 100mb\nclient-query-buffer-limit 2000000\nhz 20\n\
             slowlog-max-len 5000\nlatency-tracking-info-percentiles 50 99 99.9\n"
        );
        assert_eq!(std::fs::read_to_string(&path.0).expect("read"), first);

        let pairs: &[(&[u8], &[u8])] = &[(b"requirepass", b"x\"y z"), (b"save", b"")];
        assert_eq!(c.config_set(pairs, true), Ok(()));
        c.rewrite().expect("rewrite");
        let second = first
            .replace("save 900 1\nsave 300 10\n", "save \"\"\n\n")
            .replace("requirepass \"a b\"", "requirepass \"x\\\"y z\"")
            + "\n";
        assert_eq!(std::fs::read_to_string(&path.0).expect("read"), second);

        // What was written reads back to the same configuration.
        let again = Config::from_args(&args(&[path.as_str()])).expect("rewritten file loads");
        for name in [
            "maxmemory",
            "timeout",
            "hz",
            "save",
            "requirepass",
            "bind",
            "maxclients",
        ] {
            assert_eq!(get1(&again, name), get1(&c, name), "{name}");
        }
    }

    #[test]
    fn rewrite_without_a_file_is_refused() {
        assert_eq!(
            Config::default().rewrite(),
            Err("The server is running without a config file".to_string())
        );
    }

    #[test]
    fn table_is_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for param in TABLE {
            for name in std::iter::once(&param.name).chain(param.aliases) {
                assert_eq!(*name, name.to_ascii_lowercase(), "names are lowercase");
                assert!(
                    !name.contains(['*', '?', '[']),
                    "{name} would read as a glob"
                );
                assert!(seen.insert(*name), "{name} appears twice");
            }
        }
    }

    #[test]
    fn defaults_print_like_redis() {
        // Redis 7.0.15's CONFIG GET on a pristine server.
        let expected = [
            ("bind", "* -::*"),
            ("port", "6379"),
            ("protected-mode", "yes"),
            ("enable-protected-configs", "no"),
            ("enable-debug-command", "no"),
            ("tcp-backlog", "511"),
            ("tcp-keepalive", "300"),
            ("timeout", "0"),
            ("maxclients", "10000"),
            ("io-threads", "1"),
            ("daemonize", "no"),
            ("pidfile", ""),
            ("loglevel", "notice"),
            ("logfile", ""),
            ("databases", "16"),
            ("dbfilename", "dump.rdb"),
            ("save", "3600 1 300 100 60 10000"),
            ("rdbcompression", "yes"),
            ("rdbchecksum", "yes"),
            ("stop-writes-on-bgsave-error", "yes"),
            ("appendonly", "no"),
            ("appendfilename", "appendonly.aof"),
            ("appendfsync", "everysec"),
            ("requirepass", ""),
            ("masterauth", ""),
            ("replicaof", ""),
            ("slaveof", ""),
            ("replica-read-only", "yes"),
            ("slave-read-only", "yes"),
            ("repl-backlog-size", "1048576"),
            ("replica-serve-stale-data", "yes"),
            ("slave-serve-stale-data", "yes"),
            ("repl-ping-replica-period", "10"),
            ("repl-ping-slave-period", "10"),
            ("repl-timeout", "60"),
            ("repl-diskless-sync", "yes"),
            ("min-replicas-to-write", "0"),
            ("min-slaves-to-write", "0"),
            ("min-replicas-max-lag", "10"),
            ("min-slaves-max-lag", "10"),
            ("maxmemory", "0"),
            ("maxmemory-policy", "noeviction"),
            ("maxmemory-samples", "5"),
            ("lfu-log-factor", "10"),
            ("lfu-decay-time", "1"),
            ("proto-max-bulk-len", "536870912"),
            ("client-query-buffer-limit", "1073741824"),
            (
                "client-output-buffer-limit",
                "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
            ),
            ("hz", "10"),
            ("slowlog-log-slower-than", "10000"),
            ("slowlog-max-len", "128"),
            ("latency-monitor-threshold", "0"),
            ("latency-tracking", "yes"),
            ("latency-tracking-info-percentiles", "50 99 99.9"),
            ("rdb-key-save-delay", "0"),
        ];
        let config = Config::default();
        for (name, want) in expected {
            assert_eq!(value(&config, name), want, "{name}");
        }
        let cwd = std::env::current_dir()
            .and_then(|d| d.canonicalize())
            .expect("cwd");
        assert_eq!(config.dir(), cwd.as_path());
        assert!(config.dir().is_absolute());
        assert_eq!(value(&config, "dir"), cwd.to_string_lossy());
        // Every row is covered above (plus `dir`).
        assert_eq!(
            expected.len() + 1,
            TABLE.iter().map(|p| 1 + p.aliases.len()).sum::<usize>()
        );
    }

    #[test]
    fn getters_follow_the_table() {
        let c = Config::default();
        assert_eq!(c.port(), 6379);
        assert_eq!(c.bind(), vec!["*".to_string(), "-::*".to_string()]);
        assert_eq!(c.loglevel(), "notice");
        assert_eq!(c.logfile(), "");
        assert_eq!(c.hz(), 10);
        assert_eq!(c.databases(), 16);
        assert_eq!(c.proto_max_bulk_len(), 512 * 1024 * 1024);
        assert_eq!(c.client_query_buffer_limit(), 1024 * 1024 * 1024);
        assert_eq!(
            c.client_output_buffer_limit(ClientClass::Normal),
            OutputBufferLimit::default()
        );
        assert_eq!(
            c.client_output_buffer_limit(ClientClass::Pubsub),
            OutputBufferLimit {
                hard: 32 * 1024 * 1024,
                soft: 8 * 1024 * 1024,
                soft_seconds: 60
            }
        );
        assert_eq!(c.maxclients(), 10000);
        assert_eq!(c.timeout(), 0);
        assert_eq!(c.requirepass(), b"");
        assert_eq!(c.masterauth(), b"");
        assert!(c.protected_mode());
        assert_eq!(c.enable_protected_configs(), "no");
        assert_eq!(c.enable_debug_command(), "no");
        assert_eq!(c.tcp_backlog(), 511);
        assert_eq!(c.tcp_keepalive(), 300);
        assert_eq!(c.io_threads(), 1);
        assert!(!c.daemonize());
        assert_eq!(c.pidfile(), "");
        assert_eq!(c.dbfilename(), "dump.rdb");
        assert_eq!(c.save(), &[(3600, 1), (300, 100), (60, 10000)]);
        assert!(c.rdbcompression() && c.rdbchecksum() && c.stop_writes_on_bgsave_error());
        assert!(!c.appendonly());
        assert_eq!(c.appendfilename(), "appendonly.aof");
        assert_eq!(c.appendfsync(), "everysec");
        assert_eq!(c.replicaof(), None);
        assert!(c.replica_read_only());
        assert_eq!(c.repl_backlog_size(), 1024 * 1024);
        assert_eq!(c.maxmemory(), 0);
        assert_eq!(c.maxmemory_policy(), "noeviction");
        assert_eq!(c.maxmemory_samples(), 5);
        assert_eq!(c.slowlog_log_slower_than(), 10000);
        assert_eq!(c.slowlog_max_len(), 128);
    }

    #[test]
    fn memory_values() {
        // Each case was checked with CONFIG SET maxmemory / CONFIG GET maxmemory on 7.0.15.
        let ok: &[(&str, u64)] = &[
            ("0", 0),
            ("1b", 1),
            ("1B", 1),
            ("1k", 1000),
            ("1K", 1000),
            ("1kb", 1024),
            ("1kB", 1024),
            ("1KB", 1024),
            ("1m", 1_000_000),
            ("1mb", 1_048_576),
            ("1Mb", 1_048_576),
            ("1g", 1_000_000_000),
            ("1gb", 1_073_741_824),
            ("100mb", 104_857_600),
            ("007", 7),
            ("", 0),
            ("kb", 0),
            ("18446744073709551615", u64::MAX),
            ("18446744073709551616", u64::MAX),
            ("99999999999gb", 15_140_462_030_378_500_096),
            ("17179869184gb", 0),
            ("18446744073709551615kb", 18_446_744_073_709_550_592),
        ];
        let mut c = Config::default();
        for &(text, want) in ok {
            assert_eq!(
                c.set("maxmemory", text.as_bytes(), true),
                Ok(()),
                "{text:?}"
            );
            assert_eq!(c.maxmemory(), want, "{text:?}");
            assert_eq!(value(&c, "maxmemory"), want.to_string());
        }
        for bad in [
            "-1", "-0", "1t", " 1", "1 ", "+5", "1.5", "10x", "0x10", "1kbb", "k1",
        ] {
            assert_eq!(
                c.set("maxmemory", bad.as_bytes(), true),
                Err("argument must be a memory value".to_string()),
                "{bad:?}"
            );
        }
        // Signed memory parameters refuse what wraps past i64::MAX, with their bounds.
        assert_eq!(
            c.set("proto-max-bulk-len", b"99999999999999999999", true),
            Err("argument must be between 1048576 and 9223372036854775807 inclusive".to_string())
        );
        assert_eq!(
            c.set("repl-backlog-size", b"0", true),
            Err("argument must be between 1 and 9223372036854775807 inclusive".to_string())
        );
        assert_eq!(c.set("repl-backlog-size", b"2mb", true), Ok(()));
        assert_eq!(value(&c, "repl-backlog-size"), "2097152");
        // The backlog has a 16 KiB minimum, applied only by CONFIG SET.
        assert_eq!(c.set("repl-backlog-size", b"100", true), Ok(()));
        assert_eq!(c.repl_backlog_size(), 16384);
        assert_eq!(c.set("repl-backlog-size", b"100", false), Ok(()));
        assert_eq!(c.repl_backlog_size(), 100);
    }

    #[test]
    fn integer_values() {
        let mut c = Config::default();
        let unparsable = Err("argument couldn't be parsed into an integer".to_string());
        for bad in [
            "+5",
            " 5",
            "05",
            "-0",
            "5.0",
            "",
            "abc",
            "99999999999999999999",
        ] {
            assert_eq!(
                c.set("timeout", bad.as_bytes(), true),
                unparsable,
                "{bad:?}"
            );
        }
        assert_eq!(
            c.set("timeout", b"-1", true),
            Err("argument must be between 0 and 2147483647 inclusive".to_string())
        );
        assert_eq!(
            c.set("port", b"70000", true),
            Err("argument must be between 0 and 65535 inclusive".to_string())
        );
        assert_eq!(
            c.set("maxclients", b"0", true),
            Err("argument must be between 1 and 4294967295 inclusive".to_string())
        );
        assert_eq!(
            c.set("slowlog-log-slower-than", b"-2", true),
            Err("argument must be between -1 and 9223372036854775807 inclusive".to_string())
        );
        assert_eq!(c.set("slowlog-log-slower-than", b"-1", true), Ok(()));
        assert_eq!(
            c.set("TIMEOUT", b"30", true),
            Ok(()),
            "names are case-insensitive"
        );
        assert_eq!(c.timeout(), 30);
        assert_eq!(value(&c, "timeout"), "30");
    }

    #[test]
    fn hz_is_clamped_like_redis() {
        let mut c = Config::default();
        for (text, want) in [
            ("0", 1),
            ("1", 1),
            ("500", 500),
            ("501", 500),
            ("1000", 500),
        ] {
            assert_eq!(c.set("hz", text.as_bytes(), true), Ok(()));
            assert_eq!(c.hz(), want, "{text}");
            assert_eq!(value(&c, "hz"), want.to_string());
        }
        assert_eq!(
            c.set("hz", b"-5", true),
            Err("argument must be between 0 and 2147483647 inclusive".to_string())
        );
    }

    #[test]
    fn bool_and_enum_values() {
        let mut c = Config::default();
        for yes_no in ["YES", "Yes", "no", "No"] {
            assert_eq!(c.set("appendonly", yes_no.as_bytes(), true), Ok(()));
        }
        assert!(!c.appendonly());
        for bad in ["maybe", "1", "true", ""] {
            assert_eq!(
                c.set("appendonly", bad.as_bytes(), true),
                Err("argument must be 'yes' or 'no'".to_string())
            );
        }
        let policy_err = "argument(s) must be one of the following: volatile-lru, volatile-lfu, \
                          volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, \
                          noeviction";
        for bad in ["bogus", "", "allkeys-lru volatile-lru"] {
            assert_eq!(
                c.set("maxmemory-policy", bad.as_bytes(), true),
                Err(policy_err.to_string())
            );
        }
        assert_eq!(c.set("maxmemory-policy", b"Allkeys-LRU", true), Ok(()));
        assert_eq!(value(&c, "maxmemory-policy"), "allkeys-lru");
        assert_eq!(
            c.set("loglevel", b"nothing", true),
            Err(
                "argument(s) must be one of the following: debug, verbose, notice, warning"
                    .to_string()
            )
        );
        assert_eq!(
            c.set("appendfsync", b"x", true),
            Err("argument(s) must be one of the following: everysec, always, no".to_string())
        );
    }

    #[test]
    fn save_rules() {
        let mut c = Config::default();
        // Accepted inputs and how 7.0.15 prints them back.
        for (text, printed) in [
            ("", ""),
            ("1 2 1 2", "1 2 1 2"),
            ("+5 1", "5 1"),
            ("05 1", "5 1"),
            ("\t5 1", "5 1"),
            ("5 ", "5 0"),
            ("1 0", "1 0"),
            ("1 -0", "1 0"),
            ("99999999999999999999 1", "9223372036854775807 1"),
            ("1 2147483648", "1 -2147483648"),
            ("1 99999999999999999999", "1 -1"),
        ] {
            assert_eq!(c.set("save", text.as_bytes(), true), Ok(()), "{text:?}");
            assert_eq!(value(&c, "save"), printed, "{text:?}");
        }
        for bad in [
            "100",
            "abc 1",
            "3600 1 300",
            "  ",
            "0 0",
            "0 1",
            "-1 5",
            "10 -1",
            "  10   20  ",
            "5 1x",
            " 5 1",
            "5  1",
            "1.5 2",
        ] {
            assert_eq!(
                c.set("save", bad.as_bytes(), true),
                Err("Invalid save parameters".to_string()),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn bind_replicaof_and_file_names() {
        let mut c = Config::default();
        assert_eq!(c.set("bind", b"* -::*", true), Ok(()));
        assert_eq!(c.bind(), vec!["*".to_string(), "-::*".to_string()]);
        assert_eq!(value(&c, "bind"), "* -::*");
        let seventeen: Vec<String> = (1..=17).map(|n| n.to_string()).collect();
        assert_eq!(
            c.set("bind", seventeen.join(" ").as_bytes(), true),
            Err("Too many bind addresses specified.".to_string())
        );
        assert_eq!(c.set("bind", b"", true), Ok(()));
        assert!(c.bind().is_empty());

        assert_eq!(c.set("slaveof", b"10.0.0.1 6380", false), Ok(()));
        assert_eq!(c.replicaof(), Some(("10.0.0.1", 6380)));
        assert_eq!(value(&c, "replicaof"), "10.0.0.1 6380");
        assert_eq!(value(&c, "slaveof"), "10.0.0.1 6380");
        assert_eq!(c.set("replicaof", b"NO ONE", false), Ok(()));
        assert_eq!(c.replicaof(), None);
        for bad in ["h abc", "h 99999", "h -1"] {
            assert_eq!(
                c.set("replicaof", bad.as_bytes(), false),
                Err("Invalid master port".to_string())
            );
        }
        assert_eq!(c.set("replicaof", b"h +5", false), Ok(()));
        assert_eq!(value(&c, "replicaof"), "h 5");
        assert_eq!(
            c.set("replicaof", b"h 1", true),
            Err("can't set immutable config".to_string())
        );

        assert_eq!(
            c.set("dbfilename", b"a/b", false),
            Err("dbfilename can't be a path, just a filename".to_string())
        );
        assert_eq!(
            c.set("appendfilename", b"a/b", false),
            Err("appendfilename can't be a path, just a filename".to_string())
        );
        assert_eq!(c.set("dbfilename", b"x.rdb", false), Ok(()));
        assert_eq!(c.dbfilename(), "x.rdb");
    }

    #[test]
    fn dir_must_exist_and_is_stored_absolute() {
        let mut c = Config::default();
        let sub = TempPath::new("dir");
        std::fs::create_dir(&sub.0).expect("create temp dir");
        let parent = sub
            .0
            .parent()
            .expect("temp dir has a parent")
            .canonicalize()
            .expect("canonical");
        let leaf = sub
            .0
            .file_name()
            .expect("file name")
            .to_string_lossy()
            .into_owned();

        assert_eq!(
            c.set("dir", parent.to_string_lossy().as_bytes(), false),
            Ok(())
        );
        // Relative to the current `dir`, as Redis's chdir would resolve it.
        assert_eq!(c.set("dir", leaf.as_bytes(), false), Ok(()));
        assert_eq!(c.dir(), parent.join(&leaf).as_path());
        assert_eq!(c.set("dir", b"..", false), Ok(()));
        assert_eq!(c.dir(), parent.as_path());

        assert_eq!(
            c.set("dir", b"/nonexistent-redis-clone-dir", false),
            Err("No such file or directory".to_string())
        );
        assert_eq!(
            c.set("dir", b"", false),
            Err("No such file or directory".to_string())
        );
        let file = TempPath::file("notadir", "");
        assert_eq!(
            c.set("dir", file.as_str().as_bytes(), false),
            Err("Not a directory".to_string())
        );
        assert_eq!(c.dir(), parent.as_path(), "a failed set leaves dir alone");

        // At runtime `dir` is protected unless enable-protected-configs allows it.
        assert_eq!(
            c.set("dir", b"/", true),
            Err("can't set protected config".to_string())
        );
        assert_eq!(c.set("enable-protected-configs", b"yes", false), Ok(()));
        assert_eq!(c.set("dir", b"/", true), Ok(()));
        assert_eq!(value(&c, "dir"), "/");
    }

    #[test]
    fn immutable_only_at_runtime() {
        let mut c = Config::default();
        for name in [
            "databases",
            "daemonize",
            "logfile",
            "io-threads",
            "tcp-backlog",
            "enable-debug-command",
            "rdbchecksum",
        ] {
            let current = value(&c, name);
            assert_eq!(
                c.set(name, current.as_bytes(), true),
                Err("can't set immutable config".to_string()),
                "{name}"
            );
        }
        assert_eq!(c.set("databases", b"32", false), Ok(()));
        assert_eq!(c.databases(), 32);
        assert_eq!(
            c.set("nosuch", b"1", true),
            Err("Unknown option or number of arguments for CONFIG SET - 'nosuch'".to_string())
        );
    }

    #[test]
    fn config_get_semantics() {
        let c = Config::default();
        // Exact names are looked up case-insensitively and echoed as typed.
        assert_eq!(
            get1(&c, "PORT"),
            vec![("PORT".to_string(), "6379".to_string())]
        );
        // Globs are case-insensitive and list aliases as entries of their own.
        assert_eq!(
            get1(&c, "MAXMEMORY-P*"),
            vec![("maxmemory-policy".to_string(), "noeviction".to_string())]
        );
        let mut read_only: Vec<String> =
            get1(&c, "*read-only").into_iter().map(|(n, _)| n).collect();
        read_only.sort();
        assert_eq!(read_only, vec!["replica-read-only", "slave-read-only"]);
        // Unknown gives nothing.
        assert!(get1(&c, "nosuch").is_empty());
        assert!(get1(&c, "nosuch*").is_empty());
        // Hidden parameters answer only to their exact name.
        assert_eq!(
            get1(&c, "RDB-KEY-SAVE-DELAY"),
            vec![("RDB-KEY-SAVE-DELAY".to_string(), "0".to_string())]
        );
        assert!(get1(&c, "rdb-key-save-delay*").is_empty());
        assert!(get1(&c, "*")
            .iter()
            .all(|(name, _)| name != "rdb-key-save-delay"));

        let names = |patterns: &[&str]| -> Vec<String> {
            let patterns: Vec<&[u8]> = patterns.iter().map(|p| p.as_bytes()).collect();
            c.get(&patterns)
                .into_iter()
                .map(|(n, _)| String::from_utf8_lossy(&n).into_owned())
                .collect()
        };
        // Deduplicated case-insensitively; the first spelling wins (as on 7.0.15).
        assert_eq!(names(&["port", "PORT"]), vec!["port"]);
        assert_eq!(names(&["PORT", "port", "PoRt"]), vec!["PORT"]);
        let with_glob = names(&["PORT", "p*"]);
        assert!(
            with_glob.contains(&"PORT".to_string()) && !with_glob.contains(&"port".to_string())
        );
        let glob_first = names(&["p*", "PORT"]);
        assert!(
            glob_first.contains(&"port".to_string()) && !glob_first.contains(&"PORT".to_string())
        );
        assert_eq!(names(&["p*", "P*"]).len(), names(&["p*"]).len());
        // An alias and its parameter are different names: both are returned.
        assert_eq!(
            names(&["slaveof", "replicaof"]),
            vec!["slaveof", "replicaof"]
        );
        assert_eq!(names(&["port", "bind"]), vec!["port", "bind"]);
        // Every visible name and alias answers `*`, once.
        let all = names(&["*"]);
        let visible: usize = TABLE
            .iter()
            .filter(|p| !p.hidden)
            .map(|p| 1 + p.aliases.len())
            .sum();
        assert_eq!(all.len(), visible);
    }

    #[test]
    fn config_set_is_atomic_with_redis_texts() {
        let mut c = Config::default();
        let set = |c: &mut Config, pairs: &[(&str, &str)]| {
            let pairs: Vec<(&[u8], &[u8])> = pairs
                .iter()
                .map(|(n, v)| (n.as_bytes(), v.as_bytes()))
                .collect();
            c.config_set(&pairs, true)
        };
        assert_eq!(
            set(&mut c, &[("port", "abc"), ("nosuch", "1")]),
            Err("Unknown option or number of arguments for CONFIG SET - 'nosuch'".to_string())
        );
        let failed = |name: &str, reason: &str| {
            Err(format!(
                "CONFIG SET failed (possibly related to argument '{name}') - {reason}"
            ))
        };
        assert_eq!(
            set(&mut c, &[("port", "abc"), ("Daemonize", "no")]),
            failed("Daemonize", "can't set immutable config")
        );
        assert_eq!(
            set(&mut c, &[("port", "abc"), ("dir", "/tmp")]),
            failed("dir", "can't set protected config")
        );
        assert_eq!(
            set(&mut c, &[("port", "1"), ("PORT", "2")]),
            failed("PORT", "duplicate parameter")
        );
        assert_eq!(
            set(&mut c, &[("MAXMEMORY", "abc")]),
            failed("maxmemory", "argument must be a memory value")
        );
        // A later failure undoes the earlier, valid assignments.
        assert_eq!(
            set(&mut c, &[("timeout", "5"), ("maxmemory", "abc")]).map_err(|_| ()),
            Err(())
        );
        assert_eq!(c.timeout(), 0);
        // An alias is not a duplicate of its parameter; the later one wins.
        assert_eq!(
            set(
                &mut c,
                &[("slave-read-only", "yes"), ("replica-read-only", "no")]
            ),
            Ok(())
        );
        assert!(!c.replica_read_only());
        assert_eq!(
            set(&mut c, &[("timeout", "5"), ("maxmemory", "1mb")]),
            Ok(())
        );
        assert_eq!((c.timeout(), c.maxmemory()), (5, 1_048_576));
        // `local` lets local clients only at protected parameters.
        assert_eq!(c.set("enable-protected-configs", b"local", false), Ok(()));
        assert!(c.config_set(&[(b"dbfilename", b"a.rdb")], false).is_err());
        assert_eq!(c.config_set(&[(b"dbfilename", b"a.rdb")], true), Ok(()));
    }

    #[test]
    fn config_file_and_command_line() {
        let file = TempPath::file(
            "file",
            "# a comment\n\
             \n\
             \x20  # an indented comment\n\
             port 7000\n\
             requirepass \"with space\"\n\
             logfile 'quoted.log'\n\
             SAVE 900 1\n\
             save 300 10\n\
             slaveof 10.0.0.1 6380\n\
             bind 127.0.0.1 ::1\n\
             maxmemory 2MB\r\n",
        );
        let c = Config::from_args(&args(&[file.as_str()])).expect("valid file");
        assert_eq!(c.port(), 7000);
        assert_eq!(c.requirepass(), b"with space");
        assert_eq!(c.logfile(), "quoted.log");
        assert_eq!(value(&c, "save"), "900 1 300 10", "save lines accumulate");
        assert_eq!(c.replicaof(), Some(("10.0.0.1", 6380)));
        assert_eq!(c.bind(), vec!["127.0.0.1".to_string(), "::1".to_string()]);
        assert_eq!(c.maxmemory(), 2 * 1024 * 1024);

        // The command line applies after the file.
        let c = Config::from_args(&args(&[
            file.as_str(),
            "--port",
            "7001",
            "--save",
            "60",
            "5",
            "--bind",
            "0.0.0.0",
            "-::1",
            "--daemonize",
            "yes",
        ]))
        .expect("valid arguments");
        assert_eq!(c.port(), 7001);
        assert_eq!(value(&c, "save"), "900 1 300 10 60 5");
        assert_eq!(value(&c, "bind"), "0.0.0.0 -::1");
        assert!(c.daemonize());

        // `save ""` (or a bare `--save`) clears the rules.
        let c = Config::from_args(&args(&["--save", ""])).expect("valid");
        assert!(c.save().is_empty());
        let c = Config::from_args(&args(&["--save", "--port", "1"])).expect("valid");
        assert!(c.save().is_empty());
        assert_eq!(c.port(), 1);
        let cleared = TempPath::file("clear", "save 900 1\nsave \"\"\nsave 300 10\n");
        let c = Config::from_args(&args(&[cleared.as_str()])).expect("valid");
        assert_eq!(value(&c, "save"), "300 10");
        // A single argument holding several values is split like CONFIG SET's.
        let c = Config::from_args(&args(&["--save", "900 1 300 10"])).expect("valid");
        assert_eq!(c.save(), &[(900, 1), (300, 10)]);
    }

    #[test]
    fn startup_errors_name_the_directive() {
        let path = TempPath::file("bad", "port 7000\n# fine\nfoo bar\n");
        let err = Config::from_args(&args(&[path.as_str()])).expect_err("unknown directive");
        assert_eq!(
            err.0,
            format!(
                "config file {} line 3: unknown directive 'foo'",
                path.as_str()
            )
        );

        let path = TempPath::file("badvalue", "\n\nport 70000\n");
        let err = Config::from_args(&args(&[path.as_str()])).expect_err("bad port");
        assert_eq!(
            err.to_string(),
            format!(
                "config file {} line 3: port: argument must be between 0 and 65535 inclusive",
                path.as_str()
            )
        );

        let path = TempPath::file("arity", "port 1 2\n");
        let err = Config::from_args(&args(&[path.as_str()])).expect_err("two ports");
        assert_eq!(
            err.0,
            format!(
                "config file {} line 1: port: wrong number of arguments",
                path.as_str()
            )
        );

        let path = TempPath::file("quotes", "requirepass \"open\n");
        let err = Config::from_args(&args(&[path.as_str()])).expect_err("unbalanced");
        assert_eq!(
            err.0,
            format!(
                "config file {} line 1: unbalanced quotes in configuration line",
                path.as_str()
            )
        );

        let missing = TempPath::new("missing");
        let err = Config::from_args(&args(&[missing.as_str()])).expect_err("no file");
        assert_eq!(
            err.0,
            format!(
                "can't open config file '{}': No such file or directory",
                missing.as_str()
            )
        );

        let cases: &[(&[&str], &str)] = &[
            (
                &["--port", "70000"],
                "--port: argument must be between 0 and 65535 inclusive",
            ),
            (&["--foo", "bar"], "--foo: unknown directive 'foo'"),
            (&["--port", "1", "2"], "--port: wrong number of arguments"),
            (&["--logfile"], "--logfile: wrong number of arguments"),
            (
                &["--replicaof", "1.2.3.4"],
                "--replicaof: wrong number of arguments",
            ),
            (
                &["--replicaof", "1.2.3.4", "abc"],
                "--replicaof: Invalid master port",
            ),
            (&["--save", "100"], "--save: Invalid save parameters"),
            (
                &["--dbfilename", "a/b"],
                "--dbfilename: dbfilename can't be a path, just a filename",
            ),
            (
                &["--dir", "/nonexistent-redis-clone-dir"],
                "--dir: No such file or directory",
            ),
        ];
        for (argv, want) in cases {
            let err = Config::from_args(&args(argv)).expect_err("invalid");
            assert_eq!(err.0, *want, "{argv:?}");
        }
        let err = Config::from_args(&args(&["--databases", "0"])).expect_err("no databases");
        assert_eq!(
            err.0,
            "--databases: argument must be between 1 and 2147483647 inclusive"
        );
        let err = Config::from_args(&args(&["--maxmemory-policy", "x"])).expect_err("bad policy");
        assert!(err
            .0
            .starts_with("--maxmemory-policy: argument(s) must be one of the following: "));
    }
}
