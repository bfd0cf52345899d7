//! LATENCY <subcommand> [argument ...]
//!
//! A container: LATEST, HISTORY, GRAPH, RESET, HISTOGRAM and HELP. (Redis's DOCTOR is not
//! here yet; it answers as an unknown subcommand.)

use crate::prelude::*;

register_container!("latency");
