//! Replication against redis-server 7.0, on loopback, in both directions.
//!
//! * `stream_is_what_redis_propagates`: the same client commands sent to redis-server and to
//!   us, each with a fake replica attached (PSYNC ? -1); the two streams must be the same
//!   commands byte for byte, apart from absolute millisecond deadlines (PXAT/PEXPIREAT
//!   arguments, which depend on when each server ran the command).
//! * `redis_master_to_our_replica`, `our_master_to_redis_replica`, `chain_of_our_servers`:
//!   a stream of mixed writes (expirations and database switches included) on the master;
//!   then every key, value and TTL presence is compared on every server. A cut link ends in a
//!   partial resync (+CONTINUE).
//! * `cut_full_sync`: a master that stops in the middle of a snapshot leaves the replica's old
//!   data untouched, and the next attempt loads the whole new snapshot, nothing mixed; a
//!   replica that goes away in the middle of one leaves our master serving.
//!
//! The number of writes is 10,000 by default; `REDIS_CLONE_REPL_WRITES=100000` runs the
//! issue's full count.

mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use support::{encode_command, read_reply, ServerProcess};

/// Databases the mixed writes use.
const DBS: usize = 4;

fn writes() -> usize {
    std::env::var("REDIS_CLONE_REPL_WRITES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

/// One connection kept open (SELECT sticks), sending commands and reading raw replies.
struct Conn {
    writer: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Conn {
    fn open(server: &ServerProcess) -> Conn {
        Conn::to_port(server.port)
    }

    fn to_port(port: u16) -> Conn {
        let writer = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        writer
            .set_read_timeout(Some(Duration::from_secs(60)))
            .expect("timeout");
        let reader = BufReader::new(writer.try_clone().expect("clone"));
        Conn { writer, reader }
    }

    fn send(&mut self, argv: &[&str]) {
        let argv: Vec<Vec<u8>> = argv.iter().map(|a| a.as_bytes().to_vec()).collect();
        self.writer
            .write_all(&encode_command(&argv))
            .expect("write");
    }

    fn call(&mut self, argv: &[&str]) -> Vec<u8> {
        self.send(argv);
        read_reply(&mut self.reader).expect("reply")
    }

    fn text(&mut self, argv: &[&str]) -> String {
        String::from_utf8_lossy(&self.call(argv)).into_owned()
    }
}

/// A field of INFO replication.
fn info_field(port: u16, field: &str) -> Option<String> {
    let info = Conn::to_port(port).text(&["INFO", "replication"]);
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .map(|v| v.trim().to_string())
}

fn stat(port: u16, field: &str) -> Option<String> {
    let info = Conn::to_port(port).text(&["INFO", "stats"]);
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .map(|v| v.trim().to_string())
}

struct Defer<F: FnMut()>(F);

impl<F: FnMut()> Drop for Defer<F> {
    fn drop(&mut self) {
        (self.0)()
    }
}

/// Poll `check` until it holds, or fail after a generous timeout (the machine may be loaded).
fn wait_until(what: &str, mut check: impl FnMut() -> bool) {
    let started = Instant::now();
    let _log = Defer(move || eprintln!("waited {:?} until {what}", started.elapsed()));
    let deadline = Instant::now() + Duration::from_secs(90);
    while Instant::now() < deadline {
        if check() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out waiting until {what}");
}

/// Parse one RESP value: bulk strings as bytes, integers as text, arrays flattened.
fn parse_flat(raw: &[u8]) -> Vec<Vec<u8>> {
    fn line(raw: &[u8], pos: &mut usize) -> Vec<u8> {
        let start = *pos;
        while raw[*pos] != b'\r' {
            *pos += 1;
        }
        *pos += 2;
        raw[start..*pos - 2].to_vec()
    }
    fn value(raw: &[u8], pos: &mut usize, out: &mut Vec<Vec<u8>>) {
        let kind = raw[*pos];
        *pos += 1;
        let head = line(raw, pos);
        let n: i64 = String::from_utf8_lossy(&head).parse().unwrap_or(0);
        match kind {
            b'*' => {
                for _ in 0..n.max(0) {
                    value(raw, pos, out);
                }
            }
            b'$' if n >= 0 => {
                let n = n as usize;
                out.push(raw[*pos..*pos + n].to_vec());
                *pos += n + 2;
            }
            b'$' => out.push(b"(nil)".to_vec()),
            _ => out.push(head),
        }
    }
    let mut out = Vec::new();
    value(raw, &mut 0, &mut out);
    out
}

/// Every key of the first `DBS` databases with its value and whether it has a TTL.
fn dataset(port: u16) -> BTreeMap<(usize, Vec<u8>), (Vec<u8>, bool)> {
    let mut conn = Conn::to_port(port);
    let mut out = BTreeMap::new();
    for db in 0..DBS {
        conn.call(&["SELECT", &db.to_string()]);
        let keys = parse_flat(&conn.call(&["KEYS", "*"]));
        for key in &keys {
            let key_text = String::from_utf8_lossy(key).into_owned();
            conn.send(&["GET", &key_text]);
            conn.send(&["PTTL", &key_text]);
        }
        for key in keys {
            let value = parse_flat(&read_reply(&mut conn.reader).expect("GET"));
            let pttl = parse_flat(&read_reply(&mut conn.reader).expect("PTTL"));
            let ttl: i64 = String::from_utf8_lossy(&pttl[0]).parse().unwrap_or(-2);
            // A key that expired between KEYS and GET is gone on both sides.
            if ttl == -2 {
                continue;
            }
            out.insert((db, key), (value[0].clone(), ttl > 0));
        }
    }
    out
}

fn assert_same_data(master: u16, replica: u16, what: &str) {
    // Deadlines a few milliseconds ahead must have passed on both sides before they are read
    // one after the other.
    std::thread::sleep(Duration::from_millis(300));
    let ours = dataset(replica);
    let theirs = dataset(master);
    assert!(!theirs.is_empty(), "{what}: the master holds no data");
    if ours != theirs {
        let missing: Vec<_> = theirs
            .keys()
            .filter(|k| !ours.contains_key(*k))
            .take(5)
            .collect();
        let extra: Vec<_> = ours
            .iter()
            .filter(|(k, _)| !theirs.contains_key(*k))
            .take(5)
            .map(|((db, k), (v, ttl))| {
                format!(
                    "{db}:{}={} ttl:{ttl}",
                    String::from_utf8_lossy(k),
                    String::from_utf8_lossy(v)
                )
            })
            .collect();
        let differ: Vec<_> = theirs
            .iter()
            .filter(|(k, v)| ours.get(*k).is_some_and(|o| o != *v))
            .take(5)
            .collect();
        panic!(
            "{what}: {} keys on the master, {} on the replica; missing {missing:?}, extra {extra:?}, different {differ:?}",
            theirs.len(),
            ours.len()
        );
    }
    eprintln!("{what}: {} keys identical", theirs.len());
}

/// Wait until `replica` has applied everything `master` has sent.
fn wait_caught_up(master: u16, replica: u16) {
    wait_until("the replica caught up with the master", || {
        let sent = info_field(master, "master_repl_offset");
        let applied = info_field(replica, "slave_repl_offset");
        let up = info_field(replica, "master_link_status");
        up.as_deref() == Some("up") && sent.is_some() && sent == applied
    });
}

/// A small deterministic generator.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// `count` mixed writes on `port`, pipelined: strings, counters, deadlines far away or a few
/// milliseconds ahead, relative and absolute expiry, deletions, and database switches.
fn mixed_writes(port: u16, count: usize, seed: u64) {
    let mut rng = Lcg(seed);
    let mut conn = Conn::to_port(port);
    let mut pending = 0;
    for i in 0..count {
        let key = format!("key:{}", rng.below(2000));
        let other = format!("key:{}", rng.below(2000));
        let value = format!("value-{i}-{}", "x".repeat(rng.below(40) as usize));
        let ms = (1 + rng.below(50)).to_string();
        let argv: Vec<String> = match rng.below(20) {
            0 => vec!["SELECT".into(), rng.below(DBS as u64).to_string()],
            1 => vec!["SET".into(), key, value, "EX".into(), "100000".into()],
            2 => vec!["SET".into(), key, value, "PX".into(), ms],
            3 => vec!["INCR".into(), format!("counter:{}", rng.below(50))],
            4 => vec![
                "INCRBYFLOAT".into(),
                format!("float:{}", rng.below(20)),
                "1.25".into(),
            ],
            5 => vec!["APPEND".into(), key, "+".into()],
            6 => vec!["DEL".into(), key, other],
            7 => vec!["EXPIRE".into(), key, "50000".into()],
            8 => vec!["PERSIST".into(), key],
            9 => vec!["PEXPIRE".into(), key, ms],
            10 => vec!["GETEX".into(), key, "EX".into(), "70000".into()],
            11 => vec!["MSET".into(), key, value.clone(), other, value],
            12 => vec!["GETDEL".into(), key],
            13 => vec!["SETRANGE".into(), key, "3".into(), "zz".into()],
            14 => vec!["SETEX".into(), key, "90000".into(), value],
            15 => vec!["SETNX".into(), key, value],
            16 => vec!["GETSET".into(), key, value],
            17 => vec!["EXPIREAT".into(), key, "1".into()],
            _ => vec!["SET".into(), key, value],
        };
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        conn.send(&argv);
        pending += 1;
        if pending == 500 {
            for _ in 0..pending {
                read_reply(&mut conn.reader).expect("reply");
            }
            pending = 0;
        }
    }
    for _ in 0..pending {
        read_reply(&mut conn.reader).expect("reply");
    }
}

/// redis-server with a config file (so that a full sync starts at once rather than after
/// Redis's default 5 s wait for more replicas).
fn start_redis(name: &str, binary: &Path, extra: &[&str]) -> ServerProcess {
    let dir = support::scratch_dir(name);
    let config = dir.join("redis.conf");
    let mut text = String::from("save \"\"\nappendonly no\nrepl-diskless-sync-delay 0\n");
    for pair in extra.chunks(2) {
        text.push_str(&format!("{} {}\n", pair[0], pair.get(1).unwrap_or(&"")));
    }
    std::fs::write(&config, text).expect("config");
    support::start_reference_from_file(dir, binary, &config)
}

/// The first RDB payload a master sends a fake replica, read from `reader` after PSYNC's
/// `+FULLRESYNC` (both framings).
fn read_snapshot(reader: &mut BufReader<TcpStream>) -> Vec<u8> {
    let mut header = String::new();
    loop {
        header.clear();
        reader.read_line(&mut header).expect("header");
        if !header.trim().is_empty() {
            break;
        }
    }
    let header = header.trim_end().to_string();
    if let Some(mark) = header.strip_prefix("$EOF:") {
        let mut data = Vec::new();
        let mut byte = [0u8; 1];
        while !(data.len() >= 40 && data.ends_with(mark.as_bytes())) {
            reader.read_exact(&mut byte).expect("payload");
            data.push(byte[0]);
        }
        data.truncate(data.len() - 40);
        data
    } else {
        let len: usize = header[1..].parse().expect("length");
        let mut data = vec![0; len];
        reader.read_exact(&mut data).expect("payload");
        data
    }
}

/// Attach a fake replica to `port`: it sees the FULLRESYNC line and the snapshot, then the
/// stream.
fn fake_replica(port: u16, capa_eof: bool) -> (BufReader<TcpStream>, String, Vec<u8>) {
    let (reader, line, rdb, writer) = fake_replica_quiet(port, capa_eof);
    // After a disk-less transfer Redis streams once an ACK arrives after the transfer is
    // complete on its side (an earlier one is ignored): acknowledge as replicas do, every
    // so often, for as long as the connection lives.
    let mut writer = writer;
    std::thread::spawn(move || {
        let ack = encode_command(&[b"REPLCONF".to_vec(), b"ACK".to_vec(), b"0".to_vec()]);
        for _ in 0..600 {
            if writer.write_all(&ack).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    (reader, line, rdb)
}

/// A fake replica that never acknowledges; dropping both halves closes it.
fn fake_replica_quiet(
    port: u16,
    capa_eof: bool,
) -> (BufReader<TcpStream>, String, Vec<u8>, TcpStream) {
    let mut conn = Conn::to_port(port);
    if capa_eof {
        conn.call(&["REPLCONF", "capa", "eof", "capa", "psync2"]);
    } else {
        conn.call(&["REPLCONF", "capa", "psync2"]);
    }
    conn.send(&["PSYNC", "?", "-1"]);
    let mut line = String::new();
    conn.reader.read_line(&mut line).expect("FULLRESYNC");
    assert!(line.starts_with("+FULLRESYNC "), "got {line:?}");
    let rdb = read_snapshot(&mut conn.reader);
    (conn.reader, line, rdb, conn.writer)
}

/// Read the replication stream until a command naming `marker` arrives; the commands, PINGs
/// left out.
fn read_stream_until(reader: &mut BufReader<TcpStream>, marker: &[u8]) -> Vec<Vec<Vec<u8>>> {
    let mut commands = Vec::new();
    loop {
        let raw =
            read_reply(reader).unwrap_or_else(|e| panic!("stream ended ({e}) after {commands:?}"));
        let argv = parse_flat(&raw);
        let done = argv.iter().any(|a| a == marker);
        if argv != [b"PING".to_vec()] {
            commands.push(argv);
        }
        if done {
            return commands;
        }
    }
}

/// A 13-digit number is an absolute deadline in milliseconds: when it was computed differs.
fn masked(commands: &[Vec<Vec<u8>>]) -> Vec<String> {
    commands
        .iter()
        .map(|argv| {
            argv.iter()
                .map(|a| {
                    if a.len() == 13 && a.iter().all(u8::is_ascii_digit) {
                        "<ms>".to_string()
                    } else {
                        String::from_utf8_lossy(a).into_owned()
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

const STREAM_SCRIPT: &[&str] = &[
    "SET a 1",
    "SET b 2 EX 100",
    "SET b 2 PX 100000",
    "SET b 2 EXAT 99999999999",
    "SET b 2 PXAT 99999999999",
    // Already past: read at once, so that its DEL has a fixed place in the stream.
    "GET b",
    "SET c 3 EX 100 GET",
    "SET c 3 NX",
    "SET c 4 XX KEEPTTL",
    "SET c 5 GET XX",
    "SETEX d 100 v",
    "PSETEX d 100000 v",
    "SETNX d v",
    "SETNX d2 v",
    "GETSET a 5",
    "GETDEL a",
    "GETDEL a",
    "SET k v",
    "GETEX k",
    "GETEX k EX 100",
    "GETEX k PERSIST",
    "GETEX k PERSIST",
    "GETEX k PXAT 1",
    "EXPIRE c 100",
    "EXPIRE nosuch 100",
    "PEXPIRE c 100000 XX",
    "EXPIREAT c 99999999999",
    "EXPIRE c 100 NX",
    "EXPIRE c -1",
    "SET e 1",
    "PERSIST e",
    "INCR e",
    "INCRBY e 5",
    "DECR e",
    "DECRBY e 2",
    "INCRBYFLOAT e 1.5",
    "INCRBYFLOAT e 1e2",
    "SELECT 3",
    "SET x 1",
    "SELECT 0",
    "SET y 1 PX 20",
    "!sleep 300",
    "GET y",
    "SET z 1 PX 20",
    "!sleep 300",
    "INCR z",
    "MSET m1 1 m2 2",
    "MSETNX m1 3 m9 4",
    "MSETNX n1 3 n2 4",
    "DEL m1 m2 nosuch",
    "DEL nosuch",
    "UNLINK n1",
    "APPEND m1 x",
    "SETRANGE m1 0 y",
    "RENAME m1 m3",
    "RENAMENX m3 n2",
    "COPY m3 m4",
    "MOVE m4 5",
    "SWAPDB 0 1",
    "SELECT 1",
    "FLUSHDB",
    "FLUSHALL",
    "FLUSHALL",
    "SET q 1 EX 100",
    "PEXPIREAT q 1",
    "SET end-of-script 1",
];

#[test]
fn stream_is_what_redis_propagates() {
    let Some(binary) = support::reference_server() else {
        return;
    };
    let theirs = start_redis("repl-stream-theirs", &binary, &[]);
    let ours = support::start_ours("repl-stream-ours", &[]);
    let mut streams = Vec::new();
    for server in [&theirs, &ours] {
        let (mut reader, _, _) = fake_replica(server.port, true);
        let mut client = Conn::open(server);
        for line in STREAM_SCRIPT {
            if let Some(ms) = line.strip_prefix("!sleep ") {
                std::thread::sleep(Duration::from_millis(ms.parse().expect("ms")));
                continue;
            }
            let argv: Vec<&str> = line.split(' ').collect();
            client.call(&argv);
        }
        streams.push(masked(&read_stream_until(&mut reader, b"end-of-script")));
    }
    assert_eq!(
        streams[1], streams[0],
        "our stream (left) against redis-server's (right)"
    );
}

#[test]
fn redis_master_to_our_replica() {
    let Some(binary) = support::reference_server() else {
        return;
    };
    let master = start_redis("repl-redis-master", &binary, &[]);
    mixed_writes(master.port, 500, 1);
    // The replica runs from a directory that survives a restart, with its own dump.
    let dir = support::scratch_dir("repl-our-replica");
    let conf = dir.join("redis.conf");
    std::fs::write(&conf, format!("replicaof 127.0.0.1 {}\n", master.port)).expect("config");
    let mut replica = support::start_ours_from_file(dir.clone(), &conf);
    mixed_writes(master.port, writes(), 2);
    wait_caught_up(master.port, replica.port);
    assert_same_data(master.port, replica.port, "after the writes");
    // A replica refuses writes from its clients.
    let refused = Conn::open(&replica).text(&["SET", "k", "v"]);
    assert_eq!(
        refused,
        "-READONLY You can't write against a read only replica.\r\n"
    );
    // Cut the link: the replica reconnects and continues from its offset.
    let partial_before = stat(master.port, "sync_partial_ok");
    Conn::open(&master).call(&["CLIENT", "KILL", "TYPE", "replica"]);
    mixed_writes(master.port, 1000, 3);
    wait_until("a partial resync", || {
        stat(master.port, "sync_partial_ok") != partial_before
    });
    assert_eq!(stat(master.port, "sync_full").as_deref(), Some("1"));
    wait_caught_up(master.port, replica.port);
    assert_same_data(master.port, replica.port, "after the partial resync");
    // Stop the replica (it saves its dump, with where it was in the stream), write more on
    // the master, start it again: it continues, it does not copy everything again.
    support::send_signal(replica.child.id(), "TERM");
    assert!(
        support::wait_exit(&mut replica.child, Duration::from_secs(60)).is_some(),
        "the replica did not stop"
    );
    assert!(dir.join("dump.rdb").exists(), "the replica saved no dump");
    drop(replica);
    let partial_before = stat(master.port, "sync_partial_ok");
    mixed_writes(master.port, 1000, 4);
    let replica = support::start_ours_from_file(dir, &conf);
    wait_until("a partial resync after the restart", || {
        stat(master.port, "sync_partial_ok") != partial_before
    });
    assert_eq!(stat(master.port, "sync_full").as_deref(), Some("1"));
    wait_caught_up(master.port, replica.port);
    assert_same_data(master.port, replica.port, "after the restart");
}

#[test]
fn our_master_to_redis_replica() {
    let Some(binary) = support::reference_server() else {
        return;
    };
    let master = support::start_ours("repl-our-master", &[]);
    mixed_writes(master.port, 500, 4);
    let master_port = master.port.to_string();
    let replica = start_redis(
        "repl-redis-replica",
        &binary,
        &["replicaof", &format!("127.0.0.1 {master_port}")],
    );
    mixed_writes(master.port, writes(), 5);
    wait_caught_up(master.port, replica.port);
    // Once the replica is online, WAIT returns as soon as it acknowledged the last write.
    let mut client = Conn::open(&master);
    client.call(&["SET", "last", "1"]);
    assert_eq!(client.text(&["WAIT", "1", "1000"]), ":1\r\n");
    assert_same_data(master.port, replica.port, "after the writes");
    // More replicas than there are: WAIT gives up after its timeout with the count it has.
    client.call(&["SET", "one-more", "1"]);
    assert_eq!(client.text(&["WAIT", "2", "2000"]), ":1\r\n");
    let role = parse_flat(&client.call(&["ROLE"]));
    assert_eq!(role[0], b"master");
    assert_eq!(role[2], b"127.0.0.1");
    // The replica is listed with Redis's fields.
    let slave0 = info_field(master.port, "slave0").unwrap_or_default();
    assert!(
        slave0.starts_with(&format!(
            "ip=127.0.0.1,port={},state=online,offset=",
            replica.port
        )),
        "{slave0}"
    );
    // The link cut by the master's side: redis-server continues where it was.
    let replica_id = Conn::open(&replica).text(&["INFO", "replication"]);
    assert!(replica_id.contains("master_link_status:up"), "{replica_id}");
    Conn::open(&master).call(&["CLIENT", "KILL", "TYPE", "master"]);
    Conn::open(&replica).call(&["CLIENT", "KILL", "TYPE", "master"]);
    mixed_writes(master.port, 1000, 6);
    wait_caught_up(master.port, replica.port);
    assert_same_data(master.port, replica.port, "after reconnecting");
}

#[test]
fn chain_of_our_servers() {
    let master = support::start_ours("repl-chain-master", &[]);
    mixed_writes(master.port, 500, 7);
    let master_port = master.port.to_string();
    let replica = support::start_ours(
        "repl-chain-replica",
        &["--replicaof", "127.0.0.1", &master_port],
    );
    let replica_port = replica.port.to_string();
    let sub = support::start_ours(
        "repl-chain-sub",
        &["--replicaof", "127.0.0.1", &replica_port],
    );
    mixed_writes(master.port, writes(), 8);
    wait_caught_up(master.port, replica.port);
    wait_caught_up(replica.port, sub.port);
    assert_same_data(master.port, replica.port, "replica");
    assert_same_data(master.port, sub.port, "sub-replica");
    assert_eq!(
        info_field(master.port, "master_replid"),
        info_field(sub.port, "master_replid")
    );
    // Promote the middle one: its replica continues with it (a partial resync under its
    // previous id), and follows its own writes from then on.
    let partial_before = stat(replica.port, "sync_partial_ok");
    assert_eq!(
        Conn::open(&replica).text(&["REPLICAOF", "NO", "ONE"]),
        "+OK\r\n"
    );
    mixed_writes(replica.port, 1000, 9);
    wait_until(
        "the sub-replica continued with the promoted replica",
        || stat(replica.port, "sync_partial_ok") != partial_before,
    );
    wait_caught_up(replica.port, sub.port);
    assert_same_data(
        replica.port,
        sub.port,
        "sub-replica of the promoted replica",
    );
    assert_eq!(stat(replica.port, "sync_full").as_deref(), Some("1"));
    assert_ne!(
        info_field(replica.port, "master_replid"),
        info_field(master.port, "master_replid")
    );
    assert_eq!(
        info_field(replica.port, "master_replid"),
        info_field(sub.port, "master_replid")
    );
}

/// A fake master: answers the handshake, then sends `+FULLRESYNC` and as much of `rdb` as
/// `cut` says (all of it when None), then a SET; the connection is returned open.
fn fake_master_session(listener: &TcpListener, rdb: &[u8], cut: Option<usize>) -> TcpStream {
    let (stream, _) = listener.accept().expect("accept");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut writer = stream;
    loop {
        let argv = parse_flat(&read_reply(&mut reader).expect("handshake"));
        let name = String::from_utf8_lossy(&argv[0]).to_ascii_uppercase();
        match name.as_str() {
            "PING" => writer.write_all(b"+PONG\r\n").expect("write"),
            "PSYNC" => break,
            _ => writer.write_all(b"+OK\r\n").expect("write"),
        }
    }
    let id = "8".repeat(40);
    writer
        .write_all(format!("+FULLRESYNC {id} 0\r\n${}\r\n", rdb.len()).as_bytes())
        .expect("write");
    match cut {
        Some(n) => {
            writer.write_all(&rdb[..n]).expect("write");
        }
        None => {
            writer.write_all(rdb).expect("write");
            writer
                .write_all(&encode_command(&[
                    b"SET".to_vec(),
                    b"streamed".to_vec(),
                    b"1".to_vec(),
                ]))
                .expect("write");
        }
    }
    writer
}

#[test]
fn cut_full_sync() {
    // A snapshot to serve: 2,000 keys taken from one of our masters.
    let source = support::start_ours("repl-cut-source", &[]);
    let mut conn = Conn::open(&source);
    for i in 0..2000 {
        conn.send(&["SET", &format!("new:{i}"), &"n".repeat(100)]);
    }
    for _ in 0..2000 {
        read_reply(&mut conn.reader).expect("reply");
    }
    let (reader, _, rdb, writer) = fake_replica_quiet(source.port, false);
    drop((reader, writer));

    // The replica has data of its own; its master dies half way through the snapshot.
    let replica = support::start_ours("repl-cut-replica", &[]);
    let mut client = Conn::open(&replica);
    client.call(&["SET", "old", "1"]);
    let listener = TcpListener::bind("127.0.0.1:0").expect("listen");
    let port = listener.local_addr().expect("addr").port().to_string();
    client.call(&["REPLICAOF", "127.0.0.1", &port]);
    let first = fake_master_session(&listener, &rdb, Some(rdb.len() / 2));
    drop(first);
    // Nothing was loaded from half a snapshot: the old data is there, no new key is.
    std::thread::sleep(Duration::from_millis(200));
    let mut client = Conn::open(&replica);
    assert_eq!(client.text(&["DBSIZE"]), ":1\r\n");
    assert_eq!(client.text(&["GET", "old"]), "$1\r\n1\r\n");
    // The next attempt gets the whole snapshot: exactly the new data, then the stream.
    let _second = fake_master_session(&listener, &rdb, None);
    wait_until("the second sync loaded", || {
        Conn::open(&replica).text(&["GET", "streamed"]) == "$1\r\n1\r\n"
    });
    let mut client = Conn::open(&replica);
    assert_eq!(client.text(&["DBSIZE"]), ":2001\r\n");
    assert_eq!(client.text(&["GET", "old"]), "$-1\r\n");

    // A replica that leaves in the middle of its snapshot leaves our master serving, and the
    // next replica syncs fully.
    let mut half = Conn::to_port(source.port);
    half.call(&["REPLCONF", "capa", "psync2"]);
    half.send(&["PSYNC", "?", "-1"]);
    let mut line = String::new();
    half.reader.read_line(&mut line).expect("FULLRESYNC");
    let mut some = [0u8; 64];
    half.reader
        .read_exact(&mut some)
        .expect("part of the snapshot");
    drop(half);
    let mut master = Conn::open(&source);
    assert_eq!(master.text(&["SET", "after-cut", "1"]), "+OK\r\n");
    wait_until("the master forgot the replica that left", || {
        info_field(source.port, "connected_slaves").as_deref() == Some("0")
    });
    let source_port = source.port.to_string();
    let next = support::start_ours("repl-cut-next", &["--replicaof", "127.0.0.1", &source_port]);
    wait_caught_up(source.port, next.port);
    assert_same_data(source.port, next.port, "replica after a cut sync");
}

/// Send the same commands to both servers and compare the raw replies.
fn same_replies(ours: &ServerProcess, theirs: &ServerProcess, script: &[&[&str]]) {
    let mut a = Conn::open(ours);
    let mut b = Conn::open(theirs);
    for argv in script {
        assert_eq!(
            a.text(argv),
            b.text(argv),
            "{argv:?}: ours (left) and redis-server's (right)"
        );
    }
}

/// The names of INFO replication's fields, in order.
fn info_names(port: u16) -> Vec<String> {
    Conn::to_port(port)
        .text(&["INFO", "replication"])
        .lines()
        .filter_map(|l| l.split_once(':').map(|(name, _)| name.to_string()))
        .collect()
}

#[test]
fn replica_and_master_settings_as_redis() {
    let Some(binary) = support::reference_server() else {
        return;
    };
    let ours = support::start_ours("repl-settings-ours", &[]);
    let theirs = start_redis("repl-settings-theirs", &binary, &[]);
    // A master short of good replicas refuses writes, not reads.
    same_replies(
        &ours,
        &theirs,
        &[
            &["CONFIG", "SET", "min-replicas-to-write", "1"],
            &["SET", "k", "v"],
            &["GET", "k"],
            &["CONFIG", "SET", "min-replicas-to-write", "0"],
            &["SET", "k", "v"],
        ],
    );
    // A replica whose master cannot be reached: READONLY, then MASTERDOWN when stale data
    // must not be served, for commands without the STALE flag.
    let nowhere = support::free_port().to_string();
    same_replies(
        &ours,
        &theirs,
        &[
            &["REPLICAOF", "127.0.0.1", &nowhere],
            &["SET", "k", "v2"],
            &["GET", "k"],
            &["CONFIG", "SET", "replica-serve-stale-data", "no"],
            &["GET", "k"],
            &["PING"],
            &["SET", "k", "v3"],
            &["ECHO", "x"],
            &["CONFIG", "SET", "replica-serve-stale-data", "yes"],
            &["CONFIG", "SET", "replica-read-only", "no"],
            &["SET", "k", "v4"],
            &["GET", "k"],
            &["WAIT", "0", "0"],
            &["CONFIG", "SET", "replica-read-only", "yes"],
        ],
    );
    assert_eq!(
        info_names(ours.port),
        info_names(theirs.port),
        "INFO replication on a replica"
    );
    same_replies(&ours, &theirs, &[&["REPLICAOF", "NO", "ONE"]]);
    assert_eq!(
        info_names(ours.port),
        info_names(theirs.port),
        "INFO replication on a master"
    );
}

#[test]
fn pings_and_getack_in_the_stream() {
    let master = support::start_ours("repl-ping", &["--repl-ping-replica-period", "1"]);
    let (mut reader, _, _) = fake_replica(master.port, true);
    // The master PINGs its replicas every period: a PING arrives without any write.
    let ping = parse_flat(&read_reply(&mut reader).expect("stream"));
    assert_eq!(ping, [b"PING".to_vec()]);
    // WAIT asks the replicas for an ACK through the stream; this fake one never answers
    // with its offset beyond 0, so WAIT times out with 0.
    let mut client = Conn::open(&master);
    client.call(&["SET", "k", "v"]);
    assert_eq!(client.text(&["WAIT", "1", "200"]), ":0\r\n");
    let stream = masked(&read_stream_until(&mut reader, b"GETACK"));
    assert_eq!(stream, ["SELECT 0", "SET k v", "REPLCONF GETACK *"]);
}

#[test]
fn masterauth_and_sync() {
    let Some(binary) = support::reference_server() else {
        return;
    };
    // A master that wants a password: the replica gives `masterauth`.
    let master = start_redis("repl-auth-master", &binary, &[]);
    let mut client = Conn::open(&master);
    client.call(&["CONFIG", "SET", "requirepass", "s3cret"]);
    client.call(&["SET", "guarded", "1"]);
    let master_port = master.port.to_string();
    let replica = support::start_ours(
        "repl-auth-replica",
        &[
            "--replicaof",
            "127.0.0.1",
            &master_port,
            "--masterauth",
            "s3cret",
        ],
    );
    wait_until("the replica synced through AUTH", || {
        Conn::open(&replica).text(&["GET", "guarded"]) == "$1\r\n1\r\n"
    });
    // SYNC, the old request: the snapshot with its length and no status line, then the
    // stream, from both servers.
    let ours = support::start_ours("repl-sync-ours", &[]);
    for port in [ours.port, master.port] {
        let mut conn = Conn::to_port(port);
        if port == master.port {
            conn.call(&["AUTH", "s3cret"]);
        }
        conn.call(&["SET", "before", "1"]);
        conn.send(&["SYNC"]);
        let rdb = read_snapshot(&mut conn.reader);
        assert!(rdb.starts_with(b"REDIS0010"), "a snapshot from {port}");
        let mut writer = Conn::to_port(port);
        if port == master.port {
            writer.call(&["AUTH", "s3cret"]);
        }
        writer.call(&["SET", "after", "1"]);
        let stream = masked(&read_stream_until(&mut conn.reader, b"after"));
        assert_eq!(
            stream,
            ["SELECT 0", "SET after 1"],
            "the stream from {port}"
        );
    }
}
