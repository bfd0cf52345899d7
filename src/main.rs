//! The `redis-clone` binary: `redis-clone [config-file] [--directive value ...]`, the way
//! `redis-server` takes its arguments. Startup failures print one line and exit with status 1
//! before anything is bound.

use std::process::ExitCode;
use std::sync::Arc;

use redis_clone::config::Config;
use redis_clone::shared::{Clock, Shared};
use redis_clone::{logging, registry, server, REDIS_VERSION, VERSION};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("-v" | "--version") => {
            println!("redis-clone {VERSION} (compatible with Redis {REDIS_VERSION})");
            return ExitCode::SUCCESS;
        }
        Some("-h" | "--help") => {
            println!("Usage: redis-clone [/path/to/redis.conf] [--directive value ...]");
            println!("Example: redis-clone --port 7777 --loglevel verbose");
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
    match start(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(reason) => {
            eprintln!("redis-clone: {reason}");
            ExitCode::from(1)
        }
    }
}

fn start(args: &[String]) -> Result<(), String> {
    let config = Config::from_args(args).map_err(|e| e.to_string())?;
    let log_level = logging::init(config.loglevel(), config.logfile())?;
    log_panics();
    let table = registry::init().map_err(|e| format!("invalid command spec: {e}"))?;
    // One thread runs every connection, as Redis's event loop does: on a multi-thread
    // runtime each request at -P 1 paid for work-stealing wake-ups and parked threads (server
    // CPU per 100k GETs at -c 50 -P 1: 610 ms multi-thread, 430 current-thread, Redis 380).
    // Blocking work (background saves, freeing a flushed keyspace) still has its own threads.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("could not start the runtime: {e}"))?;
    runtime.block_on(async {
        let listeners = server::bind(&config)?;
        let addresses: Vec<String> = listeners
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .map(|a| a.to_string())
            .collect();
        let shared = Arc::new(Shared::new(config, table, Clock::System));
        shared.log_level.attach(log_level);
        shared.persistence.attach(&shared);
        // Load the dump before serving anyone. A file that cannot be read whole stops the
        // server: it is never half-loaded, and never overwritten by a later save.
        {
            let mut keyspace = shared.lock_keyspace();
            let config = shared.config.read();
            shared
                .persistence
                .load(&mut keyspace, &config)
                .map_err(|reason| format!("cannot load the RDB file {reason}"))?;
        }
        tracing::info!(
            "redis-clone {VERSION} (Redis {REDIS_VERSION} compatible) ready on {} with {} commands, pid {}",
            addresses.join(", "),
            table.len(),
            std::process::id()
        );
        // Stop on a signal or on SHUTDOWN, whichever comes first. On a signal the dataset is
        // saved first when save points exist; if that fails the server keeps running, as
        // Redis does ("can't exit").
        let asked = Arc::clone(&shared);
        let stop = async move {
            loop {
                tokio::select! {
                    _ = shutdown_signal() => {
                        let shared = Arc::clone(&asked);
                        let saved = tokio::task::spawn_blocking(move || {
                            redis_clone::persistence::Persistence::save_before_exit(&shared)
                        })
                        .await
                        .unwrap_or_else(|e| Err(e.to_string()));
                        match saved {
                            Ok(()) => break,
                            Err(reason) => tracing::warn!(
                                "Error trying to save the DB, can't exit: {reason}"
                            ),
                        }
                    }
                    _ = asked.shutdown.notified() => {
                        tracing::info!("SHUTDOWN requested by a client");
                        break;
                    }
                }
            }
        };
        server::run(Arc::clone(&shared), listeners, stop)
            .await
            .map_err(|e| format!("server error: {e}"))?;
        // Saved before stopping (or told not to): save what other clients wrote meanwhile.
        redis_clone::persistence::Persistence::save_on_exit(&shared)
            .map_err(|reason| format!("could not save the dataset before exiting: {reason}"))?;
        tracing::info!("bye");
        Ok(())
    })
}

/// Send every panic to the log, where it carries the span it happened in (a connection's
/// `client{id, addr}`). A panic in a handler is then answered with an error by the session; one
/// anywhere else in a connection's task ends only that connection (tokio catches it), and the
/// server carries on either way.
fn log_panics() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".to_string());
        let location = info.location().map(|l| l.to_string()).unwrap_or_default();
        tracing::error!(%location, panic = %message, "a bug: panicked");
    }));
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(term) => term,
        Err(err) => {
            tracing::warn!(error = %err, "cannot listen for SIGTERM; only SIGINT will stop the server");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("received SIGINT"),
        _ = term.recv() => tracing::info!("received SIGTERM"),
    }
}
