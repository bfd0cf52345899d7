//! The registry of connected clients, for CLIENT LIST, CLIENT INFO and CLIENT KILL.
//!
//! Each connection registers an entry when its session starts and removes it when the session
//! ends. The entry's fixed facts (id, addresses, start time) never change; what a command may
//! change (name, database, last command, idle clock) sits behind the entry's own small mutex,
//! which only its session writes, once per command, so the registry-wide lock is taken only to
//! connect, disconnect, list and kill. Killing a client wakes its connection task through the
//! entry's `Notify`; the connection closes itself.
//!
//! The connection also publishes its buffer sizes to the entry (relaxed atomics, once per
//! batch of requests, never per request) for CLIENT LIST's `qbuf`, `qbuf-free`, `obl`, `oll`,
//! `omem` and `tot-mem`; a listing may see them one batch old, never torn.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use bytes::Bytes;
use tokio::sync::Notify;

/// Where a client is connected from and to. Sessions without a socket (the snapshot tests)
/// have empty addresses and no file descriptor.
#[derive(Debug, Clone, Default)]
pub struct Endpoint {
    pub addr: String,
    pub laddr: String,
    /// The socket's file descriptor, -1 when there is none.
    pub fd: i64,
}

/// What changes with each command.
#[derive(Debug, Clone)]
pub struct State {
    pub name: Option<Bytes>,
    pub db: usize,
    /// Full name of the last command (`client|list`), `None` after an unknown one.
    pub last_cmd: Option<&'static str>,
    pub last_interaction: Instant,
    pub resp: i64,
    pub no_evict: bool,
    /// CLIENT NO-TOUCH ON (flag `T`).
    pub no_touch: bool,
    /// The total length of the arguments of the command running now (`argv-mem`): only the
    /// caller's own line has one, as other clients are between commands, and a client
    /// blocked in WAIT, whose command is still running.
    pub argv_mem: usize,
    /// Blocked in WAIT (flag `b`).
    pub blocked: bool,
}

/// Redis's static reply buffer: its first 16 KiB of unsent replies are `obl`, the rest a list
/// of blocks of this size (`oll` blocks, `omem` bytes).
const REPLY_CHUNK: usize = 16 * 1024;

/// What a connected client costs besides its buffers (its session, its parser and this
/// entry), counted in `tot-mem`.
const CLIENT_OVERHEAD: usize = std::mem::size_of::<crate::session::Session>()
    + std::mem::size_of::<Entry>()
    + std::mem::size_of::<crate::codec::Parser>();

/// Buffer sizes as the connection last published them.
#[derive(Debug, Default)]
struct Buffers {
    /// Request bytes read and not yet executed (`qbuf`).
    query_len: AtomicUsize,
    /// Room left in the query buffer without growing it (`qbuf-free`).
    query_free: AtomicUsize,
    /// Reply bytes not yet written to the socket.
    output_len: AtomicUsize,
    /// The output buffer's allocation.
    output_capacity: AtomicUsize,
}

/// One connected client.
#[derive(Debug)]
pub struct Entry {
    pub id: u64,
    pub endpoint: Endpoint,
    pub created: Instant,
    state: Mutex<State>,
    kill: Notify,
    buffers: Buffers,
}

impl Entry {
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Resolves once another client has killed this one.
    pub async fn killed(&self) {
        self.kill.notified().await;
    }

    /// Ask this client's connection to close. A permit is stored, so a kill that arrives while
    /// the connection is busy running commands is seen at its next wait.
    pub fn kill(&self) {
        self.kill.notify_one();
    }

    /// Publish the connection's buffer sizes: the query buffer's unexecuted bytes and free
    /// room, the unsent replies and the output buffer's allocation. Called by the connection
    /// once per batch; relaxed stores, so it costs the request path nothing measurable.
    /// The client waits in WAIT for `argv_mem` bytes of arguments: CLIENT LIST shows it
    /// blocked (`flags=b`) with its command's arguments, as Redis does.
    pub fn block(&self, argv_mem: usize) {
        let mut state = self.state();
        state.blocked = true;
        state.argv_mem = argv_mem;
    }

    /// WAIT answered at `now`: the reply is the client's last interaction, as Redis counts a
    /// write to the client.
    pub fn unblock(&self, now: Instant) {
        let mut state = self.state();
        state.blocked = false;
        state.argv_mem = 0;
        state.last_interaction = now;
    }

    pub fn publish_buffers(
        &self,
        query_len: usize,
        query_free: usize,
        output_len: usize,
        output_capacity: usize,
    ) {
        let b = &self.buffers;
        b.query_len.store(query_len, Ordering::Relaxed);
        b.query_free.store(query_free, Ordering::Relaxed);
        b.output_len.store(output_len, Ordering::Relaxed);
        b.output_capacity.store(output_capacity, Ordering::Relaxed);
    }

    /// The CLIENT LIST line for this client, in Redis 7.0's field order, without the newline.
    /// What we do not have (subscriptions, MULTI, the read buffer) is printed as a fresh idle
    /// Redis client shows it.
    pub fn line(&self, now: Instant) -> String {
        let state = self.state().clone();
        self.line_with(now, &state)
    }

    /// The line with `state` in place of the published one: the calling client's own line
    /// shows the command it is running now, as Redis's does.
    pub fn line_with(&self, now: Instant, state: &State) -> String {
        let mut out = String::with_capacity(256);
        let name = state
            .name
            .as_ref()
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .unwrap_or_default();
        let mut flags = String::new();
        if state.blocked {
            flags.push('b');
        }
        if state.no_evict {
            flags.push('e');
        }
        if state.no_touch {
            flags.push('T');
        }
        if flags.is_empty() {
            flags.push('N');
        }
        let b = &self.buffers;
        let qbuf = b.query_len.load(Ordering::Relaxed);
        let qbuf_free = b.query_free.load(Ordering::Relaxed);
        let pending = b.output_len.load(Ordering::Relaxed);
        let output_capacity = b.output_capacity.load(Ordering::Relaxed);
        // Unsent replies in Redis's shape: the 16 KiB buffer first, then the list.
        let obl = pending.min(REPLY_CHUNK);
        let omem = pending - obl;
        let oll = omem.div_ceil(REPLY_CHUNK);
        // A session without a socket (the snapshot tests) has no connection to count.
        let overhead = if self.endpoint.fd >= 0 {
            CLIENT_OVERHEAD
        } else {
            0
        };
        let tot_mem = overhead + qbuf + qbuf_free + output_capacity + state.argv_mem;
        let _ = write!(
            out,
            "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub=0 psub=0 ssub=0 multi=-1 qbuf={} qbuf-free={} argv-mem={} multi-mem=0 rbs=1024 rbp=0 obl={} oll={} omem={} tot-mem={} events=r cmd={} user=default redir=-1 resp={}",
            self.id,
            self.endpoint.addr,
            self.endpoint.laddr,
            self.endpoint.fd,
            name,
            now.saturating_duration_since(self.created).as_secs(),
            now.saturating_duration_since(state.last_interaction).as_secs(),
            flags,
            state.db,
            qbuf,
            qbuf_free,
            state.argv_mem,
            obl,
            oll,
            omem,
            tot_mem,
            state.last_cmd.unwrap_or("NULL"),
            state.resp,
        );
        out
    }
}

/// Every connected client, by id (so listings come out in id order, as Redis's do).
#[derive(Debug, Default)]
pub struct ClientRegistry {
    clients: Mutex<BTreeMap<u64, Arc<Entry>>>,
}

impl ClientRegistry {
    fn map(&self) -> MutexGuard<'_, BTreeMap<u64, Arc<Entry>>> {
        self.clients.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Add a client; the returned entry is the session's handle on it.
    pub fn register(&self, id: u64, endpoint: Endpoint) -> Arc<Entry> {
        let now = Instant::now();
        let entry = Arc::new(Entry {
            id,
            endpoint,
            created: now,
            state: Mutex::new(State {
                name: None,
                db: 0,
                last_cmd: None,
                last_interaction: now,
                resp: 2,
                no_evict: false,
                no_touch: false,
                argv_mem: 0,
                blocked: false,
            }),
            kill: Notify::new(),
            buffers: Buffers::default(),
        });
        self.map().insert(id, Arc::clone(&entry));
        entry
    }

    pub fn unregister(&self, id: u64) {
        self.map().remove(&id);
    }

    pub fn get(&self, id: u64) -> Option<Arc<Entry>> {
        self.map().get(&id).cloned()
    }

    /// Every client, in id order.
    pub fn all(&self) -> Vec<Arc<Entry>> {
        self.map().values().cloned().collect()
    }
}
