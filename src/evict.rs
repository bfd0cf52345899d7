//! `maxmemory`: before a command runs, keys are evicted by `maxmemory-policy` until the heap in
//! use is back under the limit, the way Redis's `performEvictions` does it; when nothing more
//! can go, the server is out of memory and the dispatcher refuses commands flagged DENYOOM.
//!
//! The figure compared with the limit is the live heap bytes the server's allocator counts
//! (INFO's `used_memory`). The LRU and TTL policies are approximated as Redis does: each round
//! samples `maxmemory-samples` keys per database into a pool of the 16 best candidates (kept
//! in the keyspace between commands), and evicts the best one still present. The LRU
//! policies rank by idle time on the entry's 24-bit LRU clock, the LFU ones by the entry's
//! decayed LFU counter (lowest first), both read from its access word (see
//! [`crate::access`]). The random policies pick a random key, taking the databases in turn.

use bytes::Bytes;

use crate::access::AccessClock;
use crate::keyspace::Keyspace;

/// Redis's EVPOOL_SIZE.
const POOL_SIZE: usize = 16;

/// At most this long per command is spent evicting; past it the command goes ahead (Redis
/// likewise stops after a time limit and carries on evicting later).
const TIME_LIMIT: std::time::Duration = std::time::Duration::from_millis(5);

/// `maxmemory-policy`, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    NoEviction,
    AllKeysLru,
    AllKeysLfu,
    AllKeysRandom,
    VolatileLru,
    VolatileLfu,
    VolatileRandom,
    VolatileTtl,
}

impl Policy {
    /// From the configuration's word (`CONFIG SET` has already checked it).
    pub fn from_name(name: &str) -> Policy {
        match name {
            "allkeys-lru" => Policy::AllKeysLru,
            "allkeys-lfu" => Policy::AllKeysLfu,
            "allkeys-random" => Policy::AllKeysRandom,
            "volatile-lru" => Policy::VolatileLru,
            "volatile-lfu" => Policy::VolatileLfu,
            "volatile-random" => Policy::VolatileRandom,
            "volatile-ttl" => Policy::VolatileTtl,
            _ => Policy::NoEviction,
        }
    }

    /// Whether only keys with a deadline may be evicted.
    fn volatile(self) -> bool {
        matches!(
            self,
            Policy::VolatileLru
                | Policy::VolatileLfu
                | Policy::VolatileRandom
                | Policy::VolatileTtl
        )
    }

    fn random(self) -> bool {
        matches!(self, Policy::AllKeysRandom | Policy::VolatileRandom)
    }
}

/// What one call of [`perform_evictions`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Evictions {
    pub evicted: u64,
    /// Still above the limit with nothing left to evict: refuse DENYOOM commands.
    pub out_of_memory: bool,
}

/// The best candidates seen so far, sorted by score, best last.
#[derive(Debug, Default)]
pub struct Pool(Vec<Candidate>);

/// A candidate in the pool: higher `score` goes first.
#[derive(Debug)]
struct Candidate {
    score: u64,
    db: usize,
    key: Bytes,
}

/// Evict keys until `used` is at most `maxmemory` (0: no limit). `used` is the server's heap
/// figure; it gets the keyspace so that tests can measure in keys instead.
pub fn perform_evictions(
    keyspace: &mut Keyspace,
    policy: Policy,
    maxmemory: u64,
    samples: usize,
    now_ms: i64,
    mut used: impl FnMut(&mut Keyspace) -> u64,
    mut random: impl FnMut() -> u64,
) -> Evictions {
    let mut outcome = Evictions::default();
    if maxmemory == 0 || used(keyspace) <= maxmemory {
        return outcome;
    }
    if policy == Policy::NoEviction {
        outcome.out_of_memory = true;
        return outcome;
    }
    let started = std::time::Instant::now();
    // The LFU policies read the counter with the keyspace's knobs (the dispatcher keeps them
    // in step with the policy); Redis's defaults if it has not been told yet.
    let clock = match (policy, keyspace.access_clock()) {
        (Policy::AllKeysLfu | Policy::VolatileLfu, lfu @ AccessClock::Lfu { .. }) => lfu,
        (Policy::AllKeysLfu | Policy::VolatileLfu, AccessClock::Lru) => AccessClock::Lfu {
            log_factor: 10,
            decay_time: 1,
        },
        _ => AccessClock::Lru,
    };
    let mut pool = std::mem::take(&mut keyspace.eviction_pool.0);
    let mut next_db = 0;
    while used(keyspace) > maxmemory {
        let picked = if policy.random() {
            pick_random(keyspace, policy, &mut next_db, &mut random)
        } else {
            pick_from_pool(
                keyspace,
                policy,
                &mut pool,
                samples,
                clock,
                now_ms,
                &mut random,
            )
        };
        let Some((db, key)) = picked else {
            outcome.out_of_memory = true;
            break;
        };
        if keyspace.db(db).remove(&key, now_ms).is_some() {
            outcome.evicted += 1;
            // Replicas get the eviction as a DEL, as Redis sends it.
            keyspace.db(db).log_deletion(key);
        }
        if outcome.evicted % 16 == 0 && started.elapsed() > TIME_LIMIT {
            break;
        }
    }
    keyspace.eviction_pool.0 = pool;
    outcome
}

/// A random key, from the databases in turn starting after the last one used.
fn pick_random(
    keyspace: &mut Keyspace,
    policy: Policy,
    next_db: &mut usize,
    random: &mut impl FnMut() -> u64,
) -> Option<(usize, Bytes)> {
    let dbs = keyspace.len();
    for i in 0..dbs {
        let index = (*next_db + i) % dbs;
        let sample = keyspace
            .db(index)
            .eviction_sample(policy.volatile(), 1, &mut *random);
        if let Some(candidate) = sample.into_iter().next() {
            *next_db = index + 1;
            return Some((index, candidate.key));
        }
    }
    None
}

/// Fill the pool from every database, then take its best candidate that still exists.
fn pick_from_pool(
    keyspace: &mut Keyspace,
    policy: Policy,
    pool: &mut Vec<Candidate>,
    samples: usize,
    clock: AccessClock,
    now_ms: i64,
    random: &mut impl FnMut() -> u64,
) -> Option<(usize, Bytes)> {
    for index in 0..keyspace.len() {
        let sampled = keyspace
            .db(index)
            .eviction_sample(policy.volatile(), samples, &mut *random);
        for candidate in sampled {
            let score = match policy {
                // The sooner the deadline, the better the candidate.
                Policy::VolatileTtl => u64::MAX - candidate.deadline.unwrap_or(0).max(0) as u64,
                // Idle seconds, or 255 less the LFU counter.
                _ => clock.eviction_score(candidate.accessed, now_ms),
            };
            insert(
                pool,
                Candidate {
                    score,
                    db: index,
                    key: candidate.key,
                },
            );
        }
    }
    // Best last; skip candidates deleted since they were sampled.
    while let Some(best) = pool.pop() {
        if keyspace.db(best.db).contains(&best.key, now_ms) {
            return Some((best.db, best.key));
        }
    }
    None
}

/// Keep the pool sorted by score (ascending) and at most [`POOL_SIZE`] long, without
/// duplicates; a candidate worse than a full pool's worst is dropped.
fn insert(pool: &mut Vec<Candidate>, candidate: Candidate) {
    if pool
        .iter()
        .any(|c| c.db == candidate.db && c.key == candidate.key)
    {
        return;
    }
    let at = pool.partition_point(|c| c.score <= candidate.score);
    if pool.len() == POOL_SIZE {
        if at == 0 {
            return;
        }
        pool.remove(0);
        pool.insert(at - 1, candidate);
    } else {
        pool.insert(at, candidate);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::{Str, Value};

    fn value() -> Value {
        Value::Str(Str::plain(Bytes::from_static(b"v")))
    }

    fn put(ks: &mut Keyspace, db: usize, key: &str, deadline: Option<i64>, now: i64) {
        ks.db(db)
            .set(&Bytes::from(key.to_string()), value(), deadline, false, now);
    }

    /// The number of keys, standing in for memory: each eviction lowers it by one.
    fn keys(ks: &mut Keyspace) -> u64 {
        (0..ks.len()).map(|i| ks.db(i).len() as u64).sum()
    }

    fn run(ks: &mut Keyspace, policy: Policy, limit: u64, now: i64) -> Evictions {
        let mut state = 88_172_645_463_325_252u64;
        let random = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        perform_evictions(ks, policy, limit, 5, now, keys, random)
    }

    #[test]
    fn noeviction_reports_out_of_memory_and_evicts_nothing() {
        let mut ks = Keyspace::new(1);
        for i in 0..10 {
            put(&mut ks, 0, &format!("k{i}"), None, 0);
        }
        let out = run(&mut ks, Policy::NoEviction, 5, 0);
        assert_eq!(
            out,
            Evictions {
                evicted: 0,
                out_of_memory: true
            }
        );
        assert_eq!(keys(&mut ks), 10);
        assert!(!run(&mut ks, Policy::NoEviction, 10, 0).out_of_memory);
        assert!(
            !run(&mut ks, Policy::NoEviction, 0, 0).out_of_memory,
            "0 means no limit"
        );
    }

    #[test]
    fn lru_evicts_the_longest_idle_keys_first() {
        let mut ks = Keyspace::new(2);
        // Old keys last accessed at second 100, recent ones at second 200, in two databases.
        for i in 0..50 {
            put(&mut ks, i % 2, &format!("old{i}"), None, 100_000);
        }
        for i in 0..10 {
            put(&mut ks, i % 2, &format!("new{i}"), None, 200_000);
        }
        let out = run(&mut ks, Policy::AllKeysLru, 30, 201_000);
        assert_eq!(
            out,
            Evictions {
                evicted: 30,
                out_of_memory: false
            }
        );
        for i in 0..10 {
            assert!(
                ks.db(i % 2).contains(format!("new{i}").as_bytes(), 201_000),
                "new{i} was evicted before older keys"
            );
        }
    }

    #[test]
    fn volatile_ttl_evicts_the_nearest_deadlines_and_volatile_needs_deadlines() {
        let mut ks = Keyspace::new(1);
        for i in 0..20i64 {
            put(&mut ks, 0, &format!("t{i}"), Some(1_000_000 + i * 1000), 0);
        }
        for i in 0..5 {
            put(&mut ks, 0, &format!("p{i}"), None, 0);
        }
        let out = run(&mut ks, Policy::VolatileTtl, 15, 0);
        assert_eq!(out.evicted, 10);
        // The pool ranks what it sampled: the later deadlines mostly stay, and every key
        // without a deadline does.
        let far_kept = (10..20)
            .filter(|i| ks.db(0).contains(format!("t{i}").as_bytes(), 0))
            .count();
        assert!(
            far_kept >= 8,
            "only {far_kept} of the 10 latest deadlines kept"
        );
        for i in 0..5 {
            assert!(ks.db(0).contains(format!("p{i}").as_bytes(), 0));
        }
        // Below the persistent keys' count, no key with a deadline is left to evict.
        let out = run(&mut ks, Policy::VolatileRandom, 3, 0);
        assert_eq!(
            out,
            Evictions {
                evicted: 10,
                out_of_memory: true
            }
        );
        assert_eq!(keys(&mut ks), 5);
    }

    #[test]
    fn random_policies_take_from_every_database() {
        let mut ks = Keyspace::new(3);
        for i in 0..30 {
            put(&mut ks, i % 3, &format!("k{i}"), None, 0);
        }
        let out = run(&mut ks, Policy::AllKeysRandom, 1, 0);
        assert_eq!(
            out,
            Evictions {
                evicted: 29,
                out_of_memory: false
            }
        );
    }

    #[test]
    fn the_pool_keeps_the_best_sixteen_in_order() {
        let mut pool = Vec::new();
        for score in [
            5u64, 1, 9, 3, 7, 20, 0, 11, 13, 2, 8, 4, 6, 12, 10, 14, 15, 16, 17, 18,
        ] {
            insert(
                &mut pool,
                Candidate {
                    score,
                    db: 0,
                    key: Bytes::from(score.to_string()),
                },
            );
        }
        let scores: Vec<u64> = pool.iter().map(|c| c.score).collect();
        let best: Vec<u64> = (4..=18).chain([20]).collect();
        assert_eq!(scores, best);
    }
}
