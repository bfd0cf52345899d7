//! The databases: keys, values and expiry.
//!
//! Keys without a TTL pay nothing for expiry: a deadline is the dict's optional per-entry
//! stamp, stored only where keys have one, and sampled from there by the active cycle. A key whose deadline has passed is removed when it is next touched (lazy expiry)
//! or when the active expiry cycle samples it, whichever comes first. Time is always a
//! parameter (`now`, Unix milliseconds), never read from the system here, so tests are
//! deterministic; so is randomness (`random`, a source of u64s).
//!
//! Strings keep the encoding Redis would give them (`int`, `embstr`, `raw`), because OBJECT
//! ENCODING shows it and because an integer is stored without any allocation.

use bytes::Bytes;

use crate::access::AccessClock;
use crate::compact::CompactBytes;
use crate::dict::{Dict, Slot};
use crate::error::CommandError;
use crate::glob::glob_match;

/// Longest string Redis stores as `embstr`.
const EMBSTR_MAX: usize = 44;
/// Longest text Redis tries to read as an integer when it encodes a value.
const INT_TEXT_MAX: usize = 20;
/// Integers in `0..SHARED_INTEGERS` are shared objects in Redis (OBJECT REFCOUNT shows it).
pub const SHARED_INTEGERS: i64 = 10_000;

/// A string value in one of Redis's three encodings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Str {
    /// A value whose text is a canonical 64-bit integer: no allocation at all.
    Int(i64),
    /// A short string (at most 44 bytes), as Redis allocates it in one piece; up to 22 bytes
    /// are stored inline, with no allocation at all.
    Embstr(CompactBytes),
    /// A longer string, or one that was modified in place (APPEND, SETRANGE).
    Raw(Bytes),
}

impl Str {
    /// A value as SET, MSET, SETNX, GETSET... store it: an integer when the text is one
    /// (Redis's `tryObjectEncoding`), otherwise embstr or raw by length.
    pub fn encoded(bytes: Bytes) -> Str {
        Str::integer(&bytes).unwrap_or_else(|| Str::plain(bytes))
    }

    /// [`Str::encoded`] of a request's argument, which is cloned (a reference count taken on
    /// the read buffer) only when the value keeps it.
    pub fn encoded_arg(bytes: &Bytes) -> Str {
        Str::integer(bytes).unwrap_or_else(|| Str::plain_arg(bytes))
    }

    fn integer(bytes: &[u8]) -> Option<Str> {
        if bytes.len() > INT_TEXT_MAX {
            return None;
        }
        crate::args::parse_i64(bytes).map(Str::Int)
    }

    /// A value kept as text, embstr or raw by length (what INCRBYFLOAT stores).
    pub fn plain(bytes: Bytes) -> Str {
        if bytes.len() <= EMBSTR_MAX || Str::copied(&bytes) {
            Str::plain_arg(&bytes)
        } else {
            Str::Raw(bytes)
        }
    }

    /// [`Str::plain`] without taking `bytes` over.
    fn plain_arg(bytes: &Bytes) -> Str {
        if bytes.len() <= EMBSTR_MAX {
            Str::Embstr(CompactBytes::new(bytes))
        } else if Str::copied(bytes) {
            Str::Raw(Bytes::copy_from_slice(bytes))
        } else {
            Str::Raw(bytes.clone())
        }
    }

    /// Whether a raw value is copied rather than kept: a slice of a request would keep the
    /// whole read buffer, and every other request's bytes in it, alive for as long as the
    /// value lives (deleting or evicting the key would free almost nothing). Redis copies
    /// such arguments too; big ones are kept.
    fn copied(bytes: &Bytes) -> bool {
        bytes.len() < OWN_ALLOCATION_BELOW && !bytes.is_unique()
    }

    /// The value as a bulk reply: short texts and integers inline, longer ones sharing the
    /// stored bytes or copied once.
    pub fn to_reply(&self) -> crate::reply::Reply {
        use crate::reply::{Reply, ShortBulk};
        match self {
            Str::Int(n) => Reply::ShortBulk(ShortBulk::integer(*n)),
            Str::Embstr(b) => match ShortBulk::new(b) {
                Some(short) => Reply::ShortBulk(short),
                None => Reply::Bulk(Bytes::copy_from_slice(b)),
            },
            Str::Raw(b) => Reply::Bulk(b.clone()),
        }
    }

    /// The value's bytes (an integer is formatted).
    pub fn to_bytes(&self) -> Bytes {
        match self {
            Str::Int(n) => Bytes::from(n.to_string()),
            Str::Embstr(b) => Bytes::copy_from_slice(b),
            Str::Raw(b) => b.clone(),
        }
    }

    /// Length in bytes of the value's text.
    pub fn len(&self) -> usize {
        match self {
            Str::Int(n) => int_text_len(*n),
            Str::Embstr(b) => b.len(),
            Str::Raw(b) => b.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value as an integer, when its text is one (for INCR and friends).
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Str::Int(n) => Some(*n),
            Str::Embstr(b) => crate::args::parse_i64(b),
            Str::Raw(b) => crate::args::parse_i64(b),
        }
    }

    /// Redis's name for the encoding.
    pub fn encoding(&self) -> &'static str {
        match self {
            Str::Int(_) => "int",
            Str::Embstr(_) => "embstr",
            Str::Raw(_) => "raw",
        }
    }
}

/// Length of an integer's decimal text, without formatting it.
fn int_text_len(n: i64) -> usize {
    let digits = n
        .unsigned_abs()
        .checked_ilog10()
        .map_or(1, |d| d as usize + 1);
    digits + usize::from(n < 0)
}

/// Values shorter than this that share their allocation are copied when stored (see
/// [`Str::plain`]); Redis's PROTO_MBULK_BIG_ARG is the same size.
const OWN_ALLOCATION_BELOW: usize = 32 * 1024;

/// A stored value. One variant per Redis type; the other types slot in here without changing
/// the string commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Str(Str),
}

impl Value {
    /// The name TYPE reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
        }
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) => s.encoding(),
        }
    }

    /// The string, or WRONGTYPE for a value of another type. String commands go through this,
    /// so they stay right when lists, hashes and sets arrive.
    pub fn as_str(&self) -> Result<&Str, CommandError> {
        match self {
            Value::Str(s) => Ok(s),
        }
    }

    /// The string for changing in place, or WRONGTYPE.
    pub fn as_str_mut(&mut self) -> Result<&mut Str, CommandError> {
        match self {
            Value::Str(s) => Ok(s),
        }
    }
}

/// The next number of a database's splitmix64 stream (LFU increments).
fn next_random(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A key's access word after an access at `now` (see [`crate::access`]).
fn touched(clock: AccessClock, random: &mut u64, word: u32, now: i64) -> u32 {
    clock.touched(word, now, || next_random(random))
}

/// One logical database (what SELECT chooses).
///
/// One table holds every key with its value, its access word (the dict's 32-bit `meta`:
/// Redis's 24-bit LRU clock or LFU counter, see [`crate::access`]) and its deadline (the
/// dict's stamp, in Unix milliseconds, stored only where a chunk of keys has one).
#[derive(Debug, Default)]
pub struct Db {
    map: Dict<CompactBytes, Value>,
    /// While a background save copies this database: what each key written since the
    /// snapshot began held before its first write (see `Keyspace::snapshot_begin`).
    cow: Option<Box<CowLog>>,
    /// What INFO counts about this database's lookups and expiry.
    counters: Counters,
    /// Whether lookups mark keys accessed: false while a CLIENT NO-TOUCH client's command
    /// runs (set through [`Keyspace::set_touching`]).
    no_touch: bool,
    /// How access words are kept (set through [`Keyspace::set_access_clock`]).
    access: AccessClock,
    /// This database's stream of random numbers for LFU increments, seeded from the
    /// server's when an LFU policy is selected.
    random: u64,
    /// Keys removed because their deadline passed (lazily or by the active cycle) since the
    /// last [`Db::take_expired`]: replication turns each into a `DEL` for the replicas.
    expired: Vec<Bytes>,
    /// On a replica: a key past its deadline reads as missing but stays until the master's
    /// DEL arrives, so that the master's commands apply to the same keys as on the master
    /// (set through [`Keyspace::set_retain_expired`]).
    retain_expired: bool,
}

/// Lookups and expiry as INFO reports them: `keyspace_hits` and `keyspace_misses` count the
/// lookups of commands that read a key (GET, EXISTS, TTL, OBJECT...), not those of writes;
/// `expired_keys` every key removed because its deadline had passed, lazily or actively.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counters {
    pub hits: u64,
    pub misses: u64,
    pub expired: u64,
}

/// A key's state as a snapshot must see it: its value and deadline, or absent.
pub type Preimage = Option<(Value, Option<i64>)>;

/// Copy-before-write log of one database during a background save.
#[derive(Debug, Default)]
pub struct CowLog {
    /// The state at the snapshot's instant of every key written since.
    pub before: std::collections::HashMap<CompactBytes, Preimage>,
    /// The database was emptied or swapped away: the snapshot cannot be completed.
    pub aborted: bool,
}

/// A key's value, deadline and access word on their way to another key or database (see
/// [`Db::take_to_move`]).
#[derive(Debug)]
pub struct Moved {
    value: Value,
    deadline: Option<i64>,
    word: u32,
}

/// What one run of the active expiry cycle did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CycleStats {
    pub sampled: usize,
    pub expired: usize,
}

/// Databases with more keys than this are freed on a background thread (FLUSHDB, FLUSHALL,
/// SWAPDB's victims): dropping a million keys takes long enough to stall every client.
const FREE_IN_BACKGROUND_ABOVE: usize = 64;

impl Db {
    /// Remove `key` if its deadline has passed; true when it was removed (or, on a replica,
    /// when it is dead but kept for the master's DEL).
    fn expire_if_due(&mut self, key: &[u8], now: i64) -> bool {
        if self.map.stamped_len() == 0 {
            return false;
        }
        match self
            .map
            .slot_of(key)
            .and_then(|slot| self.map.stamp_at(slot))
        {
            Some(when) if when <= now && self.retain_expired => true,
            Some(when) if when <= now => {
                self.preserve(key);
                self.map.remove(key);
                self.counters.expired += 1;
                self.expired.push(Bytes::copy_from_slice(key));
                true
            }
            _ => false,
        }
    }

    /// Before a write to `key` while a snapshot is being copied: remember what the key held,
    /// unless it was written already since the snapshot began (the first write saw the
    /// snapshot's state).
    fn preserve(&mut self, key: &[u8]) {
        let Some(cow) = self.cow.as_deref_mut() else {
            return;
        };
        if cow.aborted || cow.before.contains_key(key) {
            return;
        }
        let state = self
            .map
            .slot_of(key)
            .map(|slot| (self.map.at(slot).1.clone(), self.map.stamp_at(slot)));
        cow.before.insert(CompactBytes::new(key), state);
    }

    /// Where the live entry of `key` is, expiring it first if due.
    fn live(&mut self, key: &[u8], now: i64) -> Option<Slot> {
        let slot = self.map.slot_of_mut(key)?;
        if self.map.stamp_at(slot).is_some_and(|when| when <= now) {
            if self.retain_expired {
                return None;
            }
            self.preserve(key);
            self.map.remove(key);
            self.counters.expired += 1;
            self.expired.push(Bytes::copy_from_slice(key));
            return None;
        }
        Some(slot)
    }

    /// The live value of `key`, marking it accessed (as a read or write by a command does).
    pub fn get(&mut self, key: &[u8], now: i64) -> Option<&Value> {
        let touching = !self.no_touch;
        let slot = self.live(key, now)?;
        let (value, accessed) = self.map.at_mut(slot);
        if touching {
            *accessed = touched(self.access, &mut self.random, *accessed, now);
        }
        Some(&*value)
    }

    /// The live value of `key` for changing in place, marking it accessed.
    pub fn get_mut(&mut self, key: &[u8], now: i64) -> Option<&mut Value> {
        // The caller may change the value in place (APPEND, INCR).
        self.preserve(key);
        let touching = !self.no_touch;
        let slot = self.live(key, now)?;
        let (value, accessed) = self.map.at_mut(slot);
        if touching {
            *accessed = touched(self.access, &mut self.random, *accessed, now);
        }
        Some(value)
    }

    /// [`Db::get`] for a command that reads the key (GET, MGET, GETRANGE...): counted as a
    /// keyspace hit or miss.
    pub fn read(&mut self, key: &[u8], now: i64) -> Option<&Value> {
        self.lookup_counted(key, now, !self.no_touch)
    }

    /// [`Db::peek`] for a command that reads the key without touching it (EXISTS, TYPE,
    /// OBJECT): counted as a keyspace hit or miss.
    pub fn read_untouched(&mut self, key: &[u8], now: i64) -> Option<&Value> {
        self.lookup_counted(key, now, false)
    }

    fn lookup_counted(&mut self, key: &[u8], now: i64, touch: bool) -> Option<&Value> {
        let Some(slot) = self.live(key, now) else {
            self.counters.misses += 1;
            return None;
        };
        self.counters.hits += 1;
        let (value, accessed) = self.map.at_mut(slot);
        if touch {
            *accessed = touched(self.access, &mut self.random, *accessed, now);
        }
        Some(&*value)
    }

    /// Count a read lookup a command made some other way (TTL's deadline lookup).
    pub fn count_read(&mut self, hit: bool) {
        if hit {
            self.counters.hits += 1;
        } else {
            self.counters.misses += 1;
        }
    }

    /// The live value of `key` without marking it accessed (EXISTS, OBJECT, TYPE...).
    pub fn peek(&mut self, key: &[u8], now: i64) -> Option<&Value> {
        let slot = self.live(key, now)?;
        Some(self.map.at(slot).1)
    }

    /// Whether `key` holds a live value (does not count as an access).
    pub fn contains(&mut self, key: &[u8], now: i64) -> bool {
        self.live(key, now).is_some()
    }

    /// Store `value` under `key`. The key's old deadline is dropped unless `keep_ttl`; a new
    /// `expire_at` (Unix ms) replaces it.
    pub fn set(
        &mut self,
        key: &[u8],
        value: Value,
        expire_at: Option<i64>,
        keep_ttl: bool,
        now: i64,
    ) {
        self.preserve(key);
        // One hash and one walk of the chain: `insert_slot` replaces the value of an existing
        // key. (A key over 22 bytes is copied to the heap even when it exists already; short
        // keys are inline, so the common case allocates nothing for the key.)
        let (slot, old) = self.map.insert_slot(CompactBytes::new(key), value);
        // The old value had expired: it is gone as an expired key (replicas get its DEL
        // before the write, as Redis sends it).
        if old.is_some() && self.map.stamp_at(slot).is_some_and(|when| when <= now) {
            self.counters.expired += 1;
            self.expired.push(Bytes::copy_from_slice(key));
        }
        // Whether a live value was replaced (one past its deadline was gone already).
        let replaced = old.is_some() && self.map.stamp_at(slot).is_none_or(|when| when > now);
        let stamp = match expire_at {
            Some(when) => Some(when),
            // A key whose deadline has passed was gone before the new value arrived (a
            // write looks the key up first, as Redis's does), so KEEPTTL cannot keep a dead
            // deadline.
            None if keep_ttl && old.is_some() => self.map.stamp_at(slot).filter(|&when| when > now),
            None => None,
        };
        self.map.set_stamp_at(slot, stamp);
        // Under LFU a replaced value keeps the old one's counter, after the access Redis's
        // write lookup makes; otherwise the word starts afresh.
        let word = if replaced && self.access.is_lfu() {
            let old = self.map.meta_at(slot);
            if self.no_touch {
                old
            } else {
                touched(self.access, &mut self.random, old, now)
            }
        } else {
            self.access.fresh(now)
        };
        self.map.set_meta_at(slot, word);
    }

    /// Replace the value of an existing live key, keeping its deadline (INCR, APPEND...).
    /// Returns false (and stores nothing) when the key does not exist.
    pub fn replace(&mut self, key: &[u8], value: Value, now: i64) -> bool {
        self.preserve(key);
        match self.live(key, now) {
            Some(slot) => {
                let (old, accessed) = self.map.at_mut(slot);
                *old = value;
                // Redis gives the new value object a fresh LRU clock, or under LFU the old
                // value's word.
                if !self.access.is_lfu() {
                    *accessed = self.access.fresh(now);
                }
                true
            }
            None => false,
        }
    }

    /// Delete `key`, returning its value when it was live.
    pub fn remove(&mut self, key: &[u8], now: i64) -> Option<Value> {
        self.take(key, now).map(|(value, _)| value)
    }

    /// Delete `key` and hand back its value and deadline (RENAME, MOVE).
    pub fn take(&mut self, key: &[u8], now: i64) -> Option<(Value, Option<i64>)> {
        self.preserve(key);
        let slot = self.live(key, now)?;
        let when = self.map.stamp_at(slot);
        self.map.remove(key).map(|value| (value, when))
    }

    /// The deadline of a live `key` in Unix ms: `None` when the key is missing,
    /// `Some(None)` when it has no deadline.
    pub fn deadline(&mut self, key: &[u8], now: i64) -> Option<Option<i64>> {
        let slot = self.live(key, now)?;
        Some(self.map.stamp_at(slot))
    }

    /// Give a live `key` a deadline; false when the key does not exist. A deadline in the past
    /// deletes the key, as Redis does.
    pub fn set_deadline(&mut self, key: &[u8], when: i64, now: i64) -> bool {
        let Some(slot) = self.live(key, now) else {
            return false;
        };
        self.preserve(key);
        if when <= now {
            self.map.remove(key);
        } else {
            self.map.set_stamp_at(slot, Some(when));
        }
        true
    }

    /// Drop the deadline of a live `key`; true when it had one.
    pub fn persist(&mut self, key: &[u8], now: i64) -> bool {
        let Some(slot) = self.live(key, now) else {
            return false;
        };
        let had = self.map.stamp_at(slot).is_some();
        self.preserve(key);
        self.map.set_stamp_at(slot, None);
        had
    }

    /// Mark a live key accessed (TOUCH); true when it exists.
    pub fn touch(&mut self, key: &[u8], now: i64) -> bool {
        self.get(key, now).is_some()
    }

    /// Seconds since a live key was last accessed (OBJECT IDLETIME), without touching it: its
    /// access word read as an LRU clock.
    pub fn idle_seconds(&mut self, key: &[u8], now: i64) -> Option<u64> {
        let slot = self.live(key, now)?;
        Some(crate::access::lru_idle_seconds(self.map.meta_at(slot), now))
    }

    /// A live key's LFU counter after decay (OBJECT FREQ), without touching it: its access
    /// word read as LFU with `lfu-decay-time` minutes per step.
    pub fn lfu_frequency(&mut self, key: &[u8], decay_time: u32, now: i64) -> Option<u8> {
        let slot = self.live(key, now)?;
        Some(crate::access::lfu_counter(
            self.map.meta_at(slot),
            decay_time,
            now,
        ))
    }

    /// Delete a live `key` to store it again under another name or in another database
    /// (RENAME, RENAMENX, MOVE): its value, deadline and access word, since Redis moves the
    /// very object, LRU/LFU field included. See [`Db::put_moved`].
    pub fn take_to_move(&mut self, key: &[u8], now: i64) -> Option<Moved> {
        let slot = self.live(key, now)?;
        let word = self.map.meta_at(slot);
        let (value, deadline) = self.take(key, now)?;
        Some(Moved {
            value,
            deadline,
            word,
        })
    }

    /// Store what [`Db::take_to_move`] took, under `key`, replacing what `key` held.
    pub fn put_moved(&mut self, key: Bytes, moved: Moved, now: i64) {
        self.set(&key, moved.value, moved.deadline, false, now);
        if let Some(slot) = self.live(&key, now) {
            self.map.set_meta_at(slot, moved.word);
        }
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
        self.map.stamped_len()
    }

    /// Every live key matching `pattern` (KEYS). Expired keys are skipped, not deleted, so this
    /// only reads. The keys are copied into one buffer and handed out as slices of it: one
    /// allocation instead of one per key, which matters while the keyspace is locked.
    pub fn keys(&self, pattern: &[u8], now: i64) -> Vec<Bytes> {
        let all = pattern == b"*";
        let mut buffer = bytes::BytesMut::new();
        let mut ends = Vec::new();
        for (key, _, deadline) in self.map.iter_stamped() {
            if (all || glob_match(pattern, key, false)) && deadline.is_none_or(|when| when > now) {
                buffer.extend_from_slice(key);
                ends.push(buffer.len());
            }
        }
        let buffer = buffer.freeze();
        let mut start = 0;
        ends.into_iter()
            .map(|end| {
                let key = buffer.slice(start..end);
                start = end;
                key
            })
            .collect()
    }

    /// One SCAN call: visit buckets from `cursor` until `count` keys were gathered (or ten
    /// times that many buckets were visited, or the iteration ended), as Redis does. Returns
    /// the next cursor (0 when done) and the live keys met, with their values for filtering.
    /// Expired keys met on the way are deleted.
    pub fn scan(
        &mut self,
        cursor: u64,
        count: usize,
        now: i64,
    ) -> (u64, Vec<(Bytes, &'static str)>) {
        let mut found = Vec::new();
        let mut cursor = cursor;
        let mut budget = count.saturating_mul(10);
        loop {
            cursor = self.map.scan(cursor, |key, value| {
                found.push((Bytes::copy_from_slice(key), value.type_name()));
            });
            budget = budget.saturating_sub(1);
            if cursor == 0 || budget == 0 || found.len() >= count {
                break;
            }
        }
        found.retain(|(key, _)| !self.expire_if_due(key, now));
        (cursor, found)
    }

    /// A random live key (RANDOMKEY). Expired keys met on the way are deleted, as Redis does on
    /// a master; every such pick removes a key, so this ends.
    pub fn random_key(&mut self, now: i64, mut random: impl FnMut() -> u64) -> Option<Bytes> {
        // A replica keeps dead keys: like Redis, it gives up looking after 100 of them.
        let mut tries = 0;
        loop {
            let key = Bytes::copy_from_slice(self.map.random_entry(&mut random)?.0);
            tries += 1;
            if !self.expire_if_due(&key, now) || (self.retain_expired && tries >= 100) {
                return Some(key);
            }
        }
    }

    /// Remove every key. A large database is dropped on a background thread.
    pub fn clear(&mut self) {
        // A snapshot being copied cannot see the old contents any more: it is abandoned.
        let cow = self.cow.take().map(|_| {
            Box::new(CowLog {
                aborted: true,
                ..CowLog::default()
            })
        });
        let old = std::mem::take(self);
        self.cow = cow;
        self.counters = old.counters;
        self.access = old.access;
        self.random = old.random;
        if old.len() > FREE_IN_BACKGROUND_ABOVE {
            std::thread::spawn(move || drop(old));
        }
    }

    /// One round of active expiry: test up to `samples` random keys that have a deadline and
    /// remove those that are due.
    pub fn expire_sample(
        &mut self,
        now: i64,
        samples: usize,
        random: impl FnMut() -> u64,
    ) -> CycleStats {
        let picked = self.map.sample_stamped(samples, random);
        // The dict may return fewer than asked (a sparse table): count what was really
        // examined, or a round that found three expired keys looks "mostly live".
        let sampled = picked.len();
        let due: Vec<CompactBytes> = picked
            .into_iter()
            .filter(|&(_, _, when)| when <= now)
            .map(|(key, _, _)| key.clone())
            .collect();
        for key in &due {
            self.preserve(key);
            self.map.remove(&key[..]);
            self.expired.push(Bytes::copy_from_slice(&key[..]));
        }
        self.counters.expired += due.len() as u64;
        CycleStats {
            sampled,
            expired: due.len(),
        }
    }

    /// Record a key the server deleted on its own (an eviction), for the replicas' DEL.
    pub fn log_deletion(&mut self, key: Bytes) {
        self.expired.push(key);
    }

    /// The keys that expired (or were evicted) since the last call, oldest first.
    pub fn take_expired(&mut self) -> Vec<Bytes> {
        std::mem::take(&mut self.expired)
    }

    /// Whether keys expired since the last [`Db::take_expired`].
    pub fn has_expired(&self) -> bool {
        !self.expired.is_empty()
    }

    /// Up to `count` random keys for eviction (`maxmemory`): from every key, or with `volatile`
    /// only from those with a deadline; each with its access word and its deadline.
    pub fn eviction_sample(
        &self,
        volatile: bool,
        count: usize,
        random: impl FnMut() -> u64,
    ) -> Vec<EvictionCandidate> {
        let picked: Vec<(&CompactBytes, Option<i64>)> = if volatile {
            self.map
                .sample_stamped(count, random)
                .into_iter()
                .map(|(key, _, when)| (key, Some(when)))
                .collect()
        } else {
            self.map
                .sample(count, random)
                .into_iter()
                .map(|(key, _)| (key, None))
                .collect()
        };
        picked
            .into_iter()
            .filter_map(|(key, deadline)| {
                let slot = self.map.slot_of(&key[..])?;
                Some(EvictionCandidate {
                    key: Bytes::copy_from_slice(key),
                    accessed: self.map.meta_at(slot),
                    deadline,
                })
            })
            .collect()
    }

    /// Move an ongoing rehash of the table forward for about `budget` (Redis's active
    /// rehashing, run from the server's timer); true while work remains.
    pub fn rehash_for(&mut self, budget: std::time::Duration) -> bool {
        self.map.rehash_for(budget)
    }
}

/// A key sampled for eviction, with what the policies rank it by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvictionCandidate {
    pub key: Bytes,
    /// The access word (LRU clock or LFU counter, see [`crate::access`]).
    pub accessed: u32,
    /// The deadline in Unix milliseconds, for keys sampled among those with one.
    pub deadline: Option<i64>,
}

/// All databases of the server.
#[derive(Debug)]
pub struct Keyspace {
    dbs: Vec<Db>,
    /// See [`Keyspace::set_touching`].
    no_touch: bool,
    /// See [`Keyspace::set_retain_expired`].
    retain_expired: bool,
    /// The best eviction candidates seen so far (`maxmemory`), kept between commands.
    pub(crate) eviction_pool: crate::evict::Pool,
    /// See [`Keyspace::set_access_clock`].
    access: AccessClock,
    /// The databases that may hold expired keys not drained yet: bit `i` for database `i`,
    /// the top bit for every database from 63 on. Set when a database is handed out (only
    /// then can its keys expire), cleared by `drain_expired`, which then looks at those
    /// databases alone: a request touches one, and this runs after every request.
    touched: u64,
}

impl Keyspace {
    pub fn new(databases: usize) -> Keyspace {
        Keyspace {
            dbs: (0..databases.max(1)).map(|_| Db::default()).collect(),
            no_touch: false,
            retain_expired: false,
            eviction_pool: crate::evict::Pool::default(),
            access: AccessClock::default(),
            touched: 0,
        }
    }

    /// Note that database `index` may gain expired keys (see `touched`).
    fn touch_db(&mut self, index: usize) {
        self.touched |= 1 << index.min(63);
    }

    /// Database `index`. Callers check the index against `len` (SELECT does).
    pub fn db(&mut self, index: usize) -> &mut Db {
        self.touch_db(index);
        let db = &mut self.dbs[index];
        db.no_touch = self.no_touch;
        db.access = self.access;
        db.retain_expired = self.retain_expired;
        db
    }

    /// How accesses are recorded from now on: the LRU clock, or under an LFU policy the LFU
    /// counter with its knobs. The dispatcher sets it from the configuration before every
    /// command. Existing words are kept and read the new way (see [`crate::access`]).
    /// Entering LFU seeds each database's random stream from `seed`.
    pub fn set_access_clock(&mut self, clock: AccessClock, mut seed: impl FnMut() -> u64) {
        if clock == self.access {
            return;
        }
        if clock.is_lfu() && !self.access.is_lfu() {
            for db in &mut self.dbs {
                db.random = seed();
            }
        }
        self.access = clock;
    }

    /// The current access clock (see [`Keyspace::set_access_clock`]).
    pub fn access_clock(&self) -> AccessClock {
        self.access
    }

    /// Whether the command about to run may mark keys accessed (false for a CLIENT NO-TOUCH
    /// client's commands other than TOUCH). The session sets it before every command.
    pub fn set_touching(&mut self, touching: bool) {
        self.no_touch = !touching;
    }

    /// Lookups and expiry counted over every database.
    pub fn counters(&self) -> Counters {
        self.dbs
            .iter()
            .fold(Counters::default(), |sum, db| Counters {
                hits: sum.hits + db.counters.hits,
                misses: sum.misses + db.counters.misses,
                expired: sum.expired + db.counters.expired,
            })
    }

    /// CONFIG RESETSTAT: the counters back to zero.
    pub fn reset_counters(&mut self) {
        for db in &mut self.dbs {
            db.counters = Counters::default();
        }
    }

    /// Two different databases at once (MOVE, COPY ... DB).
    pub fn two_dbs(&mut self, a: usize, b: usize) -> Option<(&mut Db, &mut Db)> {
        if a == b || a >= self.dbs.len() || b >= self.dbs.len() {
            return None;
        }
        let no_touch = self.no_touch;
        for index in [a, b] {
            self.touch_db(index);
            self.dbs[index].no_touch = no_touch;
            self.dbs[index].access = self.access;
            self.dbs[index].retain_expired = self.retain_expired;
        }
        if a < b {
            let (left, right) = self.dbs.split_at_mut(b);
            Some((&mut left[a], &mut right[0]))
        } else {
            let (left, right) = self.dbs.split_at_mut(a);
            Some((&mut right[0], &mut left[b]))
        }
    }

    /// Exchange the contents of two databases (SWAPDB).
    pub fn swap(&mut self, a: usize, b: usize) {
        self.dbs.swap(a, b);
        // Keys waiting to be drained moved with their databases.
        self.touch_db(a);
        self.touch_db(b);
        // A snapshot being copied follows databases by index: it is abandoned.
        for index in [a, b] {
            if let Some(cow) = self.dbs[index].cow.as_deref_mut() {
                cow.aborted = true;
                cow.before.clear();
            }
        }
    }

    /// Empty every database (FLUSHALL).
    pub fn clear(&mut self) {
        self.dbs.iter_mut().for_each(Db::clear);
    }

    /// Active rehashing of every database, spending at most `budget` in all.
    pub fn rehash_for(&mut self, budget: std::time::Duration) {
        let per_db = budget / self.dbs.len().max(1) as u32;
        for db in &mut self.dbs {
            db.rehash_for(per_db);
        }
    }

    pub fn len(&self) -> usize {
        self.dbs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.dbs.is_empty()
    }

    /// Hand every key that expired since the last call to `each` with its database index, in
    /// database order.
    pub fn drain_expired(&mut self, mut each: impl FnMut(usize, Vec<Bytes>)) {
        let mut touched = std::mem::take(&mut self.touched);
        while touched != 0 {
            let bit = touched.trailing_zeros() as usize;
            touched &= touched - 1;
            // The top bit stands for database 63 and every one after it.
            let end = if bit == 63 { self.dbs.len() } else { bit + 1 };
            for index in bit..end.min(self.dbs.len()) {
                let db = &mut self.dbs[index];
                if db.has_expired() {
                    each(index, db.take_expired());
                }
            }
        }
    }

    /// Replica mode: keys past their deadline read as missing but are kept until the master
    /// deletes them (see `Db::retain_expired`).
    pub fn set_retain_expired(&mut self, retain: bool) {
        self.retain_expired = retain;
        for db in &mut self.dbs {
            db.retain_expired = retain;
        }
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
        Value::Str(Str::encoded(Bytes::copy_from_slice(v.as_bytes())))
    }

    /// `drain_expired` looks only at the databases handed out since it last ran: keys that
    /// expired in any of them, low or high (63 and above share a bit), are all reported once.
    #[test]
    fn drain_expired_reports_every_database_with_expired_keys() {
        let mut keyspace = Keyspace::new(100);
        let dbs = [0, 5, 63, 64, 99];
        for index in dbs {
            keyspace.db(index).set(b"k", s("v"), Some(1_000), false, 0);
        }
        let mut drained = Vec::new();
        keyspace.drain_expired(|db, keys| drained.push((db, keys)));
        assert!(drained.is_empty());
        for index in dbs {
            assert_eq!(keyspace.db(index).get(b"k", 2_000), None);
        }
        keyspace.drain_expired(|db, keys| drained.push((db, keys)));
        let expected: Vec<(usize, Vec<Bytes>)> = dbs
            .iter()
            .map(|&db| (db, vec![Bytes::from_static(b"k")]))
            .collect();
        assert_eq!(drained, expected);
        drained.clear();
        keyspace.drain_expired(|db, keys| drained.push((db, keys)));
        assert!(drained.is_empty());
    }

    #[test]
    fn lazy_expiry_on_access() {
        let mut db = Db::default();
        db.set(b"k", s("v"), Some(1_000), false, 0);
        assert_eq!(db.get(b"k", 999), Some(&s("v")));
        assert_eq!(db.get(b"k", 1_000), None);
        assert_eq!(db.len(), 0);
        assert_eq!(db.volatile_len(), 0);
    }

    #[test]
    fn set_drops_or_keeps_the_ttl() {
        let mut db = Db::default();
        db.set(b"k", s("v"), Some(1_000), false, 0);
        db.set(b"k", s("w"), None, true, 0);
        assert_eq!(db.deadline(b"k", 0), Some(Some(1_000)));
        db.set(b"k", s("x"), None, false, 0);
        assert_eq!(db.deadline(b"k", 0), Some(None));
        assert_eq!(db.deadline(b"nope", 0), None);
    }

    #[test]
    fn keepttl_does_not_keep_a_deadline_that_has_passed() {
        let mut db = Db::default();
        db.set(b"k", s("v"), Some(1_000), false, 0);
        // At 2000 the deadline has passed but nothing has reclaimed the key yet.
        db.set(b"k", s("w"), None, true, 2_000);
        assert_eq!(
            db.get(b"k", 2_000),
            Some(&s("w")),
            "the new value lives, without a deadline"
        );
        assert_eq!(db.deadline(b"k", 2_000), Some(None));
    }

    #[test]
    fn a_deadline_in_the_past_deletes() {
        let mut db = Db::default();
        db.set(b"k", s("v"), None, false, 0);
        assert!(db.set_deadline(b"k", 5, 10));
        assert!(!db.contains(b"k", 10));
        assert!(!db.set_deadline(b"k", 50, 10));
    }

    #[test]
    fn encodings_follow_redis() {
        assert_eq!(Str::encoded(Bytes::from_static(b"123")), Str::Int(123));
        assert_eq!(
            Str::encoded(Bytes::from_static(b"-9223372036854775808")),
            Str::Int(i64::MIN)
        );
        assert_eq!(
            Str::encoded(Bytes::from_static(b"12345678901234567890")).encoding(),
            "embstr"
        );
        assert_eq!(
            Str::encoded(Bytes::from_static(b"007")).encoding(),
            "embstr"
        );
        assert_eq!(
            Str::encoded(Bytes::from(vec![b'x'; 44])).encoding(),
            "embstr"
        );
        assert_eq!(Str::encoded(Bytes::from(vec![b'x'; 45])).encoding(), "raw");
        for n in [0, 9, 10, -1, -10, 99, 100, i64::MAX, i64::MIN] {
            assert_eq!(Str::Int(n).len(), n.to_string().len(), "{n}");
        }
    }

    #[test]
    fn idle_time_counts_from_the_last_access() {
        let mut db = Db::default();
        db.set(b"k", s("v"), None, false, 1_000);
        assert_eq!(db.idle_seconds(b"k", 11_000), Some(10));
        db.get(b"k", 11_000);
        assert_eq!(db.idle_seconds(b"k", 12_000), Some(1));
    }

    #[test]
    fn scan_returns_every_stable_key_while_the_table_grows_and_shrinks() {
        let mut db = Db::default();
        let stable: Vec<String> = (0..3000).map(|i| format!("stable:{i}")).collect();
        for key in &stable {
            db.set(&Bytes::from(key.clone()), s("v"), None, false, 0);
        }
        let mut seen = std::collections::HashSet::new();
        let (mut cursor, mut calls, mut churn) = (0u64, 0, 0usize);
        loop {
            let (next, keys) = db.scan(cursor, 10, 0);
            seen.extend(keys.into_iter().map(|(k, _)| k));
            calls += 1;
            // Between calls: a burst of new keys (forcing growth), later removed (shrinking).
            if calls % 20 == 0 {
                for i in 0..2000 {
                    db.set(
                        &Bytes::from(format!("churn:{churn}:{i}")),
                        s("v"),
                        None,
                        false,
                        0,
                    );
                }
            } else if calls % 20 == 10 {
                for i in 0..2000 {
                    db.remove(format!("churn:{churn}:{i}").as_bytes(), 0);
                }
                churn += 1;
            }
            cursor = next;
            if cursor == 0 {
                break;
            }
            assert!(calls < 100_000, "the scan must end");
        }
        for key in &stable {
            assert!(seen.contains(key.as_bytes()), "{key} was never returned");
        }
    }

    #[test]
    fn active_expiry_reclaims_unread_keys() {
        let mut db = Db::default();
        for i in 0..1000 {
            let key = Bytes::from(format!("k{i}"));
            db.set(
                &key,
                s("v"),
                Some(if i % 2 == 0 { 10 } else { 1_000_000 }),
                false,
                0,
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

// Added for generic (OBJECT REFCOUNT): which values Redis stores as shared objects is a fact
// about values and SHARED_INTEGERS, which command modules cannot see from the prelude.
impl Db {
    /// What OBJECT REFCOUNT reports for a live key, without marking it accessed. Redis keeps one
    /// object per integer in `0..SHARED_INTEGERS` and stores such values by reference, which it
    /// reports as `i32::MAX`, unless `share_integers` is false (a memory limit with an LRU or
    /// LFU policy, which needs an access clock per value). Every other value has one owner.
    pub fn refcount(&mut self, key: &[u8], now: i64, share_integers: bool) -> Option<i64> {
        Some(match self.peek(key, now)? {
            Value::Str(Str::Int(n)) if share_integers && (0..SHARED_INTEGERS).contains(n) => {
                i64::from(i32::MAX)
            }
            Value::Str(_) => 1,
        })
    }
}

#[cfg(test)]
mod generic_tests {
    use super::*;

    fn set(db: &mut Db, key: &'static str, value: &'static str, now: i64) {
        let value = Value::Str(Str::encoded(Bytes::from_static(value.as_bytes())));
        db.set(&Bytes::from_static(key.as_bytes()), value, None, false, now);
    }

    #[test]
    fn shared_integers_report_int_max_when_sharing_is_on() {
        let mut db = Db::default();
        for (value, shared) in [
            ("0", true),
            ("9999", true),
            ("10000", false),
            ("-1", false),
            ("007", false),
            ("hello", false),
        ] {
            set(&mut db, "k", value, 0);
            let want = if shared { i64::from(i32::MAX) } else { 1 };
            assert_eq!(db.refcount(b"k", 0, true), Some(want), "{value}");
            assert_eq!(db.refcount(b"k", 0, false), Some(1), "{value}");
        }
        assert_eq!(db.refcount(b"nope", 0, true), None);
    }

    #[test]
    fn refcount_neither_touches_nor_revives() {
        let mut db = Db::default();
        set(&mut db, "k", "5", 1_000);
        assert_eq!(db.refcount(b"k", 11_000, true), Some(i64::from(i32::MAX)));
        assert_eq!(db.idle_seconds(b"k", 11_000), Some(10));
        assert!(db.set_deadline(b"k", 12_000, 11_000));
        assert_eq!(db.refcount(b"k", 12_000, true), None);
        assert!(db.is_empty());
    }
}

// Added for persistence (issue #6).
impl Keyspace {
    /// Keys in every database, expired ones not reclaimed yet included (what FLUSHALL counts
    /// as changes).
    pub fn total_keys(&self) -> usize {
        self.dbs.iter().map(Db::len).sum()
    }
}

// Consistent snapshots without fork (BGSAVE): copy-before-write at key granularity.
//
// `snapshot_begin` marks the instant. From then on, the first write to a key (set, delete,
// expiry, in-place change, deadline change) records what the key held at that instant in
// the database's `CowLog`. A saver copies the databases in bounded slices with SCAN
// cursors (`snapshot_copy`), releasing the lock between slices, then `snapshot_end` hands
// over the logs. The snapshot is: every copied key that is not in the log, plus every key
// the log says existed. A key never written since the instant is live with the same value
// for the whole copy, so SCAN returns it (perhaps twice, after a shrink: the saver drops
// duplicates); a key written since is in the log with its state at the instant.
impl Keyspace {
    /// Start a snapshot at this instant (the caller holds the keyspace lock).
    pub fn snapshot_begin(&mut self) {
        for db in &mut self.dbs {
            db.cow = Some(Box::default());
        }
    }

    /// Whether a snapshot is being copied.
    pub fn snapshot_active(&self) -> bool {
        self.dbs.iter().any(|db| db.cow.is_some())
    }

    /// Copy keys of database `db` from `cursor` on into `out`, visiting buckets until at least
    /// `budget` keys were copied or the database ends. Returns the next cursor (0: done).
    pub fn snapshot_copy(
        &self,
        db: usize,
        cursor: u64,
        budget: usize,
        out: &mut Vec<crate::rdb::SnapshotEntry>,
    ) -> u64 {
        let Some(db) = self.dbs.get(db) else {
            return 0;
        };
        let start = out.len();
        let mut cursor = cursor;
        loop {
            cursor = db.map.scan(cursor, |key, value| {
                out.push(crate::rdb::SnapshotEntry {
                    key: key.clone(),
                    value: value.clone(),
                    expire_at: db
                        .map
                        .slot_of(&key[..])
                        .and_then(|slot| db.map.stamp_at(slot)),
                });
            });
            if cursor == 0 || out.len() - start >= budget {
                return cursor;
            }
        }
    }

    /// End the snapshot: the copy-before-write log of every database, or `None` when the
    /// snapshot was abandoned (a database was emptied or swapped while it was copied).
    pub fn snapshot_end(&mut self) -> Option<Vec<CowLog>> {
        let logs: Vec<CowLog> = self
            .dbs
            .iter_mut()
            .map(|db| db.cow.take().map(|b| *b).unwrap_or_default())
            .collect();
        if logs.iter().any(|log| log.aborted) {
            return None;
        }
        Some(logs)
    }

    /// Abandon a snapshot being copied (FLUSHALL, SHUTDOWN).
    pub fn snapshot_abort(&mut self) {
        for db in &mut self.dbs {
            db.cow = None;
        }
    }

    /// Database sizes for RESIZEDB: keys, and keys with a deadline.
    pub fn sizes(&self, db: usize) -> (usize, usize) {
        self.dbs
            .get(db)
            .map_or((0, 0), |d| (d.map.len(), d.map.stamped_len()))
    }
}

impl crate::rdb::Source for Keyspace {
    fn databases(&self) -> usize {
        self.dbs.len()
    }

    fn sizes(&self, db: usize) -> (usize, usize) {
        Keyspace::sizes(self, db)
    }

    fn visit(&self, db: usize, visit: &mut crate::rdb::Visitor<'_>) -> std::io::Result<()> {
        let db = &self.dbs[db];
        for (key, value, deadline) in db.map.iter_stamped() {
            visit(key, value, deadline)?;
        }
        Ok(())
    }
}

/// Put a snapshot together from what the saver copied and the logs `snapshot_end` returned
/// (see above). `copied[db]` is consumed.
pub fn assemble_snapshot(
    copied: Vec<Vec<crate::rdb::SnapshotEntry>>,
    logs: Vec<CowLog>,
) -> crate::rdb::Snapshot {
    let mut dbs = Vec::with_capacity(copied.len());
    for (mut entries, log) in copied.into_iter().zip(logs) {
        // Sorting finds SCAN's duplicates without a set of every key beside the copy (the
        // copy is already the largest cost of a save); the file's key order is free.
        entries.sort_unstable_by(|a, b| a.key.as_slice().cmp(b.key.as_slice()));
        entries.dedup_by(|a, b| a.key == b.key);
        entries.retain(|e| !log.before.contains_key(&e.key));
        for (key, state) in log.before {
            if let Some((value, expire_at)) = state {
                entries.push(crate::rdb::SnapshotEntry {
                    key,
                    value,
                    expire_at,
                });
            }
        }
        dbs.push(entries);
    }
    crate::rdb::Snapshot { dbs }
}

#[cfg(test)]
mod snapshot_tests {
    use super::*;
    use std::collections::BTreeMap;

    fn s(v: &str) -> Value {
        Value::Str(Str::encoded(Bytes::copy_from_slice(v.as_bytes())))
    }

    /// Every key of every database with its value and deadline, in key order.
    type Contents = Vec<BTreeMap<Vec<u8>, (Value, Option<i64>)>>;

    fn contents(ks: &Keyspace) -> Contents {
        (0..ks.len())
            .map(|i| {
                let db = &ks.dbs[i];
                db.map
                    .iter_stamped()
                    .map(|(k, v, deadline)| (k.to_vec(), (v.clone(), deadline)))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn a_snapshot_copied_in_slices_sees_the_instant_it_began() {
        let mut seed = 0x1234_5678_9ABC_DEF1u64;
        let mut random = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..20 {
            let mut ks = Keyspace::new(2);
            for i in 0..3000 {
                let deadline = (i % 5 == 0).then_some(10_000 + i);
                ks.db(i as usize % 2).set(
                    &Bytes::from(format!("k{i}")),
                    s(&format!("v{i}")),
                    deadline,
                    false,
                    0,
                );
            }
            let expected = contents(&ks);
            ks.snapshot_begin();
            let mut copied = vec![Vec::new(), Vec::new()];
            let mut now = 0;
            for (db, out) in copied.iter_mut().enumerate() {
                let mut cursor = 0;
                loop {
                    cursor = ks.snapshot_copy(db, cursor, 50, out);
                    // Writes between slices: sets, deletes (enough to shrink the table),
                    // in-place changes, deadlines, expiry.
                    for _ in 0..40 {
                        let key = format!("k{}", random() % 4000);
                        let target = (random() % 2) as usize;
                        let d = ks.db(target);
                        match random() % 7 {
                            0 => d.set(&Bytes::from(key), s("new"), None, false, now),
                            1..=3 => {
                                d.remove(key.as_bytes(), now);
                            }
                            4 => {
                                if let Some(Value::Str(v)) = d.get_mut(key.as_bytes(), now) {
                                    *v = Str::Int(-1);
                                }
                            }
                            5 => {
                                d.set_deadline(key.as_bytes(), now + 5, now);
                            }
                            _ => {
                                d.persist(key.as_bytes(), now);
                            }
                        }
                    }
                    now += 1;
                    ks.db(0).expire_sample(now + 20_000, 20, &mut random);
                    if cursor == 0 {
                        break;
                    }
                }
            }
            let logs = ks.snapshot_end().expect("not abandoned");
            assert!(!ks.snapshot_active());
            let snapshot = assemble_snapshot(copied, logs);
            let got: Contents = snapshot
                .dbs
                .iter()
                .map(|entries| {
                    let map: BTreeMap<_, _> = entries
                        .iter()
                        .map(|e| (e.key.to_vec(), (e.value.clone(), e.expire_at)))
                        .collect();
                    assert_eq!(map.len(), entries.len(), "no key twice");
                    map
                })
                .collect();
            assert_eq!(got, expected, "round {round}");
        }
    }

    #[test]
    fn emptying_or_swapping_a_database_abandons_the_snapshot() {
        let mut ks = Keyspace::new(2);
        ks.db(0).set(b"k", s("v"), None, false, 0);
        ks.snapshot_begin();
        ks.db(1).clear();
        assert!(ks.snapshot_end().is_none());
        ks.snapshot_begin();
        ks.swap(0, 1);
        assert!(ks.snapshot_end().is_none());
        ks.snapshot_begin();
        assert!(ks.snapshot_end().is_some());
    }
}

/// What DEBUG OBJECT shows about a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    /// Where the value lives in memory (only to tell two values apart).
    pub address: usize,
    pub encoding: &'static str,
    /// The bytes the value takes in an RDB file as we write it ([`crate::rdb::value_len`]).
    pub serialized_len: usize,
    /// The access clock as Redis's objects keep it: seconds, on a 24-bit wrapping clock.
    pub lru: u32,
    /// An integer Redis would store as one of its shared objects (see [`Db::refcount`]).
    pub shared_integer: bool,
    pub idle_seconds: u64,
}

impl Db {
    /// DEBUG OBJECT's facts about a key, without marking it accessed. Like Redis's, this looks
    /// at the table as it is: a key past its deadline that nothing has removed yet is shown.
    /// `compression` is `rdbcompression`, which decides the serialized length of long strings.
    pub fn object_info(&mut self, key: &[u8], now: i64, compression: bool) -> Option<ObjectInfo> {
        let slot = self.map.slot_of(key)?;
        let value = self.map.at(slot).1;
        let accessed = self.map.meta_at(slot);
        let Value::Str(s) = value;
        Some(ObjectInfo {
            address: std::ptr::from_ref(value) as usize,
            encoding: s.encoding(),
            serialized_len: crate::rdb::value_len(value, compression),
            lru: accessed & crate::access::LRU_CLOCK_MAX,
            shared_integer: matches!(s, Str::Int(n) if (0..SHARED_INTEGERS).contains(n)),
            idle_seconds: crate::access::lru_idle_seconds(accessed, now),
        })
    }
}

#[cfg(test)]
mod object_info_tests {
    use super::*;

    #[test]
    fn serialized_lengths_are_redis_s() {
        let len = |v: &str| {
            crate::rdb::value_len(&Value::Str(Str::encoded(Bytes::from(v.to_string()))), true)
        };
        // Checked with DEBUG OBJECT on redis-server 7.0.15 (rdbcompression yes).
        assert_eq!(len("hello"), 6);
        assert_eq!(len("12"), 2);
        assert_eq!(len("10000"), 3);
        assert_eq!(len("1000000"), 5);
        assert_eq!(len("123456789012"), 13);
        // Compressible strings over 20 bytes are LZF-compressed. Redis says 21 and 12 for these
        // two; our compressor finds other matches than liblzf's, so only the saving is checked.
        assert!(len(&"0123456789".repeat(5)) < 51);
        assert!(len(&"a".repeat(47)) < 48);
        assert_eq!(len(&"x".repeat(20)), 21, "20 bytes are never compressed");
        let plain = |v: &'static str| {
            crate::rdb::value_len(
                &Value::Str(Str::plain(Bytes::from_static(v.as_bytes()))),
                true,
            )
        };
        assert_eq!(plain("300"), 3);
        assert_eq!(plain("007"), 4);
    }
}

// DEBUG RELOAD (issue #6): the keys of a freshly loaded keyspace replace or join these.
impl Keyspace {
    /// Take every key of `loaded`. With `flush` the current keys go first (a snapshot being
    /// copied is abandoned, as by FLUSHALL); otherwise they stay, and a key in both is
    /// replaced by the loaded one when `replace`, or refused (the first such key, db and name,
    /// before anything changes) when not.
    pub fn absorb(
        &mut self,
        loaded: Keyspace,
        flush: bool,
        replace: bool,
        now: i64,
    ) -> Result<(), (usize, Bytes)> {
        if !flush && !replace {
            for (index, (db, fresh)) in self.dbs.iter().zip(&loaded.dbs).enumerate() {
                if let Some((key, _, _)) = fresh
                    .map
                    .iter_stamped()
                    .find(|(key, _, _)| db.map.get(&key[..]).is_some())
                {
                    return Err((index, Bytes::copy_from_slice(key)));
                }
            }
        }
        // Replacing a key past its deadline expires it: every database may have some.
        self.touched = u64::MAX;
        for (db, fresh) in self.dbs.iter_mut().zip(loaded.dbs) {
            if flush {
                db.clear();
                db.map = fresh.map;
                continue;
            }
            for (key, value, deadline) in fresh.map.iter_stamped() {
                db.set(
                    &Bytes::copy_from_slice(key),
                    value.clone(),
                    deadline,
                    false,
                    now,
                );
            }
        }
        Ok(())
    }
}
