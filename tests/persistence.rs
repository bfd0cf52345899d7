//! Persistence against redis-server 7.0: the change count (`rdb_changes_since_last_save`)
//! each write command adds.

mod support;

use std::io::{BufReader, Write};
use std::net::TcpStream;

use support::{encode_command, read_reply, ServerProcess};

/// One connection kept open (SELECT sticks), sending commands and reading raw replies.
struct Conn {
    writer: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Conn {
    fn open(server: &ServerProcess) -> Conn {
        let writer = server.connect();
        // SAVE and loading 100,000 keys in a debug build on a loaded 2-core machine can take
        // longer than the usual 10 s.
        writer
            .set_read_timeout(Some(std::time::Duration::from_secs(120)))
            .expect("read timeout");
        let reader = BufReader::new(writer.try_clone().expect("clone"));
        Conn { writer, reader }
    }

    fn call(&mut self, argv: &[&str]) -> Vec<u8> {
        let argv: Vec<Vec<u8>> = argv.iter().map(|a| a.as_bytes().to_vec()).collect();
        self.writer
            .write_all(&encode_command(&argv))
            .expect("write");
        read_reply(&mut self.reader).expect("reply")
    }

    /// An `INFO persistence` field as a number.
    fn info_field(&mut self, field: &str) -> i64 {
        let raw = self.call(&["INFO", "persistence"]);
        let text = String::from_utf8_lossy(&raw).into_owned();
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{field}:")))
            .unwrap_or_else(|| panic!("no {field} in {text}"))
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{field} is not a number in {text}"))
    }
}

/// Every write command we have, with the cases where Redis counts nothing.
const DIRTY_SCRIPT: &[&[&str]] = &[
    &["SET", "a", "1"],
    &["SET", "a", "1", "NX"],
    &["SET", "a", "2", "XX"],
    &["SET", "zz", "2", "XX"],
    &["SET", "a", "3", "GET"],
    &["SET", "b", "1", "PX", "100000"],
    &["SET", "b", "2", "KEEPTTL"],
    &["SETNX", "a", "1"],
    &["SETNX", "c", "1"],
    &["SETEX", "d", "100", "v"],
    &["PSETEX", "e", "100000", "v"],
    &["GETSET", "a", "5"],
    &["MSET", "x", "1", "y", "2", "z", "3"],
    &["MSET", "x", "1", "x", "2"],
    &["MSETNX", "x", "1", "q", "2"],
    &["MSETNX", "q1", "1", "q2", "2"],
    &["APPEND", "a", "x"],
    &["APPEND", "new", "x"],
    &["SETRANGE", "a", "0", ""],
    &["SETRANGE", "nokey", "0", ""],
    &["SETRANGE", "a", "0", "z"],
    &["SETRANGE", "nokey2", "3", "z"],
    &["INCR", "n"],
    &["DECR", "n"],
    &["INCRBY", "n", "5"],
    &["DECRBY", "n", "5"],
    &["INCRBYFLOAT", "n", "1.5"],
    &["INCR", "a"],
    &["GETDEL", "n"],
    &["GETDEL", "n"],
    &["GETEX", "a"],
    &["GETEX", "a", "EX", "100"],
    &["GETEX", "a", "PERSIST"],
    &["GETEX", "a", "PERSIST"],
    &["GETEX", "nokey", "EX", "10"],
    &["GETEX", "a", "PXAT", "1"],
    &["DEL", "x", "y", "nope", "x"],
    &["UNLINK", "z", "nope"],
    &["EXPIRE", "q1", "100"],
    &["EXPIRE", "q1", "100", "NX"],
    &["EXPIRE", "nokey", "100"],
    &["EXPIRE", "q1", "-1"],
    &["PEXPIRE", "q2", "100000"],
    &["PERSIST", "q2"],
    &["PERSIST", "q2"],
    &["EXPIREAT", "q2", "1"],
    &["PEXPIREAT", "c", "99999999999999"],
    &["SET", "r", "1"],
    &["RENAME", "r", "r2"],
    &["RENAME", "r2", "r2"],
    &["RENAMENX", "r2", "c"],
    &["RENAMENX", "r2", "r3"],
    &["MOVE", "r3", "1"],
    &["MOVE", "nokey", "1"],
    &["COPY", "c", "c2"],
    &["COPY", "c", "c2"],
    &["COPY", "c", "c2", "REPLACE"],
    &["COPY", "nokey", "c3"],
    &["SWAPDB", "0", "1"],
    &["SWAPDB", "0", "0"],
    &["SWAPDB", "0", "1"],
    &["TOUCH", "c"],
    &["GET", "c"],
    &["LCS", "a", "c"],
    &["FLUSHDB"],
    &["FLUSHDB"],
    &["MSET", "a", "1", "b", "2", "c", "3"],
    &["SELECT", "3"],
    &["SET", "k", "v"],
    &["FLUSHALL"],
    &["FLUSHALL"],
];

/// The change count each command of the script adds, on `server`.
fn dirty_deltas(server: &ServerProcess) -> Vec<String> {
    let mut conn = Conn::open(server);
    let mut out = Vec::new();
    for argv in DIRTY_SCRIPT {
        let before = conn.info_field("rdb_changes_since_last_save");
        conn.call(argv);
        let after = conn.info_field("rdb_changes_since_last_save");
        out.push(format!("{:+} {}", after - before, argv.join(" ")));
    }
    out
}

#[test]
fn every_write_command_counts_changes_as_redis_does() {
    let ours = support::start_ours("persistence-dirty-ours", &["--save", ""]);
    let mine = dirty_deltas(&ours);
    let Some(binary) = support::reference_server() else {
        return;
    };
    let dir = support::scratch_dir("persistence-dirty-redis");
    let config = dir.join("redis.conf");
    std::fs::write(&config, "save \"\"\nappendonly no\n").expect("config");
    let reference = support::start_reference_from_file(dir, &binary, &config);
    let theirs = dirty_deltas(&reference);
    assert_eq!(mine, theirs, "changes counted per command (ours, Redis's)");
}

// ---------------------------------------------------------------------------------------------
// RDB files between us and redis-server 7.0.
// ---------------------------------------------------------------------------------------------

/// Send every command in `commands` pipelined (in batches) and return the raw replies.
fn pipeline(conn: &mut Conn, commands: &[Vec<Vec<u8>>]) -> Vec<Vec<u8>> {
    let mut replies = Vec::with_capacity(commands.len());
    for batch in commands.chunks(1_000) {
        let mut out = Vec::new();
        for argv in batch {
            out.extend_from_slice(&encode_command(argv));
        }
        conn.writer.write_all(&out).expect("write");
        for _ in batch {
            replies.push(read_reply(&mut conn.reader).expect("reply"));
        }
    }
    replies
}

fn argv(words: &[&[u8]]) -> Vec<Vec<u8>> {
    words.iter().map(|w| w.to_vec()).collect()
}

/// Databases the data set uses, and the deadline base (an absolute time far ahead, so both
/// servers compute TTLs from the same deadline).
const DATA_DBS: [usize; 4] = [0, 1, 7, 15];

/// The keys of the data set, per database: 100,000 string keys in all, with integers (small,
/// 32-bit, 64-bit, negative, not canonical), long compressible values, short and binary
/// strings, and deadlines in seconds and milliseconds on some.
fn data_set(deadline_base_ms: i64) -> Vec<(usize, Vec<Vec<u8>>)> {
    let mut commands = Vec::new();
    for i in 0..100_000u64 {
        let db = DATA_DBS[(i % 4) as usize];
        let key = format!("key:{i}").into_bytes();
        let value: Vec<u8> = match i % 10 {
            0 => i.to_string().into_bytes(),
            1 => format!("-{}", i * 40_000).into_bytes(),
            2 => (u64::MAX / 3 - i).to_string().into_bytes(),
            3 => format!("0{i}").into_bytes(),
            4 => format!("{i}:").repeat(60).into_bytes(),
            5 => "abcdefghijklmnopqrstuvwxyz"
                .repeat(1 + (i % 7) as usize)
                .into_bytes(),
            6 => vec![(i % 251) as u8, 0, 255, b'\r', b'\n'],
            7 => Vec::new(),
            8 => format!("value {i} with some text").into_bytes(),
            _ => (0..200u64).map(|k| ((k * 7 + i) % 256) as u8).collect(),
        };
        let mut set = argv(&[b"SET", &key, &value]);
        match i % 3 {
            0 => set.extend(argv(&[
                b"PXAT",
                (deadline_base_ms + i as i64 * 37).to_string().as_bytes(),
            ])),
            1 if i % 5 == 1 => set.extend(argv(&[
                b"EXAT",
                (deadline_base_ms / 1000 + i as i64).to_string().as_bytes(),
            ])),
            _ => {}
        }
        commands.push((db, set));
    }
    commands
}

/// Whether key `i` of the data set has a deadline.
fn has_deadline(i: u64) -> bool {
    i.is_multiple_of(3) || (i % 3 == 1 && i % 5 == 1)
}

/// Load the data set into a server through `conn`.
fn write_data_set(conn: &mut Conn, deadline_base_ms: i64) {
    for db in DATA_DBS {
        conn.call(&["SELECT", &db.to_string()]);
        let commands: Vec<Vec<Vec<u8>>> = data_set(deadline_base_ms)
            .into_iter()
            .filter(|(d, _)| *d == db)
            .map(|(_, c)| c)
            .collect();
        for reply in pipeline(conn, &commands) {
            assert_eq!(reply, b"+OK\r\n");
        }
    }
    conn.call(&["SELECT", "0"]);
}

/// Every answer that shows what a key holds (GET, PEXPIRETIME, OBJECT ENCODING), per
/// database, plus DBSIZE; TTLs are checked separately (they count down).
fn answers(conn: &mut Conn) -> Vec<(usize, Vec<Vec<u8>>)> {
    let mut out = Vec::new();
    for db in 0..16 {
        conn.call(&["SELECT", &db.to_string()]);
        let mut commands = vec![argv(&[b"DBSIZE"])];
        for i in 0..100_000u64 {
            if DATA_DBS[(i % 4) as usize] == db {
                let key = format!("key:{i}").into_bytes();
                commands.push(argv(&[b"GET", &key]));
                commands.push(argv(&[b"PEXPIRETIME", &key]));
                commands.push(argv(&[b"OBJECT", b"ENCODING", &key]));
            }
        }
        out.push((db, pipeline(conn, &commands)));
    }
    conn.call(&["SELECT", "0"]);
    out
}

/// TTL of every key with a deadline, per database.
fn ttls(conn: &mut Conn) -> Vec<i64> {
    let mut out = Vec::new();
    for db in DATA_DBS {
        conn.call(&["SELECT", &db.to_string()]);
        let commands: Vec<Vec<Vec<u8>>> = (0..100_000u64)
            .filter(|i| DATA_DBS[(i % 4) as usize] == db && has_deadline(*i))
            .map(|i| argv(&[b"TTL", format!("key:{i}").as_bytes()]))
            .collect();
        for reply in pipeline(conn, &commands) {
            let text = String::from_utf8_lossy(&reply);
            out.push(
                text.trim()
                    .trim_start_matches(':')
                    .parse()
                    .expect("integer"),
            );
        }
    }
    conn.call(&["SELECT", "0"]);
    out
}

fn assert_same_answers(
    what: &str,
    ours: &[(usize, Vec<Vec<u8>>)],
    theirs: &[(usize, Vec<Vec<u8>>)],
) {
    assert_eq!(ours.len(), theirs.len());
    for ((db, mine), (_, other)) in ours.iter().zip(theirs) {
        assert_eq!(mine.len(), other.len(), "{what}: db {db}");
        if let Some(i) = (0..mine.len()).find(|&i| mine[i] != other[i]) {
            panic!(
                "{what}: db {db}, answer {i} differs: ours {:?}, Redis's {:?}",
                String::from_utf8_lossy(&mine[i]),
                String::from_utf8_lossy(&other[i])
            );
        }
    }
}

fn assert_ttls_close(what: &str, ours: &[i64], theirs: &[i64]) {
    assert_eq!(ours.len(), theirs.len(), "{what}");
    for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
        // The same deadline, read a little apart in time: a few seconds at most.
        assert!(
            *a > 0 && *b > 0 && (a - b).abs() <= 5,
            "{what}: TTL {i}: ours {a}, Redis's {b}"
        );
    }
}

/// A config file in `dir` that keeps the data in `dir` and saves nothing on its own.
fn config_in(dir: &std::path::Path, extra: &str) -> std::path::PathBuf {
    let path = dir.join("test.conf");
    std::fs::write(
        &path,
        format!("dir {}\nsave \"\"\n{extra}\n", dir.to_string_lossy()),
    )
    .expect("config file");
    path
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64
}

/// Poll INFO persistence until no background save runs (generous: a loaded 2-core machine).
fn wait_bgsave_done(conn: &mut Conn) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while conn.info_field("rdb_bgsave_in_progress") == 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "BGSAVE never finished"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn dumps_travel_both_ways_between_redis_and_us() {
    let Some(binary) = support::reference_server() else {
        return;
    };
    let base = now_ms() + 10 * 24 * 3600 * 1000;

    // Redis writes the data set and saves it.
    let redis_dir = support::scratch_dir("persistence-from-redis");
    let config = config_in(&redis_dir, "");
    let redis = support::start_reference_from_file(redis_dir.clone(), &binary, &config);
    let mut theirs = Conn::open(&redis);
    write_data_set(&mut theirs, base);
    assert_eq!(theirs.call(&["SAVE"]), b"+OK\r\n");
    let expected = answers(&mut theirs);

    // We load Redis's file and answer the same.
    let our_dir = support::scratch_dir("persistence-ours-load");
    std::fs::copy(redis_dir.join("dump.rdb"), our_dir.join("dump.rdb")).expect("copy the dump");
    let config = config_in(&our_dir, "");
    let ours = support::start_ours_from_file(our_dir.clone(), &config);
    let mut mine = Conn::open(&ours);
    assert_eq!(mine.info_field("rdb_last_load_keys_loaded"), 100_000);
    assert_same_answers(
        "our answers after loading Redis's dump",
        &answers(&mut mine),
        &expected,
    );
    assert_ttls_close(
        "TTL after loading Redis's dump",
        &ttls(&mut mine),
        &ttls(&mut theirs),
    );

    // Our dump (written in the background, then by SAVE) passes redis-check-rdb and loads
    // into redis-server with the same answers.
    std::fs::remove_file(our_dir.join("dump.rdb")).expect("remove the copied dump");
    for save in ["BGSAVE", "SAVE"] {
        let reply = mine.call(&[save]);
        assert!(
            reply == b"+OK\r\n" || reply == b"+Background saving started\r\n",
            "{reply:?}"
        );
        wait_bgsave_done(&mut mine);
        let dump = our_dir.join("dump.rdb");
        let check = support::on_path("redis-check-rdb");
        if check.is_none() {
            assert!(
                std::env::var_os("REDIS_CLONE_REQUIRE_REFERENCE").is_none(),
                "redis-check-rdb is not installed (redis-tools), but the comparison is required"
            );
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                b"SKIPPED: redis-check-rdb is not installed, so our dump was not checked by it\n",
            );
        }
        if let Some(check) = check {
            let output = std::process::Command::new(check)
                .arg(&dump)
                .output()
                .expect("run redis-check-rdb");
            let text = String::from_utf8_lossy(&output.stdout);
            assert!(
                output.status.success() && text.contains("RDB looks OK"),
                "{save}: {text}"
            );
            assert!(text.contains("[info] 100000 keys read"), "{save}: {text}");
        }
        let back_dir = support::scratch_dir(&format!("persistence-back-{save}"));
        std::fs::copy(&dump, back_dir.join("dump.rdb")).expect("copy our dump");
        let config = config_in(&back_dir, "");
        let back = support::start_reference_from_file(back_dir, &binary, &config);
        let mut back_conn = Conn::open(&back);
        assert_same_answers(
            &format!("Redis's answers after loading our {save} dump"),
            &answers(&mut back_conn),
            &expected,
        );
        assert_ttls_close(
            "TTL in Redis after our dump",
            &ttls(&mut back_conn),
            &ttls(&mut theirs),
        );
    }
}

#[test]
fn sigkill_during_bgsave_loses_nothing_the_last_save_held() {
    let dir = support::scratch_dir("persistence-sigkill");
    let config = config_in(&dir, "");
    let mut server = support::start_ours_from_file(dir.clone(), &config);
    let mut conn = Conn::open(&server);
    // The last completed save holds `old:*` and `both:*` = 1.
    let first: Vec<Vec<Vec<u8>>> = (0..20_000)
        .flat_map(|i| {
            [
                argv(&[b"SET", format!("old:{i}").as_bytes(), b"kept"]),
                argv(&[b"SET", format!("both:{i}").as_bytes(), b"1"]),
            ]
        })
        .collect();
    pipeline(&mut conn, &first);
    assert_eq!(conn.call(&["SAVE"]), b"+OK\r\n");
    // Then many more keys, `both:*` changed, and a background save killed while it runs.
    let second: Vec<Vec<Vec<u8>>> = (0..200_000)
        .map(|i| {
            argv(&[
                b"SET",
                format!("new:{i}").as_bytes(),
                b"x".repeat(30).as_slice(),
            ])
        })
        .chain((0..20_000).map(|i| argv(&[b"SET", format!("both:{i}").as_bytes(), b"2"])))
        .collect();
    pipeline(&mut conn, &second);
    assert_eq!(conn.call(&["BGSAVE"]), b"+Background saving started\r\n");
    support::send_signal(server.child.id(), "KILL");
    support::wait_exit(&mut server.child, std::time::Duration::from_secs(10)).expect("killed");

    // The restarted server has the last completed save, or the new one, whole.
    let server = support::start_ours_from_file(dir.clone(), &config);
    let mut conn = Conn::open(&server);
    let size = String::from_utf8_lossy(&conn.call(&["DBSIZE"])).into_owned();
    let newer = match size.trim() {
        ":40000" => false,
        ":240000" => true,
        other => panic!("a torn dump: DBSIZE {other}"),
    };
    eprintln!(
        "after SIGKILL: the {} dump was loaded",
        if newer {
            "new (BGSAVE had finished)"
        } else {
            "last completed"
        }
    );
    let checks: Vec<Vec<Vec<u8>>> = (0..20_000)
        .flat_map(|i| {
            [
                argv(&[b"GET", format!("old:{i}").as_bytes()]),
                argv(&[b"GET", format!("both:{i}").as_bytes()]),
            ]
        })
        .collect();
    let replies = pipeline(&mut conn, &checks);
    let both: &[u8] = if newer {
        b"$1\r\n2\r\n"
    } else {
        b"$1\r\n1\r\n"
    };
    for (i, pair) in replies.chunks(2).enumerate() {
        assert_eq!(pair[0], b"$4\r\nkept\r\n", "old:{i}");
        assert_eq!(pair[1], both, "both:{i}");
    }
}

#[test]
fn a_truncated_or_corrupted_dump_stops_startup_and_is_left_alone() {
    // A small dump of ours: integers, a compressed value, a deadline, two databases.
    let dir = support::scratch_dir("persistence-corrupt-source");
    let config = config_in(&dir, "");
    let server = support::start_ours_from_file(dir.clone(), &config);
    let mut conn = Conn::open(&server);
    conn.call(&["SET", "n", "12"]);
    conn.call(&["SET", "long", &"abc".repeat(30)]);
    conn.call(&["SET", "t", "v", "EX", "100000"]);
    conn.call(&["SELECT", "2"]);
    conn.call(&["SET", "k", "-70000"]);
    assert_eq!(conn.call(&["SAVE"]), b"+OK\r\n");
    drop(server);
    let good = std::fs::read(dir.join("dump.rdb")).expect("the dump");
    assert!(good.len() < 200, "a small file: {} bytes", good.len());

    let work = support::scratch_dir("persistence-corrupt");
    let try_start = |bytes: &[u8], what: &str| {
        std::fs::write(work.join("dump.rdb"), bytes).expect("write the bad dump");
        let (status, lines, _) = support::run_ours(
            &work,
            &["--port", "0", "--save", ""],
            std::time::Duration::from_secs(20),
        );
        let status = status.unwrap_or_else(|| panic!("{what}: the server started on a bad dump"));
        assert_eq!(status.code(), Some(1), "{what}: {lines:?}");
        let reason = lines
            .iter()
            .find(|l| l.starts_with("redis-clone: cannot load the RDB file"))
            .unwrap_or_else(|| panic!("{what}: no reason given: {lines:?}"));
        assert!(
            reason.contains("byte") || reason.contains("CRC64"),
            "{what}: {reason}"
        );
        assert_eq!(
            std::fs::read(work.join("dump.rdb")).expect("still there"),
            bytes,
            "{what}: the file was changed"
        );
    };
    for cut in 0..good.len() {
        try_start(&good[..cut], &format!("truncated to {cut} bytes"));
    }
    for at in (0..good.len()).step_by(5) {
        let mut bad = good.clone();
        bad[at] ^= 0x10;
        try_start(&bad, &format!("byte {at} flipped"));
    }
}

#[test]
fn a_dump_holding_a_type_we_lack_is_refused_naming_it() {
    let Some(binary) = support::reference_server() else {
        return;
    };
    let dir = support::scratch_dir("persistence-list-redis");
    let config = config_in(&dir, "");
    let redis = support::start_reference_from_file(dir.clone(), &binary, &config);
    redis.call(&["SET", "fine", "v"]);
    redis.call(&["RPUSH", "mylist", "a", "b"]);
    assert_eq!(redis.call(&["SAVE"]), b"+OK\r\n");
    let work = support::scratch_dir("persistence-list-ours");
    std::fs::copy(dir.join("dump.rdb"), work.join("dump.rdb")).expect("copy");
    let (status, lines, _) = support::run_ours(
        &work,
        &["--port", "0", "--save", ""],
        std::time::Duration::from_secs(20),
    );
    assert_eq!(status.and_then(|s| s.code()), Some(1), "{lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("key 'mylist' in db 0, a list")),
        "{lines:?}"
    );
}

#[test]
fn save_points_flushall_lastsave_and_info() {
    let dir = support::scratch_dir("persistence-points");
    let config = config_in(&dir, "");
    let server = support::start_ours_from_file(dir.clone(), &config);
    let mut conn = Conn::open(&server);
    let started = conn.call(&["LASTSAVE"]);
    conn.call(&["SET", "a", "1"]);
    conn.call(&["SET", "b", "2"]);
    assert_eq!(conn.info_field("rdb_changes_since_last_save"), 2);
    assert_eq!(conn.info_field("rdb_saves"), 0);

    // A save point of 1 change in 1 second, set at run time, fires from the timer.
    assert_eq!(conn.call(&["CONFIG", "SET", "save", "1 1"]), b"+OK\r\n");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while conn.info_field("rdb_changes_since_last_save") != 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the save point never fired"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    wait_bgsave_done(&mut conn);
    assert_eq!(conn.info_field("rdb_saves"), 1);
    assert_eq!(conn.info_field("rdb_last_bgsave_time_sec"), 0);
    let raw = conn.call(&["INFO", "persistence"]);
    assert!(String::from_utf8_lossy(&raw).contains("rdb_last_bgsave_status:ok\r\n"));
    let later = conn.call(&["LASTSAVE"]);
    assert!(
        later >= started,
        "LASTSAVE moved forward: {started:?} {later:?}"
    );
    let loaded = redis_clone::rdb::decode(
        &mut std::fs::File::open(dir.join("dump.rdb")).expect("dump"),
        16,
        0,
    )
    .expect("a good dump");
    assert_eq!(loaded.keys.len(), 2);

    // FLUSHALL with save points writes an empty dump at once, and counts as a save.
    assert_eq!(conn.call(&["FLUSHALL"]), b"+OK\r\n");
    assert_eq!(conn.info_field("rdb_changes_since_last_save"), 0);
    let loaded = redis_clone::rdb::decode(
        &mut std::fs::File::open(dir.join("dump.rdb")).expect("dump"),
        16,
        0,
    )
    .expect("a good dump");
    assert!(loaded.keys.is_empty());
    // FLUSHALL's save is not counted in rdb_saves (Redis counts SAVE and BGSAVE only).
    assert_eq!(conn.info_field("rdb_saves"), 1);
}

/// What a server answers once its background save has failed (its directory is gone).
fn after_failed_bgsave(server: &ServerProcess) -> Vec<String> {
    let mut conn = Conn::open(server);
    conn.call(&["SET", "k", "v"]);
    std::fs::remove_dir_all(&server.dir).expect("remove the directory");
    let mut out = vec![String::from_utf8_lossy(&conn.call(&["BGSAVE"])).into_owned()];
    wait_bgsave_done(&mut conn);
    let raw = conn.call(&["INFO", "persistence"]);
    let text = String::from_utf8_lossy(&raw).into_owned();
    out.extend(
        text.lines()
            .filter(|l| l.starts_with("rdb_last_bgsave_status") || l.starts_with("rdb_bgsave_in"))
            .map(str::to_string),
    );
    for command in [
        &["SET", "k", "w"][..],
        &["SET", "k"],
        &["PING"],
        &["GET", "k"],
        &["DEL", "k"],
        &["CONFIG", "SET", "stop-writes-on-bgsave-error", "no"],
        &["SET", "k", "w"],
        &["CONFIG", "SET", "stop-writes-on-bgsave-error", "yes"],
        &["CONFIG", "SET", "save", ""],
        &["SET", "k", "x"],
    ] {
        out.push(format!(
            "{} -> {}",
            command.join(" "),
            String::from_utf8_lossy(&conn.call(command))
        ));
    }
    // Refused commands count as rejected calls, not failed ones.
    let raw = conn.call(&["INFO", "commandstats"]);
    let text = String::from_utf8_lossy(&raw).into_owned();
    for name in ["set", "ping", "del"] {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("cmdstat_{name}:")))
            .unwrap_or_default();
        let counts = line.find("rejected_calls").map_or("", |at| &line[at..]);
        out.push(format!("{name}: {counts}"));
    }
    out
}

#[test]
fn a_failed_bgsave_stops_writes_as_redis_does() {
    let dir = support::scratch_dir("persistence-misconf-ours");
    let config = dir.join("../persistence-misconf-ours.conf");
    std::fs::write(&config, format!("dir {}\n", dir.to_string_lossy())).expect("config");
    let ours = support::start_ours_from_file(dir, &config);
    let mine = after_failed_bgsave(&ours);
    assert!(
        mine.iter()
            .any(|l| l.starts_with("rdb_last_bgsave_status:err")),
        "{mine:?}"
    );
    let Some(binary) = support::reference_server() else {
        return;
    };
    let dir = support::scratch_dir("persistence-misconf-redis");
    let config = dir.join("../persistence-misconf-redis.conf");
    std::fs::write(&config, "save \"3600 1\"\n").expect("config");
    let reference = support::start_reference_from_file(dir, &binary, &config);
    assert_eq!(mine, after_failed_bgsave(&reference));
}

// ---------------------------------------------------------------------------------------------
// In process: the background save against writes, FLUSHALL and replication's snapshots.
// ---------------------------------------------------------------------------------------------

use std::sync::Arc;

use bytes::Bytes;
use redis_clone::config::Config;
use redis_clone::session::Session;
use redis_clone::shared::{Clock, Shared};

fn in_process(name: &str) -> (Arc<Shared>, Session, std::path::PathBuf) {
    let dir = support::scratch_dir(name);
    let mut config = Config::default();
    config
        .set("dir", dir.to_string_lossy().as_bytes(), false)
        .expect("dir");
    config
        .set("enable-debug-command", b"yes", false)
        .expect("enable-debug-command");
    let table = redis_clone::registry::init().expect("specs");
    let shared = Arc::new(Shared::new(config, table, Clock::System));
    let session = Session::new(Arc::clone(&shared));
    (shared, session, dir)
}

fn run(session: &mut Session, words: &[&str]) -> redis_clone::reply::Reply {
    let argv: Vec<Bytes> = words
        .iter()
        .map(|w| Bytes::copy_from_slice(w.as_bytes()))
        .collect();
    session.execute(&argv)
}

fn fill(session: &mut Session, keys: usize) {
    for i in 0..keys {
        run(session, &["SET", &format!("k{i}"), &format!("v{i}")]);
    }
}

fn wait_idle(shared: &Shared) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while shared.persistence.bgsave_in_progress() {
        assert!(std::time::Instant::now() < deadline, "the save never ended");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

fn dump_keys(dir: &std::path::Path) -> Vec<redis_clone::rdb::LoadedKey> {
    let mut file = std::fs::File::open(dir.join("dump.rdb")).expect("dump");
    redis_clone::rdb::decode(&mut file, 16, 0)
        .expect("a good dump")
        .keys
}

#[test]
fn writes_during_bgsave_are_not_in_it_and_flushall_wins_over_it() {
    let (shared, mut session, dir) = in_process("persistence-inproc-bgsave");
    fill(&mut session, 100_000);
    let started = run(&mut session, &["BGSAVE"]);
    assert_eq!(
        started,
        redis_clone::reply::Reply::simple("Background saving started")
    );
    // Whatever happens after the command is not in the snapshot.
    run(&mut session, &["SET", "k1", "changed"]);
    run(&mut session, &["DEL", "k2"]);
    run(&mut session, &["SET", "late", "x"]);
    if shared.persistence.bgsave_in_progress() {
        let again = run(&mut session, &["BGSAVE"]);
        assert_eq!(
            format!("{again:?}"),
            format!(
                "{:?}",
                redis_clone::reply::Reply::Error(redis_clone::error::CommandError::err(
                    "Background save already in progress"
                ))
            )
        );
    }
    wait_idle(&shared);
    let keys = dump_keys(&dir);
    assert_eq!(keys.len(), 100_000);
    let find = |k: &str| {
        keys.iter()
            .find(|l| &l.key[..] == k.as_bytes())
            .map(|l| l.value.clone())
    };
    assert_eq!(
        find("k1"),
        Some(redis_clone::keyspace::Value::Str(
            redis_clone::keyspace::Str::encoded(Bytes::from_static(b"v1"))
        ))
    );
    assert!(find("k2").is_some() && find("late").is_none());

    // FLUSHALL abandons a save in progress and writes the empty dump, which stays: here the
    // save has copied everything and is encoding or writing when FLUSHALL comes.
    fill(&mut session, 100_000);
    run(&mut session, &["BGSAVE"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while shared.persistence.report().keys_processed < 100_000
        && shared.persistence.bgsave_in_progress()
    {
        assert!(std::time::Instant::now() < deadline, "the copy never ended");
        std::thread::yield_now();
    }
    run(&mut session, &["FLUSHALL"]);
    wait_idle(&shared);
    // The abandoned save's thread stops on its own and removes its temporary file.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let leftovers: Vec<String> = std::fs::read_dir(&dir)
            .expect("dir")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("temp-"))
            .collect();
        if leftovers.is_empty() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{leftovers:?}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(
        dump_keys(&dir).is_empty(),
        "the abandoned save replaced the dump"
    );
}

#[test]
fn a_replica_snapshot_is_delivered_without_touching_the_file() {
    let (shared, mut session, dir) = in_process("persistence-inproc-replica");
    fill(&mut session, 1_000);
    let (tx, rx) = std::sync::mpsc::channel();
    {
        let mut keyspace = shared.lock_keyspace();
        let config = shared.config.read();
        shared
            .persistence
            .snapshot_for(
                &mut keyspace,
                &config,
                Box::new(move |snapshot| {
                    let mut bytes = Vec::new();
                    let options = redis_clone::rdb::RdbOptions {
                        compression: true,
                        checksum: true,
                        ctime: 0,
                        used_mem: 0,
                    };
                    redis_clone::rdb::encode(&snapshot, &mut bytes, &options).expect("encode");
                    tx.send(bytes).expect("send");
                }),
            )
            .expect("started");
    }
    run(&mut session, &["SET", "after", "x"]);
    let bytes = rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("delivered");
    let loaded = redis_clone::rdb::decode(&mut &bytes[..], 16, 0).expect("decodes");
    assert_eq!(loaded.keys.len(), 1_000);
    wait_idle(&shared);
    assert!(!dir.join("dump.rdb").exists(), "no file written");
    assert_eq!(shared.persistence.report().saves, 0);
}

#[test]
fn sigterm_saves_first_and_keeps_running_when_it_cannot() {
    let dir = support::scratch_dir("persistence-sigterm");
    let config = dir.join("../persistence-sigterm.conf");
    std::fs::write(&config, format!("dir {}\n", dir.to_string_lossy())).expect("config");
    let mut server = support::start_ours_from_file(dir.clone(), &config);
    assert_eq!(server.call(&["SET", "k", "v"]), b"+OK\r\n");
    // The save cannot be written (a non-empty directory stands where the dump goes): the
    // server says so in its log and keeps serving.
    let blocker = dir.join("dump.rdb");
    std::fs::create_dir_all(blocker.join("x")).expect("a directory in the dump's place");
    support::send_signal(server.child.id(), "TERM");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
        if log.contains("can't exit") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no refusal logged: {log}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(server.call(&["GET", "k"]), b"$1\r\nv\r\n");
    // Once it can save, the next SIGTERM saves and exits.
    std::fs::remove_dir_all(&blocker).expect("remove the blocker");
    support::send_signal(server.child.id(), "TERM");
    let status = support::wait_exit(&mut server.child, std::time::Duration::from_secs(20))
        .expect("the server stops");
    assert!(status.success(), "exit status {status}");
    let keys = dump_keys(&dir);
    assert_eq!(keys.len(), 1);
    assert_eq!(&keys[0].key[..], b"k");
}

#[test]
fn dumps_with_lru_and_lfu_fields_load() {
    let Some(binary) = support::reference_server() else {
        return;
    };
    // With an LRU or LFU eviction policy, Redis writes each key's idle time or frequency.
    for policy in ["allkeys-lru", "allkeys-lfu"] {
        let dir = support::scratch_dir(&format!("persistence-{policy}"));
        let config = config_in(&dir, &format!("maxmemory-policy {policy}"));
        let redis = support::start_reference_from_file(dir.clone(), &binary, &config);
        redis.call(&["SET", "a", "1"]);
        redis.call(&["SET", "b", "two", "EX", "1000"]);
        assert_eq!(redis.call(&["SAVE"]), b"+OK\r\n");
        let mut file = std::fs::File::open(dir.join("dump.rdb")).expect("dump");
        let loaded = redis_clone::rdb::decode(&mut file, 16, 0).expect(policy);
        assert_eq!(loaded.keys.len(), 2, "{policy}");
    }
}

#[test]
fn debug_reload_refuses_what_it_cannot_load_and_changes_nothing() {
    let (_shared, mut session, dir) = in_process("persistence-inproc-reload");
    run(
        &mut session,
        &["CONFIG", "SET", "enable-debug-command", "yes"],
    );
    run(&mut session, &["SET", "k", "saved"]);
    assert_eq!(
        run(&mut session, &["DEBUG", "RELOAD"]),
        redis_clone::reply::Reply::ok()
    );
    run(&mut session, &["SET", "k", "memory"]);
    let refused = format!(
        "{:?}",
        redis_clone::reply::Reply::Error(redis_clone::error::CommandError::err(
            "Error trying to load the RDB dump, check server logs."
        ))
    );
    // NOFLUSH without MERGE on a key in both (Redis stops the server there): refused.
    let reply = run(&mut session, &["DEBUG", "RELOAD", "NOSAVE", "NOFLUSH"]);
    assert_eq!(format!("{reply:?}"), refused);
    // A corrupt file: refused, and the keys in memory stay.
    let mut bytes = std::fs::read(dir.join("dump.rdb")).expect("dump");
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(dir.join("dump.rdb"), &bytes).expect("corrupt it");
    let reply = run(&mut session, &["DEBUG", "RELOAD", "NOSAVE"]);
    assert_eq!(format!("{reply:?}"), refused);
    assert_eq!(
        run(&mut session, &["GET", "k"]),
        redis_clone::reply::Reply::Bulk(Bytes::from_static(b"memory"))
    );
}

#[test]
fn dumps_without_compression_or_checksum_are_read_by_redis() {
    let Some(binary) = support::reference_server() else {
        return;
    };
    let dir = support::scratch_dir("persistence-plain-ours");
    let config = config_in(&dir, "rdbcompression no\nrdbchecksum no");
    let ours = support::start_ours_from_file(dir.clone(), &config);
    let long = "compressible ".repeat(40);
    ours.call(&["SET", "long", &long]);
    ours.call(&["SET", "n", "-5"]);
    ours.call(&["SET", "t", "v", "PX", "100000000"]);
    assert_eq!(ours.call(&["SAVE"]), b"+OK\r\n");
    let bytes = std::fs::read(dir.join("dump.rdb")).expect("dump");
    assert_eq!(&bytes[bytes.len() - 8..], &[0; 8], "no checksum written");
    assert!(
        bytes.windows(long.len()).any(|w| w == long.as_bytes()),
        "the long value is stored as it is"
    );
    let back_dir = support::scratch_dir("persistence-plain-redis");
    std::fs::write(back_dir.join("dump.rdb"), &bytes).expect("copy");
    let config = config_in(&back_dir, "");
    let redis = support::start_reference_from_file(back_dir, &binary, &config);
    assert_eq!(
        redis.call(&["GET", "long"]),
        format!("${}\r\n{long}\r\n", long.len()).into_bytes()
    );
    assert_eq!(redis.call(&["GET", "n"]), b"$2\r\n-5\r\n");
    assert_eq!(redis.call(&["EXISTS", "t"]), b":1\r\n");
}
