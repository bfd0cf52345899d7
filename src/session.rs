//! One client's session: executes requests against the shared state and returns replies.
//!
//! This is the whole path from a parsed request to a reply, with no socket involved; the TCP
//! connection drives it, and so do the snapshot tests.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, MutexGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use crate::clients::{Endpoint, Entry};
use crate::context::{Client, Ctx, Settings};
use crate::dispatch::{dispatch, Resolved};
use crate::error::CommandError;
use crate::keyspace::Keyspace;
use crate::registry::Command;
use crate::reply::Reply;
use crate::shared::{Clock, Shared};
use crate::stats::Outcome;

pub struct Session {
    shared: Arc<Shared>,
    pub client: Client,
    /// This client's line in the registry of connected clients.
    entry: Arc<Entry>,
    /// The wall clock (Unix µs) read at the start of the current batch, and when.
    wall_base: Option<(i64, Instant)>,
    /// What each request reads from the configuration, kept while the configuration's
    /// generation stays the same (its lock is shared by every connection, and this runs per
    /// request).
    settings: std::cell::Cell<Option<Settings>>,
    /// When the last request finished: CLIENT LIST's last interaction, published with the
    /// rest of what CLIENT LIST shows once per batch (see [`Session::end_batch`]).
    last_finished: std::cell::Cell<Option<Instant>>,
    /// Calls counted here and not yet in the shared stats (see `Pending`).
    pending: std::cell::Cell<Option<Pending>>,
    /// Their durations for the latency histograms (µs), when `latency-tracking` is on.
    pending_latencies: std::cell::RefCell<Vec<u64>>,
}

impl Session {
    /// A session with no socket behind it (the snapshot tests).
    pub fn new(shared: Arc<Shared>) -> Session {
        Session::connected(
            shared,
            Endpoint {
                fd: -1,
                ..Endpoint::default()
            },
        )
    }

    /// A session for a client connected from `endpoint`, listed by CLIENT LIST until dropped.
    pub fn connected(shared: Arc<Shared>, endpoint: Endpoint) -> Session {
        // Background saves reach the server through this (set once; every session can).
        shared.persistence.attach(&shared);
        let id = shared.next_client_id();
        shared.stats.client_connected();
        let mut client = Client::new(id);
        // As in Redis, a client is authenticated from the start when the default user needs no
        // password at the time it connects.
        client.authenticated = shared.config.read().requirepass().is_empty();
        client.local = is_local(&endpoint);
        let entry = shared.registry.register(id, endpoint);
        Session {
            shared,
            client,
            entry,
            wall_base: None,
            settings: std::cell::Cell::new(None),
            last_finished: std::cell::Cell::new(None),
            pending: std::cell::Cell::new(None),
            pending_latencies: std::cell::RefCell::new(Vec::new()),
        }
    }

    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// This client's registry entry (the connection waits on it for CLIENT KILL).
    pub fn entry(&self) -> &Arc<Entry> {
        &self.entry
    }

    /// Execute one request (`argv[0]` is the command name).
    ///
    /// A panic in a handler is a bug; it must not take the server or other clients down, so it
    /// is caught here, logged, and answered with an error while the connection carries on.
    pub fn execute(&mut self, argv: &[Bytes]) -> Reply {
        let shared = Arc::clone(&self.shared);
        let mut held = None;
        let reply = self.execute_held(argv, &shared, &mut held);
        self.end_batch();
        reply
    }

    /// Execute one request of a batch. The keyspace lock is taken into `held` if it is not
    /// there already, and left there for the next request: the connection holds it across
    /// the requests it has buffered (one lock per batch instead of one per request) and
    /// releases it before it waits for the socket. `shared` is this session's `shared()`.
    pub fn execute_held<'s>(
        &mut self,
        argv: &[Bytes],
        shared: &'s Shared,
        held: &mut Option<MutexGuard<'s, Keyspace>>,
    ) -> Reply {
        self.run(argv, shared, held, None)
    }

    /// Execute one command of our master's stream; `raw` is the command as the master sent
    /// it, passed on to our own replicas and backlog once it has been applied.
    pub fn execute_from_master(&mut self, argv: &[Bytes], raw: Bytes) -> Reply {
        let shared = Arc::clone(&self.shared);
        let mut held = None;
        let reply = self.run(argv, &shared, &mut held, Some(raw));
        self.end_batch();
        reply
    }

    fn run<'s>(
        &mut self,
        argv: &[Bytes],
        shared: &'s Shared,
        held: &mut Option<MutexGuard<'s, Keyspace>>,
        raw: Option<Bytes>,
    ) -> Reply {
        debug_assert!(std::ptr::eq(shared, &*self.shared));
        // Calls of another command than this one are counted before it runs (it may be INFO).
        if let Some(run) = self.pending.get() {
            let full = run.command.full_name.as_bytes();
            let top = full
                .iter()
                .position(|&b| b == b'|')
                .map_or(full, |i| &full[..i]);
            if !argv
                .first()
                .is_some_and(|name| name.eq_ignore_ascii_case(top))
            {
                self.flush_stats();
            }
        }
        let started = Instant::now();
        let settings = self.settings();
        // The wall clock is read once per batch (when the lock is taken); the commands after
        // the first add the monotonic time since then. Clock reads cost enough here (measured
        // with perf: 7% of the server's CPU at -P 16 with four reads per command) to count.
        let (now_ms, now_us) = match &shared.clock {
            Clock::System => {
                let (base_us, base) = match self.wall_base {
                    Some(wall_base) if held.is_some() => wall_base,
                    _ => {
                        let wall_base = (wall_clock_us(), started);
                        self.wall_base = Some(wall_base);
                        wall_base
                    }
                };
                let since = started.saturating_duration_since(base).as_micros();
                let us = base_us.saturating_add(i64::try_from(since).unwrap_or(i64::MAX));
                (us / 1000, us)
            }
            Clock::Manual(_) => {
                let ms = shared.clock.now_ms();
                (ms, ms.saturating_mul(1000))
            }
        };
        let client = &mut self.client;
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let mut now_ms = now_ms;
            // Our master's commands see every key it still has: none has expired for them
            // (the master's DEL says when), and deadlines arrive absolute.
            if raw.is_some() {
                now_ms = 0;
            }
            let keyspace: &mut Keyspace = held.get_or_insert_with(|| shared.lock_keyspace());
            // CLIENT NO-TOUCH: lookups leave access times alone, except TOUCH's (as Redis 7.2).
            let touch_command = argv
                .first()
                .is_some_and(|name| name.eq_ignore_ascii_case(b"touch"));
            keyspace.set_touching(!client.no_touch || touch_command);
            let mut ctx = Ctx {
                keyspace: &mut *keyspace,
                config: &shared.config,
                settings: &settings,
                client,
                clients: &shared.registry,
                table: shared.table,
                now_ms,
                now_us,
                rng: &shared.rng,
                stats: &shared.stats,
                log_level: &shared.log_level,
                shutdown: &shared.shutdown,
                slowlog: &shared.slowlog,
                persistence: &shared.persistence,
                latency: &shared.latency,
                active_expire: &shared.active_expire,
                replication: &shared.replication,
                argv,
                propagation: Default::default(),
            };
            let changes = shared.persistence.changes();
            let outcome = dispatch(shared.table, &mut ctx, argv);
            let propagation = std::mem::take(&mut ctx.propagation);
            let dirty = shared.persistence.changes() != changes;
            // Still under the keyspace lock: the stream's order is the order of the changes.
            match raw {
                Some(raw) => {
                    // A replica's own expirations are not propagated: its replicas get the
                    // master's DELs, as it does.
                    keyspace.drain_expired(|_, _| {});
                    shared.replication.feed_from_master(raw, client.db);
                }
                // Nothing listens (no backlog yet, as before the first replica) or we are a
                // replica, whose own writes stay local: only forget the expired keys.
                None if !shared.replication.is_streaming() || shared.replication.is_replica() => {
                    keyspace.drain_expired(|_, _| {});
                }
                None => {
                    let mut ops = Vec::new();
                    keyspace.drain_expired(|db, keys| {
                        for key in keys {
                            ops.push((db, vec![Bytes::from_static(b"DEL"), key]));
                        }
                    });
                    if dirty || propagation.forced {
                        match propagation.rewritten {
                            Some(list) => ops.extend(list.into_iter().map(|a| (client.db, a))),
                            None => ops.push((client.db, argv.to_vec())),
                        }
                    }
                    if !ops.is_empty() {
                        client.repl_offset = shared.replication.propagate(&ops);
                    }
                }
            }
            outcome
        }));
        let (outcome, found) = match outcome {
            Ok((reply, found)) => (Ok(reply), found),
            // Only after a handler panicked: look the command up again to count it.
            Err(panic) => (Err(panic), crate::dispatch::resolved(shared.table, argv)),
        };
        self.client.finish_command();
        // One clock read serves the command's duration and CLIENT LIST's idle time.
        let finished = Instant::now();
        self.last_finished.set(Some(finished));
        let reply = outcome.unwrap_or_else(|panic| {
            let name = argv
                .first()
                .map(|n| String::from_utf8_lossy(n).into_owned())
                .unwrap_or_default();
            tracing::error!(
                client = self.client.id,
                addr = %self.entry.endpoint.addr,
                db = self.client.db,
                command = %name,
                args = %describe_args(argv),
                panic = %panic_message(&*panic),
                "command handler panicked; replied with an error, the server carries on"
            );
            Reply::Error(CommandError::err(format_args!(
                "internal error while running '{name}'"
            )))
        });
        self.record(
            argv,
            finished,
            finished.saturating_duration_since(started),
            &reply,
            found,
        );
        self.client.error_uncounted = false;
        reply
    }

    /// Count the request for INFO, in Redis's terms: an arity error is a rejected call of the
    /// command, an error from a command that ran a failed call, an unknown command only an
    /// error.
    fn record(
        &self,
        argv: &[Bytes],
        finished: Instant,
        elapsed: std::time::Duration,
        reply: &Reply,
        found: Resolved,
    ) {
        let error = match reply {
            Reply::Error(err) if !self.client.error_uncounted => Some(err.text()),
            _ => None,
        };
        let code = error.as_ref().map(|text| {
            let end = text.iter().position(|&b| b == b' ').unwrap_or(text.len());
            String::from_utf8_lossy(&text[..end]).into_owned()
        });
        let stats = &self.shared.stats;
        match found {
            Resolved::Command(command) => {
                // Read after the call, as Redis does: a CONFIG SET of the slow log threshold
                // weighs itself.
                let settings = self.settings();
                let pended = code.is_none() && counted_in_runs(command);
                if pended {
                    self.pend(command, elapsed, finished);
                } else {
                    let outcome = if code.is_some() {
                        Outcome::Failed
                    } else {
                        Outcome::Ok
                    };
                    self.flush_stats();
                    stats.record_at(
                        Some(&command.full_name),
                        elapsed,
                        outcome,
                        code.as_deref(),
                        finished,
                    );
                }
                // Only commands that ran are logged, as in Redis, and not those flagged
                // SKIP_SLOWLOG.
                if !command.skip_slowlog {
                    self.log_if_slow(argv, elapsed, &settings);
                }
                self.record_latency(
                    &command.full_name,
                    command.flags.fast,
                    elapsed,
                    pended,
                    &settings,
                );
            }
            Resolved::ArityRejected(name) => {
                self.flush_stats();
                stats.record_at(
                    Some(&name),
                    elapsed,
                    Outcome::Rejected,
                    code.as_deref(),
                    finished,
                );
            }
            Resolved::Unknown => {
                self.flush_stats();
                stats.record_at(None, elapsed, Outcome::Unknown, code.as_deref(), finished)
            }
            Resolved::Rejected(command) => {
                self.flush_stats();
                stats.record_at(
                    Some(&command.full_name),
                    elapsed,
                    Outcome::Rejected,
                    code.as_deref(),
                    finished,
                );
            }
        }
    }

    /// Count a successful call of a command that takes keys: added to the run of calls of
    /// the same command not yet counted in the shared stats, or starting a new run.
    fn pend(&self, command: &'static Command, elapsed: std::time::Duration, finished: Instant) {
        let usec = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        match self.pending.get() {
            Some(mut run) if std::ptr::eq(run.command, command) => {
                run.calls += 1;
                run.usec = run.usec.saturating_add(usec);
                run.last = finished;
                self.pending.set(Some(run));
            }
            _ => {
                self.flush_stats();
                self.pending.set(Some(Pending {
                    command,
                    calls: 1,
                    usec,
                    last: finished,
                }));
            }
        }
    }

    /// Add the calls not counted yet to the shared stats: at the end of a batch (no other
    /// client's INFO can run before), and before any request for another command (this
    /// client's own INFO sees them).
    fn flush_stats(&self) {
        if let Some(run) = self.pending.take() {
            self.shared
                .stats
                .record_calls(&run.command.full_name, run.calls, run.usec, run.last);
            let mut latencies = self.pending_latencies.borrow_mut();
            self.shared
                .latency
                .commands
                .record_many(&run.command.full_name, &latencies);
            latencies.clear();
        }
    }
}

/// Successful calls of one command (one that takes keys, so not one that reads the stats)
/// counted by a session and not yet added to the shared stats: a pipeline of one command
/// takes the stats' lock once instead of once per request.
#[derive(Debug, Clone, Copy)]
struct Pending {
    command: &'static Command,
    calls: u64,
    usec: u64,
    last: Instant,
}

impl Session {
    /// Add the command to the slow log if it took at least `slowlog-log-slower-than`.
    fn log_if_slow(&self, argv: &[Bytes], elapsed: std::time::Duration, settings: &Settings) {
        let (threshold, max_len) = (settings.slowlog_log_slower_than, settings.slowlog_max_len);
        let duration_us = i64::try_from(elapsed.as_micros()).unwrap_or(i64::MAX);
        if threshold < 0 || duration_us < threshold {
            return;
        }
        let name = self.client.name.clone().unwrap_or_default();
        self.shared.slowlog.record(
            argv,
            duration_us,
            threshold,
            usize::try_from(max_len).unwrap_or(usize::MAX),
            self.shared.clock.now_ms() / 1000,
            self.entry.endpoint.addr.as_bytes(),
            &name,
        );
    }

    /// Feed the latency monitor, as Redis does for every command that ran: "fast-command" for
    /// commands flagged FAST, "command" for the others, in whole milliseconds; and, with
    /// `latency-tracking`, the command's histogram, in microseconds.
    ///
    /// `pended`: the call was added to the session's pending run (see `Pending`), so its
    /// histogram sample waits with it.
    fn record_latency(
        &self,
        name: &'static str,
        fast: bool,
        elapsed: std::time::Duration,
        pended: bool,
        settings: &Settings,
    ) {
        let (threshold, tracking) = (
            settings.latency_monitor_threshold,
            settings.latency_tracking,
        );
        if tracking {
            let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
            if pended {
                self.pending_latencies.borrow_mut().push(micros);
            } else {
                self.shared.latency.commands.record(name, micros);
            }
        }
        if threshold == 0 {
            return;
        }
        let event = if fast { "fast-command" } else { "command" };
        let ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
        self.shared.latency.record_if_needed(
            event,
            ms,
            threshold,
            self.shared.clock.now_ms() / 1000,
        );
    }

    /// The settings each request reads from the configuration, read again only when the
    /// configuration changed since.
    fn settings(&self) -> Settings {
        match self.settings.get() {
            Some(settings) if settings.generation == self.shared.config.generation() => settings,
            _ => {
                let settings = Settings::read(&self.shared.config);
                self.settings.set(Some(settings));
                settings
            }
        }
    }

    /// The end of a batch of requests, before the keyspace lock is let go: the calls not yet
    /// counted go to the shared stats, and what CLIENT LIST shows of this client to its
    /// registry entry (no other client can look at either before that: every command runs
    /// under the keyspace lock, and this client's own CLIENT LIST reads its live state).
    pub fn end_batch(&self) {
        self.flush_stats();
        if let Some(finished) = self.last_finished.take() {
            self.client.show_in(&mut self.entry.state(), finished);
        }
    }
}

/// Whether a successful call of `command` may wait in the session's pending run (see
/// `Pending`) instead of going to the shared stats at once: commands that take keys or are
/// flagged FAST, none of which reads the stats (INFO, LATENCY and CONFIG RESETSTAT are neither).
fn counted_in_runs(command: &Command) -> bool {
    command.flags.fast || !command.spec.key_specs.is_empty()
}

impl Drop for Session {
    /// The client leaves: out of CLIENT LIST, and counted for INFO.
    fn drop(&mut self) {
        self.flush_stats();
        self.shared.registry.unregister(self.client.id);
        self.shared.stats.client_disconnected();
    }
}

/// The wall clock in Unix microseconds.
fn wall_clock_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Redis's notion of a local client: one with no socket (our in-process sessions), or connected
/// from exactly 127.0.0.1 or ::1 (not any loopback address: Redis compares the text).
fn is_local(endpoint: &Endpoint) -> bool {
    if endpoint.fd < 0 {
        return true;
    }
    match endpoint.addr.parse::<std::net::SocketAddr>() {
        Ok(addr) => {
            let ip = addr.ip();
            ip == std::net::Ipv4Addr::LOCALHOST || ip == std::net::Ipv6Addr::LOCALHOST
        }
        Err(_) => false,
    }
}

/// A panic's message, when it has one (`panic!` with a literal or a format string).
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text.clone()
    } else {
        "(no message)".to_string()
    }
}

/// The request's arguments for a log line: at most 8, each cut to 64 bytes, quoted.
fn describe_args(argv: &[Bytes]) -> String {
    let mut out: Vec<String> = argv
        .iter()
        .skip(1)
        .take(8)
        .map(|a| format!("{:?}", String::from_utf8_lossy(&a[..a.len().min(64)])))
        .collect();
    if argv.len() > 9 {
        out.push(format!("... ({} arguments)", argv.len() - 1));
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::atomic::AtomicI64;
    use std::sync::Mutex;

    use super::*;
    use crate::args::Args;
    use crate::config::Config;
    use crate::registry::{CommandTable, Registration};

    /// A handler with a bug. It lives only in this test's own command table: the server's
    /// table is built from `inventory` and never holds it.
    fn boom(_ctx: &mut Ctx<'_>, _args: &Args<'_>) -> Result<Reply, CommandError> {
        panic!("deliberate bug for the test");
    }

    static BOOM: Registration = Registration {
        file: "boom",
        spec_json: r#"{"BOOM": {"summary": "Panics", "complexity": "O(1)", "group": "server",
            "since": "7.0.0", "arity": -1, "command_flags": ["FAST"], "acl_categories": [],
            "arguments": [{"name": "arg", "type": "string", "optional": true, "multiple": true}]}}"#,
        handler: Some(boom),
        ..Registration::NONE
    };

    /// Log lines written by the code under test, kept for inspection.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn argv(words: &[&str]) -> Vec<Bytes> {
        words
            .iter()
            .map(|w| Bytes::copy_from_slice(w.as_bytes()))
            .collect()
    }

    #[test]
    fn a_panicking_handler_answers_an_error_and_everyone_carries_on() {
        let table = CommandTable::build(inventory::iter::<Registration>.into_iter().chain([&BOOM]))
            .expect("the real specs and the test's one build a table");
        let table: &'static CommandTable = Box::leak(Box::new(table));
        let shared = Arc::new(Shared::new(
            Config::default(),
            table,
            Clock::Manual(AtomicI64::new(1_700_000_000_000)),
        ));
        let mut victim = Session::new(Arc::clone(&shared));
        let mut other = Session::new(Arc::clone(&shared));
        assert_eq!(other.execute(&argv(&["SET", "kept", "v1"])), Reply::ok());

        let log = Captured::default();
        let writer = log.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        // The default panic hook would print the deliberate panic as if the test had failed.
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let reply = tracing::subscriber::with_default(subscriber, || {
            victim.execute(&argv(&["boom", "some", "args"]))
        });
        std::panic::set_hook(hook);

        assert_eq!(
            reply,
            Reply::Error(CommandError::err("internal error while running 'boom'"))
        );
        let log =
            String::from_utf8_lossy(&log.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned();
        for context in [
            "command handler panicked",
            &format!("client={}", victim.client.id),
            "command=boom",
            "\"some\" \"args\"",
            "deliberate bug for the test",
        ] {
            assert!(
                log.contains(context),
                "the log line lacks {context:?}: {log}"
            );
        }
        // The same client goes on, the keyspace lock is usable, and so is everyone else.
        assert_eq!(victim.execute(&argv(&["GET", "kept"])), Reply::bulk("v1"));
        assert_eq!(other.execute(&argv(&["SET", "after", "v2"])), Reply::ok());
        assert_eq!(victim.execute(&argv(&["GET", "after"])), Reply::bulk("v2"));
        assert_eq!(
            shared
                .stats
                .commands()
                .iter()
                .find(|(name, _)| name == "boom")
                .map(|(_, s)| s.failed_calls),
            Some(1),
            "the call counts as a failed one"
        );
    }
}
