//! One client's session: executes requests against the shared state and returns replies.
//!
//! This is the whole path from a parsed request to a reply, with no socket involved; the TCP
//! connection drives it, and so do the snapshot tests.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use bytes::Bytes;

use crate::context::{Client, Ctx};
use crate::dispatch::{dispatch, resolve};
use crate::error::CommandError;
use crate::reply::Reply;
use crate::shared::Shared;
use crate::stats::Outcome;

pub struct Session {
    shared: Arc<Shared>,
    pub client: Client,
}

impl Session {
    pub fn new(shared: Arc<Shared>) -> Session {
        let id = shared.next_client_id();
        shared.stats.client_connected();
        Session {
            shared,
            client: Client::new(id),
        }
    }

    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Execute one request (`argv[0]` is the command name).
    ///
    /// A panic in a handler is a bug; it must not take the server or other clients down, so it
    /// is caught here, logged, and answered with an error while the connection carries on.
    pub fn execute(&mut self, argv: &[Bytes]) -> Reply {
        let shared = &*self.shared;
        let client = &mut self.client;
        let started = std::time::Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let now_ms = shared.clock.now_ms();
            let mut keyspace = shared.lock_keyspace();
            let mut ctx = Ctx {
                keyspace: &mut keyspace,
                config: &shared.config,
                client,
                table: shared.table,
                now_ms,
                rng: &shared.rng,
                stats: &shared.stats,
                log_level: &shared.log_level,
            };
            dispatch(shared.table, &mut ctx, argv)
        }));
        let reply = outcome.unwrap_or_else(|_| {
            let name = argv
                .first()
                .map(|n| String::from_utf8_lossy(n).into_owned())
                .unwrap_or_default();
            tracing::error!(command = %name, "command handler panicked; replied with an error");
            Reply::Error(CommandError::err(format_args!(
                "internal error while running '{name}'"
            )))
        });
        self.record(argv, started.elapsed(), &reply);
        reply
    }

    /// Count the request for INFO, in Redis's terms: an arity error is a rejected call of the
    /// command, an error from a command that ran a failed call, an unknown command only an
    /// error.
    fn record(&self, argv: &[Bytes], elapsed: std::time::Duration, reply: &Reply) {
        let error = match reply {
            Reply::Error(err) => Some(err.text()),
            _ => None,
        };
        let code = error.as_ref().map(|text| {
            let end = text.iter().position(|&b| b == b' ').unwrap_or(text.len());
            String::from_utf8_lossy(&text[..end]).into_owned()
        });
        let stats = &self.shared.stats;
        match resolve(self.shared.table, argv) {
            Ok((command, _)) => {
                let outcome = if code.is_some() {
                    Outcome::Failed
                } else {
                    Outcome::Ok
                };
                stats.record(Some(&command.full_name), elapsed, outcome, code.as_deref());
            }
            Err(CommandError::WrongArity(name)) => {
                stats.record(Some(&name), elapsed, Outcome::Rejected, code.as_deref());
            }
            Err(_) => stats.record(None, elapsed, Outcome::Unknown, code.as_deref()),
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.shared.stats.client_disconnected();
    }
}
