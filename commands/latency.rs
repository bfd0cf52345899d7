//! LATENCY <subcommand> [argument ...]
//!
//! A container: LATEST, HISTORY, RESET and HELP. (Redis's DOCTOR, GRAPH and HISTOGRAM are not
//! here yet; they answer as unknown subcommands.)

use crate::prelude::*;

register_container!("latency");
