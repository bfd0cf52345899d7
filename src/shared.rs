//! State shared by every connection: the keyspace, the configuration, the command table and
//! the clock.
//!
//! The keyspace sits behind a std `Mutex`, not tokio's: handlers are synchronous and hold it
//! only for the duration of one command, never across an `.await`, so a blocking lock is both
//! correct and cheaper. A panic inside a handler poisons the lock; we recover the guard because
//! every keyspace operation leaves the maps consistent before it can panic.

use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::clients::ClientRegistry;
use crate::config::Config;
use crate::context::Rng;
use crate::keyspace::{Keyspace, CYCLE_REPEAT_PERCENT, CYCLE_SAMPLES};
use crate::logging::LogLevel;
use crate::registry::CommandTable;
use crate::stats::Stats;

/// Where the current time comes from: the system, or a clock tests move by hand.
#[derive(Debug)]
pub enum Clock {
    System,
    Manual(AtomicI64),
}

impl Clock {
    /// Current time in Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        match self {
            Clock::System => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
                .unwrap_or(0),
            Clock::Manual(ms) => ms.load(Ordering::SeqCst),
        }
    }

    /// Move a manual clock forward; a system clock cannot be moved.
    pub fn advance(&self, by: Duration) {
        if let Clock::Manual(ms) = self {
            ms.fetch_add(
                i64::try_from(by.as_millis()).unwrap_or(i64::MAX),
                Ordering::SeqCst,
            );
        }
    }
}

/// Everything the connections share.
#[derive(Debug)]
pub struct Shared {
    pub keyspace: Mutex<Keyspace>,
    pub config: crate::config::SharedConfig,
    pub table: &'static CommandTable,
    pub clock: Clock,
    pub rng: Rng,
    /// Connected clients, held against `maxclients`.
    pub clients: AtomicUsize,
    /// The counters INFO reports, and the log level CONFIG SET changes.
    pub stats: Stats,
    pub log_level: LogLevel,
    /// Who is connected, for CLIENT LIST and CLIENT KILL.
    pub registry: ClientRegistry,
    /// Slow commands, for SLOWLOG.
    pub slowlog: crate::slowlog::SlowLog,
    /// Latency samples, for LATENCY.
    pub latency: crate::latency::LatencyMonitor,
    /// Whether the active expiry cycle runs (DEBUG SET-ACTIVE-EXPIRE turns it off for tests).
    pub active_expire: std::sync::atomic::AtomicBool,
    /// Signalled by SHUTDOWN; the server waits on it beside SIGINT/SIGTERM.
    pub shutdown: tokio::sync::Notify,
    /// Changes since the last save; RDB snapshots.
    pub persistence: crate::persistence::Persistence,
    /// Replication: backlog, replicas, and the link to our master.
    pub replication: crate::replication::Replication,
    next_client_id: AtomicU64,
}

impl Shared {
    pub fn new(config: Config, table: &'static CommandTable, clock: Clock) -> Shared {
        let rng = Rng::new(u64::from(std::process::id()) ^ 0x5EED);
        let stats = Stats::new();
        let replication = crate::replication::Replication::new(
            stats.master_replid.clone(),
            config
                .replicaof()
                .map(|(host, port)| (host.to_string(), port)),
        );
        let mut keyspace = Keyspace::new(config.databases());
        keyspace.set_retain_expired(config.replicaof().is_some());
        // Keys loaded at startup already get the access words of the configured policy (an
        // LFU counter of 5 under LFU, as Redis's fresh objects).
        keyspace.set_access_clock(config.access_clock(), || rng.next_u64());
        Shared {
            keyspace: Mutex::new(keyspace),
            config: crate::config::SharedConfig::new(config),
            table,
            clock,
            rng,
            clients: AtomicUsize::new(0),
            stats,
            log_level: LogLevel::default(),
            registry: ClientRegistry::default(),
            shutdown: tokio::sync::Notify::new(),
            slowlog: crate::slowlog::SlowLog::default(),
            persistence: crate::persistence::Persistence::new(),
            replication,
            latency: crate::latency::LatencyMonitor::default(),
            active_expire: std::sync::atomic::AtomicBool::new(true),
            next_client_id: AtomicU64::new(1),
        }
    }

    /// A fresh client id, unique for the life of the server.
    pub fn next_client_id(&self) -> u64 {
        self.next_client_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Lock the keyspace, recovering from a poisoned lock (see the module comment).
    pub fn lock_keyspace(&self) -> MutexGuard<'_, Keyspace> {
        self.keyspace
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// One active expiry cycle over every database: rounds of random samples, repeated while
    /// more than a quarter of a round was expired, until `budget` is spent. The lock is taken
    /// per round so other clients get in between rounds. Returns the number of keys removed.
    pub fn active_expire_cycle(&self, budget: Duration, mut random: impl FnMut() -> u64) -> usize {
        // A replica leaves expiry to its master, whose DELs it applies.
        if self.replication.is_replica() {
            return 0;
        }
        let started = Instant::now();
        let databases = self.lock_keyspace().len();
        let mut removed = 0;
        let mut sampled = 0;
        let mut out_of_time = false;
        for index in 0..databases {
            loop {
                let now = self.clock.now_ms();
                let mut keyspace = self.lock_keyspace();
                let db = keyspace.db(index);
                let stats = db.expire_sample(now, CYCLE_SAMPLES, &mut random);
                let volatile = db.volatile_len();
                // Each expired key reaches the replicas as a DEL, under the same lock.
                let mut ops = Vec::new();
                keyspace.drain_expired(|db, keys| {
                    for key in keys {
                        ops.push((db, vec![bytes::Bytes::from_static(b"DEL"), key]));
                    }
                });
                if !ops.is_empty() && self.replication.is_streaming() {
                    self.replication.propagate(&ops);
                }
                drop(keyspace);
                removed += stats.expired;
                sampled += stats.sampled;
                if volatile == 0 {
                    break;
                }
                if started.elapsed() >= budget {
                    out_of_time = true;
                    break;
                }
                // An empty round (the sampler found nothing where it looked) says nothing about
                // the share of expired keys: look again, within the budget.
                if stats.sampled > 0 && stats.expired * 100 <= stats.sampled * CYCLE_REPEAT_PERCENT
                {
                    break;
                }
            }
        }
        let elapsed = started.elapsed();
        self.stats
            .expire_cycle_done(sampled, removed, out_of_time, elapsed);
        // As Redis does, a slow cycle is a latency event of its own.
        let threshold = self.config.read().latency_monitor_threshold();
        self.latency.record_if_needed(
            "expire-cycle",
            u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
            threshold,
            self.clock.now_ms() / 1000,
        );
        removed
    }
}
