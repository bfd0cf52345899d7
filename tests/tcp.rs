//! What only TCP shows, against our binary on a loopback port: pipelining, requests split at
//! every byte, inline commands, many concurrent clients, protocol errors that close only their
//! own connection, expiry in real time, CONFIG GET of the process's own settings, huge
//! announced bulks, startup failures, graceful shutdown, redis-cli talking to us, and the
//! connection commands (AUTH with requirepass, HELLO 3, QUIT, TIME).
//!
//! The byte-exact expectations of the inline and protocol-error checks are also run against a
//! real redis-server when one is installed (`expectations_hold_for_redis_server`), so they are
//! Redis's bytes, not our guess of them.

mod support;

use std::collections::HashMap;
use std::io::{BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use support::{assert_reply, bulk, cmd, quote, read_reply, Client, ServerProcess, READ_TIMEOUT};

const NIL: &[u8] = b"$-1\r\n";
const OK: &[u8] = b"+OK\r\n";
const PONG: &[u8] = b"+PONG\r\n";

// ---------------------------------------------------------------------------------------------
// 1. Pipelining
// ---------------------------------------------------------------------------------------------

#[test]
fn pipeline_of_1000_commands_in_one_write() {
    let server = support::start_ours("tcp-pipeline", &[]);
    let mut client = Client::connect(&server);
    let mut model: HashMap<String, Vec<u8>> = HashMap::new();
    let mut request = Vec::new();
    let mut expected = Vec::new();
    for i in 0..1000usize {
        let key = format!("pipe:{}", (i * 7) % 37);
        let (command, reply) = match i % 5 {
            0 | 3 => {
                let value = format!("value-{i}").into_bytes();
                model.insert(key.clone(), value.clone());
                (cmd(&[b"SET", key.as_bytes(), &value]), OK.to_vec())
            }
            1 => (
                cmd(&[b"GET", key.as_bytes()]),
                model.get(&key).map_or(NIL.to_vec(), |v| bulk(v)),
            ),
            2 if i % 2 == 0 => (b"*1\r\n$4\r\nPING\r\n".to_vec(), PONG.to_vec()),
            2 => {
                let msg = format!("ping-{i}").into_bytes();
                (cmd(&[b"PING", &msg]), bulk(&msg))
            }
            _ => {
                let msg = format!("echo {i}\r\n\0").into_bytes();
                (cmd(&[b"ECHO", &msg]), bulk(&msg))
            }
        };
        request.extend_from_slice(&command);
        expected.push((command, reply));
    }
    let started = Instant::now();
    client.send(&request);
    for (n, (command, reply)) in expected.iter().enumerate() {
        let got = client.reply();
        assert_reply(&format!("reply #{n} to {}", quote(command)), &got, reply);
    }
    // Nothing extra was sent: the next reply is the next command's.
    assert_reply("PING after the pipeline", &client.call(&[b"PING"]), PONG);
    let _ = std::io::stderr().write_all(
        format!(
            "pipeline: 1000 commands ({} bytes) answered in {:?}\n",
            request.len(),
            started.elapsed()
        )
        .as_bytes(),
    );
}

// ---------------------------------------------------------------------------------------------
// 2. Requests split at every byte boundary
// ---------------------------------------------------------------------------------------------

/// A few pipelined requests (multibulk with a binary value, an empty bulk, inline, an empty
/// inline line) and the replies Redis gives them.
fn split_fixture() -> (Vec<u8>, Vec<Vec<u8>>) {
    let value: &[u8] = b"a\r\nb\0c\r\n$3\r\n*1";
    let mut buf = Vec::new();
    buf.extend(cmd(&[b"SET", b"split:key", value]));
    buf.extend(cmd(&[b"GET", b"split:key"]));
    buf.extend_from_slice(b"ECHO \"in line\"\r\n");
    buf.extend(cmd(&[b"ECHO", b""]));
    buf.extend_from_slice(b"\r\n");
    buf.extend_from_slice(b"PING\n");
    buf.extend(cmd(&[b"ECHO", b"last"]));
    let replies = vec![
        OK.to_vec(),
        bulk(value),
        bulk(b"in line"),
        bulk(b""),
        PONG.to_vec(),
        bulk(b"last"),
    ];
    (buf, replies)
}

fn check_split_everywhere(server: &ServerProcess) -> usize {
    let (buf, replies) = split_fixture();
    let mut client = Client::connect(server);
    for i in 1..buf.len() {
        client.send(&buf[..i]);
        std::thread::sleep(Duration::from_millis(2));
        client.send(&buf[i..]);
        for (n, expected) in replies.iter().enumerate() {
            let got = read_reply(&mut client.reader).unwrap_or_else(|e| {
                panic!("split after byte {i} of {}: reply #{n}: {e}", quote(&buf))
            });
            assert_reply(
                &format!("split after byte {i} of {}: reply #{n}", quote(&buf)),
                &got,
                expected,
            );
        }
    }
    buf.len() - 1
}

#[test]
fn request_split_at_every_byte() {
    let server = support::start_ours("tcp-split", &[]);
    let splits = check_split_everywhere(&server);
    let _ =
        std::io::stderr().write_all(format!("split: {splits} split points checked\n").as_bytes());
}

// ---------------------------------------------------------------------------------------------
// 3. Inline commands
// ---------------------------------------------------------------------------------------------

/// (sent, expected reply); an empty line gets no reply, so it is sent with the next command.
const INLINE_CASES: &[(&[u8], &[u8])] = &[
    (b"PING\r\n", b"+PONG\r\n"),
    (b"PING\n", b"+PONG\r\n"),
    (b"ECHO \"hello world\"\r\n", b"$11\r\nhello world\r\n"),
    (b"\r\nPING\r\n", b"+PONG\r\n"),
    (b"\n\r\n\nPING\r\n", b"+PONG\r\n"),
    (b"ECHO\tx\r\n", b"$1\r\nx\r\n"),
    (b"  ECHO   spaced  \r\n", b"$6\r\nspaced\r\n"),
    (b"ping\r\n", b"+PONG\r\n"),
    (b"ECHO \"\\x41\\x00b\\n\"\r\n", b"$4\r\nA\0b\n\r\n"),
    (
        b"ECHO 'single \"quoted\"'\r\n",
        b"$15\r\nsingle \"quoted\"\r\n",
    ),
    (b"ECHO \"\"\r\n", b"$0\r\n\r\n"),
    (b"SET inline:key \"v a l\"\r\n", b"+OK\r\n"),
    (b"GET inline:key\r\n", b"$5\r\nv a l\r\n"),
    (
        b"NOSUCH a b\r\n",
        b"-ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b' \r\n",
    ),
    (
        b"ECHO\r\n",
        b"-ERR wrong number of arguments for 'echo' command\r\n",
    ),
];

fn check_inline(server: &ServerProcess) {
    let mut client = Client::connect(server);
    for (sent, expected) in INLINE_CASES {
        client.send(sent);
        let got = client.reply();
        assert_reply(&format!("inline {}", quote(sent)), &got, expected);
    }
    // All of them pipelined in one write, answered in order.
    let all: Vec<u8> = INLINE_CASES.iter().flat_map(|(s, _)| s.to_vec()).collect();
    client.send(&all);
    for (sent, expected) in INLINE_CASES {
        let got = client.reply();
        assert_reply(&format!("pipelined inline {}", quote(sent)), &got, expected);
    }
}

#[test]
fn inline_commands() {
    let server = support::start_ours("tcp-inline", &[]);
    check_inline(&server);
}

// ---------------------------------------------------------------------------------------------
// 4. Many concurrent clients
// ---------------------------------------------------------------------------------------------

#[test]
fn five_hundred_concurrent_clients() {
    const CLIENTS: usize = 500;
    const ROUNDS: usize = 4;
    let server = support::start_ours("tcp-concurrent", &[]);
    let port = server.port;
    // Everyone connects first, then all work at the same time with all connections open.
    let barrier = Arc::new(Barrier::new(CLIENTS));
    let started = Instant::now();
    let handles: Vec<_> = (0..CLIENTS)
        .map(|id| {
            let barrier = Arc::clone(&barrier);
            std::thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn(move || -> Result<(), String> {
                    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
                    let connected = TcpStream::connect_timeout(&addr, Duration::from_secs(10));
                    // Reach the barrier whatever happened, so no one waits forever.
                    barrier.wait();
                    let stream = connected.map_err(|e| format!("client {id}: connect: {e}"))?;
                    stream
                        .set_read_timeout(Some(READ_TIMEOUT))
                        .map_err(|e| e.to_string())?;
                    let mut writer = stream.try_clone().map_err(|e| e.to_string())?;
                    let mut reader = BufReader::new(stream);
                    let key = format!("client:{id}");
                    for round in 0..ROUNDS {
                        let value = format!("{id}-{round}-{}", "x".repeat(id % 50));
                        let mut both = cmd(&[b"SET", key.as_bytes(), value.as_bytes()]);
                        both.extend(cmd(&[b"GET", key.as_bytes()]));
                        writer
                            .write_all(&both)
                            .map_err(|e| format!("client {id}: write: {e}"))?;
                        let set = read_reply(&mut reader)
                            .map_err(|e| format!("client {id}: SET reply: {e}"))?;
                        let get = read_reply(&mut reader)
                            .map_err(|e| format!("client {id}: GET reply: {e}"))?;
                        if set != OK || get != bulk(value.as_bytes()) {
                            return Err(format!(
                                "client {id} round {round}: SET {} GET {} (expected {})",
                                quote(&set),
                                quote(&get),
                                quote(value.as_bytes())
                            ));
                        }
                    }
                    Ok(())
                })
                .expect("spawn a client thread")
        })
        .collect();
    let failures: Vec<String> = handles
        .into_iter()
        .filter_map(|h| match h.join() {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e),
            Err(_) => Some("a client thread panicked".to_string()),
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {CLIENTS} clients failed, first ones:\n{}",
        failures.len(),
        failures[..failures.len().min(10)].join("\n")
    );
    // Every client's last value is there.
    let mut client = Client::connect(&server);
    for id in (0..CLIENTS).step_by(97) {
        let expected = format!("{id}-{}-{}", ROUNDS - 1, "x".repeat(id % 50));
        let key = format!("client:{id}");
        assert_reply(
            &key,
            &client.call(&[b"GET", key.as_bytes()]),
            &bulk(expected.as_bytes()),
        );
    }
    let _ = std::io::stderr().write_all(
        format!(
            "concurrency: {CLIENTS} clients x {ROUNDS} SET/GET rounds in {:?}\n",
            started.elapsed()
        )
        .as_bytes(),
    );
}

// ---------------------------------------------------------------------------------------------
// 5. Protocol errors close only the offending connection
// ---------------------------------------------------------------------------------------------

/// Redis's inline limit (PROTO_INLINE_MAX_SIZE) is 64 KiB; one byte more trips it. Sending
/// exactly that many means the server has read everything we sent when it closes, so the close
/// is a clean FIN and never a reset that could swallow the error reply.
const INLINE_MAX: usize = 64 * 1024;

fn protocol_error_cases() -> Vec<(&'static str, Vec<u8>, &'static [u8])> {
    vec![
        (
            "bad multibulk count",
            b"*abc\r\n".to_vec(),
            b"-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            "negative bulk length",
            b"*1\r\n$-5\r\n".to_vec(),
            b"-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            "element without $",
            b"*1\r\nfoo\r\n".to_vec(),
            b"-ERR Protocol error: expected '$', got 'f'\r\n",
        ),
        (
            "element starting with CR (quoted as a space: errors are one line)",
            b"*1\r\n\r\n".to_vec(),
            b"-ERR Protocol error: expected '$', got ' '\r\n",
        ),
        (
            "unbalanced quotes",
            b"ECHO \"unbalanced\r\n".to_vec(),
            b"-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
        (
            "bulk over proto-max-bulk-len",
            b"*1\r\n$536870913\r\n".to_vec(),
            b"-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            "inline request over 64 KiB",
            vec![b'x'; INLINE_MAX + 1],
            b"-ERR Protocol error: too big inline request\r\n",
        ),
        (
            "replies before the error are sent",
            b"PING\r\n*1\r\n$4\r\nPING\r\n*x\r\nPING\r\n".to_vec(),
            b"+PONG\r\n+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n",
        ),
    ]
}

fn check_protocol_errors(server: &ServerProcess) {
    // The bystander connects before any offender and keeps its connection throughout.
    let mut bystander = Client::connect(server);
    assert_reply(
        "bystander SET",
        &bystander.call(&[b"SET", b"bystander:key", b"safe\r\nvalue"]),
        OK,
    );
    for (name, sent, expected) in protocol_error_cases() {
        let mut offender = Client::connect(server);
        offender.send(&sent);
        let (got, closed) = offender.read_until_closed(Duration::from_secs(5));
        assert_reply(&format!("{name}: reply to the offender"), &got, expected);
        assert!(closed, "{name}: the offender's connection was not closed");
        assert_reply(
            &format!("{name}: bystander PING"),
            &bystander.call(&[b"PING"]),
            PONG,
        );
        assert_reply(
            &format!("{name}: bystander GET"),
            &bystander.call(&[b"GET", b"bystander:key"]),
            &bulk(b"safe\r\nvalue"),
        );
    }
    // A connection opened after all that works too.
    assert_reply(
        "new client after the errors",
        &Client::connect(server).call(&[b"GET", b"bystander:key"]),
        &bulk(b"safe\r\nvalue"),
    );
}

#[test]
fn protocol_errors_close_only_the_offender() {
    let server = support::start_ours("tcp-protocol-errors", &[]);
    check_protocol_errors(&server);
}

/// The byte-exact expectations above are Redis's: run them against redis-server too.
#[test]
fn expectations_hold_for_redis_server() {
    let Some(binary) = support::reference_server() else {
        return;
    };
    let server = support::start_reference("tcp-reference", &binary);
    check_inline(&server);
    check_protocol_errors(&server);
    check_split_everywhere(&server);
}

// ---------------------------------------------------------------------------------------------
// 6. Expiry in real time
// ---------------------------------------------------------------------------------------------

#[test]
fn px_expires_in_real_time() {
    let server = support::start_ours("tcp-expiry", &[]);
    let mut client = Client::connect(&server);
    assert_reply(
        "SET PX 50",
        &client.call(&[b"SET", b"short", b"lived", b"PX", b"50"]),
        OK,
    );
    assert_reply(
        "SET EX 1000",
        &client.call(&[b"SET", b"long", b"lived", b"EX", b"1000"]),
        OK,
    );
    std::thread::sleep(Duration::from_millis(100));
    assert_reply("GET after 100 ms", &client.call(&[b"GET", b"short"]), NIL);
    assert_reply(
        "GET of the long-lived key",
        &client.call(&[b"GET", b"long"]),
        &bulk(b"lived"),
    );
}

// ---------------------------------------------------------------------------------------------
// 7. CONFIG GET of the process's own settings
// ---------------------------------------------------------------------------------------------

fn config_pair(name: &str, value: &[u8]) -> Vec<u8> {
    let mut out = b"*2\r\n".to_vec();
    out.extend(bulk(name.as_bytes()));
    out.extend(bulk(value));
    out
}

#[test]
fn config_get_dir_and_port() {
    let server = support::start_ours("tcp-config", &[]);
    let dir = server.dir.canonicalize().expect("canonical scratch dir");
    let mut client = Client::connect(&server);
    assert_reply(
        "CONFIG GET dir",
        &client.call(&[b"CONFIG", b"GET", b"dir"]),
        &config_pair("dir", dir.to_str().expect("utf-8 dir").as_bytes()),
    );
    assert_reply(
        "CONFIG GET port",
        &client.call(&[b"CONFIG", b"GET", b"port"]),
        &config_pair("port", server.port.to_string().as_bytes()),
    );
    assert_reply(
        "CONFIG GET bind",
        &client.call(&[b"CONFIG", b"GET", b"bind"]),
        &config_pair("bind", b"127.0.0.1"),
    );
}

// ---------------------------------------------------------------------------------------------
// 8. A huge announced bulk is not allocated up front
// ---------------------------------------------------------------------------------------------

#[test]
fn huge_announced_bulk_is_not_allocated() {
    let server = support::start_ours("tcp-huge-bulk", &[]);
    let pid = server.child.id();
    let mut bystander = Client::connect(&server);
    assert_reply("PING before", &bystander.call(&[b"PING"]), PONG);
    let size_before = support::proc_status_bytes(pid, "VmSize").expect("VmSize");

    let mut offender = Client::connect(&server);
    let mut request = b"*1\r\n$536870000\r\n".to_vec();
    request.extend(vec![b'z'; 64 * 1024]);
    offender.send(&request);
    // Give the server time to read what was sent (and to allocate, if it were going to).
    std::thread::sleep(Duration::from_millis(300));
    assert_reply("PING during", &bystander.call(&[b"PING"]), PONG);

    let rss = support::proc_status_bytes(pid, "VmRSS").expect("VmRSS");
    let size_after = support::proc_status_bytes(pid, "VmSize").expect("VmSize");
    assert!(
        rss < 100 << 20,
        "the server's resident memory is {} MB after a 512 MB bulk was announced",
        rss >> 20
    );
    // Reserving the announced size would add ~512 MB of address space even if never touched.
    let grown = size_after.saturating_sub(size_before);
    assert!(
        grown < 256 << 20,
        "the server's address space grew by {} MB after a 512 MB bulk was announced",
        grown >> 20
    );
    drop(offender);
    std::thread::sleep(Duration::from_millis(50));
    assert_reply("PING after", &bystander.call(&[b"PING"]), PONG);
    let _ = std::io::stderr().write_all(
        format!(
            "huge bulk: VmRSS {} KB, VmSize {} KB -> {} KB\n",
            rss >> 10,
            size_before >> 10,
            size_after >> 10
        )
        .as_bytes(),
    );
}

// ---------------------------------------------------------------------------------------------
// 9. Startup failures, the startup line, graceful shutdown
// ---------------------------------------------------------------------------------------------

const STARTUP_LIMIT: Duration = Duration::from_secs(10);

/// A failed start: status 1, within a few seconds, with exactly one line on stderr.
fn assert_failed_start(what: &str, args: &[&str]) -> String {
    let dir = support::scratch_dir(&format!("tcp-start-{what}"));
    let (status, lines, elapsed) = support::run_ours(&dir, args, STARTUP_LIMIT);
    let status = status.unwrap_or_else(|| panic!("{what}: still running after {STARTUP_LIMIT:?}"));
    assert_eq!(
        status.code(),
        Some(1),
        "{what}: exit status; stderr {lines:?}"
    );
    assert!(
        elapsed < Duration::from_secs(5),
        "{what}: took {elapsed:?} to fail"
    );
    assert_eq!(
        lines.len(),
        1,
        "{what}: expected one stderr line, got {lines:?}"
    );
    lines[0].clone()
}

#[test]
fn unknown_directive_on_the_command_line_fails() {
    let port = support::free_port().to_string();
    let line = assert_failed_start(
        "unknown-arg",
        &[
            "--port",
            &port,
            "--bind",
            "127.0.0.1",
            "--nosuchdirective",
            "1",
        ],
    );
    assert!(line.contains("nosuchdirective"), "message: {line:?}");
}

#[test]
fn unknown_directive_in_a_config_file_fails() {
    let dir = support::scratch_dir("tcp-config-file-dir");
    let path = dir.join("bad.conf");
    let port = support::free_port();
    std::fs::write(
        &path,
        format!("port {port}\nbind 127.0.0.1\nnosuchdirective yes\nloglevel notice\n"),
    )
    .expect("write the config file");
    let path = path.to_str().expect("utf-8 path");
    let line = assert_failed_start("config-file", &[path]);
    assert!(
        line.contains(path) && line.contains("line 3") && line.contains("nosuchdirective"),
        "the message should name the file, line 3 and the directive: {line:?}"
    );
}

#[test]
fn port_in_use_fails() {
    let holder = TcpListener::bind("127.0.0.1:0").expect("hold a port");
    let port = holder.local_addr().expect("addr").port().to_string();
    let line = assert_failed_start("port-in-use", &["--port", &port, "--bind", "127.0.0.1"]);
    assert!(
        line.contains(&port),
        "the message should name the port: {line:?}"
    );
    drop(holder);
}

#[test]
fn sigterm_with_an_idle_client_exits_cleanly() {
    let (mut server, mut stderr) = support::start_ours_logged("tcp-sigterm", &[]);
    let mut idle = Client::connect(&server);
    assert_reply("PING", &idle.call(&[b"PING"]), PONG);
    support::send_signal(server.child.id(), "TERM");
    let status = support::wait_exit(&mut server.child, Duration::from_secs(10));
    let status = status.expect("the server did not exit within 10 s of SIGTERM");
    assert!(
        status.success(),
        "exit status after SIGTERM: {status}; stderr {:?}",
        stderr.until_eof(Duration::from_secs(1))
    );
    let (_, closed) = idle.read_until_closed(Duration::from_secs(2));
    assert!(closed, "the idle client's connection was not closed");
}

#[test]
fn startup_line_names_version_address_and_command_count() {
    let (server, mut stderr) = support::start_ours_logged("tcp-startup-line", &[]);
    let address = format!("127.0.0.1:{}", server.port);
    let line = stderr
        .wait_for(&address, Duration::from_secs(5))
        .unwrap_or_else(|| {
            panic!(
                "no stderr line names {address}: {:?}",
                stderr.until_eof(Duration::from_millis(200))
            )
        });
    let commands = redis_clone::registry::init().expect("valid specs").len();
    for needle in [
        redis_clone::VERSION.to_string(),
        redis_clone::REDIS_VERSION.to_string(),
        format!("{commands} commands"),
    ] {
        assert!(
            line.contains(&needle),
            "startup line lacks {needle:?}: {line:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 10. redis-cli
// ---------------------------------------------------------------------------------------------

/// Run redis-cli (killed after 10 s): its stdout.
fn redis_cli(cli: &std::path::Path, port: u16, args: &[&str]) -> String {
    let mut child = Command::new(cli)
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start redis-cli");
    let status = support::wait_exit(&mut child, Duration::from_secs(10));
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
        panic!("redis-cli {args:?} did not finish within 10 s");
    }
    let mut out = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut out)
        .expect("read redis-cli output");
    out
}

#[test]
fn redis_cli_talks_to_us() {
    let Some(cli) = support::on_path("redis-cli") else {
        let _ = std::io::stderr()
            .write_all(b"SKIPPED: redis-cli is not installed, so it was not tried against us\n");
        return;
    };
    let server = support::start_ours("tcp-redis-cli", &[]);
    assert_eq!(redis_cli(&cli, server.port, &["PING"]), "PONG\n");
    assert_eq!(redis_cli(&cli, server.port, &["SET", "a", "b"]), "OK\n");
    assert_eq!(redis_cli(&cli, server.port, &["GET", "a"]), "b\n");
    assert_eq!(redis_cli(&cli, server.port, &["GET", "missing"]), "\n");
    assert_eq!(
        redis_cli(&cli, server.port, &["ECHO", "hello world"]),
        "hello world\n"
    );
}

/// Our binary with `--requirepass`, started by hand: `start_ours` checks the server's identity
/// with CONFIG GET, which a password-protected server rightly refuses.
fn start_with_password(name: &str, password: &str) -> ServerProcess {
    let dir = support::scratch_dir(name);
    for _attempt in 0..3 {
        let port = support::free_port();
        let log = std::fs::File::create(dir.join("server.log")).expect("server log file");
        let child = Command::new(env!("CARGO_BIN_EXE_redis-clone"))
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--requirepass", password])
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start the server process");
        let mut server = ServerProcess {
            child,
            port,
            dir: dir.clone(),
        };
        let deadline = Instant::now() + STARTUP_LIMIT;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = server.child.try_wait() {
                break;
            }
            if let Ok(stream) = server.try_connect() {
                // Only a password-protected server answers PING with NOAUTH: not a stranger.
                let mut client = Client {
                    reader: BufReader::new(stream.try_clone().expect("clone")),
                    stream,
                };
                client
                    .stream
                    .set_read_timeout(Some(READ_TIMEOUT))
                    .expect("timeout");
                if client.call(&[b"PING"]) == b"-NOAUTH Authentication required.\r\n" {
                    return server;
                }
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    panic!("could not start a password-protected server");
}

const NOAUTH: &[u8] = b"-NOAUTH Authentication required.\r\n";

#[test]
fn requirepass_is_enforced_in_redis_order() {
    let server = start_with_password("tcp-requirepass", "s3cret");
    let mut c = Client::connect(&server);
    // Unknown commands and arity errors come before authentication (reference, appendix B).
    assert_reply(
        "unknown",
        &c.call(&[b"FOO"]),
        b"-ERR unknown command 'FOO', with args beginning with: \r\n",
    );
    assert_reply(
        "arity",
        &c.call(&[b"GET"]),
        b"-ERR wrong number of arguments for 'get' command\r\n",
    );
    assert_reply("GET", &c.call(&[b"GET", b"k"]), NOAUTH);
    assert_reply(
        "COMMAND DOCS",
        &c.call(&[b"COMMAND", b"DOCS", b"get"]),
        NOAUTH,
    );
    assert_reply(
        "HELLO 3",
        &c.call(&[b"HELLO", b"3"]),
        b"-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n",
    );
    let wrongpass: &[u8] = b"-WRONGPASS invalid username-password pair or user is disabled.\r\n";
    assert_reply("AUTH wrong", &c.call(&[b"AUTH", b"nope"]), wrongpass);
    assert_reply("AUTH s3cre", &c.call(&[b"AUTH", b"s3cre"]), wrongpass);
    assert_reply(
        "AUTH user",
        &c.call(&[b"AUTH", b"bob", b"s3cret"]),
        wrongpass,
    );
    assert_reply("still", &c.call(&[b"PING"]), NOAUTH);
    // AUTH, then a request pipelined behind it with more than 10 arguments: full limits.
    let mut batch = cmd(&[b"AUTH", b"s3cret"]);
    batch.extend(cmd(&[b"GET", b"k"]));
    batch.extend(cmd(&[
        b"DEL", b"a", b"b", b"c", b"d", b"e", b"f", b"g", b"h", b"i", b"j", b"k",
    ]));
    c.send(&batch);
    assert_reply("AUTH ok", &c.reply(), OK);
    assert_reply("GET after AUTH", &c.reply(), NIL);
    assert_reply("DEL 11 keys", &c.reply(), b":0\r\n");
    // RESET takes the authentication back.
    assert_reply("RESET", &c.call(&[b"RESET"]), b"+RESET\r\n");
    assert_reply("after RESET", &c.call(&[b"PING"]), NOAUTH);
    // HELLO AUTH authenticates and switches to RESP3 at once.
    let hello = c.call(&[b"HELLO", b"3", b"AUTH", b"default", b"s3cret"]);
    assert!(hello.starts_with(b"%7\r\n"), "HELLO: {}", quote(&hello));
    assert_reply("RESP3 null", &c.call(&[b"GET", b"k"]), b"_\r\n");
    // QUIT needs no authentication.
    let mut q = Client::connect(&server);
    q.send(&cmd(&[b"QUIT"]));
    assert_eq!(q.read_until_closed(READ_TIMEOUT), (OK.to_vec(), true));
}

#[test]
fn unauthenticated_protocol_limits_close_the_connection() {
    let server = start_with_password("tcp-unauth-limits", "s3cret");
    let cases: [(&[u8], &[u8]); 2] = [
        (
            b"*11\r\n",
            b"-ERR Protocol error: unauthenticated multibulk length\r\n",
        ),
        (
            b"*1\r\n$16385\r\n",
            b"-ERR Protocol error: unauthenticated bulk length\r\n",
        ),
    ];
    for (request, expected) in cases {
        let mut c = Client::connect(&server);
        c.send(request);
        assert_eq!(
            c.read_until_closed(READ_TIMEOUT),
            (expected.to_vec(), true),
            "{}",
            quote(request)
        );
    }
}

#[test]
fn quit_answers_then_closes() {
    let server = support::start_ours("tcp-quit", &[]);
    let mut c = Client::connect(&server);
    let mut batch = cmd(&[b"QUIT", b"with", b"args"]);
    // Nothing after QUIT in the same batch runs.
    batch.extend(cmd(&[b"SET", b"after", b"quit"]));
    c.send(&batch);
    assert_eq!(c.read_until_closed(READ_TIMEOUT), (OK.to_vec(), true));
    let mut d = Client::connect(&server);
    assert_reply("not set", &d.call(&[b"GET", b"after"]), NIL);
}

#[test]
fn time_is_the_system_time() {
    let server = support::start_ours("tcp-time", &[]);
    let mut c = Client::connect(&server);
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let reply = String::from_utf8(c.call(&[b"TIME"])).expect("utf-8");
    let lines: Vec<&str> = reply.split("\r\n").collect();
    assert_eq!(lines[0], "*2", "{reply:?}");
    let secs: u64 = lines[2].parse().expect("seconds");
    let micros: u64 = lines[4].parse().expect("microseconds");
    assert!(secs >= before && secs <= before + 5, "{reply:?}");
    assert!(micros < 1_000_000, "{reply:?}");
}

#[test]
fn hello_3_switches_the_connection_to_resp3() {
    let server = support::start_ours("tcp-resp3", &[]);
    let mut c = Client::connect(&server);
    let hello = c.call(&[b"HELLO", b"3"]);
    assert!(hello.starts_with(b"%7\r\n"), "HELLO: {}", quote(&hello));
    assert_reply("null", &c.call(&[b"GET", b"nosuch"]), b"_\r\n");
    assert_reply(
        "map",
        &c.call(&[b"CONFIG", b"GET", b"maxmemory"]),
        b"%1\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n",
    );
    let hello = c.call(&[b"HELLO", b"2"]);
    assert!(hello.starts_with(b"*14\r\n"), "HELLO: {}", quote(&hello));
    assert_reply("null again", &c.call(&[b"GET", b"nosuch"]), NIL);
}

#[test]
fn clients_over_maxclients_are_told_and_closed() {
    let server = support::start_ours("tcp-maxclients", &["--maxclients", "2"]);
    // start_ours's own checks connected and left; wait until those slots are free again.
    std::thread::sleep(Duration::from_millis(100));
    let mut first = server.connect();
    let mut second = server.connect();
    for stream in [&mut first, &mut second] {
        stream.write_all(b"PING\r\n").expect("write");
        assert_eq!(
            read_reply(&mut BufReader::new(stream.try_clone().expect("clone"))).expect("reply"),
            b"+PONG\r\n"
        );
    }
    let mut third = server.connect();
    let mut refused = Vec::new();
    third
        .read_to_end(&mut refused)
        .expect("read until the server closes");
    assert_eq!(refused, b"-ERR max number of clients reached\r\n");
    drop(first);
    // A slot is given back when a client leaves.
    std::thread::sleep(Duration::from_millis(100));
    let mut fourth = server.connect();
    fourth.write_all(b"PING\r\n").expect("write");
    assert_eq!(
        read_reply(&mut BufReader::new(fourth)).expect("reply"),
        b"+PONG\r\n"
    );
}

/// The fields of a CLIENT LIST line, by name.
fn client_fields(line: &str) -> HashMap<String, String> {
    line.split(' ')
        .filter_map(|f| f.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The text of a RESP2 bulk string reply.
fn bulk_text(reply: &[u8]) -> String {
    let text = String::from_utf8(reply.to_vec()).expect("utf-8");
    let (_, body) = text.split_once("\r\n").expect("bulk header");
    body.strip_suffix("\r\n").expect("bulk end").to_string()
}

/// A client blocked in WAIT (no replica can acknowledge) as another client's CLIENT LIST shows
/// it: `flags=b`, its request out of the query buffer and its arguments in `argv-mem`; and,
/// once answered, back to `flags=N` with no arguments. The same fields as redis-server's.
fn check_client_blocked_in_wait(server: &ServerProcess) {
    let mut waiter = Client::connect(server);
    let mut observer = Client::connect(server);
    let addr = waiter.stream.local_addr().expect("addr").to_string();
    let fields_of_waiter = |observer: &mut Client| -> HashMap<String, String> {
        let list = bulk_text(&observer.call(&[b"CLIENT", b"LIST"]));
        list.lines()
            .map(client_fields)
            .find(|f| f.get("addr") == Some(&addr))
            .unwrap_or_else(|| panic!("{addr} not in {list:?}"))
    };
    let picked = |fields: &HashMap<String, String>| -> Vec<String> {
        ["flags", "qbuf", "argv-mem", "cmd"]
            .iter()
            .map(|name| format!("{name}={}", fields[*name]))
            .collect()
    };
    waiter.send(&cmd(&[b"WAIT", b"1", b"3000"]));
    let deadline = Instant::now() + READ_TIMEOUT;
    let mut fields = fields_of_waiter(&mut observer);
    while fields["cmd"] != "wait" && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
        fields = fields_of_waiter(&mut observer);
    }
    assert_eq!(
        picked(&fields),
        ["flags=b", "qbuf=0", "argv-mem=9", "cmd=wait"],
        "while blocked"
    );
    assert_reply("WAIT", &waiter.reply(), b":0\r\n");
    assert_eq!(
        picked(&fields_of_waiter(&mut observer)),
        ["flags=N", "qbuf=0", "argv-mem=0", "cmd=wait"],
        "once answered"
    );
}

#[test]
fn a_client_blocked_in_wait_is_listed_as_blocked() {
    support::check_ours_and_reference("tcp-wait-blocked", check_client_blocked_in_wait);
}

#[test]
fn client_list_describes_each_connection() {
    let server = support::start_ours("tcp-client-list", &[]);
    let mut a = Client::connect(&server);
    let mut b = Client::connect(&server);
    assert_reply("SETNAME", &a.call(&[b"CLIENT", b"SETNAME", b"alpha"]), OK);
    assert_reply("SELECT", &b.call(&[b"SELECT", b"5"]), OK);
    assert_reply("GET", &b.call(&[b"GET", b"k"]), NIL);
    let a_id = String::from_utf8(a.call(&[b"CLIENT", b"ID"])).expect("utf-8");
    let a_id = a_id.trim_start_matches(':').trim_end().to_string();
    let a_addr = a.stream.local_addr().expect("addr").to_string();
    let b_addr = b.stream.local_addr().expect("addr").to_string();
    let list = bulk_text(&a.call(&[b"CLIENT", b"LIST"]));
    // start_ours's own probes may still be listed for a moment: pick our two by address.
    let line_of = |addr: &str| -> String {
        list.lines()
            .find(|l| client_fields(l).get("addr").map(String::as_str) == Some(addr))
            .unwrap_or_else(|| panic!("{addr} not in {list:?}"))
            .to_string()
    };
    let lines = [line_of(&a_addr), line_of(&b_addr)];
    let names: Vec<&str> = lines[0]
        .split(' ')
        .map(|f| f.split('=').next().unwrap_or(""))
        .collect();
    assert_eq!(
        names,
        [
            "id",
            "addr",
            "laddr",
            "fd",
            "name",
            "age",
            "idle",
            "flags",
            "db",
            "sub",
            "psub",
            "ssub",
            "multi",
            "qbuf",
            "qbuf-free",
            "argv-mem",
            "multi-mem",
            "rbs",
            "rbp",
            "obl",
            "oll",
            "omem",
            "tot-mem",
            "events",
            "cmd",
            "user",
            "redir",
            "resp"
        ],
        "Redis 7.0's fields in its order"
    );
    let first = client_fields(&lines[0]);
    let second = client_fields(&lines[1]);
    assert_eq!(first["id"], a_id);
    assert_eq!(
        first["addr"],
        a.stream.local_addr().expect("addr").to_string()
    );
    assert_eq!(first["laddr"], format!("127.0.0.1:{}", server.port));
    assert!(first["fd"].parse::<i64>().expect("fd") > 2, "{first:?}");
    assert_eq!(first["name"], "alpha");
    assert_eq!(first["cmd"], "client|list");
    assert_eq!(
        second["addr"],
        b.stream.local_addr().expect("addr").to_string()
    );
    assert_eq!(second["db"], "5");
    assert_eq!(second["cmd"], "get");
    assert_eq!(second["name"], "");
    // CLIENT INFO is the caller's own line; in RESP3 a verbatim string.
    let info = bulk_text(&b.call(&[b"CLIENT", b"INFO"]));
    assert_eq!(client_fields(&info)["cmd"], "client|info");
    let hello = b.call(&[b"HELLO", b"3"]);
    assert!(hello.starts_with(b"%7\r\n"), "{}", quote(&hello));
    let info = b.call(&[b"CLIENT", b"INFO"]);
    assert!(info.starts_with(b"="), "{}", quote(&info));
    assert!(
        String::from_utf8_lossy(&info).contains("\r\ntxt:id="),
        "{}",
        quote(&info)
    );
    // A client that has gone is no longer listed.
    drop(b);
    let deadline = Instant::now() + READ_TIMEOUT;
    loop {
        let list = bulk_text(&a.call(&[b"CLIENT", b"LIST"]));
        if !list.contains(&format!("addr={b_addr} ")) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the closed client stays listed: {list:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn client_kill_closes_other_connections() {
    let server = support::start_ours("tcp-client-kill", &[]);
    let mut killer = Client::connect(&server);
    let mut by_id = Client::connect(&server);
    let mut by_addr = Client::connect(&server);
    let mut old_form = Client::connect(&server);
    let id = String::from_utf8(by_id.call(&[b"CLIENT", b"ID"])).expect("utf-8");
    let id = id.trim_start_matches(':').trim_end().to_string();
    assert_reply(
        "KILL ID",
        &killer.call(&[b"CLIENT", b"KILL", b"ID", id.as_bytes()]),
        b":1\r\n",
    );
    assert_eq!(by_id.read_until_closed(READ_TIMEOUT), (Vec::new(), true));
    let addr = by_addr.stream.local_addr().expect("addr").to_string();
    assert_reply(
        "KILL ADDR",
        &killer.call(&[b"CLIENT", b"KILL", b"ADDR", addr.as_bytes()]),
        b":1\r\n",
    );
    assert_eq!(by_addr.read_until_closed(READ_TIMEOUT), (Vec::new(), true));
    let addr = old_form.stream.local_addr().expect("addr").to_string();
    assert_reply(
        "KILL addr",
        &killer.call(&[b"CLIENT", b"KILL", addr.as_bytes()]),
        OK,
    );
    assert_eq!(old_form.read_until_closed(READ_TIMEOUT), (Vec::new(), true));
    // LADDR matches every client of this listener; SKIPME (the default) spares the caller.
    let mut other = Client::connect(&server);
    assert_reply("PING", &other.call(&[b"PING"]), PONG);
    let laddr = format!("127.0.0.1:{}", server.port);
    // Wait until only these two are connected (start_ours's probes and the killed are gone).
    let deadline = Instant::now() + READ_TIMEOUT;
    while bulk_text(&killer.call(&[b"CLIENT", b"LIST"]))
        .lines()
        .count()
        != 2
    {
        assert!(Instant::now() < deadline, "other clients stay listed");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_reply(
        "KILL LADDR",
        &killer.call(&[b"CLIENT", b"KILL", b"LADDR", laddr.as_bytes()]),
        b":1\r\n",
    );
    assert_eq!(other.read_until_closed(READ_TIMEOUT), (Vec::new(), true));
    assert_reply("killer lives", &killer.call(&[b"PING"]), PONG);
    // SKIPME no: the caller is killed too, after its reply.
    killer.send(&cmd(&[
        b"CLIENT",
        b"KILL",
        b"LADDR",
        laddr.as_bytes(),
        b"SKIPME",
        b"no",
    ]));
    assert_eq!(
        killer.read_until_closed(READ_TIMEOUT),
        (b":1\r\n".to_vec(), true)
    );
}

#[test]
fn client_reply_off_and_skip_silence_replies() {
    let server = support::start_ours("tcp-client-reply", &[]);
    let mut c = Client::connect(&server);
    let mut batch = Vec::new();
    for argv in [
        &[&b"CLIENT"[..], b"REPLY", b"OFF"][..],
        &[b"SET", b"a", b"1"],
        &[b"CLIENT", b"REPLY", b"SKIP"],
        &[b"CLIENT", b"REPLY", b"ON"],
        &[b"CLIENT", b"REPLY", b"SKIP"],
        &[b"GET", b"a"],
        &[b"GET", b"a"],
        &[b"NOSUCH"],
    ] {
        batch.extend(cmd(argv));
    }
    c.send(&batch);
    // OFF silences itself and SET; SKIP under OFF changes nothing; ON answers; SKIP silences
    // itself and the first GET; the second GET answers, and so does the error after it.
    assert_reply("ON", &c.reply(), OK);
    assert_reply("GET", &c.reply(), &bulk(b"1"));
    assert_reply(
        "unknown",
        &c.reply(),
        b"-ERR unknown command 'NOSUCH', with args beginning with: \r\n",
    );
}

#[test]
fn idle_clients_are_closed_after_timeout() {
    let server = support::start_ours("tcp-timeout", &["--timeout", "1"]);
    let mut idle = server.connect();
    idle.write_all(b"PING\r\n").expect("write");
    assert_eq!(
        read_reply(&mut BufReader::new(idle.try_clone().expect("clone"))).expect("reply"),
        b"+PONG\r\n"
    );
    // Closed without a reply once idle for longer than 1 s (bounded wait).
    idle.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut rest = Vec::new();
    let read = idle.read_to_end(&mut rest);
    assert!(
        read.is_ok() && rest.is_empty(),
        "expected a silent close, got {read:?} {rest:?}"
    );
    // A client that keeps talking stays.
    let mut busy = server.connect();
    for _ in 0..4 {
        std::thread::sleep(Duration::from_millis(400));
        busy.write_all(b"PING\r\n").expect("write");
        let mut pong = [0u8; 7];
        busy.read_exact(&mut pong).expect("still connected");
    }
}

#[test]
fn shutdown_saves_when_save_points_exist_and_refuses_to_stop_when_the_save_fails() {
    // With save points (the default) a plain SHUTDOWN saves first; when the save fails (its
    // directory is gone) it refuses like Redis and keeps serving, and NOSAVE still stops.
    let mut server = support::start_ours("tcp-shutdown", &[]);
    let mut client = server.connect();
    std::fs::remove_dir_all(&server.dir).expect("remove the server's directory");
    client.write_all(b"SHUTDOWN\r\n").expect("write");
    assert_eq!(
        read_reply(&mut BufReader::new(client.try_clone().expect("clone"))).expect("reply"),
        b"-ERR Errors trying to SHUTDOWN. Check logs.\r\n"
    );
    client.write_all(b"SHUTDOWN NOSAVE\r\n").expect("write");
    let mut rest = Vec::new();
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let _ = client.read_to_end(&mut rest);
    assert!(rest.is_empty(), "SHUTDOWN replies nothing: {rest:?}");
    let status =
        support::wait_exit(&mut server.child, Duration::from_secs(10)).expect("the server stops");
    assert!(status.success(), "exit status {status}");

    // A plain SHUTDOWN with save points writes the dump, which the next start loads.
    let mut server = support::start_ours("tcp-shutdown-saves", &[]);
    assert_eq!(server.call(&["SET", "k", "v"]), b"+OK\r\n");
    server.connect().write_all(b"SHUTDOWN\r\n").expect("write");
    let status =
        support::wait_exit(&mut server.child, Duration::from_secs(10)).expect("the server stops");
    assert!(status.success(), "exit status {status}");
    assert!(server.dir.join("dump.rdb").is_file(), "SHUTDOWN saved");

    // Without save points, a plain SHUTDOWN just stops, writing nothing.
    let mut server = support::start_ours("tcp-shutdown-nosave-points", &["--save", ""]);
    server.call(&["SET", "k", "v"]);
    let mut client = server.connect();
    client.write_all(b"SHUTDOWN\r\n").expect("write");
    let status =
        support::wait_exit(&mut server.child, Duration::from_secs(10)).expect("the server stops");
    assert!(status.success(), "exit status {status}");
    assert!(!server.dir.join("dump.rdb").exists(), "nothing saved");
}

/// A connection adds up a pipelined run of one command before it counts it in the shared
/// stats; INFO in the same pipeline, and another client's INFO afterwards, still see every
/// call, and CONFIG RESETSTAT in the pipeline resets them all.
#[test]
fn pipelined_calls_are_all_counted_before_info_runs() {
    let server = support::start_ours("tcp-stats-pipeline", &[]);
    let mut client = Client::connect(&server);
    let mut request = Vec::new();
    request.extend(cmd(&[b"CONFIG", b"RESETSTAT"]));
    for i in 0..5 {
        request.extend(cmd(&[b"SET", format!("k{i}").as_bytes(), b"v"]));
    }
    request.extend(cmd(&[b"INFO", b"commandstats"]));
    request.extend(cmd(&[b"GET", b"k1"]));
    request.extend(cmd(&[b"SET", b"k9", b"v"]));
    client.send(&request);
    let mut replies: Vec<String> = (0..9)
        .map(|_| String::from_utf8_lossy(&client.reply()).into_owned())
        .collect();
    let info = replies.remove(6);
    assert!(info.contains("cmdstat_set:calls=5,"), "{info}");
    assert!(!info.contains("cmdstat_get:"), "{info}");
    let mut other = Client::connect(&server);
    let info = String::from_utf8_lossy(&other.call(&[b"INFO", b"commandstats"])).into_owned();
    assert!(info.contains("cmdstat_set:calls=6,"), "{info}");
    assert!(info.contains("cmdstat_get:calls=1,"), "{info}");
    assert!(info.contains("cmdstat_info:calls=1,"), "{info}");
    // The latency histograms get every call too.
    let histogram = other.call(&[b"LATENCY", b"HISTOGRAM", b"set"]);
    let histogram = String::from_utf8_lossy(&histogram).into_owned();
    assert!(histogram.contains("$5\r\ncalls\r\n:6\r\n"), "{histogram}");
}

/// The connection caches the slow log settings for a pipelined batch; a CONFIG SET inside the
/// batch must still apply from that very command on, as Redis reads them after each call
/// (redis-server 7.0 answers this pipeline the same way).
#[test]
fn slowlog_settings_changed_inside_a_pipeline_apply_at_once() {
    let server = support::start_ours("tcp-slowlog-pipeline", &[]);
    check_pipeline(
        &server,
        &[
            &[b"SLOWLOG", b"RESET"],
            &[b"CONFIG", b"SET", b"slowlog-log-slower-than", b"0"],
            &[b"ECHO", b"a"],
            &[b"SLOWLOG", b"LEN"],
            &[b"CONFIG", b"SET", b"slowlog-log-slower-than", b"-1"],
            &[b"ECHO", b"b"],
            &[b"SLOWLOG", b"LEN"],
        ],
        &[
            b"+OK\r\n",
            b"+OK\r\n",
            b"$1\r\na\r\n",
            // The CONFIG SET that lowered the threshold and the ECHO.
            b":2\r\n",
            b"+OK\r\n",
            b"$1\r\nb\r\n",
            // ... and the SLOWLOG LEN, not the CONFIG SET that turned the log off, nor what
            // follows.
            b":3\r\n",
        ],
    );
}

/// Send `requests` in one write, then check each reply in turn.
fn check_pipeline(server: &ServerProcess, requests: &[&[&[u8]]], expected: &[&[u8]]) {
    let mut client = Client::connect(server);
    let request: Vec<u8> = requests.iter().flat_map(|argv| cmd(argv)).collect();
    client.send(&request);
    for (n, want) in expected.iter().enumerate() {
        assert_reply(&format!("reply #{n}"), &client.reply(), want);
    }
}

/// The connection reads `maxmemory` (and the rest of what every request checks) once, and
/// again only after the configuration changed: a CONFIG SET inside a pipelined batch applies
/// from the next request of that batch on. Checked against redis-server when it is installed.
fn check_maxmemory_changed_inside_a_pipeline(server: &ServerProcess) {
    check_pipeline(
        server,
        &[
            &[b"CONFIG", b"SET", b"maxmemory", b"1"],
            &[b"SET", b"a", b"1"],
            &[b"CONFIG", b"SET", b"maxmemory", b"0"],
            &[b"SET", b"a", b"2"],
            &[b"GET", b"a"],
        ],
        &[
            b"+OK\r\n",
            b"-OOM command not allowed when used memory > 'maxmemory'.\r\n",
            b"+OK\r\n",
            b"+OK\r\n",
            b"$1\r\n2\r\n",
        ],
    );
}

#[test]
fn maxmemory_changed_inside_a_pipeline_applies_at_once() {
    support::check_ours_and_reference(
        "tcp-maxmemory-pipeline",
        check_maxmemory_changed_inside_a_pipeline,
    );
}

#[test]
fn slowlog_records_commands_over_the_threshold() {
    let server = support::start_ours("tcp-slowlog", &["--slowlog-log-slower-than", "0"]);
    let mut client = Client::connect(&server);
    assert_reply("reset", &client.call(&[b"SLOWLOG", b"RESET"]), b"+OK\r\n");
    let long = vec![b'x'; 200];
    client.call(&[b"ECHO", &long]);
    let mut many: Vec<Vec<u8>> = vec![b"DEL".to_vec()];
    many.extend((0..40).map(|i| format!("k{i}").into_bytes()));
    let many_refs: Vec<&[u8]> = many.iter().map(Vec::as_slice).collect();
    client.call(&many_refs);
    let raw = client.call(&[b"SLOWLOG", b"GET", b"2"]);
    let text = String::from_utf8_lossy(&raw);
    // Newest first: the DEL, its arguments cut at 32 with a note, then the ECHO with its long
    // argument cut at 128 bytes; each entry ends with the client's address and an empty name.
    assert!(text.starts_with("*2\r\n*6\r\n:"), "{text}");
    assert!(text.contains("*32\r\n$3\r\nDEL\r\n"), "{text}");
    assert!(
        text.contains("$23\r\n... (10 more arguments)\r\n"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "$147\r\n{}... (72 more bytes)\r\n",
            "x".repeat(128)
        )),
        "{text}"
    );
    assert!(
        text.contains("$15\r\n127.0.0.1:") && text.ends_with("$0\r\n\r\n"),
        "{text}"
    );
    assert_reply("len", &client.call(&[b"SLOWLOG", b"LEN"]), b":4\r\n");
}

/// CLIENT LIST's buffer fields from the caller's own line: its query buffer holds the request
/// being run (26 bytes for `CLIENT INFO`, whose arguments take 10), and no reply is pending.
fn assert_own_buffer_fields(server: &ServerProcess, which: &str) {
    let mut me = Client::connect(server);
    let info = bulk_text(&me.call(&[b"CLIENT", b"INFO"]));
    let fields = client_fields(&info);
    for (name, want) in [
        ("qbuf", "26"),
        ("argv-mem", "10"),
        ("obl", "0"),
        ("oll", "0"),
        ("omem", "0"),
    ] {
        assert_eq!(fields[name], want, "{which}: {name} in {info}");
    }
    for name in ["qbuf-free", "tot-mem"] {
        let n: u64 = fields[name].parse().expect("a number");
        assert!(n > 0, "{which}: {name} in {info}");
    }
}

#[test]
fn client_list_shows_query_and_output_buffers() {
    let server = support::start_ours("tcp-client-buffers", &[]);
    assert_own_buffer_fields(&server, "ours");
    if let Some(binary) = support::reference_server() {
        let reference = support::start_reference("tcp-client-buffers-reference", &binary);
        assert_own_buffer_fields(&reference, "redis-server");
    }
    // A client that pipelines GETs of a 100 KB value without reading, then half a request:
    // its replies wait in the output buffer and its requests in the query buffer.
    let mut stalled = Client::connect(&server);
    assert_reply(
        "SET",
        &stalled.call(&[b"SET", b"big", &vec![b'x'; 100_000]]),
        OK,
    );
    let get = support::encode_command(&[b"GET".to_vec(), b"big".to_vec()]);
    let mut pipeline = get.repeat(200);
    pipeline.extend_from_slice(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\nabc");
    stalled.send(&pipeline);
    let addr = stalled.stream.local_addr().expect("addr").to_string();
    let mut observer = Client::connect(&server);
    let deadline = Instant::now() + READ_TIMEOUT;
    let fields = loop {
        let list = bulk_text(&observer.call(&[b"CLIENT", b"LIST"]));
        let line = list
            .lines()
            .find(|l| client_fields(l).get("addr") == Some(&addr))
            .unwrap_or_else(|| panic!("{addr} not in {list:?}"))
            .to_string();
        let fields = client_fields(&line);
        let number = |name: &str| fields[name].parse::<usize>().expect("a number");
        if number("omem") > 0 && number("qbuf") > 0 {
            break fields;
        }
        assert!(
            Instant::now() < deadline,
            "the stalled client's buffers never showed: {line}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let number = |name: &str| fields[name].parse::<usize>().expect("a number");
    // Unsent replies: the first 16 KiB are `obl`, the rest `omem` in `oll` blocks of 16 KiB.
    assert_eq!(number("obl"), 16 * 1024, "{fields:?}");
    assert!(number("omem") >= 100_000, "{fields:?}");
    assert_eq!(
        number("oll"),
        number("omem").div_ceil(16 * 1024),
        "{fields:?}"
    );
    // Requests not run yet (the pipeline pauses while replies wait) and the half request.
    assert!(number("qbuf") >= 3, "{fields:?}");
    assert_eq!(number("argv-mem"), 0, "{fields:?}");
    assert!(
        number("tot-mem") > number("omem") + number("qbuf"),
        "{fields:?}"
    );
}
