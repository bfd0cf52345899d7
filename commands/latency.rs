//! LATENCY <subcommand> [argument ...]
//!
//! A container: LATEST, HISTORY, RESET, HISTOGRAM and HELP. (Redis's DOCTOR and GRAPH are not
//! here yet; they answer as unknown subcommands.)

use crate::prelude::*;

register_container!("latency");
