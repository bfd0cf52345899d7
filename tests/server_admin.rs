//! What the operator commands do that a case file cannot show, against our binary (and, where
//! the bytes are Redis's, the reference redis-server too): DEBUG refused under the default
//! `enable-debug-command`, DEBUG OBJECT's line, DEBUG SET-ACTIVE-EXPIRE stopping the active
//! expiry cycle, the latency monitor's samples, `enable-protected-configs local` for a loopback
//! client, and `tcp-keepalive` on accepted sockets.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use support::{Client, ServerProcess};

/// How long a poll waits for something that should happen within a second or two, generously,
/// since the machine may be loaded.
const PATIENCE: Duration = Duration::from_secs(20);

/// Our server and, when installed, the reference one, started with the same directives.
fn both(name: &str, extra: &[&str]) -> Vec<ServerProcess> {
    let mut servers = vec![support::start_ours(name, extra)];
    if let Some(binary) = support::reference_server() {
        servers.push(support::start_reference_with(
            &format!("{name}-reference"),
            &binary,
            extra,
        ));
    }
    servers
}

const REFUSED: &str = "-ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.\r\n";

#[test]
fn debug_is_refused_by_default_before_authentication() {
    for server in both("admin-debug-refused", &[]) {
        // Set after startup: the harness checks who answers on the port before any password.
        Client::connect(&server).call_str(&["CONFIG", "SET", "requirepass", "pw"]);
        let mut client = Client::connect(&server);
        // Arity comes first, then the guard, then NOAUTH.
        assert_eq!(
            client.call_text(&["DEBUG"]),
            "-ERR wrong number of arguments for 'debug' command\r\n"
        );
        assert_eq!(client.call_text(&["DEBUG", "SLEEP", "0"]), REFUSED);
        assert_eq!(client.call_text(&["AUTH", "pw"]), "+OK\r\n");
        assert_eq!(client.call_text(&["DEBUG", "HELP"]), REFUSED);
    }
}

#[test]
fn debug_object_prints_redis_s_line() {
    for server in both("admin-debug-object", &["--enable-debug-command", "yes"]) {
        let mut client = Client::connect(&server);
        for (value, encoding, refcount, serialized) in [
            ("hello", "embstr", "1", "6"),
            ("12", "int", "2147483647", "2"),
            ("123456789012", "int", "1", "13"),
            ("1000000", "int", "1", "5"),
        ] {
            client.call_str(&["SET", "k", value]);
            let line = client.call_text(&["DEBUG", "OBJECT", "k"]);
            let fields: Vec<&str> = line.trim_end().split(' ').collect();
            assert_eq!(fields.len(), 7, "{line}");
            assert!(
                fields[0] == "+Value" && fields[1].starts_with("at:0x"),
                "{line}"
            );
            assert_eq!(fields[2], format!("refcount:{refcount}"), "{line}");
            assert_eq!(fields[3], format!("encoding:{encoding}"), "{line}");
            assert_eq!(
                fields[4],
                format!("serializedlength:{serialized}"),
                "{line}"
            );
            let lru: u64 = fields[5]
                .strip_prefix("lru:")
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("{line}"));
            assert!(lru < 1 << 24, "{line}");
            assert!(fields[6].starts_with("lru_seconds_idle:"), "{line}");
        }
    }
}

#[test]
fn debug_set_active_expire_stops_the_active_cycle() {
    let server = support::start_ours("admin-active-expire", &["--enable-debug-command", "local"]);
    let mut client = Client::connect(&server);
    assert_eq!(
        client.call_text(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]),
        "+OK\r\n"
    );
    for i in 0..20 {
        client.call_str(&["SET", &format!("k{i}"), "v", "PX", "10"]);
    }
    // DBSIZE counts without expiring: with the cycle off the keys stay, however long we wait
    // (many cycles run in this time at hz 10).
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(client.call_text(&["DBSIZE"]), ":20\r\n");
    assert_eq!(
        client.call_text(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]),
        "+OK\r\n"
    );
    let deadline = Instant::now() + PATIENCE;
    while client.call_text(&["DBSIZE"]) != ":0\r\n" {
        assert!(Instant::now() < deadline, "the cycle did not resume");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn latency_monitor_records_slow_commands() {
    for server in both(
        "admin-latency",
        &[
            "--enable-debug-command",
            "local",
            "--latency-monitor-threshold",
            "5",
        ],
    ) {
        let mut client = Client::connect(&server);
        let before = unix_seconds();
        assert_eq!(client.call_text(&["DEBUG", "SLEEP", "0.02"]), "+OK\r\n");
        let after = unix_seconds();
        let latest = client.call_text(&["LATENCY", "LATEST"]);
        let lines: Vec<&str> = latest.split("\r\n").collect();
        // *1, *4, $7 command, :time, :latency, :max
        assert_eq!(&lines[..4], ["*1", "*4", "$7", "command"], "{latest}");
        let number = |s: &str| s.trim_start_matches(':').parse::<i64>().expect("integer");
        let time = number(lines[4]);
        assert!((before..=after).contains(&time), "{latest}");
        assert!(number(lines[5]) >= 20 && number(lines[6]) >= 20, "{latest}");
        let history = client.call_text(&["LATENCY", "HISTORY", "command"]);
        assert!(
            history.starts_with(&format!("*1\r\n*2\r\n:{time}\r\n:")),
            "{history}"
        );
        // A reset forgets the one event there is.
        assert_eq!(
            client.call_text(&["LATENCY", "RESET"]),
            ":1\r\n",
            "one event"
        );
        assert_eq!(client.call_text(&["LATENCY", "LATEST"]), "*0\r\n");
    }
}

fn unix_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

#[test]
fn protected_configs_are_settable_from_loopback_with_local() {
    let dir = std::env::temp_dir();
    let dir = dir.to_str().expect("utf-8 temp dir");
    for server in both("admin-protected", &["--enable-protected-configs", "local"]) {
        let mut client = Client::connect(&server);
        assert_eq!(client.call_text(&["CONFIG", "SET", "dir", dir]), "+OK\r\n");
    }
    let server = support::start_ours("admin-protected-no", &[]);
    let mut client = Client::connect(&server);
    assert_eq!(
        client.call_text(&["CONFIG", "SET", "dir", dir]),
        "-ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config\r\n"
    );
}

/// The keepalive timer of the server's side of our connections, as `ss` shows it
/// (`timer:(keepalive,...)`), or `None` when `ss` is not installed.
fn server_side_timers(port: u16) -> Option<String> {
    let out = Command::new("ss")
        .args([
            "-tnoH",
            "state",
            "established",
            &format!("( sport = :{port} )"),
        ])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn tcp_keepalive_applies_to_new_connections() {
    let server = support::start_ours("admin-keepalive", &[]);
    let mut first = Client::connect(&server);
    assert_eq!(first.call_text(&["PING"]), "+PONG\r\n");
    let Some(timers) = server_side_timers(server.port) else {
        eprintln!("SKIPPED: `ss` is not installed, so socket timers were not checked");
        return;
    };
    assert!(timers.contains("keepalive"), "default 300 s: {timers}");
    assert_eq!(
        first.call_text(&["CONFIG", "SET", "tcp-keepalive", "0"]),
        "+OK\r\n"
    );
    let mut second = Client::connect(&server);
    assert_eq!(second.call_text(&["PING"]), "+PONG\r\n");
    let timers = server_side_timers(server.port).unwrap_or_default();
    let second_port = second.stream.local_addr().expect("addr").port();
    let line = timers
        .lines()
        .find(|l| {
            l.contains(&format!(":{second_port} ")) || l.ends_with(&format!(":{second_port}"))
        })
        .unwrap_or_else(|| panic!("no line for the second client: {timers}"));
    assert!(!line.contains("keepalive"), "keepalive 0 is off: {line}");
    drop(first);
}

/// `field:value` of an INFO reply.
fn info_field(info: &str, field: &str) -> String {
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("no {field} in INFO"))
        .trim_end()
        .to_string()
}

#[test]
fn info_counts_lookups_expiry_and_traffic_as_redis_does() {
    let mut results = Vec::new();
    for server in both("admin-info-counters", &["--enable-debug-command", "local"]) {
        let mut client = Client::connect(&server);
        // No active expiry: every expired key below is found by a lookup.
        client.call_str(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
        client.call_str(&["CONFIG", "RESETSTAT"]);
        let script: &[&[&str]] = &[
            &["SET", "k", "v"],
            &["SET", "n", "5"],
            &["GET", "k"],
            &["GET", "nosuch"],
            &["MGET", "k", "nosuch", "n"],
            &["EXISTS", "k", "nosuch"],
            &["TYPE", "k"],
            &["TTL", "nosuch"],
            &["OBJECT", "ENCODING", "k"],
            &["STRLEN", "k"],
            &["TOUCH", "k", "nosuch"],
            &["SET", "k", "w", "GET"],
            &["INCR", "n"],
            &["APPEND", "k", "x"],
            &["EXPIRE", "k", "100"],
            &["DEL", "nosuch"],
            &["COPY", "k", "k2"],
            &["LCS", "k", "k2"],
            &["SET", "e1", "v", "PX", "1"],
            &["SET", "e2", "v", "PX", "1"],
            &["SET", "e3", "v", "PX", "1"],
        ];
        for argv in script {
            client.call_str(argv);
        }
        std::thread::sleep(Duration::from_millis(20));
        for key in ["e1", "e2", "e3"] {
            client.call_str(&["GET", key]);
        }
        let info = client.call_text(&["INFO", "stats"]);
        client.call_str(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]);
        let fields = [
            "keyspace_hits",
            "keyspace_misses",
            "expired_keys",
            "total_net_input_bytes",
            "total_net_output_bytes",
        ];
        let values: Vec<String> = fields.iter().map(|f| info_field(&info, f)).collect();
        let reads: u64 = info_field(&info, "total_reads_processed")
            .parse()
            .expect("a number");
        let writes: u64 = info_field(&info, "total_writes_processed")
            .parse()
            .expect("a number");
        // Each request was sent after the previous reply: at least one read each.
        assert!(reads > script.len() as u64, "{info}");
        assert!(writes > script.len() as u64, "{info}");
        results.push(values);
    }
    if let Some(theirs) = results.get(1) {
        assert_eq!(&results[0], theirs, "ours, then redis-server's");
    }
    // Counted by hand from the script: 12 read lookups found their key, 8 did not (3 of them
    // expired keys, removed then).
    assert_eq!(&results[0][..3], ["12", "8", "3"], "hits, misses, expired");
}

#[test]
fn latency_histograms_have_redis_s_shape() {
    // The tops of the power-of-two ranges from 1024 ns, in microseconds, as Redis lists them.
    let tops: Vec<i64> = (0..20)
        .map(|k| {
            let level: i64 = 1024 << k;
            let width = 1i64 << (63 - (level | 255).leading_zeros() - 7);
            (level - level % width + width - 1) / 1000
        })
        .collect();
    for server in both("admin-histogram", &[]) {
        let mut client = Client::connect(&server);
        client.call_str(&["CONFIG", "RESETSTAT"]);
        for _ in 0..3 {
            client.call_str(&["SET", "k", "v"]);
        }
        let reply = client.call_text(&["LATENCY", "HISTOGRAM", "set"]);
        let lines: Vec<&str> = reply.split("\r\n").collect();
        assert_eq!(
            &lines[..9],
            [
                "*2",
                "$3",
                "set",
                "*4",
                "$5",
                "calls",
                ":3",
                "$14",
                "histogram_usec"
            ],
            "{reply}"
        );
        let pairs: Vec<i64> = lines[10..]
            .iter()
            .filter_map(|l| l.strip_prefix(':'))
            .map(|n| n.parse().expect("integer"))
            .collect();
        assert!(
            !pairs.is_empty() && pairs.len().is_multiple_of(2),
            "{reply}"
        );
        for pair in pairs.chunks(2) {
            assert!(
                tops.contains(&pair[0]),
                "{} is no range top: {reply}",
                pair[0]
            );
        }
        assert_eq!(pairs[pairs.len() - 1], 3, "cumulative: {reply}");
        let info = client.call_text(&["INFO", "latencystats"]);
        let line = info_field(&info, "latency_percentiles_usec_set");
        let labels: Vec<&str> = line
            .split(',')
            .map(|f| f.split_once('=').expect("p=value").0)
            .collect();
        assert_eq!(labels, ["p50", "p99", "p99.9"], "{info}");
        // Not a default section.
        assert!(!client.call_text(&["INFO"]).contains("Latencystats"));
    }
}

/// Our server and, when installed, redis-server, each with the latency monitor on (1 ms) and a
/// client that has just run a 20 ms command (DEBUG SLEEP).
fn after_a_slow_command(name: &str) -> Vec<(ServerProcess, Client)> {
    both(
        name,
        &[
            "--enable-debug-command",
            "local",
            "--latency-monitor-threshold",
            "1",
        ],
    )
    .into_iter()
    .map(|server| {
        let mut client = Client::connect(&server);
        client.call_str(&["DEBUG", "SLEEP", "0.02"]);
        (server, client)
    })
    .collect()
}

#[test]
fn latency_graph_is_drawn_as_redis_draws_it() {
    let mut graphs = Vec::new();
    for (_server, mut client) in after_a_slow_command("admin-graph") {
        let reply = client.call_text(&["LATENCY", "GRAPH", "command"]);
        // The figures are timings and the label says how many seconds ago (0 or 1, as the
        // clock ticks): keep the layout, drop the digits.
        let (_, body) = reply.split_once("\r\n").expect("bulk header");
        graphs.push(mask_numbers(body));
    }
    let expected = format!(
        "command - high # ms, low # ms (all time high # ms)\n{}\n \n \n \n_\n \n#\ns\n\r\n",
        "-".repeat(80)
    );
    assert_eq!(graphs[0], expected);
    if let Some(theirs) = graphs.get(1) {
        assert_eq!(&graphs[0], theirs, "ours, then redis-server's");
    }
}

/// Every run of digits replaced by one `#`: timings and counts differ between runs.
fn mask_numbers(text: &str) -> String {
    let mut masked = String::new();
    for c in text.chars() {
        let c = if c.is_ascii_digit() { '#' } else { c };
        if !(c == '#' && masked.ends_with('#')) {
            masked.push(c);
        }
    }
    masked
}

#[test]
fn latency_doctor_reports_as_redis_does() {
    let mut reports = Vec::new();
    for (_server, mut client) in after_a_slow_command("admin-doctor") {
        let mut report = mask_numbers(&client.call_text(&["LATENCY", "DOCTOR"]));
        // With the slow log off, the advice changes.
        client.call_str(&["CONFIG", "SET", "slowlog-log-slower-than", "-1"]);
        report.push_str(&mask_numbers(&client.call_text(&["LATENCY", "DOCTOR"])));
        reports.push(report);
    }
    assert!(
        reports[0].contains("#. command: # latency spikes (average #ms, mean deviation #ms"),
        "{}",
        reports[0]
    );
    if let Some(theirs) = reports.get(1) {
        assert_eq!(&reports[0], theirs, "ours, then redis-server's");
    }
}
