//! The latency monitor (LATENCY LATEST|HISTORY|RESET): for each event class ("command",
//! "fast-command"), the last 160 seconds in which it took at least `latency-monitor-threshold`
//! milliseconds, one sample per second (the worst of that second), and the worst ever seen.
//!
//! The session reports every command that ran; this file only keeps the samples. It does not
//! read the configuration or the clock: the threshold and the time are parameters.

use std::collections::BTreeMap;
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

/// The server's latency monitor.
#[derive(Debug, Default)]
pub struct LatencyMonitor(Mutex<BTreeMap<String, Series>>);

impl LatencyMonitor {
    fn events(&self) -> MutexGuard<'_, BTreeMap<String, Series>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
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

    /// Forget the named events (every event for `None`); the number of events forgotten.
    pub fn reset(&self, names: Option<&[Bytes]>) -> usize {
        let mut events = self.events();
        match names {
            None => {
                let count = events.len();
                events.clear();
                count
            }
            Some(names) => names
                .iter()
                .filter(|name| {
                    std::str::from_utf8(name)
                        .ok()
                        .is_some_and(|n| events.remove(n).is_some())
                })
                .count(),
        }
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
}
