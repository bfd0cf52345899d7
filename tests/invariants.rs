//! Architecture invariants, each listed in ARCHITECTURE.md, each enforced here.

use std::collections::BTreeSet;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// File stems in `dir` with extension `ext`, skipping the ones `skip` says to.
fn stems(dir: &str, ext: &str, skip: impl Fn(&str) -> bool) -> BTreeSet<String> {
    std::fs::read_dir(root().join(dir))
        .unwrap_or_else(|e| panic!("read {dir}: {e}"))
        .map(|entry| entry.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .filter(|s| !skip(s))
        .collect()
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("read {path}: {e}"))
}

/// Invariant: every command has a module, a spec and a case file, and nothing else exists.
#[test]
fn commands_specs_and_cases_match() {
    let modules: BTreeSet<String> = stems("commands", "rs", |s| s == "mod")
        .into_iter()
        .map(|s| s.replace('_', "-"))
        .collect();
    let specs = stems("specs", "json", |_| false);
    // Case files whose name starts with `_` test the framework itself (dispatch errors).
    let cases = stems("tests/cases", "txt", |s| s.starts_with('_'));
    assert_eq!(modules, specs, "commands/*.rs and specs/*.json differ");
    assert_eq!(specs, cases, "specs/*.json and tests/cases/*.txt differ");
}

/// Invariant: `commands/mod.rs` holds exactly one sorted `mod` line per command file.
#[test]
fn module_list_matches_files() {
    let text = read("commands/mod.rs");
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("//"))
        .collect();
    let expected: Vec<String> = stems("commands", "rs", |s| s == "mod")
        .into_iter()
        .map(|stem| {
            format!(
                "mod {};",
                if is_keyword(&stem) {
                    format!("r#{stem}")
                } else {
                    stem
                }
            )
        })
        .collect();
    assert_eq!(
        lines, expected,
        "commands/mod.rs must list the command files, sorted, and nothing else"
    );
}

fn is_keyword(word: &str) -> bool {
    matches!(
        word,
        "type"
            | "move"
            | "match"
            | "loop"
            | "return"
            | "fn"
            | "mod"
            | "use"
            | "ref"
            | "self"
            | "struct"
            | "enum"
            | "impl"
            | "trait"
            | "where"
            | "while"
            | "for"
            | "in"
            | "if"
            | "else"
            | "let"
            | "const"
            | "static"
            | "mut"
            | "pub"
            | "crate"
            | "super"
            | "as"
            | "break"
            | "continue"
            | "extern"
            | "false"
            | "true"
            | "unsafe"
            | "async"
            | "await"
            | "dyn"
    )
}

/// Invariant: each command file registers exactly its own spec, once.
#[test]
fn each_module_registers_its_own_spec() {
    for stem in stems("commands", "rs", |s| s == "mod") {
        let text = read(&format!("commands/{stem}.rs"));
        let file = stem.replace('_', "-");
        let registrations = text.matches("register_command!(").count()
            + text.matches("register_container!(").count();
        assert_eq!(
            registrations, 1,
            "commands/{stem}.rs must register exactly one command"
        );
        assert!(
            text.contains(&format!("register_command!(\"{file}\""))
                || text.contains(&format!("register_container!(\"{file}\")")),
            "commands/{stem}.rs must register specs/{file}.json"
        );
    }
}

/// Invariant: every spec parses and builds into the command table, every registration has a
/// spec file, and the table holds every top-level spec.
#[test]
fn specs_build_the_command_table() {
    let table = redis_clone::registry::init().unwrap_or_else(|e| panic!("{e}"));
    let top_level = stems("specs", "json", |_| false)
        .into_iter()
        .filter(|s| !s.contains('-'))
        .count();
    assert_eq!(table.len(), top_level, "every top-level spec is a command");
}

/// Invariant: handlers are synchronous and use the framework only through the prelude.
#[test]
fn commands_use_only_the_prelude() {
    for stem in stems("commands", "rs", |s| s == "mod") {
        let text = read(&format!("commands/{stem}.rs"));
        for line in text.lines() {
            let code = line.split("//").next().unwrap_or_default();
            assert!(
                !code.contains(".await") && !code.contains("async "),
                "commands/{stem}.rs: handlers never await: {line}"
            );
            assert!(
                !code.contains("tokio"),
                "commands/{stem}.rs: handlers never touch the runtime: {line}"
            );
            if code.contains("crate::") {
                assert!(
                    code.trim() == "use crate::prelude::*;",
                    "commands/{stem}.rs reaches past the prelude: {line}"
                );
            }
        }
    }
}

/// Invariant: the codec knows nothing about commands.
#[test]
fn codec_knows_nothing_about_commands() {
    let text = read("src/codec.rs");
    for forbidden in [
        "crate::dispatch",
        "crate::registry",
        "crate::args",
        "crate::spec",
        "crate::commands",
        "crate::keyspace",
        "crate::context",
        "crate::session",
    ] {
        assert!(
            !text.contains(forbidden),
            "src/codec.rs must not use {forbidden}"
        );
    }
}
