//! What a handler receives: the keyspace (already locked), the configuration, the calling
//! client's state and the current time. Handlers use nothing else, which is why they can be
//! tested without a runtime or a socket.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::codec::Protocol;
use crate::config::Config;
use crate::keyspace::{Db, Keyspace};
use crate::logging::LogLevel;
use crate::registry::CommandTable;
use crate::stats::Stats;

/// Per-connection state that commands may read or change.
#[derive(Debug, Clone)]
pub struct Client {
    pub id: u64,
    /// Index of the selected database.
    pub db: usize,
    pub protocol: Protocol,
    /// Set by a command that wants the connection closed once its reply is sent (QUIT, when it
    /// arrives with issue 5); the connection honours it after writing the reply.
    pub close_after_reply: bool,
}

impl Client {
    pub fn new(id: u64) -> Client {
        Client {
            id,
            db: 0,
            protocol: Protocol::Resp2,
            close_after_reply: false,
        }
    }
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

/// The context of one command call.
pub struct Ctx<'a> {
    pub keyspace: &'a mut Keyspace,
    pub config: &'a RwLock<Config>,
    pub client: &'a mut Client,
    /// Every command, for the commands that describe the server (COMMAND).
    pub table: &'a CommandTable,
    /// Current time in Unix milliseconds, fixed for the whole call as Redis does.
    pub now_ms: i64,
    /// Randomness for commands that pick keys at random (RANDOMKEY).
    pub rng: &'a Rng,
    /// The server's counters (INFO, CONFIG RESETSTAT).
    pub stats: &'a Stats,
    /// The live log level (CONFIG SET loglevel).
    pub log_level: &'a LogLevel,
}

impl Ctx<'_> {
    /// The client's selected database.
    pub fn db(&mut self) -> &mut Db {
        self.keyspace.db(self.client.db)
    }

    /// Read access to the configuration. A poisoned lock still holds a valid config: writers
    /// validate before they change anything.
    pub fn config(&self) -> RwLockReadGuard<'_, Config> {
        self.config
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Write access to the configuration.
    pub fn config_mut(&self) -> RwLockWriteGuard<'_, Config> {
        self.config
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
