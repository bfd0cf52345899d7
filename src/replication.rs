//! Master-replica replication, as Redis 7.0 speaks it, as a framework service.
//!
//! Master side: every command that changed the dataset is propagated once, in order, as RESP
//! into the replication backlog and to each attached replica (a `SELECT` first whenever the
//! database differs from the last one sent). Propagation happens while the keyspace lock is
//! held (see `Session`), so the stream's order is the order in which commands changed the data,
//! and a replica attached under that lock (PSYNC) gets a snapshot and an offset that agree.
//! A replica's connection is handed over by its connection task after PSYNC/SYNC
//! ([`serve_replica`]): it writes the snapshot, then everything fed since, and reads the
//! replica's `REPLCONF ACK`s.
//!
//! Replica side: one task ([`run_link`]) follows the master named by `replicaof`/REPLICAOF:
//! connect, handshake (PING, AUTH, REPLCONF, PSYNC), full resync (the RDB read whole, then
//! loaded under the keyspace lock in one step, so a transfer cut in the middle changes
//! nothing) or partial resync (`+CONTINUE`), then the command stream applied through the
//! dispatcher by a master client, proxied byte for byte to our own backlog and replicas, with
//! `REPLCONF ACK <offset>` every second. A broken link is retried every second with a partial
//! resync when the master's backlog still covers us.
//!
//! Handlers reach this through `Ctx::replication`; they never touch a socket.
//! Lock order: the keyspace lock, then this service's state lock, never the other way.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch, Notify};

use crate::codec::{self, Frame, Limits};
use crate::config::Config;
use crate::error::CommandError;
use crate::keyspace::Keyspace;
use crate::reply::Reply;
use crate::session::Session;
use crate::shared::Shared;

/// How often a replica acknowledges its offset, and how often a broken link is retried.
const ACK_PERIOD: Duration = Duration::from_secs(1);
const RETRY_PERIOD: Duration = Duration::from_secs(1);

/// The state of the link to our master, as ROLE names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    Connect,
    Connecting,
    Handshake,
    Sync,
    Connected,
}

impl LinkState {
    fn name(self) -> &'static str {
        match self {
            LinkState::Connect => "connect",
            LinkState::Connecting => "connecting",
            LinkState::Handshake => "handshake",
            LinkState::Sync => "sync",
            LinkState::Connected => "connected",
        }
    }
}

/// What we know about our master when we are a replica.
#[derive(Debug)]
struct Upstream {
    host: String,
    port: u16,
    link: LinkState,
    /// Last byte received from the master.
    last_io: Option<Instant>,
    /// When the link went down (None: it was never up).
    down_since: Option<Instant>,
    /// During a full sync: bytes announced (-1 for an EOF-marked transfer) and read.
    sync_total: i64,
    sync_read: i64,
}

/// The circular replication backlog: the last `size` bytes fed, and the offset of the first.
#[derive(Debug)]
struct Backlog {
    buf: VecDeque<u8>,
    size: usize,
    /// Replication offset of `buf[0]` (Redis's `repl_backlog_first_byte_offset`).
    first: i64,
}

impl Backlog {
    fn new(size: usize, next_offset: i64) -> Backlog {
        Backlog {
            buf: VecDeque::new(),
            size: size.max(1),
            first: next_offset,
        }
    }

    fn push(&mut self, bytes: &[u8]) {
        self.buf.extend(bytes);
        let excess = self.buf.len().saturating_sub(self.size);
        if excess > 0 {
            self.buf.drain(..excess);
            self.first += excess as i64;
        }
    }

    fn resize(&mut self, size: usize) {
        self.size = size.max(1);
        self.push(&[]);
    }

    /// The bytes from replication offset `from` to the end, when the backlog still holds them.
    fn since(&self, from: i64) -> Option<Bytes> {
        let end = self.first + self.buf.len() as i64;
        if from < self.first || from > end {
            return None;
        }
        let skip = (from - self.first) as usize;
        let (a, b) = self.buf.as_slices();
        let mut out = Vec::with_capacity(self.buf.len() - skip);
        if skip < a.len() {
            out.extend_from_slice(&a[skip..]);
            out.extend_from_slice(b);
        } else {
            out.extend_from_slice(&b[skip - a.len()..]);
        }
        Some(Bytes::from(out))
    }
}

/// One replica attached to us.
#[derive(Debug)]
struct Attached {
    id: u64,
    ip: String,
    /// What it announced with `REPLCONF listening-port`.
    port: u16,
    online: bool,
    ack_offset: i64,
    last_ack: Instant,
    tx: mpsc::UnboundedSender<Bytes>,
}

/// What a replica's connection task takes over after PSYNC/SYNC: the snapshot to send first
/// (full resync), and the stream from then on.
#[derive(Debug)]
pub struct Handoff {
    pub snapshot: Option<Snapshot>,
    pub stream: mpsc::UnboundedReceiver<Bytes>,
}

/// An RDB payload and how to frame it.
#[derive(Debug)]
pub struct Snapshot {
    /// The data at the instant of PSYNC, copied under the keyspace lock (values are shared,
    /// not duplicated); it is encoded by the replica's task, off the lock.
    pub data: crate::rdb::Snapshot,
    pub options: crate::rdb::RdbOptions,
    /// `repl-stream-db`, `repl-id`, `repl-offset`.
    pub aux: Vec<(&'static str, Vec<u8>)>,
    /// `$EOF:<mark>` framing (the replica said `capa eof` and `repl-diskless-sync` is on)
    /// instead of `$<length>`.
    pub eof_marked: bool,
}

/// What a replica said about itself with REPLCONF before PSYNC.
#[derive(Debug, Clone, Default)]
pub struct ReplicaHello {
    pub listening_port: u16,
    pub ip: Option<String>,
    pub capa_eof: bool,
    pub capa_psync2: bool,
}

/// The client asking to become a replica: its id, address and what it said with REPLCONF.
#[derive(Debug)]
pub struct Applicant<'a> {
    pub id: u64,
    pub ip: String,
    pub hello: &'a ReplicaHello,
}

/// A WAIT that could not be answered at once: the connection waits for acknowledgements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitRequest {
    pub offset: i64,
    pub replicas: i64,
    /// Milliseconds; 0 waits for ever.
    pub timeout_ms: i64,
}

#[derive(Debug)]
struct State {
    replid: String,
    replid2: String,
    /// `master_repl_offset`: every byte ever fed to the stream.
    offset: i64,
    second_offset: i64,
    backlog: Option<Backlog>,
    /// The database the stream last selected (None: the next command selects).
    seldb: Option<usize>,
    replicas: Vec<Attached>,
    handoffs: HashMap<u64, Handoff>,
    upstream: Option<Upstream>,
    /// Whether PSYNC may offer our replid and offset (false: `PSYNC ? -1`).
    psync_known: bool,
    /// On a replica: the database our master's stream has selected.
    stream_db: usize,
}

/// Which master to follow; the generation changes with every REPLICAOF that changes it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Target {
    master: Option<(String, u16)>,
    generation: u64,
}

/// The replication service.
#[derive(Debug)]
pub struct Replication {
    state: Mutex<State>,
    /// Fast checks on the request path without the state lock.
    is_replica: AtomicBool,
    link_up: AtomicBool,
    /// A backlog exists (it is never removed): commands must be encoded into the stream.
    streaming: AtomicBool,
    /// INFO stats: full resyncs served, partial resyncs accepted, and refused.
    sync_full: AtomicU64,
    sync_partial_ok: AtomicU64,
    sync_partial_err: AtomicU64,
    /// Wakes WAITing clients when a replica acknowledges.
    acked: Notify,
    target: watch::Sender<Target>,
}

fn random_hex40() -> String {
    let mut out = String::with_capacity(40);
    let seed = std::collections::hash_map::RandomState::new();
    use std::hash::{BuildHasher, Hasher};
    for i in 0..3 {
        let mut h = seed.build_hasher();
        h.write_u64(i);
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out.truncate(40);
    out
}

/// Append `argv` to `out` as a RESP multibulk request.
pub fn encode_command(out: &mut Vec<u8>, argv: &[Bytes]) {
    out.extend_from_slice(format!("*{}\r\n", argv.len()).as_bytes());
    for arg in argv {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
}

fn argv_of(words: &[&[u8]]) -> Vec<Bytes> {
    words.iter().map(|w| Bytes::copy_from_slice(w)).collect()
}

impl Replication {
    pub fn new(replid: String, master: Option<(String, u16)>) -> Replication {
        let is_replica = master.is_some();
        let upstream = master
            .as_ref()
            .map(|(host, port)| Upstream::new(host, *port));
        Replication {
            state: Mutex::new(State {
                replid,
                replid2: "0".repeat(40),
                offset: 0,
                second_offset: -1,
                backlog: None,
                seldb: None,
                replicas: Vec::new(),
                handoffs: HashMap::new(),
                upstream,
                psync_known: false,
                stream_db: 0,
            }),
            is_replica: AtomicBool::new(is_replica),
            link_up: AtomicBool::new(false),
            streaming: AtomicBool::new(false),
            sync_full: AtomicU64::new(0),
            sync_partial_ok: AtomicU64::new(0),
            sync_partial_err: AtomicU64::new(0),
            acked: Notify::new(),
            target: watch::channel(Target {
                master,
                generation: 0,
            })
            .0,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether this server replicates from a master.
    pub fn is_replica(&self) -> bool {
        self.is_replica.load(Ordering::Relaxed)
    }

    /// INFO stats' `sync_full`, `sync_partial_ok` and `sync_partial_err`.
    pub fn sync_counts(&self) -> (u64, u64, u64) {
        (
            self.sync_full.load(Ordering::Relaxed),
            self.sync_partial_ok.load(Ordering::Relaxed),
            self.sync_partial_err.load(Ordering::Relaxed),
        )
    }

    /// Whether there is a stream to feed (a backlog exists): until the first replica, writes
    /// cost nothing here.
    pub fn is_streaming(&self) -> bool {
        self.streaming.load(Ordering::Relaxed)
    }

    /// The current replication id and offset (after a restore from an RDB file, say).
    pub fn replid_and_offset(&self) -> (String, i64) {
        let st = self.lock();
        (st.replid.clone(), st.offset)
    }

    /// The AUX fields a dump written now records, as Redis does when there is a replication
    /// history to resume (a backlog, or a master we follow): the database the stream is in,
    /// our replication id and offset.
    pub fn rdb_aux(&self) -> Vec<(&'static str, Vec<u8>)> {
        let st = self.lock();
        if st.backlog.is_none() && st.upstream.is_none() {
            return Vec::new();
        }
        let db = if st.upstream.is_some() {
            st.stream_db
        } else {
            st.seldb.unwrap_or(0)
        };
        vec![
            ("repl-stream-db", db.to_string().into_bytes()),
            ("repl-id", st.replid.clone().into_bytes()),
            ("repl-offset", st.offset.to_string().into_bytes()),
        ]
    }

    /// Adopt the replication id, offset and stream database recorded in the dump loaded at
    /// startup, so that a restarted replica asks its master for a partial resync from there.
    /// (A master starts a new history, as we do not restore its backlog.)
    pub fn restore(&self, aux: &[(Bytes, Bytes)]) {
        let field = |name: &[u8]| {
            aux.iter()
                .find(|(k, _)| &k[..] == name)
                .and_then(|(_, v)| std::str::from_utf8(v).ok())
        };
        let mut st = self.lock();
        if st.upstream.is_none() {
            return;
        }
        let (Some(id), Some(offset)) = (
            field(b"repl-id"),
            field(b"repl-offset").and_then(|o| o.parse::<i64>().ok()),
        ) else {
            return;
        };
        if id.len() != 40 {
            return;
        }
        st.replid = id.to_string();
        st.offset = offset;
        st.stream_db = field(b"repl-stream-db")
            .and_then(|d| d.parse().ok())
            .unwrap_or(0);
        st.psync_known = true;
        tracing::info!(
            replid = id,
            offset,
            "replication state restored from the dump"
        );
    }

    // ---- The request path ------------------------------------------------------------

    /// Redis's refusals before a command runs, in its order: NOREPLICAS for writes on a master
    /// short of good replicas, READONLY for writes on a read-only replica, MASTERDOWN while
    /// the link is down and stale data must not be served.
    pub fn refuse(
        &self,
        config: &Config,
        from_master: bool,
        write: bool,
        stale_ok: bool,
    ) -> Option<CommandError> {
        if from_master {
            return None;
        }
        let replica = self.is_replica();
        let min = config.min_replicas_to_write();
        if write && !replica && min > 0 && self.good_replicas(config) < min as usize {
            return Some(CommandError::Custom(
                "NOREPLICAS Not enough good replicas to write.".into(),
            ));
        }
        if !replica {
            return None;
        }
        if write && config.replica_read_only() {
            return Some(CommandError::Custom(
                "READONLY You can't write against a read only replica.".into(),
            ));
        }
        if !stale_ok && !self.link_up.load(Ordering::Relaxed) && !config.replica_serve_stale_data()
        {
            return Some(CommandError::Custom(
                "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
                    .into(),
            ));
        }
        None
    }

    /// Replicas online whose last ACK is at most `min-replicas-max-lag` seconds old.
    fn good_replicas(&self, config: &Config) -> usize {
        let max_lag = Duration::from_secs(config.min_replicas_max_lag());
        let now = Instant::now();
        self.lock()
            .replicas
            .iter()
            .filter(|r| r.online && now.duration_since(r.last_ack) <= max_lag)
            .count()
    }

    /// Propagate what one command did (`ops`: database and command, in order) to the backlog
    /// and the replicas. Called with the keyspace lock held. Returns the offset after it.
    pub fn propagate(&self, ops: &[(usize, Vec<Bytes>)]) -> i64 {
        let mut st = self.lock();
        if ops.is_empty() || (st.backlog.is_none() && st.replicas.is_empty()) {
            return st.offset;
        }
        let mut out = Vec::new();
        for (db, argv) in ops {
            if st.seldb != Some(*db) {
                encode_command(&mut out, &argv_of(&[b"SELECT", db.to_string().as_bytes()]));
                st.seldb = Some(*db);
            }
            encode_command(&mut out, argv);
        }
        st.feed(Bytes::from(out));
        st.offset
    }

    /// Proxy bytes of our master's stream, already applied, to our backlog and replicas.
    pub fn feed_from_master(&self, bytes: Bytes, db: usize) {
        let mut st = self.lock();
        st.stream_db = db;
        st.feed(bytes);
    }

    // ---- Commands --------------------------------------------------------------------

    /// REPLICAOF host port / NO ONE. Returns the reply text after `+`.
    pub fn replicaof(&self, master: Option<(String, u16)>, config: &mut Config) -> &'static str {
        let mut st = self.lock();
        match master {
            None => {
                if st.upstream.take().is_some() {
                    // A promoted replica keeps its history under a new id: replicas of ours
                    // that followed the old one can still continue (PSYNC2).
                    st.replid2 = std::mem::replace(&mut st.replid, random_hex40());
                    st.second_offset = st.offset + 1;
                    st.psync_known = true;
                    // The stream starts here now: it selects its database first, and our
                    // replicas reconnect to learn the new id (and continue, under the old one).
                    st.seldb = None;
                    st.replicas.clear();
                    self.is_replica.store(false, Ordering::Relaxed);
                    self.link_up.store(false, Ordering::Relaxed);
                    config.set_replicaof(None);
                    self.target.send_modify(|t| {
                        t.master = None;
                        t.generation += 1;
                    });
                    tracing::info!("MASTER MODE enabled (user request)");
                }
                "OK"
            }
            Some((host, port)) => {
                if let Some(up) = &st.upstream {
                    if up.host.eq_ignore_ascii_case(&host) && up.port == port {
                        return "OK Already connected to specified master";
                    }
                }
                // Our own history is what we offer the new master (Redis caches itself).
                st.psync_known = true;
                st.upstream = Some(Upstream::new(&host, port));
                // Replicas of ours resynchronise with what the new master gives us.
                st.replicas.clear();
                self.is_replica.store(true, Ordering::Relaxed);
                self.link_up.store(false, Ordering::Relaxed);
                config.set_replicaof(Some((host.clone(), port)));
                tracing::info!("REPLICAOF {host}:{port} enabled (user request)");
                self.target.send_modify(|t| {
                    t.master = Some((host, port));
                    t.generation += 1;
                });
                "OK"
            }
        }
    }

    /// ROLE.
    pub fn role(&self) -> Reply {
        let st = self.lock();
        match &st.upstream {
            None => Reply::Array(vec![
                Reply::Bulk(Bytes::from_static(b"master")),
                Reply::Integer(st.offset),
                Reply::Array(
                    st.replicas
                        .iter()
                        .filter(|r| r.online)
                        .map(|r| {
                            Reply::Array(vec![
                                Reply::Bulk(Bytes::from(r.ip.clone())),
                                Reply::Bulk(Bytes::from(r.port.to_string())),
                                Reply::Bulk(Bytes::from(r.ack_offset.to_string())),
                            ])
                        })
                        .collect(),
                ),
            ]),
            Some(up) => Reply::Array(vec![
                Reply::Bulk(Bytes::from_static(b"slave")),
                Reply::Bulk(Bytes::from(up.host.clone())),
                Reply::Integer(i64::from(up.port)),
                Reply::Bulk(Bytes::from_static(up.link.name().as_bytes())),
                Reply::Integer(if up.link == LinkState::Connected {
                    st.offset
                } else {
                    -1
                }),
            ]),
        }
    }

    /// INFO's `# Replication` section, in Redis's field order.
    pub fn info(&self, config: &Config, out: &mut String) {
        let st = self.lock();
        let mut line = |name: &str, value: &dyn std::fmt::Display| {
            out.push_str(&format!("{name}:{value}\r\n"));
        };
        line(
            "# Replication\r\nrole",
            &if st.upstream.is_some() {
                "slave"
            } else {
                "master"
            },
        );
        if let Some(up) = &st.upstream {
            let now = Instant::now();
            let up_now = up.link == LinkState::Connected;
            line("master_host", &up.host);
            line("master_port", &up.port);
            line("master_link_status", &if up_now { "up" } else { "down" });
            line(
                "master_last_io_seconds_ago",
                &match (up_now, up.last_io) {
                    (true, Some(t)) => now.duration_since(t).as_secs() as i64,
                    _ => -1,
                },
            );
            line(
                "master_sync_in_progress",
                &u8::from(up.link == LinkState::Sync),
            );
            line("slave_read_repl_offset", &st.offset);
            line("slave_repl_offset", &st.offset);
            if up.link == LinkState::Sync {
                let left = if up.sync_total < 0 {
                    -1
                } else {
                    up.sync_total - up.sync_read
                };
                let perc = if up.sync_total > 0 {
                    up.sync_read as f64 * 100.0 / up.sync_total as f64
                } else {
                    0.0
                };
                line("master_sync_total_bytes", &up.sync_total);
                line("master_sync_read_bytes", &up.sync_read);
                line("master_sync_left_bytes", &left);
                line("master_sync_perc", &format!("{perc:.2}"));
                line(
                    "master_sync_last_io_seconds_ago",
                    &up.last_io
                        .map_or(-1, |t| now.duration_since(t).as_secs() as i64),
                );
            }
            if !up_now {
                line(
                    "master_link_down_since_seconds",
                    &up.down_since
                        .map_or(-1, |t| now.duration_since(t).as_secs() as i64),
                );
            }
            line("slave_priority", &100);
            line("slave_read_only", &u8::from(config.replica_read_only()));
            line("replica_announced", &1);
        }
        let online: Vec<&Attached> = st.replicas.iter().collect();
        line("connected_slaves", &online.len());
        let now = Instant::now();
        for (i, r) in online.iter().enumerate() {
            line(
                &format!("slave{i}"),
                &format!(
                    "ip={},port={},state={},offset={},lag={}",
                    r.ip,
                    r.port,
                    if r.online { "online" } else { "send_bulk" },
                    r.ack_offset,
                    now.duration_since(r.last_ack).as_secs()
                ),
            );
        }
        line("master_failover_state", &"no-failover");
        line("master_replid", &st.replid);
        line("master_replid2", &st.replid2);
        line("master_repl_offset", &st.offset);
        line("second_repl_offset", &st.second_offset);
        line("repl_backlog_active", &u8::from(st.backlog.is_some()));
        line("repl_backlog_size", &config.repl_backlog_size());
        let (first, histlen) = st
            .backlog
            .as_ref()
            .map_or((0, 0), |b| (b.first, b.buf.len()));
        line("repl_backlog_first_byte_offset", &first);
        line("repl_backlog_histlen", &histlen);
    }

    /// `repl-backlog-size` changed.
    pub fn resize_backlog(&self, size: u64) {
        if let Some(b) = self.lock().backlog.as_mut() {
            b.resize(usize::try_from(size).unwrap_or(usize::MAX));
        }
    }

    /// PSYNC replid offset (or SYNC, with `request` None), with the keyspace lock held:
    /// answer `+FULLRESYNC` with a snapshot taken now, or `+CONTINUE` from the backlog, and
    /// register the replica so that everything propagated from now on reaches it. The
    /// caller's connection then takes the [`Handoff`] for `client_id`.
    pub fn attach(
        &self,
        keyspace: &Keyspace,
        config: &Config,
        replica: Applicant<'_>,
        request: Option<(&[u8], i64)>,
        now_ms: i64,
    ) -> Result<Reply, CommandError> {
        let Applicant {
            id: client_id,
            ip,
            hello,
        } = replica;
        let mut st = self.lock();
        if let Some(up) = &st.upstream {
            if up.link != LinkState::Connected {
                return Err(CommandError::Custom(
                    "NOMASTERLINK Can't SYNC while not connected with my master".into(),
                ));
            }
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let size = usize::try_from(config.repl_backlog_size()).unwrap_or(usize::MAX);
        // Partial resync: our id (or the one we had before a promotion, up to where it ended)
        // and an offset the backlog still covers.
        if let Some((replid, from)) = request {
            let ours = replid.eq_ignore_ascii_case(st.replid.as_bytes());
            let previous =
                replid.eq_ignore_ascii_case(st.replid2.as_bytes()) && from <= st.second_offset;
            if ours || previous {
                if let Some(bytes) = st.backlog.as_ref().and_then(|b| b.since(from)) {
                    if !bytes.is_empty() {
                        let _ = tx.send(bytes);
                    }
                    st.replicas
                        .push(Attached::new(client_id, ip, hello, tx, true));
                    let text = if hello.capa_psync2 {
                        format!("CONTINUE {}", st.replid)
                    } else {
                        "CONTINUE".to_string()
                    };
                    st.handoffs.insert(
                        client_id,
                        Handoff {
                            snapshot: None,
                            stream: rx,
                        },
                    );
                    tracing::info!(
                        replica = client_id,
                        from,
                        "partial resynchronization accepted"
                    );
                    self.sync_partial_ok.fetch_add(1, Ordering::Relaxed);
                    return Ok(Reply::Simple(Bytes::from(text)));
                }
            }
        }
        if request.is_some() {
            self.sync_partial_err.fetch_add(1, Ordering::Relaxed);
        }
        self.sync_full.fetch_add(1, Ordering::Relaxed);
        // Full resync. The first replica creates the backlog, under a fresh id: a history
        // nobody could follow so far starts here.
        if st.backlog.is_none() {
            if st.upstream.is_none() {
                st.replid = random_hex40();
                st.replid2 = "0".repeat(40);
                st.second_offset = -1;
            }
            st.backlog = Some(Backlog::new(size, st.offset + 1));
            self.streaming.store(true, Ordering::Relaxed);
        }
        // The stream after the snapshot starts with a SELECT.
        st.seldb = None;
        let options = crate::rdb::RdbOptions {
            compression: config.rdbcompression(),
            checksum: config.rdbchecksum(),
            ctime: now_ms / 1000,
            used_mem: 0,
        };
        // Where the stream stands, as Redis records it: a replica of a replica starts applying
        // the proxied stream in the database our own master last selected.
        let stream_db = if st.upstream.is_some() {
            st.stream_db
        } else {
            0
        };
        let aux = vec![
            ("repl-stream-db", stream_db.to_string().into_bytes()),
            ("repl-id", st.replid.clone().into_bytes()),
            ("repl-offset", st.offset.to_string().into_bytes()),
        ];
        // Copying is all that happens under the lock: encoding (the slow part, with LZF) is
        // done by the replica's task.
        let copying = Instant::now();
        let data = copy_keyspace(keyspace)
            .map_err(|e| CommandError::Custom(format!("ERR snapshot failed: {e}")))?;
        tracing::info!(
            replica = client_id,
            "snapshot copied in {:.3} s",
            copying.elapsed().as_secs_f64()
        );
        st.replicas
            .push(Attached::new(client_id, ip, hello, tx, false));
        st.handoffs.insert(
            client_id,
            Handoff {
                snapshot: Some(Snapshot {
                    data,
                    options,
                    aux,
                    eof_marked: hello.capa_eof && config.repl_diskless_sync(),
                }),
                stream: rx,
            },
        );
        tracing::info!(replica = client_id, "full resynchronization");
        Ok(Reply::Simple(Bytes::from(format!(
            "FULLRESYNC {} {}",
            st.replid, st.offset
        ))))
    }

    /// The connection of a client that became a replica takes what PSYNC prepared.
    pub fn take_handoff(&self, client_id: u64) -> Option<Handoff> {
        self.lock().handoffs.remove(&client_id)
    }

    fn set_online(&self, client_id: u64) {
        if let Some(r) = self.lock().replicas.iter_mut().find(|r| r.id == client_id) {
            r.online = true;
            r.last_ack = Instant::now();
        }
    }

    fn detach(&self, client_id: u64) {
        let mut st = self.lock();
        st.replicas.retain(|r| r.id != client_id);
        st.handoffs.remove(&client_id);
    }

    /// REPLCONF ACK from a replica.
    pub fn ack(&self, client_id: u64, offset: i64) {
        {
            let mut st = self.lock();
            if let Some(r) = st.replicas.iter_mut().find(|r| r.id == client_id) {
                r.ack_offset = r.ack_offset.max(offset);
                r.last_ack = Instant::now();
            }
        }
        self.acked.notify_waiters();
    }

    /// How many replicas acknowledged `offset` or more.
    pub fn acked_at_least(&self, offset: i64) -> i64 {
        self.lock()
            .replicas
            .iter()
            .filter(|r| r.online && r.ack_offset >= offset)
            .count() as i64
    }

    /// Ask every replica for an ACK now (WAIT), through the stream as Redis does.
    pub fn request_acks(&self) {
        let mut st = self.lock();
        if st.replicas.is_empty() {
            return;
        }
        let mut out = Vec::new();
        encode_command(&mut out, &argv_of(&[b"REPLCONF", b"GETACK", b"*"]));
        st.feed(Bytes::from(out));
    }

    /// Wait until `request.replicas` replicas acknowledged `request.offset`, or the timeout;
    /// the number that did.
    pub async fn wait(&self, request: WaitRequest) -> i64 {
        let deadline = (request.timeout_ms > 0).then(|| {
            tokio::time::Instant::now() + Duration::from_millis(request.timeout_ms as u64)
        });
        loop {
            let notified = self.acked.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let count = self.acked_at_least(request.offset);
            if count >= request.replicas {
                return count;
            }
            match deadline {
                Some(at) => {
                    tokio::select! {
                        _ = notified => {}
                        _ = tokio::time::sleep_until(at) => return self.acked_at_least(request.offset),
                    }
                }
                None => notified.await,
            }
        }
    }

    /// Once a second: PING the replicas every `repl-ping-replica-period`, drop those silent
    /// for longer than `repl-timeout`.
    fn cron(&self, config: &Config, ticks: u64) {
        let mut st = self.lock();
        if st.upstream.is_none()
            && !st.replicas.is_empty()
            && ticks.is_multiple_of(config.repl_ping_replica_period().max(1))
        {
            let mut out = Vec::new();
            encode_command(&mut out, &argv_of(&[b"PING"]));
            st.feed(Bytes::from(out));
        }
        let timeout = Duration::from_secs(config.repl_timeout());
        let now = Instant::now();
        st.replicas.retain(|r| {
            let alive = !r.online || now.duration_since(r.last_ack) <= timeout;
            if !alive {
                tracing::warn!(replica = r.id, "disconnecting timedout replica");
            }
            alive
        });
    }

    // ---- Replica side ------------------------------------------------------------------

    fn set_link(&self, link: LinkState) {
        let mut st = self.lock();
        if let Some(up) = st.upstream.as_mut() {
            let was_up = up.link == LinkState::Connected;
            up.link = link;
            if link == LinkState::Connected {
                up.last_io = Some(Instant::now());
                up.down_since = None;
            } else if was_up {
                up.down_since = Some(Instant::now());
            }
        }
        self.link_up
            .store(link == LinkState::Connected, Ordering::Relaxed);
    }

    fn touch_link(&self, read: i64) {
        let mut st = self.lock();
        if let Some(up) = st.upstream.as_mut() {
            up.last_io = Some(Instant::now());
            up.sync_read += read;
        }
    }

    fn psync_args(&self) -> (String, String) {
        let st = self.lock();
        if st.psync_known {
            (st.replid.clone(), (st.offset + 1).to_string())
        } else {
            ("?".into(), "-1".into())
        }
    }

    fn offset(&self) -> i64 {
        self.lock().offset
    }
}

impl State {
    fn feed(&mut self, bytes: Bytes) {
        self.offset += bytes.len() as i64;
        if let Some(b) = self.backlog.as_mut() {
            b.push(&bytes);
        }
        self.replicas.retain(|r| r.tx.send(bytes.clone()).is_ok());
    }
}

impl Upstream {
    fn new(host: &str, port: u16) -> Upstream {
        Upstream {
            host: host.to_string(),
            port,
            link: LinkState::Connect,
            last_io: None,
            down_since: None,
            sync_total: 0,
            sync_read: 0,
        }
    }
}

impl Attached {
    fn new(
        id: u64,
        ip: String,
        hello: &ReplicaHello,
        tx: mpsc::UnboundedSender<Bytes>,
        online: bool,
    ) -> Attached {
        Attached {
            id,
            ip: hello.ip.clone().unwrap_or(ip),
            port: hello.listening_port,
            online,
            ack_offset: 0,
            last_ack: Instant::now(),
            tx,
        }
    }
}

// ---- Tasks ---------------------------------------------------------------------------

/// Serve a replica on the connection that sent PSYNC/SYNC: the snapshot, then the stream;
/// read its ACKs. Ends when either side closes, the server stops, or the master drops it.
pub async fn serve_replica(
    mut stream: TcpStream,
    mut input: BytesMut,
    session: Session,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<&'static str> {
    let shared = Arc::clone(session.shared());
    let id = session.client.id;
    let Some(handoff) = shared.replication.take_handoff(id) else {
        return Ok("replica handoff missing");
    };
    let result =
        stream_to_replica(&shared, id, &mut stream, &mut input, handoff, &mut shutdown).await;
    shared.replication.detach(id);
    drop(session);
    result
}

async fn stream_to_replica(
    shared: &Arc<Shared>,
    id: u64,
    stream: &mut TcpStream,
    input: &mut BytesMut,
    handoff: Handoff,
    shutdown: &mut watch::Receiver<bool>,
) -> std::io::Result<&'static str> {
    let Handoff {
        snapshot,
        stream: mut rx,
    } = handoff;
    // After an EOF-marked snapshot the replica cannot tell where the snapshot ends if the
    // stream follows at once: as Redis does, the stream waits for the replica's first ACK.
    let mut awaiting_ack = false;
    if let Some(snapshot) = snapshot {
        awaiting_ack = snapshot.eof_marked;
        let eof_marked = snapshot.eof_marked;
        let encoded = tokio::task::spawn_blocking(move || {
            let aux: Vec<(&str, &[u8])> = snapshot.aux.iter().map(|(k, v)| (*k, &v[..])).collect();
            let mut rdb = Vec::new();
            crate::rdb::encode_with_aux(&snapshot.data, &mut rdb, &snapshot.options, &aux)
                .map(|_| rdb)
        })
        .await;
        let rdb = match encoded {
            Ok(Ok(rdb)) => rdb,
            Ok(Err(err)) => return Err(err),
            Err(_) => return Ok("snapshot encoding failed"),
        };
        let snapshot = Encoded { rdb, eof_marked };
        if snapshot.eof_marked {
            let mark = random_hex40();
            stream
                .write_all(format!("$EOF:{mark}\r\n").as_bytes())
                .await?;
            stream.write_all(&snapshot.rdb).await?;
            stream.write_all(mark.as_bytes()).await?;
        } else {
            stream
                .write_all(format!("${}\r\n", snapshot.rdb.len()).as_bytes())
                .await?;
            stream.write_all(&snapshot.rdb).await?;
        }
        if !awaiting_ack {
            shared.replication.set_online(id);
        }
        tracing::info!(
            replica = id,
            bytes = snapshot.rdb.len(),
            "synchronization succeeded"
        );
    }
    let mut parser = codec::Parser::default();
    let limits = Limits::default();
    let mut out = Vec::new();
    loop {
        // Requests from the replica: its ACKs (anything else is ignored, as it has no reply).
        loop {
            match parser.parse(input, &limits) {
                Ok(Some(Frame::Command(argv))) => {
                    if argv.len() >= 3
                        && argv[0].eq_ignore_ascii_case(b"replconf")
                        && argv[1].eq_ignore_ascii_case(b"ack")
                    {
                        if let Some(offset) = std::str::from_utf8(&argv[2])
                            .ok()
                            .and_then(|s| s.parse::<i64>().ok())
                        {
                            if awaiting_ack {
                                awaiting_ack = false;
                                shared.replication.set_online(id);
                            }
                            shared.replication.ack(id, offset);
                        }
                    }
                }
                Ok(Some(Frame::Empty)) => {}
                Ok(None) => break,
                Err(_) => return Ok("protocol error from replica"),
            }
        }
        tokio::select! {
            chunk = rx.recv(), if !awaiting_ack => match chunk {
                Some(bytes) => {
                    out.clear();
                    out.extend_from_slice(&bytes);
                    while let Ok(more) = rx.try_recv() {
                        out.extend_from_slice(&more);
                        if out.len() > 1 << 20 {
                            break;
                        }
                    }
                    stream.write_all(&out).await?;
                }
                None => return Ok("replica dropped by the master"),
            },
            read = stream.read_buf(input) => {
                if read? == 0 {
                    return Ok("replica closed the connection");
                }
            }
            _ = shutdown.changed() => return Ok("server shutting down"),
        }
    }
}

/// A snapshot ready to send.
struct Encoded {
    rdb: Vec<u8>,
    eof_marked: bool,
}

/// Every key of every database with its value and deadline, as they are now (the caller
/// holds the keyspace lock). Values are reference-counted or inline, so this is a copy of
/// the index, not of the data.
fn copy_keyspace(keyspace: &Keyspace) -> std::io::Result<crate::rdb::Snapshot> {
    use crate::rdb::Source;
    let mut dbs = Vec::with_capacity(keyspace.databases());
    for db in 0..keyspace.databases() {
        let mut entries = Vec::with_capacity(keyspace.sizes(db).0);
        keyspace.visit(db, &mut |key, value, expire_at| {
            entries.push(crate::rdb::SnapshotEntry {
                key: crate::compact::CompactBytes::new(key),
                value: value.clone(),
                expire_at,
            });
            Ok(())
        })?;
        dbs.push(entries);
    }
    Ok(crate::rdb::Snapshot { dbs })
}

/// The replication timer: PINGs to replicas, replica timeouts.
pub async fn run_cron(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut ticks = 0u64;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = stop.changed() => return,
        }
        ticks += 1;
        let config = shared.config.read();
        shared.replication.cron(&config, ticks);
    }
}

/// Follow the master REPLICAOF names, for as long as the server runs.
pub async fn run_link(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut target = shared.replication.target.subscribe();
    loop {
        let current = target.borrow_and_update().clone();
        match current.master {
            Some((host, port)) => {
                tokio::select! {
                    _ = follow(&shared, &host, port) => {}
                    _ = target.changed() => {}
                    _ = stop.changed() => return,
                }
            }
            None => {
                tokio::select! {
                    _ = target.changed() => {}
                    _ = stop.changed() => return,
                }
            }
        }
    }
}

/// Keep a link to `host:port` up: sync, stream, and on any failure retry after a second.
async fn follow(shared: &Arc<Shared>, host: &str, port: u16) {
    loop {
        tracing::info!("connecting to MASTER {host}:{port}");
        match link_once(shared, host, port).await {
            Ok(()) => tracing::info!("connection with master closed"),
            Err(err) => tracing::warn!(error = %err, "replication link to {host}:{port} failed"),
        }
        shared.replication.set_link(LinkState::Connect);
        tokio::time::sleep(RETRY_PERIOD).await;
    }
}

type LinkResult<T> = Result<T, String>;

/// One connection to the master: handshake, sync, then the stream until it breaks.
async fn link_once(shared: &Arc<Shared>, host: &str, port: u16) -> LinkResult<()> {
    let repl = &shared.replication;
    let (timeout, masterauth, our_port, databases) = {
        let c = shared.config.read();
        (
            Duration::from_secs(c.repl_timeout()),
            c.masterauth().to_vec(),
            c.port(),
            c.databases(),
        )
    };
    repl.set_link(LinkState::Connecting);
    let stream = tokio::time::timeout(timeout, TcpStream::connect((host, port)))
        .await
        .map_err(|_| "timeout connecting to the master".to_string())?
        .map_err(|e| format!("error connecting to the master: {e}"))?;
    let _ = stream.set_nodelay(true);
    let mut link = Link {
        stream,
        buf: BytesMut::with_capacity(16 * 1024),
        timeout,
    };
    repl.set_link(LinkState::Handshake);
    link.send(&[b"PING"]).await?;
    let pong = link.line().await?;
    if pong.starts_with('-') && !pong.starts_with("-NOAUTH") && !pong.starts_with("-NOPERM") {
        return Err(format!("error reply to PING from master: {pong}"));
    }
    if !masterauth.is_empty() {
        link.send(&[b"AUTH", &masterauth]).await?;
        let reply = link.line().await?;
        if reply.starts_with('-') {
            return Err(format!("unable to AUTH to MASTER: {reply}"));
        }
    }
    link.send(&[
        b"REPLCONF",
        b"listening-port",
        our_port.to_string().as_bytes(),
    ])
    .await?;
    link.line().await?;
    link.send(&[b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"])
        .await?;
    link.line().await?;
    let (replid, offset) = repl.psync_args();
    link.send(&[b"PSYNC", replid.as_bytes(), offset.as_bytes()])
        .await?;
    let reply = loop {
        let line = link.line().await?;
        if !line.is_empty() {
            break line;
        }
    };
    // The database the stream continues in: after a full sync, the snapshot says; after a
    // partial one, where it was.
    let mut stream_db = repl.lock().stream_db;
    if let Some(rest) = reply.strip_prefix("+FULLRESYNC ") {
        let mut words = rest.split(' ');
        let new_id = words.next().unwrap_or_default().to_string();
        let new_offset: i64 = words
            .next()
            .and_then(|w| w.trim().parse().ok())
            .ok_or_else(|| format!("bad FULLRESYNC reply: {reply}"))?;
        repl.set_link(LinkState::Sync);
        let rdb = link.read_snapshot(repl).await?;
        let now = shared.clock.now_ms();
        // Keys past their deadline are kept, as the master still has them until it DELs them.
        let loaded = crate::rdb::decode(&mut &rdb[..], databases, 0)
            .map_err(|e| format!("the master's snapshot could not be loaded: {e}"))?;
        let keys = loaded.keys.len();
        stream_db = loaded
            .info
            .aux
            .iter()
            .find(|(k, _)| &k[..] == b"repl-stream-db")
            .and_then(|(_, v)| std::str::from_utf8(v).ok()?.parse::<usize>().ok())
            .filter(|&db| db < databases)
            .unwrap_or(0);
        {
            // One step under the keyspace lock: clients see the old data or the new, never a mix.
            let mut keyspace = shared.lock_keyspace();
            // A background save copying the old data is abandoned (as FLUSHALL does): it
            // must not mix the old keys with the new.
            shared.persistence.abort_bgsave(&mut keyspace);
            keyspace.clear();
            keyspace.set_retain_expired(true);
            for key in loaded.keys {
                keyspace
                    .db(key.db)
                    .set(&key.key, key.value, key.expire_at, false, now);
            }
            keyspace.drain_expired(|_, _| {});
            let size = {
                let c = shared.config.read();
                usize::try_from(c.repl_backlog_size()).unwrap_or(usize::MAX)
            };
            let mut st = repl.lock();
            st.replid = new_id;
            st.replid2 = "0".repeat(40);
            st.second_offset = -1;
            st.offset = new_offset;
            st.backlog = Some(Backlog::new(size, new_offset + 1));
            repl.streaming.store(true, Ordering::Relaxed);
            st.psync_known = true;
            // Our replicas followed a history that just ended: they must resync from us.
            st.replicas.clear();
            st.seldb = None;
            st.stream_db = stream_db;
        }
        tracing::info!(keys, "MASTER <-> REPLICA sync: finished with success");
    } else if let Some(rest) = reply.strip_prefix("+CONTINUE") {
        let new_id = rest.trim();
        let mut st = repl.lock();
        if new_id.len() == 40 && new_id != st.replid {
            st.replid2 = std::mem::replace(&mut st.replid, new_id.to_string());
            st.second_offset = st.offset + 1;
            // Our replicas must learn the new id.
            st.replicas.clear();
        }
        if st.backlog.is_none() {
            let size =
                usize::try_from(shared.config.read().repl_backlog_size()).unwrap_or(usize::MAX);
            st.backlog = Some(Backlog::new(size, st.offset + 1));
            repl.streaming.store(true, Ordering::Relaxed);
        }
        drop(st);
        tracing::info!("MASTER <-> REPLICA sync: master accepted a partial resynchronization");
    } else {
        return Err(format!("unexpected reply to PSYNC: {reply}"));
    }
    repl.set_link(LinkState::Connected);
    link.stream_commands(shared, stream_db).await
}

struct Link {
    stream: TcpStream,
    buf: BytesMut,
    timeout: Duration,
}

impl Link {
    async fn send(&mut self, words: &[&[u8]]) -> LinkResult<()> {
        let mut out = Vec::new();
        encode_command(&mut out, &argv_of(words));
        self.stream
            .write_all(&out)
            .await
            .map_err(|e| format!("write to master: {e}"))
    }

    async fn fill(&mut self) -> LinkResult<usize> {
        match tokio::time::timeout(self.timeout, self.stream.read_buf(&mut self.buf)).await {
            Err(_) => Err("timeout reading from the master".into()),
            Ok(Err(e)) => Err(format!("read from master: {e}")),
            Ok(Ok(0)) => Err("the master closed the connection".into()),
            Ok(Ok(n)) => Ok(n),
        }
    }

    /// One reply line without its line ending ("" for a bare newline, which masters send to
    /// keep the link alive while they prepare a snapshot).
    async fn line(&mut self) -> LinkResult<String> {
        loop {
            if let Some(end) = self.buf.iter().position(|&b| b == b'\n') {
                let line = self.buf.split_to(end + 1);
                let text = String::from_utf8_lossy(&line[..end]);
                return Ok(text.trim_end_matches('\r').to_string());
            }
            if self.buf.len() > 64 * 1024 {
                return Err("reply line too long".into());
            }
            self.fill().await?;
        }
    }

    /// The snapshot after `+FULLRESYNC`: `$<length>\r\n<bytes>` or `$EOF:<mark>\r\n<bytes><mark>`,
    /// read whole before anything is loaded.
    async fn read_snapshot(&mut self, repl: &Replication) -> LinkResult<Vec<u8>> {
        let header = loop {
            let line = self.line().await?;
            if !line.is_empty() {
                break line;
            }
        };
        if let Some(mark) = header.strip_prefix("$EOF:") {
            let mark = mark.as_bytes().to_vec();
            if mark.len() != 40 {
                return Err(format!("bad EOF mark from master: {header}"));
            }
            {
                let mut st = repl.lock();
                if let Some(up) = st.upstream.as_mut() {
                    up.sync_total = -1;
                    up.sync_read = 0;
                }
            }
            // The snapshot ends at the mark; anything after it is the stream, kept for later.
            let mut data = Vec::new();
            loop {
                let searched_from = data.len().saturating_sub(39);
                data.extend_from_slice(&self.buf);
                repl.touch_link(self.buf.len() as i64);
                self.buf.clear();
                if let Some(at) = data[searched_from..]
                    .windows(40)
                    .position(|w| w == &mark[..])
                    .map(|p| p + searched_from)
                {
                    self.buf.extend_from_slice(&data[at + 40..]);
                    data.truncate(at);
                    return Ok(data);
                }
                self.fill().await?;
            }
        }
        let len: usize = header
            .strip_prefix('$')
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| format!("bad bulk header from master: {header}"))?;
        {
            let mut st = repl.lock();
            if let Some(up) = st.upstream.as_mut() {
                up.sync_total = len as i64;
                up.sync_read = 0;
            }
        }
        while self.buf.len() < len {
            let n = self.fill().await?;
            repl.touch_link(n as i64);
        }
        Ok(self.buf.split_to(len).to_vec())
    }

    /// Apply the master's stream until the link breaks.
    async fn stream_commands(&mut self, shared: &Arc<Shared>, db: usize) -> LinkResult<()> {
        let repl = &shared.replication;
        let mut session = Session::new(Arc::clone(shared));
        session.client.db = db;
        session.client.from_master = true;
        session.client.authenticated = true;
        let mut parser = codec::Parser::default();
        let limits = Limits {
            max_bulk_len: u64::MAX,
            authenticated: true,
        };
        let mut ack_timer = tokio::time::interval(ACK_PERIOD);
        let mut last_io = Instant::now();
        loop {
            loop {
                let before = self.buf.len();
                match parser.parse(&mut self.buf, &limits) {
                    Ok(Some(Frame::Command(argv))) => {
                        let consumed = before - self.buf.len();
                        if argv.len() >= 2
                            && argv[0].eq_ignore_ascii_case(b"replconf")
                            && argv[1].eq_ignore_ascii_case(b"getack")
                        {
                            let offset = repl.offset().to_string();
                            self.send(&[b"REPLCONF", b"ACK", offset.as_bytes()]).await?;
                        }
                        let mut raw = Vec::with_capacity(consumed);
                        encode_command(&mut raw, &argv);
                        session.execute_from_master(&argv, Bytes::from(raw));
                    }
                    Ok(Some(Frame::Empty)) => {}
                    Ok(None) => break,
                    Err(err) => {
                        return Err(format!("protocol error in the master's stream: {err}"))
                    }
                }
            }
            tokio::select! {
                read = self.stream.read_buf(&mut self.buf) => match read {
                    Ok(0) => return Err("the master closed the connection".into()),
                    Ok(_) => {
                        last_io = Instant::now();
                        repl.touch_link(0);
                    }
                    Err(e) => return Err(format!("read from master: {e}")),
                },
                _ = ack_timer.tick() => {
                    if last_io.elapsed() > self.timeout {
                        return Err("timeout: no data from the master".into());
                    }
                    let offset = repl.offset().to_string();
                    self.send(&[b"REPLCONF", b"ACK", offset.as_bytes()]).await?;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backlog_keeps_the_last_bytes_and_their_offsets() {
        // Offsets count from 1, as Redis's: the first byte fed after offset 0 is byte 1.
        let mut b = Backlog::new(8, 1);
        b.push(b"abcdef");
        assert_eq!((b.first, b.buf.len()), (1, 6));
        assert_eq!(b.since(1).as_deref(), Some(&b"abcdef"[..]));
        assert_eq!(b.since(4).as_deref(), Some(&b"def"[..]));
        // The next byte to come is still a valid place to continue from (nothing to send).
        assert_eq!(b.since(7).as_deref(), Some(&b""[..]));
        assert_eq!(b.since(8), None);
        b.push(b"ghijk");
        assert_eq!((b.first, b.buf.len()), (4, 8));
        assert_eq!(b.since(3), None, "overwritten");
        assert_eq!(b.since(4).as_deref(), Some(&b"defghijk"[..]));
        assert_eq!(b.since(10).as_deref(), Some(&b"jk"[..]));
        b.resize(3);
        assert_eq!((b.first, b.since(9).as_deref()), (9, Some(&b"ijk"[..])));
    }

    #[test]
    fn commands_are_encoded_as_multibulk() {
        let mut out = Vec::new();
        encode_command(&mut out, &argv_of(&[b"SET", b"k", b""]));
        assert_eq!(out, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
    }

    #[test]
    fn propagation_selects_the_database_and_counts_offsets() {
        let repl = Replication::new("a".repeat(40), None);
        // Nothing is fed before there is a backlog.
        assert_eq!(repl.propagate(&[(0, argv_of(&[b"SET", b"k", b"v"]))]), 0);
        {
            let mut st = repl.lock();
            st.backlog = Some(Backlog::new(1024, 1));
        }
        let after = repl.propagate(&[
            (2, argv_of(&[b"SET", b"k", b"v"])),
            (2, argv_of(&[b"DEL", b"k"])),
        ]);
        let sent = b"*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n";
        assert_eq!(after, sent.len() as i64);
        let st = repl.lock();
        assert_eq!(
            st.backlog.as_ref().and_then(|b| b.since(1)).as_deref(),
            Some(&sent[..])
        );
    }
}
