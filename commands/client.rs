//! CLIENT <subcommand> [argument ...]
//!
//! A container: the dispatcher routes `CLIENT ID` to `client_id` and so on, and answers unknown
//! subcommands with Redis's error.

use crate::prelude::*;

register_container!("client");
