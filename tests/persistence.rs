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
