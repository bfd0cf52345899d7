//! LATENCY HELP
//!
//! The LATENCY subcommands we have, one line each, worded as Redis's own help words them
//! (Redis also lists DOCTOR, GRAPH and HISTOGRAM, which we do not have yet).

use crate::prelude::*;

register_command!("latency-help", latency_help);

const LINES: &[&str] = &[
    "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "HISTORY <event>",
    "    Return time-latency samples for the <event> class.",
    "LATEST",
    "    Return the latest latency samples for all events.",
    "RESET [<event> ...]",
    "    Reset latency data of one or more <event> classes.",
    "    (default: reset all data for all event classes)",
    "HELP",
    "    Prints this help.",
];

fn latency_help(_ctx: &mut Ctx, _args: &Args) -> CommandResult {
    Ok(Reply::Array(
        LINES.iter().copied().map(Reply::simple).collect(),
    ))
}
