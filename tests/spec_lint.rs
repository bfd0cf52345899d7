//! Spec lint, run by `cargo test` and by `cargo xtask lint-specs`: every file in `specs/` must
//! parse strictly and pass the checks in `spec::parse` (vocabularies, arity against the
//! argument tree, key-spec indexes). Each message names the file and the field.
//!
//! Also checks what redis-cli 7.0 needs from COMMAND DOCS, since it aborts on malformed
//! entries: string `summary`/`since`/`group`, and every argument with a string `name` and
//! `type` and flags sent as status replies.

use std::path::Path;

use redis_clone::registry;
use redis_clone::reply::Reply;
use redis_clone::spec;

#[test]
fn every_spec_file_passes_the_lint() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("specs");
    let mut problems = Vec::new();
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("specs dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        count += 1;
        let stem = path
            .file_stem()
            .expect("stem")
            .to_string_lossy()
            .into_owned();
        let json = std::fs::read_to_string(&path).expect("read spec");
        if let Err(err) = spec::parse(&stem, &json) {
            problems.push(err.to_string());
        }
    }
    problems.sort();
    assert!(
        problems.is_empty(),
        "spec lint failed:\n{}",
        problems.join("\n")
    );
    eprintln!("spec lint: {count} spec files are valid");
}

fn text(reply: &Reply) -> Option<&[u8]> {
    match reply {
        Reply::Bulk(b) => Some(b),
        _ => None,
    }
}

fn check_doc_map(name: &str, reply: &Reply, problems: &mut Vec<String>) {
    let Reply::Map(pairs) = reply else {
        problems.push(format!("{name}: DOCS entry is not a map"));
        return;
    };
    let get = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| text(k) == Some(key.as_bytes()))
            .map(|(_, v)| v)
    };
    for key in ["summary", "since", "group"] {
        if get(key).and_then(text).is_none() {
            problems.push(format!("{name}: DOCS '{key}' missing or not a string"));
        }
    }
    if let Some(Reply::Array(args)) = get("arguments") {
        for arg in args {
            check_argument(name, arg, problems);
        }
    }
    if let Some(Reply::Map(subs)) = get("subcommands") {
        for (sub_name, sub) in subs {
            let sub_name = String::from_utf8_lossy(text(sub_name).unwrap_or_default()).into_owned();
            if !sub_name.contains('|') {
                problems.push(format!(
                    "{name}: subcommand key '{sub_name}' has no '|' (redis-cli would crash)"
                ));
            }
            check_doc_map(&sub_name, sub, problems);
        }
    }
}

fn check_argument(name: &str, arg: &Reply, problems: &mut Vec<String>) {
    let Reply::Map(pairs) = arg else {
        problems.push(format!("{name}: an argument is not a map"));
        return;
    };
    let get = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| text(k) == Some(key.as_bytes()))
            .map(|(_, v)| v)
    };
    for key in ["name", "type"] {
        if get(key).and_then(text).is_none() {
            problems.push(format!(
                "{name}: an argument's '{key}' is missing or not a string"
            ));
        }
    }
    if let Some(flags) = get("flags") {
        match flags {
            Reply::Set(items) if items.iter().all(|f| matches!(f, Reply::Simple(_))) => {}
            _ => problems.push(format!(
                "{name}: argument flags must be a set of status replies"
            )),
        }
    }
    if let Some(Reply::Array(children)) = get("arguments") {
        for child in children {
            check_argument(name, child, problems);
        }
    }
}

#[test]
fn docs_are_safe_for_redis_cli() {
    let table = registry::init().expect("valid specs");
    let mut problems = Vec::new();
    for command in table.commands() {
        check_doc_map(
            &command.full_name,
            &redis_clone::introspect::docs(command),
            &mut problems,
        );
    }
    assert!(
        problems.is_empty(),
        "COMMAND DOCS would break redis-cli:\n{}",
        problems.join("\n")
    );
}
