//! redis-clone: a Redis 7.0 compatible server built as a plugin-style command framework.
//!
//! A request flows one way (see ARCHITECTURE.md):
//!
//! ```text
//! socket -> connection.rs -> codec.rs (bytes -> argv) -> dispatch.rs (lookup, arity, spec
//! validation -> Args) -> handler in commands/ (Ctx + Args -> Reply) -> codec.rs (Reply -> bytes)
//! -> socket
//! ```
//!
//! Module map:
//! * `reply`, `error`: the reply model and the three error classes.
//! * `codec`: RESP2/RESP3 framing; knows nothing about commands.
//! * `compact`: inline-or-heap byte strings for keys and short values.
//! * `glob`: Redis's glob matching (CONFIG GET, later KEYS/SCAN).
//! * `introspect`: COMMAND INFO/DOCS/GETKEYS replies derived from the specs.
//! * `slowlog`: the slow log (SLOWLOG).
//! * `spec`: the JSON command specs, parsed once and compiled.
//! * `registry`: the `inventory` registration of commands and the command table.
//! * `args`: the typed view of a request's arguments produced by validation.
//! * `dispatch`: lookup, arity and argument validation, then the handler call.
//! * `dict`: the hash table behind the keyspace (incremental rehash, SCAN cursor, sampling).
//! * `digest`: DEBUG DIGEST's fingerprint of the dataset, as Redis computes it.
//! * `keyspace`: the databases, values and expiry.
//! * `latency`: the latency monitor (LATENCY).
//! * `evict`: `maxmemory` and the eviction policies.
//! * `number`: Redis's long double arithmetic (INCRBYFLOAT), emulated exactly.
//! * `rdb`: the RDB file format (encode, decode, CRC64, LZF), pure.
//! * `persistence`: the change count since the last save, RDB loading and saving.
//! * `config`: the declarative table of configuration parameters.
//! * `context`: what a handler receives (`Ctx`).
//! * `stats`: the counters INFO reports; `logging`: the log subscriber and its live level.
//! * `shared`, `session`: the state every connection shares, and one client's execution of
//!   requests against it (no socket: the snapshot tests drive it directly).
//! * `connection`, `server`: the tokio side: sockets, pipelining, shutdown.
//! * `replication`: the backlog, replicas attached to us, and the link to our master.
//! * `fuzzing`: the bodies of the fuzz targets (`fuzz/`), also replayed by `cargo test`.
//! * `prelude`: the small surface that command modules use.
//! * `commands` (in `../commands/`): one module per command, each registering itself.

pub mod access;
pub mod args;
pub mod clients;
pub mod codec;
pub mod compact;
pub mod config;
pub mod connection;
pub mod context;
pub mod dict;
pub mod digest;
pub mod dispatch;
pub mod error;
pub mod evict;
pub mod fuzzing;
pub mod glob;
pub mod introspect;
pub mod keyspace;
pub mod latency;
pub mod logging;
pub mod number;
pub mod persistence;
pub mod prelude;
pub mod rdb;
pub mod registry;
pub mod replication;
pub mod reply;
pub mod server;
pub mod session;
pub mod shared;
pub mod slowlog;
pub mod spec;
pub mod stats;

// The command modules live in `commands/` at the top of the repository, but they are compiled
// into this crate so that their `inventory::submit!` registrations are linked into every
// artifact: the binary, the unit tests and the integration tests.
#[path = "../commands/mod.rs"]
mod commands;

/// The Redis version whose behaviour we reproduce and report.
pub const REDIS_VERSION: &str = "7.0.15";
/// This server's own version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
