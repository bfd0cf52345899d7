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

/// The Rust keywords, from the list `cargo xtask new-command` uses (one source of truth).
fn is_keyword(word: &str) -> bool {
    quoted_list("xtask/src/scaffold.rs", "const KEYWORDS")
        .iter()
        .any(|k| k == word)
}

/// The string literals of a `const NAME: &[&str] = &[...];` in a source file: xtask is
/// std-only, so it keeps its own copies of some lists, and tests compare them.
fn quoted_list(path: &str, declaration: &str) -> Vec<String> {
    let text = read(path);
    let start = text
        .find(declaration)
        .unwrap_or_else(|| panic!("{path} has no {declaration}"));
    let body = &text[start..];
    let body = &body[body.find("&[").expect("list start")..body.find("];").expect("list end")];
    body.split('"')
        .skip(1)
        .step_by(2)
        .map(String::from)
        .collect()
}

/// Invariant: the lists xtask keeps a copy of are the server's.
#[test]
fn xtask_vocabularies_match_the_server() {
    assert_eq!(
        quoted_list("xtask/src/scaffold.rs", "const GROUPS"),
        redis_clone::spec::GROUPS
    );
    assert!(is_keyword("type") && is_keyword("move") && !is_keyword("set"));
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
/// spec file, and the table holds every top-level spec. Top-level means "no container" in the
/// spec itself: file names cannot tell (Redis has `restore-asking` and `client|no-evict`).
#[test]
fn specs_build_the_command_table() {
    let table = redis_clone::registry::init().unwrap_or_else(|e| panic!("{e}"));
    let mut top_level = 0;
    for stem in stems("specs", "json", |_| false) {
        let json = read(&format!("specs/{stem}.json"));
        let parsed = redis_clone::spec::parse(&stem, &json).unwrap_or_else(|e| panic!("{e}"));
        if parsed.spec.container.is_none() {
            top_level += 1;
            assert!(
                table.get(parsed.name.as_bytes()).is_some(),
                "{stem} is not in the table"
            );
        } else {
            assert!(
                table.get_full(parsed.full_name.as_bytes()).is_some(),
                "{stem} is not in the table"
            );
        }
    }
    assert_eq!(
        table.len(),
        top_level,
        "every top-level spec is a command, and nothing else"
    );
    // The flags the request path reads are the spec's, for every command and subcommand.
    let mut all: Vec<&redis_clone::registry::Command> = Vec::new();
    for command in table.commands() {
        all.push(command);
        all.extend(command.subcommands.values());
    }
    for command in all {
        let has = |name: &str| command.spec.command_flags.iter().any(|f| f == name);
        let f = command.flags;
        assert_eq!(
            (f.write, f.denyoom, f.protected, f.no_auth, f.fast),
            (
                has("WRITE"),
                has("DENYOOM"),
                has("PROTECTED"),
                has("NO_AUTH"),
                has("FAST")
            ),
            "{}",
            command.full_name
        );
    }
}

/// Invariant: handlers are synchronous and use the framework only through the prelude. A
/// command module may share code with a sibling command module (`super::expire::...`), but
/// reaches nothing else: no other framework path, no runtime, no sockets, threads or files.
#[test]
fn commands_use_only_the_prelude() {
    let modules = stems("commands", "rs", |s| s == "mod");
    for stem in &modules {
        let text = read(&format!("commands/{stem}.rs"));
        for line in text.lines() {
            let code = line.split("//").next().unwrap_or_default();
            for forbidden in [
                ".await",
                "async ",
                "tokio",
                "redis_clone::",
                "std::net",
                "std::thread",
                "std::fs",
                "std::process",
                "std::sync",
            ] {
                assert!(
                    !code.contains(forbidden),
                    "commands/{stem}.rs uses `{forbidden}`: {line}"
                );
            }
            if code.contains("crate::") {
                assert!(
                    code.trim() == "use crate::prelude::*;",
                    "commands/{stem}.rs reaches past the prelude: {line}"
                );
            }
            for (at, _) in code
                .match_indices("super::")
                .filter(|(at, _)| !code[*at..].starts_with("super::*"))
            {
                let sibling: String = code[at + 7..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                assert!(
                    modules.contains(sibling.trim_start_matches("r#")),
                    "commands/{stem}.rs: `super::` may only name a sibling command module: {line}"
                );
            }
        }
    }
}

/// Invariant: the codec knows nothing about commands: it imports only the reply model and the
/// error types from the rest of the crate.
#[test]
fn codec_knows_nothing_about_commands() {
    let text = read("src/codec.rs");
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or_default().trim();
        if code.contains("crate::") || code.contains("super::") && !code.starts_with("use super::*")
        {
            assert!(
                code == "use crate::error::{CommandError, ProtocolError};"
                    || code == "use crate::reply::Reply;",
                "src/codec.rs reaches into the crate: {line}"
            );
        }
    }
}

/// Invariant: adding a command changes no existing snapshot. Replies that list every command
/// (bare COMMAND, COUNT, LIST without a pattern, INFO/DOCS without names or of a container,
/// whose subcommands grow) are checked against the specs in tests/introspection.rs instead of
/// being written into a case file.
#[test]
fn no_case_file_snapshots_the_whole_command_table() {
    let containers: Vec<String> = stems("specs", "json", |_| false)
        .into_iter()
        .filter_map(|stem| {
            let parsed =
                redis_clone::spec::parse(&stem, &read(&format!("specs/{stem}.json"))).ok()?;
            parsed.spec.container.map(|c| c.to_lowercase())
        })
        .collect();
    for stem in stems("tests/cases", "txt", |_| false) {
        for line in read(&format!("tests/cases/{stem}.txt")).lines() {
            let mut line = line.trim();
            while let Some(rest) = line.strip_prefix('!') {
                line = rest
                    .split_once(' ')
                    .map_or("", |(_, tail)| tail.trim_start());
            }
            let words: Vec<String> = line.split_whitespace().map(str::to_lowercase).collect();
            let words: Vec<&str> = words.iter().map(String::as_str).collect();
            let whole = match words.as_slice() {
                ["command"] | ["command", "count"] | ["command", "info"] | ["command", "docs"] => {
                    true
                }
                ["command", "list"] => true,
                ["command", "list", "filterby", "aclcat", category, ..] => {
                    redis_clone::spec::ACL_CATEGORIES
                        .iter()
                        .any(|c| c.eq_ignore_ascii_case(category))
                }
                ["command", "info" | "docs", names @ ..] => {
                    names.iter().any(|n| containers.iter().any(|c| c == n))
                }
                _ => false,
            };
            assert!(
                !whole,
                "tests/cases/{stem}.txt snapshots a reply that lists every command: {line}"
            );
        }
    }
}
