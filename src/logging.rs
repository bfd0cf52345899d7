//! Logging: the subscriber the binary installs (stderr, or `logfile`), at the level `loglevel`
//! names, and the handle through which CONFIG SET changes that level while the server runs.
//!
//! Tests and the snapshot runner never install a subscriber; then [`LogLevel::set`] does
//! nothing.

use std::sync::{Arc, OnceLock};

use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{reload, Registry};

/// The tracing level for a Redis `loglevel` word (`debug`, `verbose`, `notice`, `warning`).
pub fn level_for(loglevel: &str) -> LevelFilter {
    match loglevel {
        "debug" => LevelFilter::TRACE,
        "verbose" => LevelFilter::DEBUG,
        "notice" => LevelFilter::INFO,
        "warning" => LevelFilter::WARN,
        _ => LevelFilter::OFF,
    }
}

/// Changes the installed subscriber's level; empty until [`init`]'s handle is attached.
#[derive(Debug, Default)]
pub struct LogLevel(OnceLock<reload::Handle<LevelFilter, Registry>>);

impl LogLevel {
    /// Attach the handle [`init`] returned; a second attach is ignored.
    pub fn attach(&self, handle: reload::Handle<LevelFilter, Registry>) {
        let _ = self.0.set(handle);
    }

    /// Log at the level `loglevel` names from now on.
    pub fn set(&self, loglevel: &str) {
        if let Some(handle) = self.0.get() {
            if let Err(err) = handle.modify(|filter| *filter = level_for(loglevel)) {
                tracing::warn!(error = %err, "could not change the log level");
            }
        }
    }
}

/// Install the global subscriber: to stderr when `logfile` is empty (with colours only for a
/// terminal), else appending to that file, at the level `loglevel` names. The handle changes
/// the level later.
pub fn init(
    loglevel: &str,
    logfile: &str,
) -> Result<reload::Handle<LevelFilter, Registry>, String> {
    let (filter, handle) = reload::Layer::new(level_for(loglevel));
    let format = tracing_subscriber::fmt::layer().with_target(false);
    let registry = tracing_subscriber::registry().with(filter);
    let installed = if logfile.is_empty() {
        let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
        registry
            .with(format.with_ansi(ansi).with_writer(std::io::stderr))
            .try_init()
    } else {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(logfile)
            .map_err(|e| format!("cannot open logfile {logfile}: {e}"))?;
        registry
            .with(format.with_ansi(false).with_writer(Arc::new(file)))
            .try_init()
    };
    installed.map_err(|e| format!("cannot install the logger: {e}"))?;
    Ok(handle)
}
