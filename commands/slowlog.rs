//! SLOWLOG <subcommand> [argument ...]
//!
//! A container: GET, LEN, RESET and HELP.

use crate::prelude::*;

register_container!("slowlog");
