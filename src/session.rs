//! One client's session: executes requests against the shared state and returns replies.
//!
//! This is the whole path from a parsed request to a reply, with no socket involved; the TCP
//! connection drives it, and so do the snapshot tests.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, MutexGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use crate::clients::{Endpoint, Entry};
use crate::context::{Client, Ctx};
use crate::dispatch::{dispatch, Resolved};
use crate::error::CommandError;
use crate::keyspace::Keyspace;
use crate::reply::Reply;
use crate::shared::{Clock, Shared};
use crate::stats::Outcome;

pub struct Session {
    shared: Arc<Shared>,
    pub client: Client,
    /// This client's line in the registry of connected clients.
    entry: Arc<Entry>,
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
        client.authenticated = shared
            .config
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .requirepass()
            .is_empty();
        client.local = is_local(&endpoint);
        let entry = shared.registry.register(id, endpoint);
        Session {
            shared,
            client,
            entry,
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
        self.execute_held(argv, &shared, &mut held)
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
        debug_assert!(std::ptr::eq(shared, &*self.shared));
        let client = &mut self.client;
        client.argv_mem = argv.iter().map(Bytes::len).sum();
        let started = std::time::Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let (now_ms, now_us) = now(&shared.clock);
            let keyspace = held.get_or_insert_with(|| shared.lock_keyspace());
            // CLIENT NO-TOUCH: lookups leave access times alone, except TOUCH's (as Redis 7.2).
            let touch_command = argv
                .first()
                .is_some_and(|name| name.eq_ignore_ascii_case(b"touch"));
            keyspace.set_touching(!client.no_touch || touch_command);
            let mut ctx = Ctx {
                keyspace,
                config: &shared.config,
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
            };
            dispatch(shared.table, &mut ctx, argv)
        }));
        let (outcome, found) = match outcome {
            Ok((reply, found)) => (Ok(reply), found),
            // Only after a handler panicked: look the command up again to count it.
            Err(panic) => (Err(panic), crate::dispatch::resolved(shared.table, argv)),
        };
        self.client.finish_command();
        self.publish();
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
        self.record(argv, started.elapsed(), &reply, found);
        reply
    }

    /// Count the request for INFO, in Redis's terms: an arity error is a rejected call of the
    /// command, an error from a command that ran a failed call, an unknown command only an
    /// error.
    fn record(&self, argv: &[Bytes], elapsed: std::time::Duration, reply: &Reply, found: Resolved) {
        let error = match reply {
            Reply::Error(err) => Some(err.text()),
            _ => None,
        };
        let code = error.as_ref().map(|text| {
            let end = text.iter().position(|&b| b == b' ').unwrap_or(text.len());
            String::from_utf8_lossy(&text[..end]).into_owned()
        });
        let stats = &self.shared.stats;
        match found {
            Resolved::Command(command) => {
                let outcome = if code.is_some() {
                    Outcome::Failed
                } else {
                    Outcome::Ok
                };
                stats.record(Some(&command.full_name), elapsed, outcome, code.as_deref());
                // Only commands that ran are logged, as in Redis, and not those flagged
                // SKIP_SLOWLOG.
                if !command.skip_slowlog {
                    self.log_if_slow(argv, elapsed);
                }
                self.record_latency(&command.full_name, command.flags.fast, elapsed);
            }
            Resolved::ArityRejected(name) => {
                stats.record(Some(&name), elapsed, Outcome::Rejected, code.as_deref());
            }
            Resolved::Rejected(command) => {
                stats.record(
                    Some(&command.full_name),
                    elapsed,
                    Outcome::Rejected,
                    code.as_deref(),
                );
            }
            Resolved::Unknown => stats.record(None, elapsed, Outcome::Unknown, code.as_deref()),
        }
    }
}

impl Session {
    /// Add the command to the slow log if it took at least `slowlog-log-slower-than`.
    fn log_if_slow(&self, argv: &[Bytes], elapsed: std::time::Duration) {
        let (threshold, max_len) = {
            let config = self.shared.config.read().unwrap_or_else(|p| p.into_inner());
            (config.slowlog_log_slower_than(), config.slowlog_max_len())
        };
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
    fn record_latency(&self, name: &str, fast: bool, elapsed: std::time::Duration) {
        let (threshold, tracking) = {
            let config = self.shared.config.read().unwrap_or_else(|p| p.into_inner());
            (
                config.latency_monitor_threshold(),
                config.latency_tracking(),
            )
        };
        if tracking {
            let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
            self.shared.latency.commands.record(name, micros);
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

    /// Copy what CLIENT LIST shows of this client into its registry entry.
    fn publish(&self) {
        let mut state = self.entry.state();
        state.name.clone_from(&self.client.name);
        state.db = self.client.db;
        state.last_cmd = self.client.last_cmd;
        state.last_interaction = Instant::now();
        state.resp = self.client.protocol_version();
        state.no_evict = self.client.no_evict;
        state.no_touch = self.client.no_touch;
    }
}

impl Drop for Session {
    /// The client leaves: out of CLIENT LIST, and counted for INFO.
    fn drop(&mut self) {
        self.shared.registry.unregister(self.client.id);
        self.shared.stats.client_disconnected();
    }
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

/// The current time in milliseconds and microseconds. A manual clock (tests) only has
/// milliseconds.
fn now(clock: &Clock) -> (i64, i64) {
    match clock {
        Clock::System => {
            let us = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
                .unwrap_or(0);
            (us / 1000, us)
        }
        Clock::Manual(_) => {
            let ms = clock.now_ms();
            (ms, ms.saturating_mul(1000))
        }
    }
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
