//! The slow log: commands that took at least `slowlog-log-slower-than` microseconds, newest
//! first, at most `slowlog-max-len` of them (SLOWLOG GET|LEN|RESET). Arguments are kept the
//! way Redis keeps them: at most 32, the last one saying how many more there were, each cut to
//! 128 bytes with a note of how many more bytes it had.

use std::collections::VecDeque;
use std::sync::Mutex;

use bytes::Bytes;

/// Arguments kept per entry, counting the one that says how many were left out.
const MAX_ARGS: usize = 32;
/// Bytes kept per argument.
const MAX_ARG_BYTES: usize = 128;

/// One slow command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: i64,
    /// Unix time in seconds when it was logged.
    pub time: i64,
    pub duration_us: i64,
    pub args: Vec<Bytes>,
    pub addr: Bytes,
    pub name: Bytes,
}

#[derive(Debug, Default)]
struct Log {
    entries: VecDeque<Entry>,
    next_id: i64,
}

/// The server's slow log.
#[derive(Debug, Default)]
pub struct SlowLog(Mutex<Log>);

impl SlowLog {
    fn log(&self) -> std::sync::MutexGuard<'_, Log> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Log a command if it took at least `threshold_us` (negative: log nothing), keeping at
    /// most `max_len` entries.
    #[allow(clippy::too_many_arguments)]
    pub fn record(
        &self,
        argv: &[Bytes],
        duration_us: i64,
        threshold_us: i64,
        max_len: usize,
        now_s: i64,
        addr: &[u8],
        name: &[u8],
    ) {
        if threshold_us < 0 || duration_us < threshold_us {
            return;
        }
        let mut args: Vec<Bytes> = Vec::with_capacity(argv.len().min(MAX_ARGS));
        for (i, arg) in argv.iter().enumerate() {
            if i == MAX_ARGS - 1 && argv.len() > MAX_ARGS {
                args.push(Bytes::from(format!(
                    "... ({} more arguments)",
                    argv.len() - i
                )));
                break;
            }
            if arg.len() > MAX_ARG_BYTES {
                let mut cut = arg[..MAX_ARG_BYTES].to_vec();
                cut.extend_from_slice(
                    format!("... ({} more bytes)", arg.len() - MAX_ARG_BYTES).as_bytes(),
                );
                args.push(Bytes::from(cut));
            } else {
                args.push(Bytes::copy_from_slice(arg));
            }
        }
        let mut log = self.log();
        let id = log.next_id;
        log.next_id += 1;
        log.entries.push_front(Entry {
            id,
            time: now_s,
            duration_us,
            args,
            addr: Bytes::copy_from_slice(addr),
            name: Bytes::copy_from_slice(name),
        });
        log.entries.truncate(max_len);
    }

    /// The newest `count` entries (all of them for `None`).
    pub fn newest(&self, count: Option<usize>) -> Vec<Entry> {
        let log = self.log();
        log.entries
            .iter()
            .take(count.unwrap_or(usize::MAX))
            .cloned()
            .collect()
    }

    pub fn len(&self) -> usize {
        self.log().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Empty the log (SLOWLOG RESET); ids go on counting, as in Redis.
    pub fn reset(&self) {
        self.log().entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Vec<Bytes> {
        words
            .iter()
            .map(|w| Bytes::copy_from_slice(w.as_bytes()))
            .collect()
    }

    #[test]
    fn keeps_what_redis_keeps() {
        let log = SlowLog::default();
        log.record(&args(&["PING"]), 5, 10, 128, 0, b"", b"");
        assert!(log.is_empty(), "faster than the threshold");
        log.record(&args(&["PING"]), 5, -1, 128, 0, b"", b"");
        assert!(log.is_empty(), "negative threshold logs nothing");
        let mut many = vec!["DEL".to_string()];
        many.extend((0..40).map(|i| format!("k{i}")));
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        log.record(&args(&many), 7, 0, 128, 1, b"127.0.0.1:1", b"n");
        let long = "x".repeat(200);
        log.record(&args(&["ECHO", &long]), 7, 0, 128, 2, b"", b"");
        let entries = log.newest(None);
        assert_eq!(
            entries[0].args[1],
            Bytes::from(format!("{}... (72 more bytes)", "x".repeat(128)))
        );
        assert_eq!(entries[1].args.len(), 32);
        assert_eq!(
            entries[1].args[31],
            Bytes::from_static(b"... (10 more arguments)")
        );
        assert_eq!((entries[0].id, entries[1].id), (1, 0));
        log.record(&args(&["PING"]), 7, 0, 2, 3, b"", b"");
        assert_eq!(log.len(), 2, "max_len keeps the newest");
        log.reset();
        log.record(&args(&["PING"]), 7, 0, 2, 3, b"", b"");
        assert_eq!(log.newest(Some(1))[0].id, 3, "ids go on after RESET");
    }
}
