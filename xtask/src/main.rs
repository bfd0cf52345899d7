//! Contributor tasks, run as `cargo xtask <task>`. Standard library only.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        _ => {
            eprintln!("usage: cargo xtask <task>\n\ntasks: (none yet)");
            ExitCode::from(2)
        }
    }
}
