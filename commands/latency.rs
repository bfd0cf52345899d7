//! LATENCY <subcommand> [argument ...]
//!
//! A container: DOCTOR, GRAPH, HISTORY, LATEST, RESET, HISTOGRAM and HELP.

use crate::prelude::*;

register_container!("latency");
