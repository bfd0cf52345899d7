//! Everything a command module needs, and nothing else: command modules import this prelude
//! and no other part of the framework.

pub use bytes::Bytes;

pub use crate::access::AccessClock;
pub use crate::args::Args;
pub use crate::context::Ctx;
pub use crate::error::CommandError;
pub use crate::glob::glob_match;
pub use crate::introspect;
pub use crate::keyspace::{Str, Value};
pub use crate::number::LongDouble;
pub use crate::registry::{Command, CommandTable};
pub use crate::reply::Reply;
pub use crate::stats::{CommandStat, Process};
pub use crate::{register_command, register_container};
pub use crate::{REDIS_VERSION, VERSION};

/// What every handler returns.
pub type CommandResult = Result<Reply, CommandError>;

/// Log a warning from a command (what Redis would write to its log at `warning` level).
pub fn log_warning(message: &str) {
    tracing::warn!("{message}");
}
