//! The registry of connected clients, for CLIENT LIST, CLIENT INFO and CLIENT KILL.
//!
//! Each connection registers an entry when its session starts and removes it when the session
//! ends. The entry's fixed facts (id, addresses, start time) never change; what a command may
//! change (name, database, last command, idle clock) sits behind the entry's own small mutex,
//! which only its session writes, once per command, so the registry-wide lock is taken only to
//! connect, disconnect, list and kill. Killing a client wakes its connection task through the
//! entry's `Notify`; the connection closes itself.

use std::collections::BTreeMap;
use std::fmt::Write as _;
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
}

/// One connected client.
#[derive(Debug)]
pub struct Entry {
    pub id: u64,
    pub endpoint: Endpoint,
    pub created: Instant,
    state: Mutex<State>,
    kill: Notify,
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

    /// The CLIENT LIST line for this client, in Redis 7.0's field order, without the newline.
    /// Buffers and memory we do not track are printed as a fresh idle Redis client shows them.
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
        if state.no_evict {
            flags.push('e');
        }
        if state.no_touch {
            flags.push('T');
        }
        if flags.is_empty() {
            flags.push('N');
        }
        let _ = write!(
            out,
            "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub=0 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=1024 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd={} user=default redir=-1 resp={}",
            self.id,
            self.endpoint.addr,
            self.endpoint.laddr,
            self.endpoint.fd,
            name,
            now.saturating_duration_since(self.created).as_secs(),
            now.saturating_duration_since(state.last_interaction).as_secs(),
            flags,
            state.db,
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
            }),
            kill: Notify::new(),
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
