//! The limits a server facing a network enforces, over real TCP: protected mode (from a
//! non-loopback address of this machine), `client-query-buffer-limit` and
//! `client-output-buffer-limit`. Where Redis's bytes matter (the DENIED text) they are checked
//! against a real redis-server too.

mod support;

use std::io::{BufReader, ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use support::{quote, read_reply, ServerProcess};

const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A connection with a buffered reader over the same socket.
struct Client {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Client {
    fn to(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect_timeout(&addr, READ_TIMEOUT)
            .unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
        Client::over(stream)
    }

    fn over(stream: TcpStream) -> Client {
        stream.set_nodelay(true).expect("nodelay");
        stream
            .set_read_timeout(Some(READ_TIMEOUT))
            .expect("timeout");
        let reader = BufReader::new(stream.try_clone().expect("clone the socket"));
        Client { stream, reader }
    }

    fn call(&mut self, argv: &[&[u8]]) -> Vec<u8> {
        let argv: Vec<Vec<u8>> = argv.iter().map(|a| a.to_vec()).collect();
        self.stream
            .write_all(&support::encode_command(&argv))
            .expect("write to the server");
        read_reply(&mut self.reader).expect("read a reply")
    }

    /// Everything the server sends until it closes the connection (or `limit` passes).
    fn read_until_closed(&mut self, limit: Duration) -> (Vec<u8>, bool) {
        let deadline = Instant::now() + limit;
        let mut got = Vec::new();
        let mut chunk = [0u8; 65536];
        self.reader
            .get_ref()
            .set_read_timeout(Some(Duration::from_millis(200)))
            .expect("timeout");
        while Instant::now() < deadline {
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

fn assert_reply(what: &str, got: &[u8], expected: &[u8]) {
    assert!(
        got == expected,
        "{what}: expected {} got {}",
        quote(expected),
        quote(got)
    );
}

// ---------------------------------------------------------------------------------------------
// Protected mode
// ---------------------------------------------------------------------------------------------

/// An IPv4 address of one of this machine's interfaces that is not loopback, if there is one.
fn non_loopback_ipv4() -> Option<Ipv4Addr> {
    let mut found = None;
    // SAFETY: getifaddrs fills a linked list we only read and then free with freeifaddrs; each
    // ifa_addr is checked for null and for AF_INET before it is read as a sockaddr_in.
    unsafe {
        let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
        if libc::getifaddrs(&mut list) != 0 {
            return None;
        }
        let mut at = list;
        while !at.is_null() {
            let addr = (*at).ifa_addr;
            if !addr.is_null() && i32::from((*addr).sa_family) == libc::AF_INET {
                let v4 = &*(addr as *const libc::sockaddr_in);
                let ip = Ipv4Addr::from(u32::from_be(v4.sin_addr.s_addr));
                if !ip.is_loopback() && !ip.is_unspecified() && found.is_none() {
                    found = Some(ip);
                }
            }
            at = (*at).ifa_next;
        }
        libc::freeifaddrs(list);
    }
    found
}

const DENIED_START: &[u8] = b"-DENIED Redis is running in protected mode";

/// What a client connecting from `ip` to `server` receives before the server closes on it.
fn greeting_from(ip: Ipv4Addr, server: &ServerProcess) -> (Vec<u8>, bool) {
    let mut client = Client::to(SocketAddr::from((ip, server.port)));
    client.read_until_closed(Duration::from_secs(10))
}

#[test]
fn protected_mode_refuses_non_loopback_clients_until_a_password_or_no() {
    let Some(ip) = non_loopback_ipv4() else {
        let _ = std::io::stderr().write_all(
            b"SKIPPED: this machine has no non-loopback IPv4 address, so protected mode was not tried from one\n",
        );
        return;
    };
    // Bound to every interface, otherwise as configured by default: protected mode is on and
    // there is no password.
    let server = support::start_ours("protected-mode", &["--bind", "0.0.0.0"]);
    let (denied, closed) = greeting_from(ip, &server);
    assert!(closed, "the refused client was not disconnected");
    assert!(
        denied.starts_with(DENIED_START) && denied.ends_with(b"\r\n"),
        "from {ip}: expected the DENIED error, got {}",
        quote(&denied)
    );
    // The loopback interface is served as usual.
    let mut local = Client::over(server.connect());
    assert_reply("PING over loopback", &local.call(&[b"PING"]), b"+PONG\r\n");

    // The same bytes as Redis 7.0, bound the same way.
    if let Some(binary) = support::reference_server() {
        let reference =
            support::start_reference_with("protected-mode-ref", &binary, &["--bind", "0.0.0.0"]);
        let (expected, _) = greeting_from(ip, &reference);
        assert_reply("the DENIED text, against redis-server", &denied, &expected);
    }

    // redis-cli, as a user would try it.
    if let Some(out) = redis_cli(ip, server.port, &["PING"]) {
        assert!(
            out.starts_with("DENIED Redis is running in protected mode"),
            "redis-cli -h {ip}: {out:?}"
        );
    }

    // A password lifts it: the client is then asked to authenticate, as anywhere.
    assert_reply(
        "CONFIG SET requirepass",
        &local.call(&[b"CONFIG", b"SET", b"requirepass", b"s3cret"]),
        b"+OK\r\n",
    );
    let mut remote = Client::to(SocketAddr::from((ip, server.port)));
    assert_reply(
        "PING before AUTH",
        &remote.call(&[b"PING"]),
        b"-NOAUTH Authentication required.\r\n",
    );
    assert_reply("AUTH", &remote.call(&[b"AUTH", b"s3cret"]), b"+OK\r\n");
    assert_reply("PING after AUTH", &remote.call(&[b"PING"]), b"+PONG\r\n");
    if let Some(out) = redis_cli(
        ip,
        server.port,
        &["-a", "s3cret", "--no-auth-warning", "PING"],
    ) {
        assert_eq!(out.trim(), "PONG", "redis-cli -h {ip} -a with requirepass");
    }

    // Without a password again, but with protected mode off: served.
    assert_reply(
        "CONFIG SET requirepass ''",
        &local.call(&[b"CONFIG", b"SET", b"requirepass", b""]),
        b"+OK\r\n",
    );
    let (denied_again, _) = greeting_from(ip, &server);
    assert!(
        denied_again.starts_with(DENIED_START),
        "no password again: {}",
        quote(&denied_again)
    );
    assert_reply(
        "CONFIG SET protected-mode no",
        &local.call(&[b"CONFIG", b"SET", b"protected-mode", b"no"]),
        b"+OK\r\n",
    );
    let mut remote = Client::to(SocketAddr::from((ip, server.port)));
    assert_reply(
        "PING, protected mode off",
        &remote.call(&[b"PING"]),
        b"+PONG\r\n",
    );
    if let Some(out) = redis_cli(ip, server.port, &["PING"]) {
        assert_eq!(
            out.trim(),
            "PONG",
            "redis-cli -h {ip} with protected-mode no"
        );
    }
}

/// `redis-cli -h ip -p port args...`'s output, when redis-cli is installed.
fn redis_cli(ip: Ipv4Addr, port: u16, args: &[&str]) -> Option<String> {
    let output = std::process::Command::new("redis-cli")
        .args(["-h", &ip.to_string(), "-p", &port.to_string()])
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .ok()?;
    Some(String::from_utf8_lossy(&output.stdout).into_owned())
}
