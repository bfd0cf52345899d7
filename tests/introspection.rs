//! The replies that describe the whole command table (COMMAND, COMMAND COUNT, COMMAND LIST,
//! COMMAND INFO and DOCS without names, containers' nested subcommands) are checked here
//! against the spec files on disk, not snapshotted: they change with every new command, and a
//! contributor adding one should only see their own case's snapshot.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use redis_clone::config::Config;
use redis_clone::reply::Reply;
use redis_clone::session::Session;
use redis_clone::shared::{Clock, Shared};

fn session() -> Session {
    let table = redis_clone::registry::init().expect("valid specs");
    Session::new(Arc::new(Shared::new(
        Config::default(),
        table,
        Clock::System,
    )))
}

fn run(session: &mut Session, line: &str) -> Reply {
    let argv: Vec<Bytes> = line
        .split(' ')
        .map(|w| Bytes::copy_from_slice(w.as_bytes()))
        .collect();
    session.execute(&argv)
}

/// Full names of every spec on disk (`get`, `config|get`), read from the specs themselves.
fn spec_names() -> BTreeSet<String> {
    std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("specs"))
        .expect("specs dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let stem = p.file_stem().expect("stem").to_string_lossy().into_owned();
            let json = std::fs::read_to_string(&p).expect("read spec");
            redis_clone::spec::parse(&stem, &json)
                .expect("valid spec")
                .full_name
        })
        .collect()
}

fn top_level() -> BTreeSet<String> {
    spec_names()
        .into_iter()
        .filter(|n| !n.contains('|'))
        .collect()
}

fn bulk_text(reply: &Reply) -> String {
    match reply {
        Reply::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
        other => panic!("expected a bulk string, got {other:?}"),
    }
}

fn items(reply: Reply) -> Vec<Reply> {
    match reply {
        Reply::Array(items) | Reply::Set(items) => items,
        other => panic!("expected an array, got {other:?}"),
    }
}

#[test]
fn command_count_is_the_number_of_top_level_specs() {
    let mut s = session();
    assert_eq!(
        run(&mut s, "COMMAND COUNT"),
        Reply::Integer(top_level().len() as i64)
    );
}

#[test]
fn command_list_names_every_command_and_subcommand() {
    let mut s = session();
    let listed: BTreeSet<String> = items(run(&mut s, "COMMAND LIST"))
        .iter()
        .map(bulk_text)
        .collect();
    assert_eq!(listed, spec_names());
}

#[test]
fn command_list_by_category_matches_each_commands_info() {
    let mut s = session();
    for category in [
        "connection",
        "string",
        "admin",
        "slow",
        "fast",
        "read",
        "write",
        "keyspace",
    ] {
        let listed: BTreeSet<String> = items(run(
            &mut s,
            &format!("COMMAND LIST FILTERBY ACLCAT {category}"),
        ))
        .iter()
        .map(bulk_text)
        .collect();
        let expected: BTreeSet<String> = spec_names()
            .into_iter()
            .filter(|name| {
                let info = items(run(&mut s, &format!("COMMAND INFO {name}")));
                let entry = items(info.into_iter().next().expect("one entry"));
                let wanted = Reply::Simple(Bytes::from(format!("@{category}")));
                items(entry[6].clone()).contains(&wanted)
            })
            .collect();
        assert_eq!(listed, expected, "ACLCAT {category}");
    }
}

#[test]
fn bare_command_and_info_without_names_describe_every_top_level_command() {
    let mut s = session();
    for line in ["COMMAND", "COMMAND INFO"] {
        let entries = items(run(&mut s, line));
        let names: BTreeSet<String> = entries
            .iter()
            .map(|e| bulk_text(&items(e.clone())[0]))
            .collect();
        assert_eq!(names, top_level(), "{line}");
        for entry in entries {
            let name = bulk_text(&items(entry.clone())[0]);
            let single = items(run(&mut s, &format!("COMMAND INFO {name}")));
            assert_eq!(single, vec![entry], "{line}: entry for {name}");
        }
    }
}

#[test]
fn docs_without_names_document_every_top_level_command() {
    let mut s = session();
    let Reply::Map(pairs) = run(&mut s, "COMMAND DOCS") else {
        panic!("DOCS is a map")
    };
    let names: BTreeSet<String> = pairs.iter().map(|(k, _)| bulk_text(k)).collect();
    assert_eq!(names, top_level());
    for (name, doc) in pairs {
        let name = bulk_text(&name);
        let Reply::Map(single) = run(&mut s, &format!("COMMAND DOCS {name}")) else {
            panic!("map")
        };
        assert_eq!(
            single,
            vec![(Reply::Bulk(Bytes::from(name.clone())), doc)],
            "DOCS {name}"
        );
    }
}

#[test]
fn containers_nest_their_subcommands() {
    let mut s = session();
    for container in top_level() {
        let subs: BTreeSet<String> = spec_names()
            .into_iter()
            .filter(|n| n.starts_with(&format!("{container}|")))
            .collect();
        let entry = items(items(run(&mut s, &format!("COMMAND INFO {container}"))).remove(0));
        let nested: BTreeSet<String> = items(entry[9].clone())
            .iter()
            .map(|e| bulk_text(&items(e.clone())[0]))
            .collect();
        assert_eq!(nested, subs, "COMMAND INFO {container}: subcommands");
        for sub in &subs {
            let alone = items(run(&mut s, &format!("COMMAND INFO {sub}"))).remove(0);
            assert!(
                items(entry[9].clone()).contains(&alone),
                "{sub} nested as it is alone"
            );
        }
        let Reply::Map(doc) = run(&mut s, &format!("COMMAND DOCS {container}")) else {
            panic!("map")
        };
        let Reply::Map(fields) = &doc[0].1 else {
            panic!("doc map")
        };
        let nested_docs: BTreeSet<String> = fields
            .iter()
            .find(|(k, _)| bulk_text(k) == "subcommands")
            .map(|(_, v)| match v {
                Reply::Map(subs) => subs.iter().map(|(k, _)| bulk_text(k)).collect(),
                other => panic!("subcommands is a map, got {other:?}"),
            })
            .unwrap_or_default();
        assert_eq!(nested_docs, subs, "COMMAND DOCS {container}: subcommands");
    }
}
