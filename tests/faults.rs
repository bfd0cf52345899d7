//! Floods and faults against our binary, over loopback, bounded in count and time: thousands of
//! held connections, pipelining clients beside clients that vanish mid-request, a client that
//! trickles one byte every 10 ms, one that stops reading, random bytes on many connections.
//!
//! Throughout each, a separate "canary" client keeps sending PING and reading back keys it
//! wrote first; every answer must be right. Afterwards the server's memory must come back near
//! where it started: `used_memory` (the server's exact count of live heap bytes) is asserted
//! within a generous margin, resident memory only reported. Nothing asserts on time.
//!
//! The normal suite runs short versions. `REDIS_CLONE_FAULTS_LONG=1 cargo test --release
//! --test faults -- --nocapture --test-threads 1` runs each ten times longer (and prints the
//! figures); see BENCHMARKS.md.

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use support::{bulk, cmd, read_reply, Client, ServerProcess};

/// Reads in these tests wait longer than usual: the server is flooded on purpose.
const FAULT_READ_TIMEOUT: Duration = Duration::from_secs(30);

fn faults_client(server: &ServerProcess) -> Client {
    Client::connect(server).with_read_timeout(FAULT_READ_TIMEOUT)
}

/// 1 in the normal suite, 10 with `REDIS_CLONE_FAULTS_LONG` set.
fn scale() -> usize {
    if std::env::var_os("REDIS_CLONE_FAULTS_LONG").is_some() {
        10
    } else {
        1
    }
}

/// A client that checks the server keeps answering, correctly, while the others misbehave.
struct Canary {
    stop: Arc<AtomicBool>,
    rounds: Arc<AtomicU64>,
    thread: JoinHandle<Duration>,
}

impl Canary {
    /// Writes its keys, then loops on PING and GET of each key until stopped.
    fn start(server: &ServerProcess) -> Canary {
        let mut client = faults_client(server);
        let keys: Vec<(Vec<u8>, Vec<u8>)> = (0..50)
            .map(|i| {
                (
                    format!("canary:{i}").into_bytes(),
                    format!("value {i} {}", "x".repeat(i * 20)).into_bytes(),
                )
            })
            .collect();
        for (key, value) in &keys {
            assert_eq!(client.call(&[b"SET", key, value]), b"+OK\r\n");
        }
        let stop = Arc::new(AtomicBool::new(false));
        let rounds = Arc::new(AtomicU64::new(0));
        let thread = {
            let (stop, rounds) = (Arc::clone(&stop), Arc::clone(&rounds));
            std::thread::spawn(move || {
                let mut slowest = Duration::ZERO;
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) {
                    let started = Instant::now();
                    assert_eq!(client.call(&[b"PING"]), b"+PONG\r\n", "canary PING");
                    let (key, value) = &keys[i % keys.len()];
                    assert_eq!(
                        client.call(&[b"GET", key]),
                        bulk(value),
                        "canary key {}",
                        String::from_utf8_lossy(key)
                    );
                    slowest = slowest.max(started.elapsed());
                    rounds.fetch_add(1, Ordering::SeqCst);
                    i += 1;
                    std::thread::sleep(Duration::from_millis(2));
                }
                slowest
            })
        };
        Canary {
            stop,
            rounds,
            thread,
        }
    }

    /// Wait until the canary has answered `more` further rounds: proof it is not stuck.
    fn sees_progress(&self, more: u64) {
        let from = self.rounds.load(Ordering::SeqCst);
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.rounds.load(Ordering::SeqCst) < from + more {
            assert!(
                !self.thread.is_finished(),
                "the canary failed (see its panic above)"
            );
            assert!(
                Instant::now() < deadline,
                "the canary stopped getting answers"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Stop it; its rounds, and its slowest round (reported, not asserted).
    fn finish(self) -> (u64, Duration) {
        self.stop.store(true, Ordering::SeqCst);
        let slowest = self
            .thread
            .join()
            .unwrap_or_else(|_| panic!("the canary saw a wrong answer or none"));
        (self.rounds.load(Ordering::SeqCst), slowest)
    }
}

/// A field of INFO, read on a fresh connection.
fn info_field(server: &ServerProcess, section: &str, field: &str) -> u64 {
    let mut client = faults_client(server);
    let reply = client.call(&[b"INFO", section.as_bytes()]);
    let text = String::from_utf8_lossy(&reply).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("INFO {section} has no {field}: {text}"))
}

fn rss_kib(server: &ServerProcess) -> u64 {
    std::fs::read_to_string(format!("/proc/{}/status", server.child.id()))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Memory before a fault, to compare with after it.
struct Baseline {
    used: u64,
    rss_kib: u64,
}

impl Baseline {
    fn take(server: &ServerProcess) -> Baseline {
        Baseline {
            used: info_field(server, "memory", "used_memory"),
            rss_kib: rss_kib(server),
        }
    }

    /// Wait for the fault's clients to be gone (only `clients` left), then check that live
    /// heap memory is back within `margin` bytes of the baseline, and report the figures.
    fn check_after(&self, server: &ServerProcess, what: &str, clients: u64, peak_kib: u64) {
        let deadline = Instant::now() + Duration::from_secs(60);
        // The INFO connection itself counts.
        while info_field(server, "clients", "connected_clients") > clients + 1 {
            assert!(
                Instant::now() < deadline,
                "{what}: clients were not all closed"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let margin = 16 * 1024 * 1024;
        let mut used = info_field(server, "memory", "used_memory");
        // Memory handed to another thread to free (large values) may take a moment.
        while used > self.used + margin && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
            used = info_field(server, "memory", "used_memory");
        }
        let rss = rss_kib(server);
        let _ = std::io::stderr().write_all(
            format!(
                "FIGURES {what}: used_memory {} KiB before, {} KiB after; RSS {} KiB before, {} KiB at the peak, {} KiB after\n",
                self.used / 1024,
                used / 1024,
                self.rss_kib,
                peak_kib,
                rss
            )
            .as_bytes(),
        );
        assert!(
            used <= self.used + margin,
            "{what}: used_memory {used} did not come back near {}",
            self.used
        );
    }
}

fn report_canary(what: &str, canary: Canary) {
    let (rounds, slowest) = canary.finish();
    let _ = std::io::stderr().write_all(
        format!("FIGURES {what}: canary answered {rounds} rounds, slowest {slowest:?}\n")
            .as_bytes(),
    );
}

/// Raise this process's open-file limit (its children inherit it) to at least `wanted`, as far
/// as the hard limit allows; the limit in force afterwards.
fn raise_fd_limit(wanted: u64) -> u64 {
    // SAFETY: getrlimit/setrlimit only read and write the struct passed to them.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 0;
        }
        if limit.rlim_cur < wanted {
            limit.rlim_cur = wanted.min(limit.rlim_max);
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
            libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
        }
        limit.rlim_cur
    }
}

#[test]
fn five_thousand_connections_opened_and_held() {
    const CONNECTIONS: usize = 5000;
    // Both ends of every connection are in this machine: our sockets, and the server's
    // (inherited limit), plus room for the rest.
    let limit = raise_fd_limit(CONNECTIONS as u64 + 1000);
    assert!(
        limit >= CONNECTIONS as u64 + 200,
        "the open-file limit is {limit}, too low for {CONNECTIONS} connections"
    );
    let server = support::start_ours("faults-5000", &["--maxclients", "10000"]);
    let canary = Canary::start(&server);
    let baseline = Baseline::take(&server);
    let mut held = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        held.push(faults_client(&server));
    }
    canary.sees_progress(5);
    // Every one of them is served: pipeline a PING on each, then read all the answers.
    for client in &mut held {
        client
            .stream
            .write_all(b"*1\r\n$4\r\nPING\r\n")
            .expect("PING");
    }
    for client in &mut held {
        assert_eq!(read_reply(&mut client.reader).expect("PONG"), b"+PONG\r\n");
    }
    let connected = info_field(&server, "clients", "connected_clients");
    assert!(
        connected > CONNECTIONS as u64,
        "only {connected} clients connected"
    );
    // Hold them a while (longer in the long run), the canary still answering.
    canary.sees_progress(20 * scale() as u64);
    let peak = rss_kib(&server);
    let used_held = info_field(&server, "memory", "used_memory");
    let _ = std::io::stderr().write_all(
        format!(
            "FIGURES 5000 connections: used_memory {} KiB while held ({} bytes per connection)\n",
            used_held / 1024,
            (used_held.saturating_sub(baseline.used)) / CONNECTIONS as u64
        )
        .as_bytes(),
    );
    drop(held);
    report_canary("5000 connections", canary);
    baseline.check_after(&server, "5000 connections", 0, peak);
}

#[test]
fn pipelining_clients_beside_clients_that_vanish_mid_request() {
    let server = support::start_ours("faults-pipeline", &[]);
    let canary = Canary::start(&server);
    let baseline = Baseline::take(&server);
    let rounds = 5 * scale();
    let stop = Arc::new(AtomicBool::new(false));

    let vanishers: Vec<JoinHandle<u64>> = (0..50)
        .map(|t| {
            let port = server.port;
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut vanished = 0;
                let big = vec![b'z'; 200_000];
                let mut i = 0usize;
                // Bounded in count too: every vanished connection leaves a socket in
                // TIME_WAIT on this machine.
                while !stop.load(Ordering::SeqCst) && vanished < 200 * scale() as u64 {
                    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
                        continue;
                    };
                    // A request cut off at a different point each time: in the header, in a
                    // length line, in the middle of a large value, or complete but with the
                    // reply never read.
                    let request = cmd(&[b"SET", format!("vanish:{t}").as_bytes(), &big]);
                    let cut = match i % 4 {
                        0 => 3,
                        1 => 14,
                        2 => request.len() / 2,
                        _ => request.len(),
                    };
                    let _ = stream.write_all(&request[..cut]);
                    drop(stream);
                    vanished += 1;
                    i += 1;
                }
                vanished
            })
        })
        .collect();

    let pipeliners: Vec<JoinHandle<()>> = (0..200)
        .map(|t| {
            let mut client = faults_client(&server);
            std::thread::spawn(move || {
                for round in 0..rounds {
                    let mut batch = Vec::new();
                    for i in 0..50 {
                        let key = format!("pipe:{t}:{i}");
                        let value = format!("{t}-{round}-{i}");
                        batch.extend(cmd(&[b"SET", key.as_bytes(), value.as_bytes()]));
                        batch.extend(cmd(&[b"GET", key.as_bytes()]));
                    }
                    client.stream.write_all(&batch).expect("pipeline write");
                    for i in 0..50 {
                        let value = format!("{t}-{round}-{i}");
                        assert_eq!(read_reply(&mut client.reader).expect("SET"), b"+OK\r\n");
                        assert_eq!(
                            read_reply(&mut client.reader).expect("GET"),
                            bulk(value.as_bytes())
                        );
                    }
                }
            })
        })
        .collect();
    let mut peak = 0;
    for p in pipeliners {
        peak = peak.max(rss_kib(&server));
        p.join().expect("a pipelining client got a wrong reply");
    }
    canary.sees_progress(5);
    stop.store(true, Ordering::SeqCst);
    let vanished: u64 = vanishers
        .into_iter()
        .map(|v| v.join().expect("vanisher"))
        .sum();
    // The keys they wrote are data, not leftovers: remove them before memory is compared.
    let mut admin = faults_client(&server);
    for t in 0..200 {
        let keys: Vec<Vec<u8>> = (0..50)
            .map(|i| format!("pipe:{t}:{i}").into_bytes())
            .collect();
        let mut argv: Vec<&[u8]> = vec![b"DEL"];
        argv.extend(keys.iter().map(Vec::as_slice));
        admin.call(&argv);
    }
    for t in 0..50 {
        admin.call(&[b"DEL", format!("vanish:{t}").as_bytes()]);
    }
    drop(admin);
    let _ = std::io::stderr().write_all(
        format!(
            "FIGURES pipelining: 200 clients x {rounds} rounds of 100 commands, {vanished} connections vanished mid-request\n"
        )
        .as_bytes(),
    );
    report_canary("pipelining", canary);
    baseline.check_after(&server, "pipelining + vanishing", 0, peak);
}

#[test]
fn a_client_sending_one_byte_every_10_ms() {
    let server = support::start_ours("faults-trickle", &[]);
    let canary = Canary::start(&server);
    let mut slow = faults_client(&server);
    let value = "v".repeat(20 * scale());
    let request = cmd(&[b"SET", b"trickled", value.as_bytes()]);
    for byte in &request {
        slow.stream.write_all(&[*byte]).expect("one byte");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(read_reply(&mut slow.reader).expect("reply"), b"+OK\r\n");
    canary.sees_progress(5);
    assert_eq!(
        slow.call(&[b"GET", b"trickled"]),
        bulk(value.as_bytes()),
        "the trickled value"
    );
    let _ = std::io::stderr().write_all(
        format!(
            "FIGURES trickle: {} bytes at one per 10 ms\n",
            request.len()
        )
        .as_bytes(),
    );
    report_canary("trickle", canary);
}

#[test]
fn a_client_that_stops_reading() {
    let server = support::start_ours("faults-nonreader", &[]);
    let canary = Canary::start(&server);
    let mut admin = faults_client(&server);
    assert_eq!(
        admin.call(&[b"SET", b"big", &vec![b'b'; 1 << 20]]),
        b"+OK\r\n"
    );
    let baseline = Baseline::take(&server);
    let mut lazy = faults_client(&server);
    // KEYS * and GETs of a 1 MB value, pipelined, never read: a gigabyte of replies (ten in
    // the long run) with the default limits, where nothing closes the client.
    let mut batch = cmd(&[b"KEYS", b"*"]);
    batch.extend(cmd(&[b"GET", b"big"]).repeat(1000 * scale()));
    lazy.stream
        .write_all(&batch)
        .expect("the server keeps reading");
    canary.sees_progress(20);
    let peak = rss_kib(&server);
    let used_meanwhile = info_field(&server, "memory", "used_memory");
    assert!(
        used_meanwhile < baseline.used + 64 * 1024 * 1024,
        "one client that does not read made the server hold {} more bytes",
        used_meanwhile - baseline.used
    );
    // It goes away without reading anything.
    drop(lazy);
    report_canary("non-reader", canary);
    baseline.check_after(&server, "a client that stops reading", 1, peak);
}

#[test]
fn random_bytes_on_100_connections() {
    let server = support::start_ours("faults-random", &[]);
    let canary = Canary::start(&server);
    let baseline = Baseline::take(&server);
    let threads: Vec<JoinHandle<(usize, bool)>> = (0..100u64)
        .map(|t| {
            let stream = server.connect();
            std::thread::spawn(move || {
                let mut state =
                    0x9E37_79B9_7F4A_7C15u64 ^ (t + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                let mut next = move || {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state
                };
                let mut reader = stream.try_clone().expect("clone");
                reader
                    .set_read_timeout(Some(Duration::from_millis(1)))
                    .expect("timeout");
                let mut stream = stream;
                let mut sent = 0;
                let mut sink = [0u8; 65536];
                let mut closed = false;
                for _ in 0..20 * scale() {
                    // Some connections send RESP-looking bytes, to get past the first check.
                    let mut chunk: Vec<u8> = (0..1 + next() % 2048).map(|_| next() as u8).collect();
                    if t % 3 == 0 {
                        chunk[0] = b'*';
                    }
                    if stream.write_all(&chunk).is_err() {
                        closed = true;
                        break;
                    }
                    sent += chunk.len();
                    match reader.read(&mut sink) {
                        Ok(0) => {
                            closed = true;
                            break;
                        }
                        Err(e) if e.kind() == ErrorKind::ConnectionReset => {
                            closed = true;
                            break;
                        }
                        _ => {}
                    }
                }
                (sent, closed)
            })
        })
        .collect();
    let mut sent = 0;
    let mut closed = 0;
    for t in threads {
        let (s, c) = t.join().expect("a random-bytes client");
        sent += s;
        closed += usize::from(c);
    }
    canary.sees_progress(5);
    let peak = rss_kib(&server);
    let _ = std::io::stderr().write_all(
        format!("FIGURES random bytes: {sent} bytes on 100 connections, {closed} closed by the server\n")
            .as_bytes(),
    );
    report_canary("random bytes", canary);
    baseline.check_after(&server, "random bytes", 0, peak);
}
