//! Contributor tasks, run as `cargo xtask <task>`. Standard library only, so it builds in
//! seconds and never drifts with the server's dependencies.
//!
//! * `new-command NAME [--group G] [--arity N] [--summary TEXT] [--since V]`: create
//!   `commands/NAME.rs`, `specs/NAME.json` and `tests/cases/NAME.txt`, and add the module line
//!   to `commands/mod.rs`. `NAME` may be a subcommand, `config-set`, whose spec names its
//!   container (`CONFIG`).
//! * `bench memory`: resident memory per key against redis-server in the same run.
//! * `bench stall`, `bench bgsave`: the longest PING while an operation runs (KEYS, SCAN,
//!   FLUSHALL, BGSAVE, active expiry), against redis-server in the same run.
//! * `lint-specs`: check every spec (runs the spec-lint test, which uses the server's own parser).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

mod bench;
mod scaffold;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match words.as_slice() {
        ["new-command", rest @ ..] => new_command(rest),
        ["lint-specs"] => lint_specs(),
        ["bench", "memory", rest @ ..] => bench_memory(rest),
        ["bench", "stall", rest @ ..] => bench_stall(rest, None),
        ["bench", "bgsave", rest @ ..] => bench_stall(rest, Some("BGSAVE (until written)")),
        ["bench", "throughput", rest @ ..] => bench_throughput(rest),
        ["bench", "startup"] => release_binary().and_then(|b| bench::startup(&b)),
        ["bench", rest @ ..] => bench_all(rest),
        _ => Err(USAGE.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::from(1)
        }
    }
}

const USAGE: &str = "usage: cargo xtask <task>

tasks:
  new-command NAME [--group GROUP] [--arity N] [--summary TEXT] [--since VERSION] [--top-level]
      Create commands/NAME.rs, specs/NAME.json and tests/cases/NAME.txt and register the
      module. NAME is lower case, e.g. `strlen`, or `config-set` for a subcommand (the first
      dash separates the container); --top-level makes a dashed name one command.
  lint-specs
      Check every spec in specs/: strict schema, vocabularies, arity against arguments.
  bench [--quick]
      Every measurement below, against redis-server in the same run.
  bench throughput [--quick | --interleaved] [--requests N] [--rounds R] [--clients C] [--pipeline P] [--only NAME]
      redis-benchmark rows (PING, SET, GET, INCR, MSET, random keys) at -P 1 and -P 16,
      alternating redis/ours each round: median requests/s, ratio, p50/p99 latency.
  bench startup
      Time to first PONG and idle resident memory.
  bench memory [--keys N] [--rounds R]
      Resident memory per key, this server against redis-server in the same run
      (1,000,000 keys of 11 bytes with 15-byte values by default; needs redis-server and
      redis-cli).
  bench stall [--keys N]
      The longest PING round trip another client sees while KEYS *, a whole SCAN, FLUSHALL,
      BGSAVE or the active expiry cycle run on N keys, against redis-server in the same run.
  bench bgsave [--keys N]
      The BGSAVE row of `bench stall` alone: the longest PING during a background save of N
      keys, next to how long the save took.";

/// The repository root: the parent of this crate's directory.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn new_command(args: &[&str]) -> Result<(), String> {
    let options = scaffold::Options::parse(args)?;
    let root = root();
    let files = scaffold::files(&options);
    for (path, _) in &files {
        if root.join(path).exists() {
            return Err(format!(
                "{path} already exists; new-command never overwrites a file"
            ));
        }
    }
    let mod_path = root.join("commands/mod.rs");
    let mod_text = std::fs::read_to_string(&mod_path)
        .map_err(|e| format!("cannot read commands/mod.rs: {e}"))?;
    let new_mod_text = scaffold::insert_module(&mod_text, &options.module_name())?;
    for (path, text) in &files {
        std::fs::write(root.join(path), text).map_err(|e| format!("cannot write {path}: {e}"))?;
        println!("created {path}");
    }
    std::fs::write(&mod_path, new_mod_text)
        .map_err(|e| format!("cannot write commands/mod.rs: {e}"))?;
    println!("added `mod {};` to commands/mod.rs", options.module_name());
    println!("{}", scaffold::next_steps(&options));
    Ok(())
}

fn bench_memory(args: &[&str]) -> Result<(), String> {
    let options = bench::MemoryOptions::parse(args)?;
    bench::memory(&release_binary()?, &options)
}

/// `cargo xtask bench [--quick]`: every measurement, one after the other.
fn bench_all(args: &[&str]) -> Result<(), String> {
    let quick = args == ["--quick"];
    if !quick && !args.is_empty() {
        return Err(USAGE.to_string());
    }
    let binary = release_binary()?;
    let throughput = bench::ThroughputOptions::parse(args)?;
    bench::throughput(&binary, &throughput)?;
    println!();
    let keys = if quick { 100_000 } else { 1_000_000 };
    bench::memory(&binary, &bench::MemoryOptions { keys, rounds: 1 })?;
    println!();
    bench::startup(&binary)?;
    println!();
    bench::stall(&binary, keys, None)
}

fn bench_throughput(args: &[&str]) -> Result<(), String> {
    let options = bench::ThroughputOptions::parse(args)?;
    bench::throughput(&release_binary()?, &options)
}

fn bench_stall(args: &[&str], only: Option<&str>) -> Result<(), String> {
    let options = bench::MemoryOptions::parse(args)?;
    bench::stall(&release_binary()?, options.keys, only)
}

/// Build the server in release mode and return the binary's path.
fn release_binary() -> Result<PathBuf, String> {
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--release", "--quiet", "--bin", "redis-clone"])
        .current_dir(root())
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err("the release build failed".into());
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    Ok(target.join("release/redis-clone"))
}

fn lint_specs() -> Result<(), String> {
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "test",
            "--quiet",
            "--test",
            "spec_lint",
            "--",
            "--nocapture",
        ])
        .current_dir(root())
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err("spec lint failed (see the messages above)".into())
    }
}
