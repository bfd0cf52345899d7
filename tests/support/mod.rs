//! Test support shared by the integration suites: reading raw RESP replies, rendering them for
//! snapshots, parsing case files, and starting servers (ours and the reference redis-server)
//! on free loopback ports.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Read exactly one RESP reply (any protocol version) and return its raw bytes.
pub fn read_reply(reader: &mut impl BufRead) -> std::io::Result<Vec<u8>> {
    let mut raw = Vec::new();
    read_into(reader, &mut raw)?;
    Ok(raw)
}

fn read_line(reader: &mut impl BufRead, raw: &mut Vec<u8>) -> std::io::Result<String> {
    let start = raw.len();
    reader.read_until(b'\n', raw)?;
    if raw.len() == start {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "connection closed",
        ));
    }
    Ok(String::from_utf8_lossy(&raw[start + 1..raw.len().saturating_sub(2)]).into_owned())
}

fn read_into(reader: &mut impl BufRead, raw: &mut Vec<u8>) -> std::io::Result<()> {
    let type_at = raw.len();
    let line = read_line(reader, raw)?;
    let kind = raw[type_at];
    let count = |line: &str| {
        line.parse::<i64>()
            .unwrap_or_else(|_| panic!("bad length line {line:?}"))
    };
    match kind {
        b'+' | b'-' | b':' | b',' | b'#' | b'_' | b'(' => Ok(()),
        b'$' | b'=' | b'!' => {
            let len = count(&line);
            if len >= 0 {
                let mut payload = vec![0; len as usize + 2];
                reader.read_exact(&mut payload)?;
                raw.extend_from_slice(&payload);
            }
            Ok(())
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let len = count(&line);
            let items = if matches!(kind, b'%' | b'|') {
                len * 2
            } else {
                len
            };
            for _ in 0..items.max(0) {
                read_into(reader, raw)?;
            }
            Ok(())
        }
        other => panic!("unexpected RESP type byte {:?}", other as char),
    }
}

/// A parsed reply, only for rendering.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Node {
    Line(u8, Vec<u8>),
    Blob(u8, Option<Vec<u8>>),
    Agg(u8, Option<Vec<Node>>),
}

fn parse(raw: &[u8], pos: &mut usize) -> Node {
    let end = raw[*pos..]
        .windows(2)
        .position(|w| w == b"\r\n")
        .expect("line end")
        + *pos;
    let kind = raw[*pos];
    let line = raw[*pos + 1..end].to_vec();
    *pos = end + 2;
    let len = || {
        String::from_utf8_lossy(&line)
            .parse::<i64>()
            .expect("length")
    };
    match kind {
        b'$' | b'=' | b'!' => {
            let n = len();
            if n < 0 {
                return Node::Blob(kind, None);
            }
            let body = raw[*pos..*pos + n as usize].to_vec();
            *pos += n as usize + 2;
            Node::Blob(kind, Some(body))
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let n = len();
            if n < 0 {
                return Node::Agg(kind, None);
            }
            let items = if matches!(kind, b'%' | b'|') {
                n * 2
            } else {
                n
            };
            Node::Agg(kind, Some((0..items).map(|_| parse(raw, pos)).collect()))
        }
        _ => Node::Line(kind, line),
    }
}

/// Bytes of a status or error line, printable ASCII as is and anything else escaped, so a
/// snapshot shows (and a comparison sees) every byte.
fn escape(bytes: &[u8]) -> String {
    let quoted = quote(bytes);
    quoted[1..quoted.len() - 1].to_string()
}

/// Assert that a raw reply is the one expected, showing both quoted when not.
pub fn assert_reply(what: &str, got: &[u8], expected: &[u8]) {
    assert!(
        got == expected,
        "{what}: expected {} got {}",
        quote(expected),
        quote(got)
    );
}

/// Quote bytes the way redis-cli does: printable ASCII as is, the rest escaped.
pub fn quote(bytes: &[u8]) -> String {
    let mut out = String::from("\"");
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
    out
}

fn render_node(node: &Node, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match node {
        Node::Line(kind, text) => {
            out.push_str(&format!("{pad}{}{}\n", *kind as char, escape(text)))
        }
        Node::Blob(kind, None) => out.push_str(&format!("{pad}{}-1 (nil)\n", *kind as char)),
        Node::Blob(kind, Some(body)) => {
            out.push_str(&format!("{pad}{}{}\n", *kind as char, quote(body)))
        }
        Node::Agg(kind, None) => out.push_str(&format!("{pad}{}-1 (nil)\n", *kind as char)),
        Node::Agg(kind, Some(items)) => {
            let shown = if matches!(kind, b'%' | b'|') {
                items.len() / 2
            } else {
                items.len()
            };
            out.push_str(&format!("{pad}{}{}\n", *kind as char, shown));
            for item in items {
                render_node(item, indent + 2, out);
            }
        }
    }
}

/// Render raw reply bytes for a snapshot: one RESP element per line, nested ones indented.
/// The rendering keeps every distinction RESP makes (status vs bulk, nil bulk vs nil array).
/// With `sorted`, an aggregate's elements (pairs, for a flat RESP2 map of `pairs` true) are put
/// in order first, for replies whose order Redis does not define.
pub fn render(raw: &[u8], sorted: Option<Sort>) -> String {
    let mut pos = 0;
    let mut node = parse(raw, &mut pos);
    assert_eq!(
        pos,
        raw.len(),
        "trailing bytes after one reply: {:?}",
        String::from_utf8_lossy(raw)
    );
    if let (Some(sort), Node::Agg(_, Some(items))) = (sorted, &mut node) {
        match sort {
            Sort::Elements => items.sort(),
            Sort::Nested => sort_nested(items),
            Sort::Pairs => {
                let mut pairs: Vec<Vec<Node>> = items.chunks(2).map(|c| c.to_vec()).collect();
                pairs.sort();
                *items = pairs.concat();
            }
        }
    }
    let mut out = String::new();
    render_node(&node, 0, &mut out);
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Elements,
    Pairs,
    /// Every aggregate, at every depth (SCAN's `[cursor, [keys]]`).
    Nested,
}

/// How a command's reply is compared with redis-server's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    /// Byte for byte (after any sorting the case asks for).
    Exact,
    /// With the prose masked: the values of `summary` and `complexity` and the texts of
    /// `history` entries, which are written in our own words (COMMAND DOCS).
    Prose,
    /// Not compared: the reply differs from Redis's by design (it lists the commands this
    /// server has, say); the case file says why in a comment.
    Differs,
}

fn sort_nested(items: &mut [Node]) {
    for item in items.iter_mut() {
        if let Node::Agg(_, Some(inner)) = item {
            sort_nested(inner);
        }
    }
    items.sort();
}

/// One step of a case file.
#[derive(Debug, Clone)]
pub enum Step {
    /// A command as typed in redis-cli (already split into words), how to order its reply and
    /// how to compare it with the reference.
    Command {
        line: String,
        argv: Vec<Vec<u8>>,
        sort: Option<Sort>,
        compare: Compare,
    },
    /// Let time pass (our server: a manual clock; the reference: a real sleep).
    Sleep(Duration),
}

/// Parse a case file. Lines are commands as typed in redis-cli (Redis's quoting rules); `#`
/// starts a comment line; `!sleep MS` lets time pass. Markers before a command:
/// `!sorted` / `!sorted-pairs` sort the reply's elements / pairs where Redis's order is
/// unspecified, `!sorted-nested` at every depth; `!prose` compares with the prose masked; `!differs` does not compare.
pub fn parse_case(text: &str, split: impl Fn(&[u8]) -> Option<Vec<Vec<u8>>>) -> Vec<Step> {
    let mut steps = Vec::new();
    for (number, raw_line) in text.lines().enumerate() {
        let line = raw_line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(rest) = line.strip_prefix("!sleep ") {
            let ms: u64 = rest
                .trim()
                .parse()
                .unwrap_or_else(|_| panic!("line {}: bad !sleep", number + 1));
            steps.push(Step::Sleep(Duration::from_millis(ms)));
            continue;
        }
        let (mut sort, mut compare, mut command) = (None, Compare::Exact, line);
        while let Some(rest) = command.strip_prefix('!') {
            let (marker, tail) = rest.split_once(' ').unwrap_or((rest, ""));
            match marker {
                "sorted" => sort = Some(Sort::Elements),
                "sorted-pairs" => sort = Some(Sort::Pairs),
                "sorted-nested" => sort = Some(Sort::Nested),
                "prose" => compare = Compare::Prose,
                "differs" => compare = Compare::Differs,
                other => panic!("line {}: unknown marker !{other}", number + 1),
            }
            command = tail.trim_start();
        }
        let argv = split(command.as_bytes())
            .unwrap_or_else(|| panic!("line {}: unbalanced quotes", number + 1));
        steps.push(Step::Command {
            line: command.to_string(),
            argv,
            sort,
            compare,
        });
    }
    steps
}

/// Render a reply for comparison under `compare` (see [`Compare`]).
pub fn render_for_comparison(raw: &[u8], sort: Option<Sort>, compare: Compare) -> String {
    match compare {
        Compare::Exact => render(raw, sort),
        Compare::Differs => "(not compared: differs from Redis by design)\n".to_string(),
        Compare::Prose => {
            let mut pos = 0;
            let mut node = parse(raw, &mut pos);
            mask_prose(&mut node);
            let mut masked = Vec::new();
            write_node(&node, &mut masked);
            render(&masked, sort)
        }
    }
}

fn mask_prose(node: &mut Node) {
    let Node::Agg(kind, Some(items)) = node else {
        return;
    };
    let is_map = *kind == b'%' || items.len() % 2 == 0;
    if is_map {
        let mut i = 0;
        while i + 1 < items.len() {
            let key = match &items[i] {
                Node::Blob(_, Some(k)) => k.clone(),
                _ => Vec::new(),
            };
            match key.as_slice() {
                b"summary" | b"complexity" => {
                    items[i + 1] = Node::Blob(b'$', Some(b"<prose>".to_vec()))
                }
                b"history" => {
                    if let Node::Agg(_, Some(entries)) = &mut items[i + 1] {
                        for entry in entries {
                            if let Node::Agg(_, Some(pair)) = entry {
                                if pair.len() == 2 {
                                    pair[1] = Node::Blob(b'$', Some(b"<prose>".to_vec()));
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
            i += 2;
        }
    }
    for item in items.iter_mut() {
        mask_prose(item);
    }
}

fn write_node(node: &Node, out: &mut Vec<u8>) {
    match node {
        Node::Line(kind, text) => {
            out.push(*kind);
            out.extend_from_slice(text);
            out.extend_from_slice(b"\r\n");
        }
        Node::Blob(kind, None) | Node::Agg(kind, None) => {
            out.extend_from_slice(&[*kind, b'-', b'1', b'\r', b'\n'])
        }
        Node::Blob(kind, Some(body)) => {
            out.extend_from_slice(format!("{}{}\r\n", *kind as char, body.len()).as_bytes());
            out.extend_from_slice(body);
            out.extend_from_slice(b"\r\n");
        }
        Node::Agg(kind, Some(items)) => {
            let n = if matches!(kind, b'%' | b'|') {
                items.len() / 2
            } else {
                items.len()
            };
            out.extend_from_slice(format!("{}{}\r\n", *kind as char, n).as_bytes());
            for item in items {
                write_node(item, out);
            }
        }
    }
}

/// Encode a command as a RESP multibulk request.
pub fn encode_command(argv: &[Vec<u8>]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", argv.len()).into_bytes();
    for arg in argv {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A server process that is killed when dropped.
pub struct ServerProcess {
    pub child: Child,
    pub port: u16,
    pub dir: PathBuf,
}

impl ServerProcess {
    /// Connect, retrying for a moment; on failure say why: whether the process is still alive
    /// and what it logged (its stderr goes to `server.log` in its directory).
    pub fn try_connect(&self) -> Result<TcpStream, String> {
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            match TcpStream::connect(("127.0.0.1", self.port)) {
                Ok(stream) => return Ok(stream),
                Err(err) if Instant::now() >= deadline => {
                    let log =
                        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
                    let tail: Vec<&str> = log.lines().rev().take(10).collect();
                    let alive = match std::process::Command::new("kill")
                        .args(["-0", &self.child.id().to_string()])
                        .status()
                    {
                        Ok(status) if status.success() => "still running",
                        _ => "no longer running",
                    };
                    return Err(format!(
                        "cannot connect to the server on port {} ({err}); its process {} is {alive}; last log lines (newest first): {tail:?}",
                        self.port,
                        self.child.id()
                    ));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }

    pub fn connect(&self) -> TcpStream {
        let stream = self.try_connect().unwrap_or_else(|e| panic!("{e}"));
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("read timeout");
        stream
    }

    /// Send one command and read its raw reply on a fresh connection.
    pub fn call(&self, argv: &[&str]) -> Vec<u8> {
        let mut stream = self.connect();
        let argv: Vec<Vec<u8>> = argv.iter().map(|a| a.as_bytes().to_vec()).collect();
        stream.write_all(&encode_command(&argv)).expect("write");
        read_reply(&mut BufReader::new(stream)).expect("reply")
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh empty directory under the target directory, named after the test.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Start the server that `command_for(port)` builds, in `dir`, on a free port. Another process
/// can take a "free" port before the server binds it; then the server exits, or a stranger
/// answers on that port (caught by checking the server's `dir`), and we try another port.
fn spawn_and_wait(dir: PathBuf, command_for: impl Fn(u16) -> Command) -> ServerProcess {
    let mut problem = String::new();
    for _attempt in 0..3 {
        let port = free_port();
        let mut command = command_for(port);
        let log = std::fs::File::create(dir.join("server.log")).expect("server log file");
        command
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        let child = command.spawn().expect("start the server process");
        let mut server = ServerProcess {
            child,
            port,
            dir: dir.clone(),
        };
        match wait_listening(&mut server) {
            Ok(()) => match identity_problem(&mut server) {
                None => return server,
                Some(p) => problem = p,
            },
            Err(p) => problem = p,
        }
        // Dropping `server` kills the process before the next attempt.
    }
    panic!("could not start a server: {problem}");
}

fn wait_listening(server: &mut ServerProcess) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", server.port)).is_ok() {
            return Ok(());
        }
        if let Ok(Some(status)) = server.child.try_wait() {
            return Err(format!("server exited during startup with {status}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(format!(
        "server did not start listening on port {}",
        server.port
    ))
}

/// Start our binary on a free port, in a scratch directory, with extra arguments.
pub fn start_ours(name: &str, extra: &[&str]) -> ServerProcess {
    spawn_and_wait(scratch_dir(name), |port| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_redis-clone"));
        command
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(extra);
        command
    })
}

/// Start our binary from the config file `config` (given first, as `redis-server` takes it), in
/// `dir`, which is kept as it is (so a test can restart a server on the same files).
pub fn start_ours_from_file(dir: PathBuf, config: &Path) -> ServerProcess {
    let config = config.to_str().expect("utf-8 path").to_string();
    spawn_and_wait(dir, |port| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_redis-clone"));
        command
            .arg(&config)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"]);
        command
    })
}

/// Where the reference `redis-server` is, if installed. When it is missing the caller skips,
/// unless `REDIS_CLONE_REQUIRE_REFERENCE` is set (CI sets it), in which case missing it is a
/// failure: the comparison against real Redis must run there.
pub fn reference_server() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("redis-server"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        if std::env::var_os("REDIS_CLONE_REQUIRE_REFERENCE").is_some() {
            panic!("redis-server is not installed, but REDIS_CLONE_REQUIRE_REFERENCE is set: the comparison with real Redis must run");
        }
        // Written straight to the process's stderr: the test harness captures `eprintln!` of
        // passing tests, and a skip must be seen.
        let _ = std::io::stderr()
            .write_all(b"SKIPPED: redis-server is not installed, so replies were not compared with real Redis 7.0\n");
    }
    found
}

/// Start the reference redis-server from the config file `config` in `dir` (kept as it is),
/// with our defaults for the settings where they differ from Redis's.
pub fn start_reference_from_file(dir: PathBuf, binary: &Path, config: &Path) -> ServerProcess {
    let dir_arg = dir.to_str().expect("utf-8 path").to_string();
    let config = config.to_str().expect("utf-8 path").to_string();
    spawn_and_wait(dir, |port| {
        let mut command = Command::new(binary);
        command.arg(&config);
        command.args(["--port", &port.to_string()]);
        command.args(["--dir", &dir_arg]);
        command
    })
}

/// Run `check` against our server, then against redis-server when it is installed (see
/// [`reference_server`]): the expectations a test holds us to are Redis's own.
pub fn check_ours_and_reference(name: &str, check: impl Fn(&ServerProcess)) {
    check(&start_ours(name, &[]));
    if let Some(binary) = reference_server() {
        check(&start_reference(&format!("{name}-reference"), &binary));
    }
}

/// Start the reference redis-server on a free port with settings matching our defaults.
pub fn start_reference(name: &str, binary: &Path) -> ServerProcess {
    start_reference_with(name, binary, &[])
}

/// [`start_reference`] with `extra` directives after ours (a later directive wins, so `--bind
/// 0.0.0.0` replaces the loopback default).
pub fn start_reference_with(name: &str, binary: &Path, extra: &[&str]) -> ServerProcess {
    let dir = scratch_dir(name);
    let dir_arg = dir.to_str().expect("utf-8 path").to_string();
    spawn_and_wait(dir, |port| {
        let mut command = Command::new(binary);
        command.args(["--port", &port.to_string()]);
        command.args([
            "--save",
            "3600 1 300 100 60 10000",
            "--dir",
            &dir_arg,
            "--appendonly",
            "no",
        ]);
        command.args(extra);
        command
    })
}

// ---------------------------------------------------------------------------------------------
// Helpers for the TCP and startup tests (tests/tcp.rs): our binary with its stderr captured,
// bounded waits for a process to exit, signals and /proc readings.
// ---------------------------------------------------------------------------------------------

/// The lines a child process writes to stderr, collected by a reader thread so the child can
/// never block on a full pipe.
pub struct StderrLines {
    lines: std::sync::mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl StderrLines {
    /// Take over `child`'s piped stderr.
    pub fn capture(child: &mut Child) -> StderrLines {
        let stderr = child.stderr.take().expect("stderr was piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).split(b'\n') {
                let Ok(line) = line else { break };
                if tx
                    .send(String::from_utf8_lossy(&line).into_owned())
                    .is_err()
                {
                    break;
                }
            }
        });
        StderrLines {
            lines: rx,
            seen: Vec::new(),
        }
    }

    /// Wait (at most `timeout`) for a line containing `needle`; the line, if it came.
    pub fn wait_for(&mut self, needle: &str, timeout: Duration) -> Option<String> {
        if let Some(line) = self.seen.iter().find(|l| l.contains(needle)) {
            return Some(line.clone());
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            let line = self.lines.recv_timeout(left).ok()?;
            self.seen.push(line.clone());
            if line.contains(needle) {
                return Some(line);
            }
        }
    }

    /// Every line until the child closes its stderr (or `timeout` passes).
    pub fn until_eof(&mut self, timeout: Duration) -> Vec<String> {
        let deadline = Instant::now() + timeout;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(_) => break,
            }
        }
        self.seen.clone()
    }
}

/// Wait at most `timeout` for `child` to exit; its status if it did.
pub fn wait_exit(child: &mut Child, timeout: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Our binary with `args`, run in `dir` until it exits (killed after `timeout`): its exit
/// status (None if it had to be killed), its stderr lines, and how long it ran.
pub fn run_ours(
    dir: &Path,
    args: &[&str],
    timeout: Duration,
) -> (Option<std::process::ExitStatus>, Vec<String>, Duration) {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_redis-clone"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start our binary");
    let mut stderr = StderrLines::capture(&mut child);
    let status = wait_exit(&mut child, timeout);
    let elapsed = started.elapsed();
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    (status, stderr.until_eof(Duration::from_secs(2)), elapsed)
}

/// Like [`start_ours`], with the server's stderr captured instead of discarded.
pub fn start_ours_logged(name: &str, extra: &[&str]) -> (ServerProcess, StderrLines) {
    let port = free_port();
    let dir = scratch_dir(name);
    let mut child = Command::new(env!("CARGO_BIN_EXE_redis-clone"))
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(extra)
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start our binary");
    let stderr = StderrLines::capture(&mut child);
    let mut server = ServerProcess { child, port, dir };
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return (server, stderr);
        }
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!("server exited during startup with {status}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("server did not start listening on port {port}");
}

/// Send `signal` (a name such as `TERM`) to a process with the `kill` utility.
pub fn send_signal(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .stdin(Stdio::null())
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{signal} {pid} failed: {status}");
}

/// A `kB` field of /proc/<pid>/status (`VmRSS`, `VmSize`, ...), in bytes.
pub fn proc_status_bytes(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status
        .lines()
        .find(|l| l.split(':').next() == Some(field))?;
    let kb: u64 = line
        .split(':')
        .nth(1)?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// Where an executable is on PATH, if anywhere.
pub fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    })
}

/// Why the server on `server.port` is not the process `server` started, if it is not: the
/// process has exited, or the server answering there reports another `dir` (another process
/// took the port between `free_port` and the bind).
pub fn identity_problem(server: &mut ServerProcess) -> Option<String> {
    if let Ok(Some(status)) = server.child.try_wait() {
        return Some(format!("the server process has exited with {status}"));
    }
    let dir = server
        .dir
        .canonicalize()
        .unwrap_or_else(|_| server.dir.clone());
    let dir = dir.to_string_lossy();
    let expected = format!("*2\r\n$3\r\ndir\r\n${}\r\n{dir}\r\n", dir.len());
    // Anything short of the expected reply is a problem: a port taken by another test's plain
    // listener accepts the connection and never answers, which must not pass for our server.
    let reply = (|| -> std::io::Result<Vec<u8>> {
        let mut stream = TcpStream::connect(("127.0.0.1", server.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        let argv = [b"CONFIG".to_vec(), b"GET".to_vec(), b"dir".to_vec()];
        stream.write_all(&encode_command(&argv))?;
        read_reply(&mut BufReader::new(stream))
    })();
    match reply {
        Ok(reply) if reply == expected.as_bytes() => None,
        Ok(reply) => Some(format!(
            "port {} is answered by a server whose dir is {} rather than {dir}",
            server.port,
            quote(&reply)
        )),
        Err(err) => Some(format!(
            "port {} did not answer CONFIG GET dir: {err}",
            server.port
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// A raw client for the TCP suites: one connection, requests as bytes, replies as raw RESP.

/// Every read of a [`Client`] gives up after this long instead of hanging (the same as
/// [`ServerProcess::connect`]; a suite that needs longer says so with
/// [`Client::with_read_timeout`]).
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A multibulk request.
pub fn cmd(argv: &[&[u8]]) -> Vec<u8> {
    let argv: Vec<Vec<u8>> = argv.iter().map(|a| a.to_vec()).collect();
    encode_command(&argv)
}

/// A bulk string.
pub fn bulk(payload: &[u8]) -> Vec<u8> {
    let mut out = format!("${}\r\n", payload.len()).into_bytes();
    out.extend_from_slice(payload);
    out.extend_from_slice(b"\r\n");
    out
}

/// A connection with a buffered reader over the same socket.
pub struct Client {
    pub stream: TcpStream,
    pub reader: BufReader<TcpStream>,
}

impl Client {
    pub fn connect(server: &ServerProcess) -> Client {
        Client::over(server.connect())
    }

    /// A client on any address (a non-loopback one of this machine, say).
    pub fn to(addr: std::net::SocketAddr) -> Client {
        let stream = TcpStream::connect_timeout(&addr, READ_TIMEOUT)
            .unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
        Client::over(stream)
    }

    /// A client over a connected socket.
    pub fn over(stream: TcpStream) -> Client {
        stream.set_nodelay(true).expect("nodelay");
        stream
            .set_read_timeout(Some(READ_TIMEOUT))
            .expect("timeout");
        let reader = BufReader::new(stream.try_clone().expect("clone the socket"));
        Client { stream, reader }
    }

    /// The same client with reads giving up after `timeout` instead of [`READ_TIMEOUT`].
    pub fn with_read_timeout(self, timeout: Duration) -> Client {
        self.stream
            .set_read_timeout(Some(timeout))
            .expect("timeout");
        self
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write to the server");
        self.stream.flush().expect("flush");
    }

    pub fn reply(&mut self) -> Vec<u8> {
        read_reply(&mut self.reader).expect("read a reply")
    }

    /// Send one multibulk command and read its reply.
    pub fn call(&mut self, argv: &[&[u8]]) -> Vec<u8> {
        self.send(&cmd(argv));
        self.reply()
    }

    /// [`Client::call`] with text arguments.
    pub fn call_str(&mut self, argv: &[&str]) -> Vec<u8> {
        let argv: Vec<&[u8]> = argv.iter().map(|a| a.as_bytes()).collect();
        self.call(&argv)
    }

    /// [`Client::call_str`], the reply as (lossy) text.
    pub fn call_text(&mut self, argv: &[&str]) -> String {
        String::from_utf8_lossy(&self.call_str(argv)).into_owned()
    }

    /// Everything the server sends until it closes the connection; `closed` says whether it
    /// did (EOF or reset) within `limit`. Reading stops after 1 MiB.
    pub fn read_until_closed(&mut self, limit: Duration) -> (Vec<u8>, bool) {
        self.read_until_closed_at_most(limit, 1 << 20)
    }

    /// [`Client::read_until_closed`], reading stopping after `max` bytes.
    pub fn read_until_closed_at_most(&mut self, limit: Duration, max: usize) -> (Vec<u8>, bool) {
        let deadline = Instant::now() + limit;
        let mut got = Vec::new();
        let mut chunk = [0u8; 65536];
        self.reader
            .get_ref()
            .set_read_timeout(Some(Duration::from_millis(200)))
            .expect("timeout");
        while Instant::now() < deadline && got.len() < max {
            match self.reader.read(&mut chunk) {
                Ok(0) => return (got, true),
                Ok(n) => got.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == ErrorKind::ConnectionReset => return (got, true),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) => panic!("reading until close: {e}"),
            }
        }
        (got, false)
    }
}

/// xorshift64*: small, fast, and the same sequence everywhere for a given seed (the random
/// differential stream, the fuzz targets' replayed mutations).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (`0..1` when n is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    /// Uniform in `lo..=hi`, signed.
    pub fn irange(&mut self, lo: i64, hi: i64) -> i64 {
        lo.wrapping_add((self.next() % (hi.wrapping_sub(lo) as u64).wrapping_add(1)) as i64)
    }

    /// True with probability `num / den`.
    pub fn chance(&mut self, num: usize, den: usize) -> bool {
        self.below(den) < num
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }

    /// `word` with each letter's case chosen at random (most often left alone).
    pub fn case(&mut self, word: &str) -> Vec<u8> {
        match self.below(4) {
            0 => word.to_ascii_lowercase().into_bytes(),
            1 => word
                .bytes()
                .map(|b| {
                    if self.chance(1, 2) {
                        b.to_ascii_lowercase()
                    } else {
                        b.to_ascii_uppercase()
                    }
                })
                .collect(),
            _ => word.as_bytes().to_vec(),
        }
    }
}
