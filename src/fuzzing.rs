//! The bodies of the fuzz targets, shared by `fuzz/` (cargo-fuzz, libFuzzer) and by the corpus
//! replay that `cargo test` runs (`tests/fuzz_replay.rs`), so both exercise the same code.
//!
//! Each function takes arbitrary bytes and panics only when it finds a bug: a panic anywhere
//! in the codec, a difference between parsing a buffer whole and parsing it as it trickles in,
//! a request that does not survive encoding and parsing again, or a command handler that
//! panicked (the session answers those with an error so the server lives; here that error is
//! turned back into a panic so the fuzzer sees it).

use std::sync::atomic::AtomicI64;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};

use crate::codec::{self, Frame, Limits, Parser, Protocol};
use crate::config::Config;
use crate::error::ProtocolError;
use crate::reply::Reply;
use crate::session::Session;
use crate::shared::{Clock, Shared};

/// At most this many requests are taken from one input, so each run stays short.
const MAX_REQUESTS: usize = 256;

/// Fixed start of the manual clock: runs are reproducible.
const START_MS: i64 = 1_700_000_000_000;

/// The codec target. The first byte picks the limits (authenticated or not, a small or the
/// default `proto-max-bulk-len`) and the size of the pieces the rest arrives in.
pub fn codec(data: &[u8]) {
    let Some((&control, stream)) = data.split_first() else {
        return;
    };
    let limits = Limits {
        max_bulk_len: if control & 1 == 0 {
            512 * 1024 * 1024
        } else {
            1024
        },
        authenticated: control & 2 == 0,
    };
    let piece = usize::from(control >> 2).max(1);

    let whole = parse_all(stream, &limits, stream.len());
    let trickled = parse_all(stream, &limits, piece);
    assert_eq!(
        whole, trickled,
        "parsing in pieces of {piece} bytes differs from parsing the whole buffer"
    );

    // Every request survives being encoded as a multibulk request and parsed again.
    for outcome in &whole {
        if let Outcome::Frame(Frame::Command(argv)) = outcome {
            let mut wire = BytesMut::new();
            let items = argv.iter().map(|a| Reply::Bulk(a.clone())).collect();
            codec::encode(&Reply::Array(items), Protocol::Resp2, &mut wire);
            let unlimited = Limits::default();
            let again = Parser::default().parse(&mut wire, &unlimited);
            if argv
                .iter()
                .all(|a| a.len() as u64 <= unlimited.max_bulk_len)
            {
                assert_eq!(
                    again,
                    Ok(Some(Frame::Command(argv.clone()))),
                    "a request does not survive encoding and parsing again"
                );
                assert!(wire.is_empty(), "bytes left after the re-parsed request");
            }
        }
    }
    // The config-file and inline splitter must not panic on anything either.
    let _ = codec::split_args(stream);
}

#[derive(Debug, PartialEq)]
enum Outcome {
    Frame(Frame),
    Error(String),
}

/// Parse `stream` as a connection would receive it, `piece` bytes per read, until it is used
/// up or a protocol error ends it.
fn parse_all(stream: &[u8], limits: &Limits, piece: usize) -> Vec<Outcome> {
    let mut parser = Parser::default();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for chunk in stream.chunks(piece.max(1)) {
        buf.extend_from_slice(chunk);
        loop {
            match parser.parse(&mut buf, limits) {
                Ok(Some(frame)) => out.push(Outcome::Frame(frame)),
                Ok(None) => break,
                Err(err) => {
                    out.push(Outcome::Error(protocol_error_text(&err)));
                    return out;
                }
            }
        }
    }
    out
}

fn protocol_error_text(err: &ProtocolError) -> String {
    String::from_utf8_lossy(&err.reply_text()).into_owned()
}

/// Commands the session target never runs: they act on the process or the file system
/// rather than on the scratch keyspace (or would, once they exist).
const SKIPPED: &[&[u8]] = &[
    b"shutdown",
    b"debug",
    b"save",
    b"bgsave",
    b"bgrewriteaof",
    b"replicaof",
    b"slaveof",
    b"sync",
    b"psync",
    b"monitor",
    b"failover",
];

/// The codec + dispatcher + commands target: a scratch server with a manual clock, one
/// session, and the input parsed as the requests a client sends. The first byte sets how far
/// the clock moves between requests (0 to 2.55 s), so expiry is exercised too.
pub fn session(data: &[u8]) {
    let Some((&step, stream)) = data.split_first() else {
        return;
    };
    let table = crate::registry::init().expect("the command specs are valid");
    let mut config = Config::default();
    // No snapshot rules, and a scratch directory should a command save anyway (FLUSHALL after
    // a CONFIG SET save): nothing is written where the fuzzer runs.
    config
        .set("save", b"", false)
        .expect("an empty save is valid");
    let scratch = std::env::temp_dir();
    config
        .set("dir", scratch.to_string_lossy().as_bytes(), false)
        .expect("the temporary directory exists");
    let shared = Arc::new(Shared::new(
        config,
        table,
        Clock::Manual(AtomicI64::new(START_MS)),
    ));
    let mut session = Session::new(Arc::clone(&shared));
    let mut parser = Parser::default();
    let mut input = BytesMut::from(stream);
    let mut output = BytesMut::new();
    let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
    for round in 0..MAX_REQUESTS {
        let limits = Limits {
            max_bulk_len: 512 * 1024 * 1024,
            authenticated: session.client.authenticated,
        };
        let argv = match parser.parse(&mut input, &limits) {
            Ok(Some(Frame::Command(argv))) => argv,
            Ok(Some(Frame::Empty)) => continue,
            Ok(None) | Err(_) => break,
        };
        if argv
            .first()
            .is_some_and(|name| SKIPPED.iter().any(|s| s.eq_ignore_ascii_case(name)))
        {
            continue;
        }
        let reply = session.execute(&argv);
        if let Reply::Error(err) = &reply {
            let text = err.text();
            assert!(
                !text.starts_with(b"ERR internal error while running"),
                "a handler panicked on {:?}",
                printable(&argv)
            );
        }
        output.clear();
        codec::encode(&reply, session.client.protocol, &mut output);
        if session.client.close_after_reply {
            break;
        }
        shared
            .clock
            .advance(Duration::from_millis(u64::from(step) * 10));
        if round % 8 == 7 {
            shared.active_expire_cycle(Duration::from_millis(1), || {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed
            });
        }
    }
}

fn printable(argv: &[Bytes]) -> Vec<String> {
    argv.iter()
        .map(|a| String::from_utf8_lossy(&a[..a.len().min(64)]).into_owned())
        .collect()
}

/// The RDB target: arbitrary bytes loaded as a dump file into a scratch keyspace, as startup
/// and DEBUG RELOAD load one. Whatever loads must survive saving and loading again unchanged;
/// anything else must be refused with an error, never a panic.
pub fn rdb(data: &[u8]) {
    use crate::rdb::{RdbOptions, Source};
    let contents = |keyspace: &crate::keyspace::Keyspace| {
        let mut all = Vec::new();
        for db in 0..keyspace.databases() {
            keyspace
                .visit(db, &mut |key, value, deadline| {
                    all.push((db, key.to_vec(), value.clone(), deadline));
                    Ok(())
                })
                .expect("visiting memory cannot fail");
        }
        all.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        all
    };
    let mut first = crate::keyspace::Keyspace::new(16);
    if crate::persistence::load_into(&mut first, &mut &data[..], START_MS).is_err() {
        return;
    }
    let options = RdbOptions {
        compression: data.len().is_multiple_of(2),
        checksum: true,
        ctime: START_MS / 1000,
        used_mem: 0,
    };
    let mut saved = Vec::new();
    crate::rdb::encode(&first, &mut saved, &options).expect("writing to memory cannot fail");
    let mut second = crate::keyspace::Keyspace::new(16);
    if let Err(err) = crate::persistence::load_into(&mut second, &mut &saved[..], START_MS) {
        panic!("a dump we wrote does not load back: {err}");
    }
    assert!(
        contents(&first) == contents(&second),
        "a dump we wrote loads back different"
    );
}
