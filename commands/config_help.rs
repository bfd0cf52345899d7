//! CONFIG HELP
//!
//! Redis's own help text for CONFIG, line for line, since clients and people compare it.

use crate::prelude::*;

register_command!("config-help", config_help);

const LINES: &[&str] = &[
    "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET <pattern>",
    "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value>.",
    "RESETSTAT",
    "    Reset statistics reported by the INFO command.",
    "REWRITE",
    "    Rewrite the configuration file.",
    "HELP",
    "    Prints this help.",
];

fn config_help(_ctx: &mut Ctx, _args: &Args) -> CommandResult {
    Ok(Reply::help(LINES))
}
