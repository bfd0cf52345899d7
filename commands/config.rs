//! CONFIG <subcommand> [argument ...]
//!
//! A container: the dispatcher routes `CONFIG GET ...` to `config_get`, `CONFIG HELP` to
//! `config_help`, and answers unknown subcommands with Redis's error.

use crate::prelude::*;

register_container!("config");
