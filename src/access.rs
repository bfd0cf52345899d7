//! The access word every key carries (the dict's 32-bit `meta`), laid out as Redis lays out
//! its objects' 24-bit `lru` field:
//!
//! - under the LRU policies and the others that are not LFU: the LRU clock at the last
//!   access, Unix seconds on a clock that wraps at 24 bits;
//! - under `allkeys-lfu` and `volatile-lfu`: the minutes clock of the last access in bits
//!   8..24 (16 bits, wrapping) and a logarithmic access counter in bits 0..8. A new key's
//!   counter starts at 5; an access first takes one off per `lfu-decay-time` minutes since the
//!   last one, then adds one with probability 1 / ((counter - 5) * `lfu-log-factor` + 1).
//!
//! When the policy changes at run time the words stay as they are and are read the new way,
//! as Redis does: an LRU clock read as LFU gives a counter that has mostly decayed to 0, and
//! an LFU word read as an LRU clock gives an arbitrary idle time, until keys are accessed
//! again. Pure functions of the word, the time and a random number: no clock is read here.

/// Redis's LRU clock wraps at 24 bits (LRU_CLOCK_MAX).
pub const LRU_CLOCK_MAX: u32 = (1 << 24) - 1;

/// The counter a new key starts with under LFU (Redis's LFU_INIT_VAL).
pub const LFU_INIT_VAL: u8 = 5;

/// How keys' access words are kept: which policy family is selected, with the LFU knobs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AccessClock {
    /// The last access on the LRU clock (every policy but the LFU ones).
    #[default]
    Lru,
    /// The LFU counter (`maxmemory-policy` `allkeys-lfu` or `volatile-lfu`).
    Lfu {
        /// `lfu-log-factor`: the higher, the more accesses the counter needs to grow.
        log_factor: u32,
        /// `lfu-decay-time`: minutes per step the counter loses while idle; 0 never decays.
        decay_time: u32,
    },
}

impl AccessClock {
    /// From the configuration: the policy's name and the two LFU parameters.
    pub fn from_config(policy: &str, log_factor: u32, decay_time: u32) -> AccessClock {
        if policy.ends_with("-lfu") {
            AccessClock::Lfu {
                log_factor,
                decay_time,
            }
        } else {
            AccessClock::Lru
        }
    }

    pub fn is_lfu(self) -> bool {
        matches!(self, AccessClock::Lfu { .. })
    }

    /// The word of a key created at `now_ms`.
    pub fn fresh(self, now_ms: i64) -> u32 {
        match self {
            AccessClock::Lru => lru_clock(now_ms),
            AccessClock::Lfu { .. } => (lfu_minutes(now_ms) << 8) | u32::from(LFU_INIT_VAL),
        }
    }

    /// The word after an access at `now_ms`; `random` is drawn from only under LFU.
    pub fn touched(self, word: u32, now_ms: i64, random: impl FnOnce() -> u64) -> u32 {
        match self {
            AccessClock::Lru => lru_clock(now_ms),
            AccessClock::Lfu {
                log_factor,
                decay_time,
            } => {
                let counter = lfu_counter(word, decay_time, now_ms);
                let counter = lfu_log_incr(counter, log_factor, random());
                (lfu_minutes(now_ms) << 8) | u32::from(counter)
            }
        }
    }

    /// How the eviction pool ranks a key: the higher, the sooner it goes. Idle seconds
    /// under LRU, 255 less the decayed counter under LFU (as Redis's pool does).
    pub fn eviction_score(self, word: u32, now_ms: i64) -> u64 {
        match self {
            AccessClock::Lru => lru_idle_seconds(word, now_ms),
            AccessClock::Lfu { decay_time, .. } => {
                255 - u64::from(lfu_counter(word, decay_time, now_ms))
            }
        }
    }
}

/// Redis's LRU clock: Unix seconds, wrapping at 24 bits.
pub fn lru_clock(now_ms: i64) -> u32 {
    ((now_ms.max(0) / 1000) as u64 & u64::from(LRU_CLOCK_MAX)) as u32
}

/// Seconds since `word`, read as an LRU clock (OBJECT IDLETIME, DEBUG OBJECT). A word ahead
/// of the clock is taken to have wrapped, counted as Redis counts it.
pub fn lru_idle_seconds(word: u32, now_ms: i64) -> u64 {
    let clock = u64::from(lru_clock(now_ms));
    let word = u64::from(word & LRU_CLOCK_MAX);
    if clock >= word {
        clock - word
    } else {
        clock + (u64::from(LRU_CLOCK_MAX) - word)
    }
}

/// The LFU minutes clock: Unix minutes, wrapping at 16 bits.
fn lfu_minutes(now_ms: i64) -> u32 {
    ((now_ms.max(0) / 1000 / 60) as u64 & 0xFFFF) as u32
}

/// Minutes since the word's minutes clock, allowing for one wrap.
fn lfu_elapsed_minutes(word: u32, now_ms: i64) -> u32 {
    let then = (word >> 8) & 0xFFFF;
    let now = lfu_minutes(now_ms);
    if now >= then {
        now - then
    } else {
        65535 - then + now
    }
}

/// The word's counter less one per `decay_time` minutes since its last access, not below 0
/// (what OBJECT FREQ shows; the word itself is not changed).
pub fn lfu_counter(word: u32, decay_time: u32, now_ms: i64) -> u8 {
    let counter = (word & 0xFF) as u8;
    if decay_time == 0 {
        return counter;
    }
    let periods = lfu_elapsed_minutes(word, now_ms) / decay_time;
    counter.saturating_sub(u8::try_from(periods).unwrap_or(u8::MAX))
}

/// One access's increment: certain up to the initial value, then ever less likely, never past
/// 255. `random` is a uniformly random u64.
pub fn lfu_log_incr(counter: u8, log_factor: u32, random: u64) -> u8 {
    if counter == u8::MAX {
        return counter;
    }
    // A uniform number in [0, 1) from the top 53 bits.
    let r = (random >> 11) as f64 / (1u64 << 53) as f64;
    let base = f64::from(counter.saturating_sub(LFU_INIT_VAL));
    let p = 1.0 / (base * f64::from(log_factor) + 1.0);
    if r < p {
        counter + 1
    } else {
        counter
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LFU: AccessClock = AccessClock::Lfu {
        log_factor: 10,
        decay_time: 1,
    };

    #[test]
    fn lru_clock_wraps_at_24_bits_and_idle_time_allows_for_it() {
        let t = 1_700_000_000_000i64;
        let word = lru_clock(t);
        assert!(word <= LRU_CLOCK_MAX);
        assert_eq!(lru_idle_seconds(word, t + 10_999), 10);
        // A clock that wrapped since the access.
        let base = i64::from(LRU_CLOCK_MAX) * 1000;
        let word = lru_clock(base - 5_000);
        assert_eq!(lru_idle_seconds(word, base + 3_000), 3 + 5 - 1);
    }

    #[test]
    fn a_new_key_counts_5_and_the_first_access_always_adds_one() {
        let t = 1_700_000_000_000i64;
        let word = LFU.fresh(t);
        assert_eq!(lfu_counter(word, 1, t), LFU_INIT_VAL);
        let word = LFU.touched(word, t, || u64::MAX);
        assert_eq!(lfu_counter(word, 1, t), 6);
    }

    #[test]
    fn the_counter_decays_one_per_decay_time_minutes() {
        // On a minute boundary.
        let t = 1_699_999_980_000i64;
        let word = LFU.fresh(t);
        assert_eq!(lfu_counter(word, 1, t + 3 * 60_000), 2);
        assert_eq!(lfu_counter(word, 2, t + 3 * 60_000 + 59_999), 4);
        assert_eq!(lfu_counter(word, 1, t + 600 * 60_000), 0);
        assert_eq!(lfu_counter(word, 0, t + 600 * 60_000), 5, "0 never decays");
        // An access decays first, then increments, and restarts the minutes clock.
        let touched = LFU.touched(word, t + 3 * 60_000, || 0);
        assert_eq!(lfu_counter(touched, 1, t + 3 * 60_000), 3);
    }

    #[test]
    fn increments_get_rarer_as_the_counter_grows() {
        let mut state = 1u64;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            state
        };
        let mut counter = LFU_INIT_VAL;
        for _ in 0..100 {
            counter = lfu_log_incr(counter, 10, next());
        }
        // With factor 10, 100 accesses reach about 10 (Redis's table: 100 hits -> 10).
        assert!((7..=14).contains(&counter), "{counter}");
        let mut counter = LFU_INIT_VAL;
        for _ in 0..1_000_000 {
            counter = lfu_log_incr(counter, 0, next());
        }
        assert_eq!(counter, 255, "factor 0 adds one per access, up to 255");
    }

    #[test]
    fn switching_policy_reinterprets_the_word() {
        let t = 1_700_000_000_000i64;
        // An LRU word read as LFU: its low byte as a counter, mostly decayed away.
        let lru = lru_clock(t);
        assert_eq!(
            lfu_counter(lru, 0, t),
            (lru & 0xFF) as u8,
            "without decay the low byte shows"
        );
        // An LFU word read as an LRU clock: some idle time, whatever it is, computed without
        // overflow.
        let lfu = LFU.fresh(t);
        assert!(lru_idle_seconds(lfu, t) <= u64::from(LRU_CLOCK_MAX));
        assert_eq!(AccessClock::Lru.touched(lfu, t, || 0), lru);
    }

    #[test]
    fn eviction_ranks_cold_keys_first() {
        let t = 1_700_000_000_000i64;
        let cold = LFU.fresh(t);
        let hot = (0..20).fold(cold, |w, _| LFU.touched(w, t, || 0));
        assert!(LFU.eviction_score(cold, t) > LFU.eviction_score(hot, t));
        let old = AccessClock::Lru.fresh(t);
        let new = AccessClock::Lru.fresh(t + 5_000);
        assert!(
            AccessClock::Lru.eviction_score(old, t + 5_000)
                > AccessClock::Lru.eviction_score(new, t + 5_000)
        );
    }
}
