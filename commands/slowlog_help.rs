//! SLOWLOG HELP
//!
//! Redis's own help text for SLOWLOG, line for line.

use crate::prelude::*;

register_command!("slowlog-help", slowlog_help);

const LINES: &[&str] = &[
    "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
    "HELP",
    "    Prints this help.",
];

fn slowlog_help(_ctx: &mut Ctx, _args: &Args) -> CommandResult {
    Ok(Reply::help(LINES))
}
