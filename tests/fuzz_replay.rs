//! The fuzz targets (`fuzz/`, run with cargo-fuzz: see fuzz/README.md), replayed in the normal
//! suite on stable Rust: every seed and every regression input (each a crash the fuzzer once
//! found), then a bounded number of inputs mutated from the seeds with a fixed seed, through
//! the same functions the fuzz targets call (`redis_clone::fuzzing`).

mod support;

use std::path::{Path, PathBuf};

use support::Rng;

/// Inputs derived from the seeds per target and run; fixed, so a failure reproduces.
const MUTATIONS: usize = 400;

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut out = Vec::new();
    for dir in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| Some(e.ok()?.path())).collect();
        paths.sort();
        for path in paths {
            let bytes = std::fs::read(&path).expect("read a corpus file");
            out.push((path, bytes));
        }
    }
    assert!(!out.is_empty(), "no seeds for the {target} target");
    out
}

/// A seed with a few of libFuzzer's simpler mutations: flip, insert, erase, duplicate, splice.
fn mutate(seed: &[u8], other: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut data = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(data.len() + 1);
        match rng.below(5) {
            0 if !data.is_empty() => {
                let i = rng.below(data.len());
                data[i] ^= 1 << rng.below(8);
            }
            1 => data.insert(at, rng.next() as u8),
            2 if at < data.len() => {
                let end = (at + rng.below(16)).min(data.len());
                data.drain(at..end);
            }
            3 if at < data.len() => {
                let end = (at + rng.below(64)).min(data.len());
                let piece = data[at..end].to_vec();
                data.splice(at..at, piece);
            }
            _ => {
                let from = rng.below(other.len());
                let end = (from + rng.below(256)).min(other.len());
                data.splice(at..at, other[from..end].iter().copied());
            }
        }
    }
    data
}

fn replay(target: &str, run: fn(&[u8])) {
    let corpus = inputs(target);
    for (path, bytes) in &corpus {
        let outcome = std::panic::catch_unwind(|| run(bytes));
        assert!(outcome.is_ok(), "{target}: {} fails", path.display());
    }
    let mut rng = Rng::new(0x9E37_79B9_7F4A_7C15);
    for i in 0..MUTATIONS {
        let seed = &corpus[rng.below(corpus.len())].1;
        let other = &corpus[rng.below(corpus.len())].1;
        let data = mutate(seed, other, &mut rng);
        let outcome = std::panic::catch_unwind(|| run(&data));
        if outcome.is_err() {
            let dump = std::env::temp_dir().join(format!("redis-clone-{target}-mutation-{i}"));
            let _ = std::fs::write(&dump, &data);
            panic!(
                "{target}: mutation {i} fails; input written to {} (add it to fuzz/regressions/{target}/)",
                dump.display()
            );
        }
    }
}

#[test]
fn codec_corpus_replays_clean() {
    replay("codec", redis_clone::fuzzing::codec);
}

#[test]
fn session_corpus_replays_clean() {
    replay("session", redis_clone::fuzzing::session);
}

#[test]
fn rdb_corpus_replays_clean() {
    replay("rdb", redis_clone::fuzzing::rdb);
}
