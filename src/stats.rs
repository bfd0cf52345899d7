//! The server's counters for INFO: connections, commands (per command: calls, time, rejected
//! and failed calls), error replies by code, and the operations-per-second sampler; plus the
//! facts INFO reports that are fixed at startup (start time, run id, replication id).
//!
//! The session records every command here once it has run; CONFIG RESETSTAT zeroes the
//! counters. Nothing here reads the keyspace or the configuration.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How many per-100 ms samples `instantaneous_ops_per_sec` averages (Redis: 16).
const OPS_SAMPLES: usize = 16;
/// How often the ops sampler takes a sample (Redis samples in its 100 ms cron).
const OPS_SAMPLE_EVERY: Duration = Duration::from_millis(100);

/// One command's counters, as `cmdstat_<name>` prints them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommandStat {
    pub calls: u64,
    pub usec: u64,
    pub rejected_calls: u64,
    pub failed_calls: u64,
}

/// What became of a request, for the counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The command ran and replied without an error.
    Ok,
    /// The command ran and replied with an error.
    Failed,
    /// The command was refused before it ran (wrong number of arguments).
    Rejected,
    /// No such command: only the error counters move.
    Unknown,
}

/// The per-second rates Redis samples every 100 ms: commands, bytes read, bytes written.
const RATES: usize = 3;
const RATE_OPS: usize = 0;
const RATE_NET_IN: usize = 1;
const RATE_NET_OUT: usize = 2;

#[derive(Debug, Default)]
struct OpsSampler {
    last_at: Option<Instant>,
    last_count: [u64; RATES],
    samples: [[u64; OPS_SAMPLES]; RATES],
    next: usize,
}

/// Counters shared by every connection.
#[derive(Debug)]
pub struct Stats {
    started: Instant,
    started_unix_ms: u64,
    /// Random 40-hex-digit ids, new at every start, as Redis's `run_id` and `master_replid`.
    pub run_id: String,
    pub master_replid: String,
    connections_received: AtomicU64,
    connected: AtomicU64,
    commands_processed: AtomicU64,
    error_replies: AtomicU64,
    expired_keys: AtomicU64,
    rejected_connections: AtomicU64,
    net_input_bytes: AtomicU64,
    net_output_bytes: AtomicU64,
    reads_processed: AtomicU64,
    writes_processed: AtomicU64,
    expire_time_cap_reached: AtomicU64,
    /// Time spent in the active expiry cycle, in microseconds.
    expire_cycle_us: AtomicU64,
    /// Redis's `stat_expired_stale_perc`: a moving average (5% weight per cycle) of the share
    /// of sampled keys the active expiry cycle found expired; f64 bits.
    expired_stale: AtomicU64,
    evicted_keys: AtomicU64,
    startup_memory: u64,
    peak_memory: AtomicU64,
    commands: Mutex<BTreeMap<String, CommandStat>>,
    errors: Mutex<BTreeMap<String, u64>>,
    ops: Mutex<OpsSampler>,
}

impl Default for Stats {
    fn default() -> Stats {
        Stats::new()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Counters stay meaningful after a panic elsewhere: every update is a single step.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// 40 hex digits from the process's randomness (std's hasher keys are seeded from the OS).
fn random_hex40() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let mut out = String::with_capacity(40);
    while out.len() < 40 {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_usize(out.len());
        out.push_str(&format!("{:016x}", hasher.finish()));
    }
    out.truncate(40);
    out
}

impl Stats {
    pub fn new() -> Stats {
        let started_unix_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        Stats {
            started: Instant::now(),
            started_unix_ms,
            run_id: random_hex40(),
            master_replid: random_hex40(),
            connections_received: AtomicU64::new(0),
            connected: AtomicU64::new(0),
            commands_processed: AtomicU64::new(0),
            error_replies: AtomicU64::new(0),
            expired_keys: AtomicU64::new(0),
            rejected_connections: AtomicU64::new(0),
            net_input_bytes: AtomicU64::new(0),
            net_output_bytes: AtomicU64::new(0),
            reads_processed: AtomicU64::new(0),
            writes_processed: AtomicU64::new(0),
            expire_time_cap_reached: AtomicU64::new(0),
            expire_cycle_us: AtomicU64::new(0),
            expired_stale: AtomicU64::new(0f64.to_bits()),
            evicted_keys: AtomicU64::new(0),
            startup_memory: ALLOCATED.load(Ordering::Relaxed),
            peak_memory: AtomicU64::new(0),
            commands: Mutex::new(BTreeMap::new()),
            errors: Mutex::new(BTreeMap::new()),
            ops: Mutex::new(OpsSampler::default()),
        }
    }

    /// The process's own figures (memory, CPU, pid), read now.
    pub fn process(&self) -> Process {
        process()
    }

    /// Heap bytes in use when the server started.
    pub fn startup_memory(&self) -> u64 {
        self.startup_memory
    }

    /// The highest `used` figure seen so far (updated by this call).
    pub fn peak_memory(&self, used: u64) -> u64 {
        self.peak_memory
            .fetch_max(used, Ordering::Relaxed)
            .max(used)
    }

    /// Time since the server started.
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// Start time in Unix milliseconds.
    pub fn started_unix_ms(&self) -> u64 {
        self.started_unix_ms
    }

    /// A client connected (a session began).
    pub fn client_connected(&self) {
        self.connections_received.fetch_add(1, Ordering::Relaxed);
        self.connected.fetch_add(1, Ordering::Relaxed);
    }

    /// A client went away.
    pub fn client_disconnected(&self) {
        let _ = self
            .connected
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
    }

    pub fn connected_clients(&self) -> u64 {
        self.connected.load(Ordering::Relaxed)
    }

    pub fn total_connections_received(&self) -> u64 {
        self.connections_received.load(Ordering::Relaxed)
    }

    pub fn total_commands_processed(&self) -> u64 {
        self.commands_processed.load(Ordering::Relaxed)
    }

    pub fn total_error_replies(&self) -> u64 {
        self.error_replies.load(Ordering::Relaxed)
    }

    /// Connections refused at accept: over `maxclients`, or by protected mode (INFO's
    /// `rejected_connections`).
    pub fn rejected_connections(&self) -> u64 {
        self.rejected_connections.load(Ordering::Relaxed)
    }

    pub fn connection_rejected(&self) {
        self.rejected_connections.fetch_add(1, Ordering::Relaxed);
    }

    /// Keys evicted for `maxmemory` (INFO's `evicted_keys`).
    pub fn evicted_keys(&self) -> u64 {
        self.evicted_keys.load(Ordering::Relaxed)
    }

    pub fn keys_evicted(&self, count: u64) {
        if count > 0 {
            self.evicted_keys.fetch_add(count, Ordering::Relaxed);
        }
    }

    pub fn expired_keys(&self) -> u64 {
        self.expired_keys.load(Ordering::Relaxed)
    }

    /// Keys removed because their time was up.
    pub fn keys_expired(&self, count: u64) {
        self.expired_keys.fetch_add(count, Ordering::Relaxed);
    }

    /// A read from a client's socket brought `bytes` bytes.
    pub fn net_read(&self, bytes: usize) {
        self.reads_processed.fetch_add(1, Ordering::Relaxed);
        self.net_input_bytes
            .fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// A write to a client's socket sent `bytes` bytes.
    pub fn net_written(&self, bytes: usize) {
        self.writes_processed.fetch_add(1, Ordering::Relaxed);
        self.net_output_bytes
            .fetch_add(bytes as u64, Ordering::Relaxed);
    }

    pub fn total_net_input_bytes(&self) -> u64 {
        self.net_input_bytes.load(Ordering::Relaxed)
    }

    pub fn total_net_output_bytes(&self) -> u64 {
        self.net_output_bytes.load(Ordering::Relaxed)
    }

    pub fn total_reads_processed(&self) -> u64 {
        self.reads_processed.load(Ordering::Relaxed)
    }

    pub fn total_writes_processed(&self) -> u64 {
        self.writes_processed.load(Ordering::Relaxed)
    }

    /// One run of the active expiry cycle: how many keys it sampled and found expired, and
    /// whether it stopped because its time was up.
    pub fn expire_cycle_done(
        &self,
        sampled: usize,
        expired: usize,
        out_of_time: bool,
        took: Duration,
    ) {
        self.expire_cycle_us.fetch_add(
            u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        if out_of_time {
            self.expire_time_cap_reached.fetch_add(1, Ordering::Relaxed);
        }
        let current = if sampled > 0 {
            expired as f64 / sampled as f64
        } else {
            0.0
        };
        let _ = self
            .expired_stale
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                Some((current * 0.05 + f64::from_bits(bits) * 0.95).to_bits())
            });
    }

    /// `expired_stale_perc`: percent of sampled keys found expired, averaged over cycles.
    pub fn expired_stale_perc(&self) -> f64 {
        f64::from_bits(self.expired_stale.load(Ordering::Relaxed)) * 100.0
    }

    /// `expire_cycle_cpu_milliseconds`: time spent in the active expiry cycle.
    pub fn expire_cycle_cpu_milliseconds(&self) -> u64 {
        self.expire_cycle_us.load(Ordering::Relaxed) / 1000
    }

    pub fn expired_time_cap_reached_count(&self) -> u64 {
        self.expire_time_cap_reached.load(Ordering::Relaxed)
    }

    /// Count one request. `command` is the full name (`get`, `config|set`) when the command
    /// exists; `error_code` the first word of an error reply (`ERR`, `WRONGTYPE`), if any.
    pub fn record(
        &self,
        command: Option<&str>,
        elapsed: Duration,
        outcome: Outcome,
        error_code: Option<&str>,
    ) {
        self.record_at(command, elapsed, outcome, error_code, Instant::now());
    }

    /// `record`, for a caller that has just read the clock (`now`): clock reads are a
    /// measurable share of a command's cost.
    pub fn record_at(
        &self,
        command: Option<&str>,
        elapsed: Duration,
        outcome: Outcome,
        error_code: Option<&str>,
        now: Instant,
    ) {
        if let Some(code) = error_code {
            self.error_replies.fetch_add(1, Ordering::Relaxed);
            *lock(&self.errors).entry(code.to_string()).or_default() += 1;
        }
        let Some(name) = command else { return };
        if matches!(outcome, Outcome::Ok | Outcome::Failed) {
            self.commands_processed.fetch_add(1, Ordering::Relaxed);
        }
        let mut commands = lock(&self.commands);
        let stat = match commands.get_mut(name) {
            Some(stat) => stat,
            None => commands.entry(name.to_string()).or_default(),
        };
        match outcome {
            Outcome::Ok | Outcome::Failed => {
                stat.calls += 1;
                stat.usec += u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
                if outcome == Outcome::Failed {
                    stat.failed_calls += 1;
                }
            }
            Outcome::Rejected => stat.rejected_calls += 1,
            Outcome::Unknown => {}
        }
        drop(commands);
        self.sample_ops(now);
    }

    /// `calls` successful calls of `command` (no error reply) taking `usec` microseconds
    /// in all: what `calls` calls of `record_at(.., Outcome::Ok, None, ..)` would count, under
    /// one taking of the lock (a connection adds up a run of one command in a pipeline).
    pub fn record_calls(&self, command: &str, calls: u64, usec: u64, now: Instant) {
        if calls == 0 {
            return;
        }
        self.commands_processed.fetch_add(calls, Ordering::Relaxed);
        let mut commands = lock(&self.commands);
        let stat = match commands.get_mut(command) {
            Some(stat) => stat,
            None => commands.entry(command.to_string()).or_default(),
        };
        stat.calls += calls;
        stat.usec = stat.usec.saturating_add(usec);
        drop(commands);
        self.sample_ops(now);
    }

    /// Take an ops sample when 100 ms have passed since the last one.
    fn sample_ops(&self, now: Instant) {
        let counts = [
            self.total_commands_processed(),
            self.total_net_input_bytes(),
            self.total_net_output_bytes(),
        ];
        // Under contention another thread is sampling right now: skipping is harmless.
        let mut ops = match self.ops.try_lock() {
            Ok(ops) => ops,
            Err(std::sync::TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return,
        };
        let Some(last_at) = ops.last_at else {
            ops.last_at = Some(now);
            ops.last_count = counts;
            return;
        };
        let elapsed = now.duration_since(last_at);
        if elapsed < OPS_SAMPLE_EVERY {
            return;
        }
        let millis = u64::try_from(elapsed.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        // Redis samples every 100 ms whatever happens; we sample when a command runs or INFO
        // asks. Commands counted since the last sample ran within one period of it (a later
        // command would have sampled otherwise), so a longer gap is that period's activity
        // followed by quiet periods, and after a quiet spell of 16 periods every sample is 0,
        // as in Redis.
        let period_ms = OPS_SAMPLE_EVERY.as_millis() as u64;
        let periods = (millis / period_ms).max(1);
        for k in 0..periods.min(OPS_SAMPLES as u64) {
            let next = ops.next;
            let busy = k == 0 && periods <= OPS_SAMPLES as u64;
            for (rate, count) in counts.iter().enumerate() {
                let delta = count.saturating_sub(ops.last_count[rate]);
                ops.samples[rate][next] = match (busy, periods) {
                    (true, 1) => delta.saturating_mul(1000) / millis,
                    (true, _) => delta.saturating_mul(1000) / period_ms,
                    (false, _) => 0,
                };
            }
            ops.next = (next + 1) % OPS_SAMPLES;
        }
        ops.last_at = Some(now);
        ops.last_count = counts;
    }

    /// The average of the recent samples of one rate, per second; 0 once the server has been
    /// idle for longer than the samples cover.
    fn rate(&self, which: usize) -> u64 {
        self.sample_ops(Instant::now());
        let ops = lock(&self.ops);
        let idle = ops
            .last_at
            .is_none_or(|at| at.elapsed() > OPS_SAMPLE_EVERY * OPS_SAMPLES as u32);
        if idle {
            return 0;
        }
        ops.samples[which].iter().sum::<u64>() / OPS_SAMPLES as u64
    }

    /// Kilobytes per second read from clients, recently (`instantaneous_input_kbps`).
    pub fn instantaneous_input_kbps(&self) -> f64 {
        self.rate(RATE_NET_IN) as f64 / 1024.0
    }

    /// Kilobytes per second written to clients, recently (`instantaneous_output_kbps`).
    pub fn instantaneous_output_kbps(&self) -> f64 {
        self.rate(RATE_NET_OUT) as f64 / 1024.0
    }

    /// Commands per second over the last samples; an idle server reads 0 once its last
    /// sample is old.
    pub fn instantaneous_ops_per_sec(&self) -> u64 {
        self.rate(RATE_OPS)
    }

    /// Every command that has counters, by name.
    pub fn commands(&self) -> Vec<(String, CommandStat)> {
        lock(&self.commands)
            .iter()
            .map(|(name, stat)| (name.clone(), *stat))
            .collect()
    }

    /// Error replies by code.
    pub fn errors(&self) -> Vec<(String, u64)> {
        lock(&self.errors)
            .iter()
            .map(|(code, count)| (code.clone(), *count))
            .collect()
    }

    /// CONFIG RESETSTAT: every counter back to zero (connected clients are a state, not a
    /// counter, and stay).
    pub fn reset(&self) {
        self.connections_received.store(0, Ordering::Relaxed);
        self.commands_processed.store(0, Ordering::Relaxed);
        self.error_replies.store(0, Ordering::Relaxed);
        self.expired_keys.store(0, Ordering::Relaxed);
        self.rejected_connections.store(0, Ordering::Relaxed);
        self.net_input_bytes.store(0, Ordering::Relaxed);
        self.net_output_bytes.store(0, Ordering::Relaxed);
        self.reads_processed.store(0, Ordering::Relaxed);
        self.writes_processed.store(0, Ordering::Relaxed);
        self.expire_time_cap_reached.store(0, Ordering::Relaxed);
        self.expire_cycle_us.store(0, Ordering::Relaxed);
        self.expired_stale.store(0f64.to_bits(), Ordering::Relaxed);
        self.evicted_keys.store(0, Ordering::Relaxed);
        lock(&self.commands).clear();
        lock(&self.errors).clear();
        *lock(&self.ops) = OpsSampler::default();
    }
}

/// Bytes the process has allocated and not freed, counted by [`CountingAllocator`].
static ALLOCATED: AtomicU64 = AtomicU64::new(0);

/// Live heap bytes now: INFO's `used_memory`, and what `maxmemory` is compared with. One
/// atomic load, cheap enough for every command.
pub fn used_memory() -> u64 {
    ALLOCATED.load(Ordering::Relaxed)
}

/// The system allocator, counting live bytes so INFO's `used_memory` is a real figure (as
/// Redis's own allocator accounting is). One relaxed atomic per allocation.
pub struct CountingAllocator;

// SAFETY: every call is passed unchanged to the system allocator; only a counter is added.
unsafe impl std::alloc::GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        let ptr = std::alloc::System.alloc(layout);
        if !ptr.is_null() {
            ALLOCATED.fetch_add(layout.size() as u64, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        std::alloc::System.dealloc(ptr, layout);
        ALLOCATED.fetch_sub(layout.size() as u64, Ordering::Relaxed);
    }

    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        let ptr = std::alloc::System.alloc_zeroed(layout);
        if !ptr.is_null() {
            ALLOCATED.fetch_add(layout.size() as u64, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        let new = std::alloc::System.realloc(ptr, layout, new_size);
        if !new.is_null() {
            ALLOCATED.fetch_sub(layout.size() as u64, Ordering::Relaxed);
            ALLOCATED.fetch_add(new_size as u64, Ordering::Relaxed);
        }
        new
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// What INFO reports about the process itself, read from the system when asked.
#[derive(Debug, Clone, Default)]
pub struct Process {
    pub pid: u32,
    pub executable: String,
    /// `uname -s -r -m`, as Redis prints it in `os`.
    pub os: String,
    /// Live heap bytes.
    pub used_memory: u64,
    /// Resident set size in bytes.
    pub rss: u64,
    /// Physical memory of the machine in bytes.
    pub total_system_memory: u64,
    /// CPU seconds in system and user mode (whole process, and its main thread).
    pub cpu_sys: f64,
    pub cpu_user: f64,
    pub cpu_sys_children: f64,
    pub cpu_user_children: f64,
    /// Bytes of transparent huge pages the process uses (LATENCY DOCTOR warns about them).
    pub anon_huge_pages: u64,
}

/// `AnonHugePages` of every mapping of the process, summed (the kernel's rollup has the sum).
fn anon_huge_pages(read: &dyn Fn(&str) -> String) -> u64 {
    let mut text = read("/proc/self/smaps_rollup");
    if text.is_empty() {
        text = read("/proc/self/smaps");
    }
    text.lines()
        .filter_map(|l| l.strip_prefix("AnonHugePages:"))
        .filter_map(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .sum::<u64>()
        * 1024
}

/// Reads the process's figures from `/proc` (zeros where it is not available).
pub fn process() -> Process {
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    // Both figures are in pages and clock ticks; Linux uses 4 KiB pages and 100 ticks a second
    // on every platform we build for.
    const PAGE: u64 = 4096;
    const TICKS: f64 = 100.0;
    let statm = read("/proc/self/statm");
    let rss = statm
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(0)
        * PAGE;
    // Fields after the parenthesised command name: utime is the 14th field of the whole
    // line, i.e. the 12th after it.
    let stat = read("/proc/self/stat");
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|n| n.parse::<f64>().ok())
            .unwrap_or(0.0)
            / TICKS
    };
    let total_system_memory = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .unwrap_or(0)
        * 1024;
    let trim = |s: String| s.trim().to_string();
    let os = format!(
        "{} {} {}",
        trim(read("/proc/sys/kernel/ostype")),
        trim(read("/proc/sys/kernel/osrelease")),
        std::env::consts::ARCH
    );
    Process {
        pid: std::process::id(),
        executable: std::env::current_exe()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default(),
        os,
        used_memory: ALLOCATED.load(Ordering::Relaxed),
        rss,
        total_system_memory,
        cpu_user: ticks(11),
        cpu_sys: ticks(12),
        cpu_user_children: ticks(13),
        cpu_sys_children: ticks(14),
        anon_huge_pages: anon_huge_pages(&read),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_calls_failures_rejections_and_errors() {
        let stats = Stats::new();
        let us = Duration::from_micros(5);
        stats.record(Some("get"), us, Outcome::Ok, None);
        stats.record(Some("get"), us, Outcome::Failed, Some("WRONGTYPE"));
        stats.record(Some("get"), us, Outcome::Rejected, Some("ERR"));
        stats.record(None, us, Outcome::Unknown, Some("ERR"));
        assert_eq!(
            stats.commands(),
            vec![(
                "get".to_string(),
                CommandStat {
                    calls: 2,
                    usec: 10,
                    rejected_calls: 1,
                    failed_calls: 1
                }
            )]
        );
        assert_eq!(
            stats.errors(),
            vec![("ERR".to_string(), 2), ("WRONGTYPE".to_string(), 1)]
        );
        assert_eq!(stats.total_commands_processed(), 2);
        assert_eq!(stats.total_error_replies(), 3);
        stats.reset();
        assert!(stats.commands().is_empty() && stats.errors().is_empty());
        assert_eq!(stats.total_commands_processed(), 0);
    }

    #[test]
    fn expiry_cycle_figures_follow_redis_s_formulas() {
        let stats = Stats::new();
        // Each cycle weighs 5% in the moving average, as Redis's does.
        stats.expire_cycle_done(20, 20, false, Duration::from_micros(1500));
        assert!((stats.expired_stale_perc() - 5.0).abs() < 1e-9);
        stats.expire_cycle_done(20, 0, true, Duration::from_micros(600));
        assert_eq!(stats.expire_cycle_cpu_milliseconds(), 2);
        assert!((stats.expired_stale_perc() - 4.75).abs() < 1e-9);
        stats.expire_cycle_done(0, 0, true, Duration::ZERO);
        assert_eq!(stats.expired_time_cap_reached_count(), 2);
        stats.net_read(10);
        stats.net_written(7);
        assert_eq!(
            (
                stats.total_net_input_bytes(),
                stats.total_net_output_bytes(),
                stats.total_reads_processed(),
                stats.total_writes_processed()
            ),
            (10, 7, 1, 1)
        );
        stats.reset();
        assert_eq!(stats.expired_stale_perc(), 0.0);
        assert_eq!(stats.total_net_input_bytes(), 0);
    }

    #[test]
    fn ids_are_forty_hex_digits_and_differ() {
        let stats = Stats::new();
        assert_eq!(stats.master_replid.len(), 40);
        assert!(stats.master_replid.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(stats.master_replid, stats.run_id);
    }
}
