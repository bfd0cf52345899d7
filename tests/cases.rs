//! Case-file tests. Each `tests/cases/<name>.txt` is a script of commands as typed in redis-cli.
//!
//! * `snapshots`: runs every script against our server in-process (no TCP, a manual clock) and
//!   snapshots the exact replies with insta.
//! * `replies_match_redis`: replays the same scripts against a real redis-server 7.0 and checks
//!   its replies render identically to ours, which proves every snapshot against the reference.

mod support;

use std::io::{BufReader, Write};
use std::path::Path;
use std::sync::atomic::AtomicI64;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use redis_clone::codec;
use redis_clone::config::Config;
use redis_clone::session::Session;
use redis_clone::shared::{Clock, Shared};
use support::{render, Step};

fn steps(path: &Path) -> Vec<Step> {
    let text = std::fs::read_to_string(path).expect("read case file");
    support::parse_case(&text, codec::split_args)
}

/// The transcript of a case as our server answers it: for the snapshot, or (with `compare`)
/// rendered for comparison with redis-server.
fn ours(path: &Path) -> String {
    transcript(path, false)
}

fn transcript(path: &Path, for_comparison: bool) -> String {
    let table = redis_clone::registry::init().expect("valid specs");
    let start = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    // Saves (SAVE, BGSAVE, FLUSHALL with save points) write into a scratch directory of
    // their own, never into the repository.
    let name = path.file_stem().expect("file name").to_string_lossy();
    let dir = support::scratch_dir(&format!("cases-{name}-{for_comparison}"));
    let mut config = case_config();
    config
        .set("dir", dir.to_string_lossy().as_bytes(), false)
        .expect("scratch dir");
    let shared = Arc::new(Shared::new(
        config,
        table,
        Clock::Manual(AtomicI64::new(start)),
    ));
    let mut session = Session::new(Arc::clone(&shared));
    let mut out = String::new();
    for step in steps(path) {
        match step {
            Step::Sleep(d) => shared.clock.advance(d),
            Step::Command {
                line,
                argv,
                sort,
                compare,
            } => {
                let argv: Vec<Bytes> = argv.into_iter().map(Bytes::from).collect();
                let mut raw = BytesMut::new();
                let reply = session.execute(&argv);
                // HELLO 3 in a case switches the rest of it to RESP3, as on a real connection.
                codec::encode(&reply, session.client.protocol, &mut raw);
                let shown = if for_comparison {
                    support::render_for_comparison(&raw, sort, compare)
                } else {
                    render(&raw, sort)
                };
                out.push_str(&format!("> {line}\n{shown}"));
            }
        }
    }
    out
}

/// The settings both servers run the cases with: the defaults, plus DEBUG for local clients
/// (the cases connect over loopback), as Redis's own test suite runs it.
const CASE_DIRECTIVES: &[&str] = &["--enable-debug-command", "local"];

fn case_config() -> Config {
    let mut config = Config::default();
    for pair in CASE_DIRECTIVES.chunks(2) {
        let name = pair[0].trim_start_matches("--");
        config
            .set(name, pair[1].as_bytes(), false)
            .expect("a valid case directive");
    }
    config
}

/// The commands whose replies differ between two transcripts, each with both replies.
fn differing_commands(ours: &str, theirs: &str) -> String {
    let split = |t: &str| t.split("\n> ").map(str::to_string).collect::<Vec<_>>();
    let (a, b) = (split(ours), split(theirs));
    let mut out = String::new();
    for (x, y) in a.iter().zip(&b) {
        if x != y {
            out.push_str(&format!("--- ours:\n> {x}\n--- redis-server:\n> {y}\n"));
        }
    }
    if a.len() != b.len() {
        out.push_str(&format!(
            "(transcripts have {} and {} commands)\n",
            a.len(),
            b.len()
        ));
    }
    out
}

#[test]
fn snapshots() {
    insta::glob!("cases/*.txt", |path| {
        insta::assert_snapshot!(ours(path));
    });
}

#[test]
fn replies_match_redis() {
    let Some(binary) = support::reference_server() else {
        return;
    };
    let server = support::start_reference_with("cases-reference", &binary, CASE_DIRECTIVES);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("cases dir")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    let mut failures = Vec::new();
    let snapshots = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    for path in files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
    {
        // A case whose snapshot has not been accepted yet proves nothing; `snapshots` already
        // fails for it, and that is the one thing a contributor with a new case must fix.
        let name = path.file_name().expect("file name").to_string_lossy();
        if !snapshots
            .join(format!("cases__snapshots@{name}.snap"))
            .exists()
        {
            eprintln!("{name}: no accepted snapshot yet, not replayed");
            continue;
        }
        // A fresh connection and an empty keyspace for every case, as ours gets.
        let mut stream = server.connect();
        stream
            .write_all(&support::encode_command(&[b"FLUSHALL".to_vec()]))
            .expect("write");
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        support::read_reply(&mut reader).expect("FLUSHALL reply");
        let mut theirs = String::new();
        for step in steps(path) {
            match step {
                Step::Sleep(d) => std::thread::sleep(d),
                Step::Command {
                    line,
                    argv,
                    sort,
                    compare,
                } => {
                    stream
                        .write_all(&support::encode_command(&argv))
                        .expect("write");
                    let raw = support::read_reply(&mut reader).expect("reply");
                    let shown = support::render_for_comparison(&raw, sort, compare);
                    theirs.push_str(&format!("> {line}\n{shown}"));
                }
            }
        }
        let mine = transcript(path, true);
        if mine != theirs {
            failures.push(format!(
                "{}:\n{}",
                path.display(),
                differing_commands(&mine, &theirs)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "replies differ from redis-server 7.0:\n{}",
        failures.join("\n")
    );
    eprintln!(
        "compared {} case files with redis-server: identical",
        files.len()
    );
}
