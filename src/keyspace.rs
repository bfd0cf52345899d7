//! The databases: keys, values and expiry.
//!
//! Keys without a TTL pay nothing for expiry: deadlines live in a separate `expires` table,
//! as in Redis, indexed so that the active expiry cycle can sample it at random. A key whose
//! deadline has passed is removed when it is next touched (lazy expiry) or when the cycle finds
//! it (active expiry), whichever comes first. Time is always a parameter (`now`, in Unix
//! milliseconds), never read from the system here, so tests are deterministic.

use std::collections::HashMap;

use bytes::Bytes;
use indexmap::IndexMap;

/// A stored value. One variant per Redis type; strings are all we have so far, and the other
/// types slot in here without changing the string commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Str(Bytes),
}

/// One logical database (what SELECT chooses).
#[derive(Debug, Default)]
pub struct Db {
    map: HashMap<Bytes, Value>,
    /// Deadline in Unix milliseconds for every key that has one.
    expires: IndexMap<Bytes, i64>,
}

/// What one run of the active expiry cycle did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CycleStats {
    pub sampled: usize,
    pub expired: usize,
}

impl Db {
    /// Remove `key` if its deadline has passed; true when it was removed.
    fn expire_if_due(&mut self, key: &[u8], now: i64) -> bool {
        match self.expires.get(key) {
            Some(&when) if when <= now => {
                self.expires.swap_remove(key);
                self.map.remove(key);
                true
            }
            _ => false,
        }
    }

    /// The live value of `key`, expiring it first if due.
    pub fn get(&mut self, key: &[u8], now: i64) -> Option<&Value> {
        if !self.expires.is_empty() {
            self.expire_if_due(key, now);
        }
        self.map.get(key)
    }

    /// Whether `key` holds a live value.
    pub fn contains(&mut self, key: &[u8], now: i64) -> bool {
        self.get(key, now).is_some()
    }

    /// Store `value` under `key`. The key's old deadline is dropped unless `keep_ttl`; a new
    /// `expire_at` (Unix ms) replaces it.
    pub fn set(&mut self, key: Bytes, value: Value, expire_at: Option<i64>, keep_ttl: bool) {
        match expire_at {
            Some(when) => {
                self.expires.insert(key.clone(), when);
            }
            None if !keep_ttl && !self.expires.is_empty() => {
                self.expires.swap_remove(&key[..]);
            }
            None => {}
        }
        self.map.insert(key, value);
    }

    /// Delete `key`; true when a live key was removed.
    pub fn remove(&mut self, key: &[u8], now: i64) -> bool {
        if !self.expires.is_empty() && self.expire_if_due(key, now) {
            return false;
        }
        self.expires.swap_remove(key);
        self.map.remove(key).is_some()
    }

    /// The deadline of `key` in Unix ms, if it has one.
    pub fn expire_at(&self, key: &[u8]) -> Option<i64> {
        self.expires.get(key).copied()
    }

    /// Number of keys, including expired ones not reclaimed yet (as Redis's DBSIZE).
    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Number of keys with a deadline.
    pub fn volatile_len(&self) -> usize {
        self.expires.len()
    }

    /// One round of active expiry: test up to `samples` random keys that have a deadline and
    /// remove those that are due. `random` supplies indices (a parameter for determinism).
    pub fn expire_sample(
        &mut self,
        now: i64,
        samples: usize,
        mut random: impl FnMut() -> u64,
    ) -> CycleStats {
        let mut stats = CycleStats::default();
        for _ in 0..samples.min(self.expires.len()) {
            let len = self.expires.len() as u64;
            if len == 0 {
                break;
            }
            let index = (random() % len) as usize;
            stats.sampled += 1;
            let Some((_, &when)) = self.expires.get_index(index) else {
                break;
            };
            if when <= now {
                if let Some((key, _)) = self.expires.swap_remove_index(index) {
                    self.map.remove(&key);
                    stats.expired += 1;
                }
            }
        }
        stats
    }
}

/// All databases of the server.
#[derive(Debug)]
pub struct Keyspace {
    dbs: Vec<Db>,
}

impl Keyspace {
    pub fn new(databases: usize) -> Keyspace {
        Keyspace {
            dbs: (0..databases.max(1)).map(|_| Db::default()).collect(),
        }
    }

    pub fn db(&mut self, index: usize) -> &mut Db {
        &mut self.dbs[index]
    }

    pub fn len(&self) -> usize {
        self.dbs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.dbs.is_empty()
    }
}

/// How the active expiry cycle behaves, after Redis: sample 20 keys with a TTL per round and go
/// on while more than a quarter of them turned out to be expired.
pub const CYCLE_SAMPLES: usize = 20;
/// Above this share of expired keys in a round (in percent), another round follows.
pub const CYCLE_REPEAT_PERCENT: usize = 25;

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::Str(Bytes::copy_from_slice(v.as_bytes()))
    }

    #[test]
    fn lazy_expiry_on_access() {
        let mut db = Db::default();
        db.set(Bytes::from_static(b"k"), s("v"), Some(1_000), false);
        assert_eq!(db.get(b"k", 999), Some(&s("v")));
        assert_eq!(db.get(b"k", 1_000), None);
        assert_eq!(db.len(), 0);
        assert_eq!(db.volatile_len(), 0);
    }

    #[test]
    fn set_drops_or_keeps_the_ttl() {
        let mut db = Db::default();
        db.set(Bytes::from_static(b"k"), s("v"), Some(1_000), false);
        db.set(Bytes::from_static(b"k"), s("w"), None, true);
        assert_eq!(db.expire_at(b"k"), Some(1_000));
        db.set(Bytes::from_static(b"k"), s("x"), None, false);
        assert_eq!(db.expire_at(b"k"), None);
    }

    #[test]
    fn active_expiry_reclaims_unread_keys() {
        let mut db = Db::default();
        for i in 0..1000 {
            let key = Bytes::from(format!("k{i}"));
            db.set(
                key,
                s("v"),
                Some(if i % 2 == 0 { 10 } else { 1_000_000 }),
                false,
            );
        }
        let mut seed = 0x2545F4914F6CDD1Du64;
        let mut random = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..2000 {
            db.expire_sample(100, CYCLE_SAMPLES, &mut random);
        }
        assert_eq!(db.len(), 500);
        assert_eq!(db.volatile_len(), 500);
    }
}
