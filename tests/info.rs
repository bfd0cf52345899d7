//! INFO against redis-server 7.0: after the same commands, every section we implement prints
//! every field Redis prints, in Redis's order (values are each server's own, so only names are
//! compared), sections come in Redis's order, and redis-cli's `INFO` and `--stat` show
//! sensible figures from us.

mod support;

use std::process::Command;

use support::ServerProcess;

/// The sections we implement, in Redis's order (`latencystats` is Redis's and not ours yet).
const SECTIONS: &[&str] = &[
    "Server",
    "Clients",
    "Memory",
    "Persistence",
    "Stats",
    "Replication",
    "CPU",
    "Modules",
    "Commandstats",
    "Errorstats",
    "Latencystats",
    "Cluster",
    "Keyspace",
];

/// The same small workload on both servers, so the per-command, error and keyspace sections
/// name the same things.
fn workload(server: &ServerProcess) {
    for argv in [
        &["SET", "k", "v"][..],
        &["GET", "k"],
        &["GET", "nosuch"],
        &["INCR", "k"],
        &["GET"],
        &["SELECT", "2"],
        &["CONFIG", "RESETSTAT"],
        &["SET", "k", "v"],
        &["GET", "k"],
        &["GET", "nosuch"],
        &["INCR", "k"],
        &["GET"],
        &["NOSUCHCOMMAND"],
    ] {
        server.call(argv);
    }
}

/// INFO's text as `(section, [field names])`, with the raw text checked for CRLF line endings.
fn sections(server: &ServerProcess, args: &[&str]) -> Vec<(String, Vec<String>)> {
    let mut argv = vec!["INFO"];
    argv.extend_from_slice(args);
    let raw = server.call(&argv);
    let body_at = raw.iter().position(|&b| b == b'\n').expect("bulk header") + 1;
    let body = String::from_utf8(raw[body_at..raw.len() - 2].to_vec()).expect("utf-8");
    assert!(body.ends_with("\r\n"), "{body:?}");
    assert!(
        !body.replace("\r\n", "").contains('\n'),
        "every line ends with CRLF: {body:?}"
    );
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for line in body.split("\r\n").filter(|l| !l.is_empty()) {
        if let Some(name) = line.strip_prefix("# ") {
            out.push((name.to_string(), Vec::new()));
        } else {
            let field = line.split(':').next().expect("field").to_string();
            out.last_mut()
                .expect("a section header first")
                .1
                .push(field);
        }
    }
    out
}

#[test]
fn sections_and_fields_match_redis() {
    let Some(binary) = support::reference_server() else {
        return;
    };
    let theirs = support::start_reference("info-reference", &binary);
    let ours = support::start_ours("info-ours", &[]);
    workload(&theirs);
    workload(&ours);
    // Redis leaves the commandstats order to its hash table: compare those names sorted.
    let normalise = |mut all: Vec<(String, Vec<String>)>| {
        for (name, fields) in &mut all {
            if name == "Commandstats" || name == "Errorstats" || name == "Latencystats" {
                fields.sort();
            }
        }
        all
    };
    let theirs_all = normalise(sections(&theirs, &["everything"]));
    let ours_all = normalise(sections(&ours, &["everything"]));
    let names: Vec<&str> = ours_all.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, SECTIONS);
    for (name, their_fields) in theirs_all
        .iter()
        .filter(|(n, _)| SECTIONS.contains(&n.as_str()))
    {
        let our_fields = &ours_all
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("we print no {name} section"))
            .1;
        // Ours may add fields (redis_clone_version); Redis's must all be there, in order.
        let mut ours_iter = our_fields.iter();
        for field in their_fields {
            assert!(
                ours_iter.any(|f| f == field),
                "section {name}: field {field} missing or out of order\n ours: {our_fields:?}\ntheirs: {their_fields:?}"
            );
        }
    }
    // The default set and single sections pick the same sections as Redis's.
    for args in [
        &[][..],
        &["default"],
        &["server", "keyspace"],
        &["ALL"],
        &["cpu", "nosuch"],
    ] {
        let pick = |all: Vec<(String, Vec<String>)>| -> Vec<String> {
            all.into_iter()
                .map(|(n, _)| n)
                .filter(|n| SECTIONS.contains(&n.as_str()))
                .collect()
        };
        assert_eq!(
            pick(sections(&ours, args)),
            pick(sections(&theirs, args)),
            "INFO {args:?}"
        );
    }
}

/// One `field:value` of an INFO reply.
fn field(info: &str, name: &str) -> String {
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_else(|| panic!("no {name} in {info}"))
        .trim()
        .to_string()
}

#[test]
fn figures_are_sensible() {
    let ours = support::start_ours("info-figures", &[]);
    workload(&ours);
    let info = String::from_utf8(ours.call(&["INFO", "all"])).expect("utf-8");
    assert_eq!(field(&info, "redis_version"), "7.0.15");
    assert_eq!(field(&info, "tcp_port"), ours.port.to_string());
    assert_eq!(field(&info, "process_id"), ours.child.id().to_string());
    assert_eq!(field(&info, "role"), "master");
    let replid = field(&info, "master_replid");
    assert!(replid.len() == 40 && replid.bytes().all(|b| b.is_ascii_hexdigit()));
    let used: u64 = field(&info, "used_memory").parse().expect("number");
    let rss: u64 = field(&info, "used_memory_rss").parse().expect("number");
    assert!(used > 100_000 && used < 1 << 32, "used_memory {used}");
    assert!(rss > 1_000_000, "used_memory_rss {rss}");
    // After CONFIG RESETSTAT in the workload: SET, GET, GET, INCR ran (INCR failed), GET
    // without a key was rejected, and an unknown command is only an error.
    assert!(info.contains("cmdstat_get:calls=2,"), "{info}");
    assert!(
        info.contains("rejected_calls=1,failed_calls=0\r\n"),
        "{info}"
    );
    assert!(info.contains("cmdstat_incr:calls=1,"), "{info}");
    assert!(info.contains("errorstat_ERR:count=3\r\n"), "{info}");
    // SET, GET, GET, INCR and CONFIG RESETSTAT itself (counted once it has run, as in Redis).
    let processed: u64 = field(&info, "total_commands_processed").parse().expect("n");
    assert_eq!(processed, 5);
    assert!(
        info.contains("db0:keys=1,expires=0,avg_ttl=0\r\n"),
        "{info}"
    );
    let cpu: f64 = field(&info, "used_cpu_user").parse().expect("float");
    assert!(cpu >= 0.0);
}

#[test]
fn redis_cli_info_and_stat_work() {
    let Some(cli) = support::on_path("redis-cli") else {
        eprintln!("SKIPPED: redis-cli is not installed");
        return;
    };
    let ours = support::start_ours("info-cli", &[]);
    ours.call(&["SET", "k", "v"]);
    let port = ours.port.to_string();
    let output = Command::new(&cli)
        .args(["-p", &port, "INFO"])
        .output()
        .expect("run redis-cli");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("# Server") && text.contains("connected_clients:1"),
        "{text}"
    );
    // `--stat` prints a header and a line per second until it is stopped; unbuffered, so
    // what it printed survives the stop.
    let mut child = Command::new("timeout")
        .args(["3", "stdbuf", "-o0"])
        .args([
            cli.to_str().expect("utf-8 path"),
            "-p",
            &port,
            "--stat",
            "-i",
            "1",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run redis-cli --stat");
    let _ = child.wait();
    let mut out = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().expect("stdout"), &mut out).expect("read");
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("keys") && l.contains("mem")),
        "{out}"
    );
    // The figures line: 1 key, memory with a unit, one client.
    let figures = lines
        .iter()
        .find(|l| l.trim_start().starts_with('1'))
        .unwrap_or_else(|| panic!("no figures line in {out:?}"));
    let words: Vec<&str> = figures.split_whitespace().collect();
    assert_eq!(words[0], "1", "{figures}");
    assert!(
        words[1].ends_with('K') || words[1].ends_with('M'),
        "{figures}"
    );
    assert_eq!(words[2], "1", "{figures}");
}
