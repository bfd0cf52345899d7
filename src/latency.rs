//! The latency monitor (LATENCY LATEST|HISTORY|RESET): for each event class ("command",
//! "fast-command"), the last 160 seconds in which it took at least `latency-monitor-threshold`
//! milliseconds, one sample per second (the worst of that second), and the worst ever seen.
//!
//! Also the per-command latency histograms (LATENCY HISTOGRAM, INFO latencystats), kept as
//! Redis keeps them: an HDR histogram of nanoseconds from 1 to 10^9 with two significant
//! digits, read back in power-of-two steps from 1024 ns and as percentiles.
//!
//! The session reports every command that ran; this file only keeps the samples. It does not
//! read the configuration or the clock: the threshold and the time are parameters.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::{Mutex, MutexGuard};

use bytes::Bytes;

/// Samples kept per event, as Redis keeps them.
pub const HISTORY_LEN: usize = 160;

/// One second's worst latency for an event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sample {
    /// Unix time in seconds.
    pub time: i64,
    /// Milliseconds.
    pub latency: u64,
}

/// The samples of one event: a ring of the newest [`HISTORY_LEN`], oldest overwritten first.
#[derive(Debug, Clone)]
struct Series {
    ring: Vec<Sample>,
    /// Where the next new second goes.
    next: usize,
    max: u64,
}

impl Series {
    fn new() -> Series {
        Series {
            ring: vec![Sample::default(); HISTORY_LEN],
            next: 0,
            max: 0,
        }
    }

    fn newest(&self) -> Sample {
        self.ring[(self.next + HISTORY_LEN - 1) % HISTORY_LEN]
    }

    fn add(&mut self, latency: u64, now_s: i64) {
        self.max = self.max.max(latency);
        let newest = (self.next + HISTORY_LEN - 1) % HISTORY_LEN;
        // A second already sampled keeps its worst figure rather than taking another slot.
        if self.ring[newest].time == now_s {
            self.ring[newest].latency = self.ring[newest].latency.max(latency);
            return;
        }
        self.ring[self.next] = Sample {
            time: now_s,
            latency,
        };
        self.next = (self.next + 1) % HISTORY_LEN;
    }

    /// Samples oldest first, skipping slots never written.
    fn history(&self) -> Vec<Sample> {
        (0..HISTORY_LEN)
            .map(|i| self.ring[(self.next + i) % HISTORY_LEN])
            .filter(|s| s.time != 0)
            .collect()
    }
}

/// What LATENCY LATEST reports for one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Latest {
    pub event: String,
    pub time: i64,
    pub latency: u64,
    pub max: u64,
}

/// The server's latency monitor, and the per-command histograms.
#[derive(Debug, Default)]
pub struct LatencyMonitor {
    events: Mutex<BTreeMap<String, Series>>,
    pub commands: CommandLatencies,
}

impl LatencyMonitor {
    fn events(&self) -> MutexGuard<'_, BTreeMap<String, Series>> {
        self.events.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Record that `event` took `latency_ms` at `now_s`, if the threshold (milliseconds; 0
    /// turns the monitor off) says it is worth recording.
    pub fn record_if_needed(&self, event: &str, latency_ms: u64, threshold_ms: u64, now_s: i64) {
        if threshold_ms == 0 || latency_ms < threshold_ms {
            return;
        }
        let mut events = self.events();
        match events.get_mut(event) {
            Some(series) => series.add(latency_ms, now_s),
            None => {
                let mut series = Series::new();
                series.add(latency_ms, now_s);
                events.insert(event.to_string(), series);
            }
        }
    }

    /// The newest sample and the worst ever of every event.
    pub fn latest(&self) -> Vec<Latest> {
        self.events()
            .iter()
            .map(|(name, series)| {
                let newest = series.newest();
                Latest {
                    event: name.clone(),
                    time: newest.time,
                    latency: newest.latency,
                    max: series.max,
                }
            })
            .collect()
    }

    /// The samples of `event`, oldest first; empty for an event never seen.
    pub fn history(&self, event: &[u8]) -> Vec<Sample> {
        let events = self.events();
        std::str::from_utf8(event)
            .ok()
            .and_then(|name| events.get(name))
            .map(Series::history)
            .unwrap_or_default()
    }

    /// LATENCY GRAPH's text for `event` at `now_s`, or `None` for an event never seen.
    pub fn graph(&self, event: &[u8], now_s: i64) -> Option<String> {
        let events = self.events();
        let name = std::str::from_utf8(event).ok()?;
        let series = events.get(name)?;
        Some(graph(name, &series.history(), series.max, now_s))
    }

    /// LATENCY DOCTOR's report on the events seen so far: each event's figures, then advice
    /// that follows from them and from the settings given (the threshold in ms,
    /// `slowlog-log-slower-than` in us, whether the process uses transparent huge pages).
    pub fn doctor(
        &self,
        threshold_ms: u64,
        slowlog_slower_than_us: i64,
        hz: u32,
        huge_pages: bool,
        now_s: i64,
    ) -> String {
        let events = self.events();
        if events.is_empty() && threshold_ms == 0 {
            return DOCTOR_DISABLED.to_string();
        }
        let mut report = String::new();
        let mut advice = Advice::default();
        for (number, (name, series)) in events.iter().enumerate() {
            if number == 0 {
                report.push_str(DOCTOR_SPIKES);
            }
            let samples = series.history();
            let count = samples.len() as u64;
            let sum: u64 = samples.iter().map(|s| s.latency).sum();
            let average = sum.checked_div(count).unwrap_or(0);
            let deviation = samples
                .iter()
                .map(|s| s.latency.abs_diff(average))
                .sum::<u64>()
                .checked_div(count)
                .unwrap_or(0);
            let oldest = samples.iter().map(|s| s.time).min().unwrap_or(now_s);
            let period = (now_s - oldest).max(1);
            let _ = writeln!(
                report,
                "{}. {name}: {count} latency spikes (average {average}ms, mean deviation \
                 {deviation}ms, period {:.2} sec). Worst all time event {}ms.",
                number + 1,
                period as f64 / count.max(1) as f64,
                series.max
            );
            match name.as_str() {
                "command" => {
                    if slowlog_slower_than_us < 0 {
                        advice.slowlog_enable = true;
                    } else if slowlog_slower_than_us / 1000 > threshold_ms as i64 {
                        advice.slowlog_tune = true;
                    }
                    advice.slowlog_inspect = true;
                    advice.large_objects = true;
                }
                "fast-command" => advice.scheduler = true,
                "expire-cycle" => {
                    advice.hz = true;
                    advice.large_objects = true;
                }
                _ => {}
            }
        }
        advice.huge_pages = huge_pages;
        let lines = advice.lines(threshold_ms, hz);
        match (events.is_empty(), lines.is_empty()) {
            (true, true) => report.push_str(DOCTOR_QUIET),
            (false, true) => report.push_str(DOCTOR_NO_ADVICE),
            _ => {
                report.push_str("\nI have a few advices for you:\n\n");
                for line in lines {
                    report.push_str(&line);
                }
            }
        }
        report
    }

    /// Forget the named events (every event for `None`); the number of events forgotten.
    pub fn reset(&self, names: Option<&[Bytes]>) -> usize {
        let mut events = self.events();
        match names {
            None => {
                let count = events.len();
                events.clear();
                count
            }
            // Redis compares the names without regard to case here (and only here).
            Some(names) => names
                .iter()
                .map(|name| {
                    let before = events.len();
                    events.retain(|event, _| !event.as_bytes().eq_ignore_ascii_case(name));
                    before - events.len()
                })
                .sum(),
        }
    }
}

// LATENCY DOCTOR's texts are replies, so they are Redis's, word for word.
const DOCTOR_DISABLED: &str = "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n";
const DOCTOR_SPIKES: &str = "Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n";
const DOCTOR_QUIET: &str = "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n";
const DOCTOR_NO_ADVICE: &str = "\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the Redis community to get some help, providing this report in your help request.\n";

/// The advice LATENCY DOCTOR gives, for the events we record ("command", "fast-command",
/// "expire-cycle") and for transparent huge pages.
#[derive(Debug, Default)]
struct Advice {
    slowlog_enable: bool,
    slowlog_tune: bool,
    slowlog_inspect: bool,
    scheduler: bool,
    hz: bool,
    large_objects: bool,
    huge_pages: bool,
}

impl Advice {
    /// The advice lines, in Redis's order.
    fn lines(&self, threshold_ms: u64, hz: u32) -> Vec<String> {
        let suggested = threshold_ms.saturating_mul(1000);
        let mut out = Vec::new();
        if self.slowlog_enable {
            out.push(format!("- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than {suggested}'. If the Slow log is disabled Redis is not able to log slow commands execution for you.\n"));
        }
        if self.slowlog_tune {
            out.push(format!("- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than {suggested}'.\n"));
        }
        if self.slowlog_inspect {
            out.push("- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n".to_string());
        }
        if self.scheduler {
            out.push("- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n  1) Lower the system load.\n  2) Use a computer / VM just for Redis if you are running other software in the same system.\n  3) Check if you have a \"noisy neighbour\" problem.\n  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n".to_string());
        }
        // Left out, as Redis leaves it out, when `hz` is already 100 or more.
        if self.hz && hz < 100 {
            out.push("- In order to make the Redis keys expiring process more incremental, try to set the 'hz' configuration parameter to 100 using 'CONFIG SET hz 100'.\n".to_string());
        }
        if self.large_objects {
            out.push("- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n".to_string());
        }
        if self.huge_pages {
            out.push("- I detected a non zero amount of anonymous huge pages used by your process. This creates very serious latency events in different conditions, especially when Redis is persisting on disk. To disable THP support use the command 'echo never > /sys/kernel/mm/transparent_hugepage/enabled', make sure to also add it into /etc/rc.local so that the command will be executed again after a reboot. Note that even if you have already disabled THP, you still need to restart the Redis process to get rid of the huge pages already created.\n".to_string());
        }
        out
    }
}

/// Columns of LATENCY GRAPH before the graph wraps, and rows of its bars.
const GRAPH_COLUMNS: usize = 80;
const GRAPH_ROWS: usize = 4;
/// Each row draws three heights: low, middle, top of the row; a bar through a row is `|`.
const BAR_HEIGHTS: &[u8; 3] = b"_o#";

/// LATENCY GRAPH: a title line (the event, the highest and lowest sample shown, the highest
/// ever), a rule, then one column per sample: a bar 4 rows high scaled between the lowest and
/// highest sample, a blank line, and how long ago the sample was (`12s`, `3m`, `2h`, `1d`)
/// written downwards. Every 80 samples the graph starts again below.
pub fn graph(event: &str, samples: &[Sample], all_time_max: u64, now_s: i64) -> String {
    let low = samples.iter().map(|s| s.latency).min().unwrap_or(0);
    let high = samples.iter().map(|s| s.latency).max().unwrap_or(0);
    let mut out = format!(
        "{event} - high {high} ms, low {low} ms (all time high {all_time_max} ms)\n{}\n",
        "-".repeat(GRAPH_COLUMNS)
    );
    let span = match high - low {
        0 => 1.0,
        span => span as f64,
    };
    let steps = (BAR_HEIGHTS.len() * GRAPH_ROWS) as i64;
    let columns: Vec<(i64, String)> = samples
        .iter()
        .map(|s| {
            // Scaled as Redis scales it: the product is truncated before the division.
            let scaled = (((s.latency - low) as f64 * steps as f64).trunc() / span) as i64;
            let ago = now_s - s.time;
            let label = match ago {
                a if a < 60 => format!("{a}s"),
                a if a < 3600 => format!("{}m", a / 60),
                a if a < 86_400 => format!("{}h", a / 3600),
                a => format!("{}d", a / 86_400),
            };
            (scaled.clamp(0, steps - 1), label)
        })
        .collect();
    for (n, chunk) in columns.chunks(GRAPH_COLUMNS).enumerate() {
        if n > 0 {
            out.push('\n');
        }
        for row in 0..GRAPH_ROWS {
            let floor = ((GRAPH_ROWS - row - 1) * BAR_HEIGHTS.len()) as i64;
            for (step, _) in chunk {
                out.push(match step - floor {
                    h if h < 0 => ' ',
                    h if h < BAR_HEIGHTS.len() as i64 => char::from(BAR_HEIGHTS[h as usize]),
                    _ => '|',
                });
            }
            out.push('\n');
        }
        out.push_str(&" ".repeat(chunk.len()));
        out.push('\n');
        let longest = chunk.iter().map(|(_, l)| l.len()).max().unwrap_or(0);
        for i in 0..longest {
            for (_, label) in chunk {
                out.push(label.as_bytes().get(i).map_or(' ', |&b| char::from(b)));
            }
            out.push('\n');
        }
    }
    out
}

/// Histogram bounds and precision, as Redis sets them up (nanoseconds).
const HISTOGRAM_MIN: u64 = 1;
const HISTOGRAM_MAX: u64 = 1_000_000_000;
/// Two significant decimal digits need 256 sub-buckets (the next power of two above 2 * 10^2),
/// half of which start each bucket after the first.
const SUB_BUCKET_HALF_MAGNITUDE: u32 = 7;
const SUB_BUCKET_MASK: u64 = 255;
/// The CDF starts at 1024 ns and doubles.
const CDF_FIRST: u64 = 1024;

/// Width of the equivalence range a value falls in: 1 up to 255, then doubling with every
/// power of two.
fn equivalence_width(value: u64) -> u64 {
    let magnitude = 63 - (value | SUB_BUCKET_MASK).leading_zeros();
    1 << (magnitude - SUB_BUCKET_HALF_MAGNITUDE)
}

fn lowest_equivalent(value: u64) -> u64 {
    value - value % equivalence_width(value)
}

fn highest_equivalent(value: u64) -> u64 {
    lowest_equivalent(value) + equivalence_width(value) - 1
}

/// One command's latencies.
#[derive(Debug, Clone, Default)]
pub struct Histogram {
    /// Count per equivalence range, keyed by the range's lowest value.
    counts: BTreeMap<u64, u64>,
    total: u64,
}

impl Histogram {
    /// Record one call that took `micros`.
    pub fn record(&mut self, micros: u64) {
        let nanos = micros
            .saturating_mul(1000)
            .clamp(HISTOGRAM_MIN, HISTOGRAM_MAX);
        *self.counts.entry(lowest_equivalent(nanos)).or_default() += 1;
        self.total += 1;
    }

    pub fn calls(&self) -> u64 {
        self.total
    }

    /// LATENCY HISTOGRAM's `histogram_usec`: at 1024 ns and every doubling, the top of its
    /// range in microseconds and how many calls took at most that long, listed where the count
    /// grew.
    pub fn cumulative(&self) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        let mut level = CDF_FIRST;
        let mut counted = 0;
        let mut ranges = self.counts.iter().peekable();
        while counted < self.total {
            let top = highest_equivalent(level);
            let before = counted;
            while let Some((_, count)) = ranges.next_if(|(&low, _)| low <= top) {
                counted += count;
            }
            if counted > before {
                out.push((top / 1000, counted));
            }
            level = level.saturating_mul(2);
        }
        out
    }

    /// The latency in microseconds under which `percentile` percent of the calls fall, as
    /// HDR histograms answer it: the top of the range where that call falls.
    pub fn value_at_percentile(&self, percentile: f64) -> f64 {
        let wanted = ((percentile.min(100.0) / 100.0) * self.total as f64 + 0.5) as u64;
        let wanted = wanted.max(1);
        let mut counted = 0;
        for (&low, &count) in &self.counts {
            counted += count;
            if counted >= wanted {
                let value = if percentile == 0.0 {
                    low
                } else {
                    highest_equivalent(low)
                };
                return value as f64 / 1000.0;
            }
        }
        0.0
    }
}

/// Every command's histogram, by full name (`config|get`). Recording happens on every
/// command, so the names are the command table's own (no allocation) in a hash map.
#[derive(Debug, Default)]
pub struct CommandLatencies(Mutex<HashMap<&'static str, Histogram, ahash::RandomState>>);

impl CommandLatencies {
    fn map(&self) -> MutexGuard<'_, HashMap<&'static str, Histogram, ahash::RandomState>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn record(&self, command: &'static str, micros: u64) {
        self.map().entry(command).or_default().record(micros);
    }

    /// `record` for several calls of one command, under one taking of the lock.
    pub fn record_many(&self, command: &'static str, micros: &[u64]) {
        if micros.is_empty() {
            return;
        }
        let mut map = self.map();
        let histogram = map.entry(command).or_default();
        for &us in micros {
            histogram.record(us);
        }
    }

    pub fn get(&self, command: &str) -> Option<Histogram> {
        self.map().get(command).cloned()
    }

    /// Every command with calls, by name.
    pub fn all(&self) -> Vec<(String, Histogram)> {
        let mut all: Vec<(String, Histogram)> = self
            .map()
            .iter()
            .map(|(name, h)| (name.to_string(), h.clone()))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    /// CONFIG RESETSTAT.
    pub fn reset(&self) {
        self.map().clear();
    }

    /// INFO latencystats: `latency_percentiles_usec_<name>:p50=1.003,p99=...` for every
    /// command that ran.
    pub fn info_lines(&self, percentiles: &[f64]) -> Vec<String> {
        self.all()
            .iter()
            .map(|(name, histogram)| {
                let figures: Vec<String> = percentiles
                    .iter()
                    .map(|&p| {
                        format!(
                            "p{}={:.3}",
                            format_percentile(p),
                            histogram.value_at_percentile(p)
                        )
                    })
                    .collect();
                format!("latency_percentiles_usec_{name}:{}", figures.join(","))
            })
            .collect()
    }
}

/// A number as Redis prints a percentile: `%f`, then without trailing zeros and point.
pub fn format_percentile(value: f64) -> String {
    let text = format!("{value:.6}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_sample_per_second_keeping_the_worst() {
        let monitor = LatencyMonitor::default();
        monitor.record_if_needed("command", 5, 0, 100);
        monitor.record_if_needed("command", 5, 10, 100);
        assert!(monitor.latest().is_empty(), "off, then under the threshold");
        monitor.record_if_needed("command", 50, 1, 100);
        monitor.record_if_needed("command", 10, 1, 100);
        monitor.record_if_needed("command", 20, 1, 101);
        assert_eq!(
            monitor.history(b"command"),
            vec![
                Sample {
                    time: 100,
                    latency: 50
                },
                Sample {
                    time: 101,
                    latency: 20
                }
            ]
        );
        assert_eq!(
            monitor.latest(),
            vec![Latest {
                event: "command".into(),
                time: 101,
                latency: 20,
                max: 50
            }]
        );
        for second in 0..200 {
            monitor.record_if_needed("command", 1, 1, 1000 + second);
        }
        let history = monitor.history(b"command");
        assert_eq!(history.len(), HISTORY_LEN);
        assert_eq!(history[0].time, 1040, "the oldest are overwritten first");
        assert_eq!(monitor.latest()[0].max, 50);
        let names = [
            Bytes::from_static(b"command"),
            Bytes::from_static(b"command"),
        ];
        assert_eq!(monitor.reset(Some(&names)), 1);
        assert_eq!(monitor.reset(None), 0);
    }

    #[test]
    fn the_doctor_counts_and_advises() {
        let monitor = LatencyMonitor::default();
        assert!(monitor
            .doctor(0, 10_000, 10, false, 0)
            .starts_with("I'm sorry, Dave"));
        assert!(monitor
            .doctor(5, 10_000, 10, false, 0)
            .starts_with("Dave, no latency spike"));
        assert!(monitor
            .doctor(5, 10_000, 10, true, 0)
            .contains("\nI have a few advices for you:\n\n- I detected a non zero amount"));
        monitor.record_if_needed("command", 20, 5, 100);
        monitor.record_if_needed("command", 40, 5, 101);
        monitor.record_if_needed("fast-command", 9, 5, 101);
        let report = monitor.doctor(5, 10_000, 10, false, 102);
        assert!(report.contains("1. command: 2 latency spikes (average 30ms, mean deviation 10ms, period 1.00 sec). Worst all time event 40ms.\n2. fast-command: 1 latency spikes (average 9ms, mean deviation 0ms, period 1.00 sec). Worst all time event 9ms.\n"), "{report}");
        assert!(
            report.contains("'CONFIG SET slowlog-log-slower-than 5000'"),
            "{report}"
        );
        assert!(
            report.contains("- The system is slow to execute Redis code paths"),
            "{report}"
        );
        // The expiry cycle's event asks for a higher hz, unless it is high already.
        monitor.record_if_needed("expire-cycle", 7, 5, 101);
        assert!(monitor
            .doctor(5, 10_000, 10, false, 102)
            .contains("'CONFIG SET hz 100'"));
        assert!(!monitor
            .doctor(5, 10_000, 100, false, 102)
            .contains("'CONFIG SET hz 100'"));
        // A slow log that already logs what the monitor sees needs no tuning.
        assert!(!monitor
            .doctor(5, 5000, 10, false, 102)
            .contains("slowlog-log-slower-than"));
    }

    #[test]
    fn graphs_draw_as_redis_s_do() {
        // redis-server 7.0.15 for DEBUG SLEEP 0.02, a second later DEBUG SLEEP 0.05.
        let samples = [
            Sample {
                time: 998,
                latency: 20,
            },
            Sample {
                time: 1000,
                latency: 50,
            },
        ];
        assert_eq!(
            graph("command", &samples, 50, 1000),
            format!(
                "command - high 50 ms, low 20 ms (all time high 50 ms)\n{}\n #\n |\n |\n_|\n  \n20\nss\n",
                "-".repeat(80)
            )
        );
        // Labels of different lengths, and a flat line.
        let samples = [
            Sample {
                time: 1,
                latency: 7,
            },
            Sample {
                time: 3540,
                latency: 7,
            },
        ];
        assert!(graph("e", &samples, 9, 3600).ends_with("\n  \n  \n  \n__\n  \n51\n9m\nm \n"));
    }

    #[test]
    fn histograms_read_back_as_redis_s_do() {
        // The shapes of figures from redis-server 7.0.15 (20 SETs; DEBUG SLEEPs of 3 and 30 ms).
        let mut h = Histogram::default();
        for us in [2, 2, 2, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 5, 6, 7, 10] {
            h.record(us);
        }
        assert_eq!(h.cumulative(), vec![(2, 3), (4, 16), (8, 19), (16, 20)]);
        assert_eq!(h.value_at_percentile(50.0), 4.015);
        assert_eq!(h.value_at_percentile(99.0), 10.047);
        let mut slow = Histogram::default();
        slow.record(3145);
        slow.record(30146);
        assert_eq!(slow.cumulative(), vec![(4227, 1), (33816, 2)]);
        assert_eq!(slow.value_at_percentile(50.0), 3145.727);
        assert_eq!(slow.value_at_percentile(99.9), 30146.559);
        let mut tiny = Histogram::default();
        tiny.record(0);
        assert_eq!(tiny.cumulative(), vec![(1, 1)]);
        assert_eq!(tiny.value_at_percentile(50.0), 0.001);
    }
}
