//! What a handler receives: the keyspace (already locked), the configuration, the calling
//! client's state and the current time. Handlers use nothing else, which is why they can be
//! tested without a runtime or a socket.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLockReadGuard};
use std::time::Instant;

use bytes::Bytes;

use crate::clients::{ClientRegistry, Entry};
use crate::codec::Protocol;
use crate::config::Config;
use crate::error::CommandError;
use crate::keyspace::{Db, Keyspace};
use crate::logging::LogLevel;
use crate::registry::CommandTable;
use crate::stats::Stats;

type CommandResult = Result<crate::reply::Reply, crate::error::CommandError>;

/// Per-connection state that commands may read or change.
#[derive(Debug, Clone)]
pub struct Client {
    pub id: u64,
    /// Index of the selected database.
    pub db: usize,
    pub protocol: Protocol,
    /// Set by a command that wants the connection closed once its reply is sent (QUIT); the
    /// connection honours it after writing the reply.
    pub close_after_reply: bool,
    /// Whether the client has authenticated as the default user. Like Redis, a client that
    /// connects while the default user needs no password starts authenticated.
    pub authenticated: bool,
    /// The name given with CLIENT SETNAME or HELLO SETNAME.
    pub name: Option<Bytes>,
    /// Full name of the command being run or last run (`client|list`); `None` after an
    /// unknown command, as Redis prints `cmd=NULL` then.
    pub last_cmd: Option<&'static str>,
    /// CLIENT NO-EVICT ON.
    pub no_evict: bool,
    /// CLIENT SETINFO LIB-NAME and LIB-VER (Redis 7.2).
    pub lib_name: Option<Bytes>,
    pub lib_ver: Option<Bytes>,
    /// CLIENT REPLY OFF: no replies until CLIENT REPLY ON.
    pub reply_off: bool,
    /// CLIENT REPLY SKIP: no reply to the current command...
    pub reply_skip: bool,
    /// ...and, set by SKIP itself, none to the next one either.
    pub reply_skip_next: bool,
    /// Whether the reply to the request just executed must not be sent.
    pub silent: bool,
    /// Set by a command whose reply must never be sent (SHUTDOWN closes without one).
    pub suppress_reply: bool,
    /// The client is our master's link: it may write on a read-only replica, its replies go
    /// nowhere, and what it runs reaches our replicas as the master sent it.
    pub from_master: bool,
    /// The replication offset after this client's last propagated write (what WAIT waits for).
    pub repl_offset: i64,
    /// What the client said with REPLCONF (a replica about to send PSYNC).
    pub replica_hello: crate::replication::ReplicaHello,
    /// Set by PSYNC/SYNC: the connection hands itself over to the replication service after
    /// writing the reply.
    pub became_replica: bool,
    /// Set by WAIT when it must block: the connection waits, then replies.
    pub wait: Option<crate::replication::WaitRequest>,
    /// Whether the client is local as Redis decides it (connected from 127.0.0.1 or ::1, or
    /// with no socket at all), for the `local` setting of `enable-debug-command` and
    /// `enable-protected-configs`.
    pub local: bool,
    /// CLIENT NO-TOUCH ON (Redis 7.2): this client's commands do not update keys' access
    /// time, except TOUCH.
    pub no_touch: bool,
    /// Set by a command whose error reply Redis writes raw, so that INFO does not count it
    /// (DEBUG ERROR); cleared after the command is counted.
    pub error_uncounted: bool,
}

impl Client {
    pub fn new(id: u64) -> Client {
        Client {
            id,
            db: 0,
            protocol: Protocol::Resp2,
            close_after_reply: false,
            authenticated: true,
            name: None,
            last_cmd: None,
            no_evict: false,
            lib_name: None,
            lib_ver: None,
            reply_off: false,
            reply_skip: false,
            reply_skip_next: false,
            suppress_reply: false,
            silent: false,
            from_master: false,
            repl_offset: 0,
            replica_hello: crate::replication::ReplicaHello::default(),
            became_replica: false,
            wait: None,
            local: false,
            no_touch: false,
            error_uncounted: false,
        }
    }

    /// After each command: decide whether its reply is sent, and move a pending SKIP on to the
    /// next command, as Redis's `call()` does.
    pub fn finish_command(&mut self) {
        self.silent = self.reply_off || self.reply_skip || self.suppress_reply;
        // Only the command that asked goes unanswered (REPLCONF ACK; SHUTDOWN closes anyway).
        self.suppress_reply = false;
        self.reply_skip = false;
        if self.reply_skip_next {
            self.reply_skip = true;
            self.reply_skip_next = false;
        }
    }

    /// Copy what CLIENT LIST shows of this client (name, db, last command, protocol, flags)
    /// into its registry state, as of `now`.
    pub fn show_in(&self, state: &mut crate::clients::State, now: Instant) {
        state.name.clone_from(&self.name);
        state.db = self.db;
        state.last_cmd = self.last_cmd;
        state.last_interaction = now;
        state.resp = self.protocol_version();
        state.no_evict = self.no_evict;
        state.no_touch = self.no_touch;
    }

    /// The RESP version the connection speaks: 2 or 3.
    pub fn protocol_version(&self) -> i64 {
        match self.protocol {
            Protocol::Resp2 => 2,
            Protocol::Resp3 => 3,
        }
    }

    /// Switch the connection to RESP2 or RESP3 (HELLO, RESET). Other versions are refused by
    /// the caller.
    pub fn set_protocol_version(&mut self, version: i64) {
        self.protocol = if version == 3 {
            Protocol::Resp3
        } else {
            Protocol::Resp2
        };
    }

    /// Redis's `authRequired`: the default user has a password and this client has not given
    /// it yet.
    pub fn auth_required(&self, config: &Config) -> bool {
        !self.authenticated && !config.requirepass().is_empty()
    }
}

/// Check a username and password against the default user (the only user until ACLs exist):
/// `default` (or no username) with `requirepass`, or any password when none is set. The
/// password is compared in constant time, so timing does not tell how much of it was right.
pub fn check_default_user(config: &Config, username: Option<&[u8]>, password: &[u8]) -> bool {
    if username.is_some_and(|u| u != b"default") {
        return false;
    }
    let expected = config.requirepass();
    expected.is_empty() || constant_time_eq(expected, password)
}

/// Equality whose running time depends only on the lengths, never on where the bytes differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = u8::from(a.len() != b.len());
    let longest = a.len().max(b.len());
    for i in 0..longest {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= x ^ y;
    }
    std::hint::black_box(diff) == 0
}

/// A shared source of pseudo-random numbers (splitmix64 over an atomic counter): cheap, lock
/// free, good enough for sampling keys. Not for anything secret.
#[derive(Debug)]
pub struct Rng(AtomicU64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(AtomicU64::new(seed))
    }

    pub fn next_u64(&self) -> u64 {
        let mut z = self
            .0
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// What the request path reads from the configuration for every request: read once, and
/// again only when the configuration's generation moved (see [`crate::config::SharedConfig`]),
/// so a pipeline of commands does not take the configuration's lock per request.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// The configuration's generation these were read at.
    pub generation: u64,
    pub maxmemory: u64,
    pub access_clock: crate::access::AccessClock,
    /// The eviction policy and sample count, when `maxmemory` is set.
    pub eviction: Option<(crate::evict::Policy, usize)>,
    /// `stop-writes-on-bgsave-error` is on and save points are set: a failed background save
    /// then refuses writes with MISCONF.
    pub misconf_armed: bool,
    pub min_replicas_to_write: u64,
    pub slowlog_log_slower_than: i64,
    pub slowlog_max_len: u64,
    pub latency_monitor_threshold: u64,
    pub latency_tracking: bool,
}

impl Settings {
    /// The settings as the configuration holds them now.
    pub fn read(config: &crate::config::SharedConfig) -> Settings {
        // The generation first: a change after this moves it again, so nothing stale is kept.
        let generation = config.generation();
        let config = config.read();
        let maxmemory = config.maxmemory();
        Settings {
            generation,
            maxmemory,
            access_clock: config.access_clock(),
            // The policy and sample count matter only with a limit.
            eviction: (maxmemory != 0).then(|| {
                (
                    crate::evict::Policy::from_name(config.maxmemory_policy()),
                    usize::try_from(config.maxmemory_samples()).unwrap_or(5),
                )
            }),
            misconf_armed: config.stop_writes_on_bgsave_error() && !config.save().is_empty(),
            min_replicas_to_write: config.min_replicas_to_write(),
            slowlog_log_slower_than: config.slowlog_log_slower_than(),
            slowlog_max_len: config.slowlog_max_len(),
            latency_monitor_threshold: config.latency_monitor_threshold(),
            latency_tracking: config.latency_tracking(),
        }
    }
}

/// The context of one command call.
pub struct Ctx<'a> {
    pub keyspace: &'a mut Keyspace,
    pub config: &'a crate::config::SharedConfig,
    /// What the request path reads from `config`, as of this call's start.
    pub settings: &'a Settings,
    pub client: &'a mut Client,
    /// Every connected client, for CLIENT LIST and CLIENT KILL.
    pub clients: &'a ClientRegistry,
    /// Every command, for the commands that describe the server (COMMAND).
    pub table: &'a CommandTable,
    /// Current time in Unix milliseconds, fixed for the whole call as Redis does.
    pub now_ms: i64,
    /// The same instant in microseconds, for TIME.
    pub now_us: i64,
    /// Randomness for commands that pick keys at random (RANDOMKEY).
    pub rng: &'a Rng,
    /// The server's counters (INFO, CONFIG RESETSTAT).
    pub stats: &'a Stats,
    /// The live log level (CONFIG SET loglevel).
    pub log_level: &'a LogLevel,
    /// Wakes the server's shutdown (SHUTDOWN).
    pub shutdown: &'a tokio::sync::Notify,
    /// The slow log (SLOWLOG).
    pub slowlog: &'a crate::slowlog::SlowLog,
    /// Changes since the last save, and RDB snapshots.
    pub persistence: &'a crate::persistence::Persistence,
    /// Replication: role, backlog, replicas, the link to our master.
    pub replication: &'a crate::replication::Replication,
    /// The request as received (a command that propagates a rewritten form starts from it).
    pub argv: &'a [Bytes],
    /// How this call is propagated to replicas, when it changed the dataset.
    pub propagation: Propagation,
    /// The latency monitor (LATENCY).
    pub latency: &'a crate::latency::LatencyMonitor,
    /// Whether the active expiry cycle runs (DEBUG SET-ACTIVE-EXPIRE).
    pub active_expire: &'a std::sync::atomic::AtomicBool,
}

/// How a command reaches the replicas. By default, a call that changed the dataset (the dirty
/// count moved) is propagated as received; a command may instead give the commands that
/// reproduce its effect deterministically (`SET k v EX 10` becomes `SET k v PXAT <ms>`), or
/// ask to be propagated even when it changed nothing (FLUSHALL on an empty server).
#[derive(Debug, Default)]
pub struct Propagation {
    pub rewritten: Option<Vec<Vec<Bytes>>>,
    pub forced: bool,
}

impl Ctx<'_> {
    /// Propagate `argv` instead of the request, if this call changes the dataset.
    pub fn propagate_as(&mut self, argv: Vec<Bytes>) {
        self.propagation.rewritten = Some(vec![argv]);
    }

    /// Propagate this call even if it changed nothing (as Redis does for FLUSHALL).
    pub fn force_propagation(&mut self) {
        self.propagation.forced = true;
    }

    /// REPLICAOF / SLAVEOF: follow `master`, or stop following (None). The status text.
    pub fn replicaof(&mut self, master: Option<(String, u16)>) -> &'static str {
        let mut config = self.config.write();
        let text = self.replication.replicaof(master, &mut config);
        self.keyspace
            .set_retain_expired(self.replication.is_replica());
        text
    }

    /// PSYNC (`request`: the replication id and offset asked for) or SYNC (None): attach the
    /// calling client as a replica. On success the connection hands itself over to the
    /// replication service once the reply is written.
    pub fn attach_replica(&mut self, request: Option<(&[u8], i64)>) -> CommandResult {
        let ip = self
            .clients
            .get(self.client.id)
            .and_then(|entry| {
                entry
                    .endpoint
                    .addr
                    .parse::<std::net::SocketAddr>()
                    .ok()
                    .map(|a| a.ip().to_string())
            })
            .unwrap_or_default();
        let reply = {
            let config = self.config();
            self.replication.attach(
                self.keyspace,
                &config,
                crate::replication::Applicant {
                    id: self.client.id,
                    ip,
                    hello: &self.client.replica_hello,
                },
                request,
                self.now_ms,
            )?
        };
        self.client.became_replica = true;
        Ok(reply)
    }

    /// WAIT: the number of replicas that acknowledged this client's writes, or, when fewer
    /// than `replicas` did, ask them for acknowledgements and let the connection wait up to
    /// `timeout_ms` (0: for ever) for the rest.
    pub fn wait_for_replicas(&mut self, replicas: i64, timeout_ms: i64) -> i64 {
        let offset = self.client.repl_offset;
        let acked = self.replication.acked_at_least(offset);
        if acked < replicas {
            self.replication.request_acks();
            self.client.wait = Some(crate::replication::WaitRequest {
                offset,
                replicas,
                timeout_ms,
            });
        }
        acked
    }

    /// INFO's replication section.
    pub fn replication_info(&self, out: &mut String) {
        self.replication.info(&self.config(), out);
    }
    /// Count `n` changes to the dataset, as Redis adds to `server.dirty`: one per key written
    /// or deleted, nothing for a write that changed nothing (SET NX on an existing key).
    /// Save points, INFO's `rdb_changes_since_last_save` and replication read it.
    pub fn mark_dirty(&self, n: u64) {
        self.persistence.mark_dirty(n);
    }

    /// SAVE: write the dataset to the RDB file now. Refused while a background save runs;
    /// a failed write is a bare `ERR`, as Redis replies (the reason goes to the log).
    pub fn save(&mut self) -> Result<(), CommandError> {
        if self.persistence.bgsave_in_progress() {
            return Err(CommandError::err("Background save already in progress"));
        }
        self.persistence.count_save();
        let config = self.config();
        self.persistence
            .save(self.keyspace, &config)
            .map_err(|_| CommandError::Custom("ERR".into()))
    }

    /// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save the dataset and load it back.
    pub fn debug_reload(
        &mut self,
        merge: bool,
        noflush: bool,
        nosave: bool,
    ) -> Result<(), CommandError> {
        let config = self.config.read();
        self.persistence
            .reload(self.keyspace, &config, merge, noflush, nosave, self.now_ms)
            .map_err(|err| match err {
                crate::persistence::ReloadError::Save => CommandError::Custom("ERR".into()),
                crate::persistence::ReloadError::Load => {
                    CommandError::err("Error trying to load the RDB dump, check server logs.")
                }
            })
    }

    /// BGSAVE: start saving the dataset as it is now, in the background.
    pub fn bgsave(&mut self) -> Result<(), CommandError> {
        let config = self.config.read();
        self.persistence
            .bgsave(self.keyspace, &config)
            .map_err(|refused| match refused {
                crate::persistence::BgsaveRefused::AlreadyInProgress => {
                    CommandError::err("Background save already in progress")
                }
                crate::persistence::BgsaveRefused::NoServer => CommandError::Custom("ERR".into()),
            })
    }

    /// Unix seconds of the last successful save (LASTSAVE).
    pub fn last_save(&self) -> i64 {
        self.persistence.last_save()
    }

    /// Whether save points are configured (`save` is not empty).
    pub fn save_points_configured(&self) -> bool {
        !self.config().save().is_empty()
    }

    /// What FLUSHALL does after emptying the keyspace, as Redis: abandon a background save
    /// in progress and, when save points are configured, write the (empty) dataset. A failed
    /// write is only logged.
    pub fn save_after_flushall(&mut self) {
        self.persistence.abort_bgsave(self.keyspace);
        if self.save_points_configured() {
            let config = self.config.read();
            let _ = self.persistence.save(self.keyspace, &config);
        }
    }

    /// What SHUTDOWN does before stopping: abandon a background save and, when `save`, write
    /// the dataset. Either way the server will not save again on its way out.
    pub fn save_for_shutdown(&mut self, save: bool) -> Result<(), String> {
        self.persistence.abort_bgsave(self.keyspace);
        if save {
            let config = self.config.read();
            self.persistence.save(self.keyspace, &config)?;
        }
        self.persistence.decide_exit(save);
        Ok(())
    }

    /// Stop the whole server for `duration` (DEBUG SLEEP): the keyspace stays locked, so every
    /// other client waits, as Redis's single thread does.
    pub fn block_server_for(&self, duration: std::time::Duration) {
        std::thread::sleep(duration);
    }

    /// DEBUG DIGEST: Redis's fingerprint of every database, 40 hex digits.
    pub fn dataset_digest(&self) -> String {
        crate::digest::hex(&crate::digest::dataset(&*self.keyspace))
    }

    /// DEBUG DIGEST-VALUE: the fingerprint of one key's value (and whether it has a deadline)
    /// in the selected database; zeros for a missing key. The lookup counts as a read.
    pub fn value_digest(&mut self, key: &[u8]) -> String {
        let now = self.now_ms;
        let db = self.db();
        let mut digest = [0u8; 20];
        let has_deadline = db.deadline(key, now).flatten().is_some();
        if let Some(value) = db.read_untouched(key, now) {
            crate::digest::mix_value(&mut digest, value, has_deadline);
        }
        crate::digest::hex(&digest)
    }

    /// Turn the active expiry cycle on or off (DEBUG SET-ACTIVE-EXPIRE).
    pub fn set_active_expire(&self, on: bool) {
        self.active_expire.store(on, Ordering::Relaxed);
    }

    /// Ask the server to shut down gracefully once this reply is written (SHUTDOWN). The
    /// request is kept until the server takes it, so it cannot be missed.
    pub fn request_shutdown(&self) {
        self.shutdown.notify_one();
    }

    /// The client's selected database.
    pub fn db(&mut self) -> &mut Db {
        self.keyspace.db(self.client.db)
    }

    /// Read access to the configuration. A poisoned lock still holds a valid config: writers
    /// validate before they change anything.
    pub fn config(&self) -> RwLockReadGuard<'_, Config> {
        self.config.read()
    }

    /// The Redis version we are compatible with, as HELLO and INFO report it.
    pub fn server_version(&self) -> &'static str {
        crate::REDIS_VERSION
    }

    /// Name the connection; an empty name removes the name.
    pub fn set_client_name(&mut self, name: &Bytes) {
        self.client.name = (!name.is_empty()).then(|| name.clone());
    }

    /// CLIENT LIST lines for `entries`, one per line, each ending in a newline. The caller's
    /// own line is made from its live state.
    pub fn client_lines(&self, entries: &[Arc<Entry>]) -> String {
        let now = Instant::now();
        let mut out = String::new();
        for entry in entries {
            if entry.id == self.client.id {
                let mut state = entry.state().clone();
                self.client.show_in(&mut state, now);
                state.argv_mem = self.argv.iter().map(Bytes::len).sum();
                out.push_str(&entry.line_with(now, &state));
            } else {
                out.push_str(&entry.line(now));
            }
            out.push('\n');
        }
        out
    }

    /// Whether this client must still authenticate before running commands.
    pub fn auth_required(&self) -> bool {
        // An authenticated client needs no look at the configuration (this runs per request,
        // and the configuration's lock is shared by every connection).
        !self.client.authenticated && self.client.auth_required(&self.config())
    }

    /// Authenticate as `username` (default user when `None`) with `password`; true on success,
    /// and the client is then authenticated.
    pub fn authenticate(&mut self, username: Option<&[u8]>, password: &[u8]) -> bool {
        let ok = check_default_user(&self.config(), username, password);
        if ok {
            self.client.authenticated = true;
        }
        ok
    }

    /// `maxmemory`: evict keys by the policy until the heap in use is under the limit (Redis
    /// does this before every command). True when it stays over with nothing left to evict:
    /// the dispatcher then refuses commands flagged DENYOOM.
    ///
    /// It also tells the keyspace how to record accesses under the current policy (LRU clock
    /// or LFU counter), under the same read of the configuration.
    pub fn out_of_memory(&mut self) -> bool {
        let Settings {
            maxmemory,
            access_clock,
            eviction,
            ..
        } = *self.settings;
        let rng = self.rng;
        self.keyspace
            .set_access_clock(access_clock, || rng.next_u64());
        // A replica leaves eviction to its master, whose DELs it applies (Redis's default
        // `replica-ignore-maxmemory yes`).
        let Some((policy, samples)) = eviction else {
            return false;
        };
        if self.replication.is_replica() {
            return false;
        }
        let outcome = crate::evict::perform_evictions(
            self.keyspace,
            policy,
            maxmemory,
            samples,
            self.now_ms,
            |_| crate::stats::used_memory(),
            || rng.next_u64(),
        );
        self.stats.keys_evicted(outcome.evicted);
        outcome.out_of_memory
    }

    /// Write access to the configuration.
    pub fn config_mut(&self) -> crate::config::ConfigWriteGuard<'_> {
        self.config.write()
    }
}
