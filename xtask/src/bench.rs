//! `cargo xtask bench memory`: resident memory per key, ours against redis-server in the same
//! run. Loads N keys (11-byte keys, 15-byte values; optionally each with a TTL) through
//! `redis-cli --pipe` into a fresh server and reports the growth of VmRSS per key.
//!
//! Standard library only: the servers are child processes on free loopback ports.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What to measure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryOptions {
    pub keys: usize,
    pub rounds: usize,
}

/// An option's number (`1_000_000` allowed), or the error naming the option.
fn parse_count(flag: &str, value: &str) -> Result<usize, String> {
    value
        .replace('_', "")
        .parse::<usize>()
        .map_err(|_| format!("{flag} takes a number, not '{value}'"))
}

impl MemoryOptions {
    pub fn parse(args: &[&str]) -> Result<MemoryOptions, String> {
        let mut options = MemoryOptions {
            keys: 1_000_000,
            rounds: 1,
        };
        let mut rest = args;
        while let [flag, value, tail @ ..] = rest {
            let number = || parse_count(flag, value);
            match *flag {
                "--keys" => options.keys = number()?,
                "--rounds" => options.rounds = number()?.max(1),
                other => return Err(format!("unknown option '{other}'")),
            }
            rest = tail;
        }
        if let [dangling] = rest {
            return Err(format!("option '{dangling}' needs a value"));
        }
        Ok(options)
    }
}

/// The load: `SET key:NNNNNNN value:NNNNNNNNN` (11-byte keys, 15-byte values), with `PX` of a
/// day when `ttl` is set, as RESP ready for `redis-cli --pipe`.
pub fn load(keys: usize, ttl: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(keys * 64);
    for i in 0..keys {
        let key = format!("key:{:07}", i % 10_000_000);
        let value = format!("value:{:09}", i);
        if ttl {
            out.extend_from_slice(b"*5\r\n$3\r\nSET\r\n");
        } else {
            out.extend_from_slice(b"*3\r\n$3\r\nSET\r\n");
        }
        for word in [key.as_bytes(), value.as_bytes()] {
            out.extend_from_slice(format!("${}\r\n", word.len()).as_bytes());
            out.extend_from_slice(word);
            out.extend_from_slice(b"\r\n");
        }
        if ttl {
            out.extend_from_slice(b"$2\r\nPX\r\n$8\r\n86400000\r\n");
        }
    }
    out
}

struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

fn start(program: &Path, extra: &[&str]) -> Result<Server, String> {
    let port = free_port()?;
    let child = Command::new(program)
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", program.display()))?;
    let server = Server { child, port };
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            return Err(format!("{} did not start listening", program.display()));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(server)
}

fn rss_kib(pid: u32) -> Result<u64, String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("read /proc: {e}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| "no VmRSS in /proc status".to_string())
}

/// Bytes of resident memory per key after loading `data` (`keys` keys) into a fresh server.
fn measure(program: &Path, data: &[u8], keys: usize) -> Result<f64, String> {
    let server = start(program, &[])?;
    std::thread::sleep(Duration::from_millis(200));
    let before = rss_kib(server.child.id())?;
    pipe_into(server.port, data)?;
    std::thread::sleep(Duration::from_millis(300));
    let after = rss_kib(server.child.id())?;
    Ok((after.saturating_sub(before) * 1024) as f64 / keys as f64)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Run the memory benchmark; prints a table.
pub fn memory(ours: &Path, options: &MemoryOptions) -> Result<(), String> {
    let redis = which("redis-server")
        .ok_or("redis-server is not installed (apt-get install redis-server)")?;
    println!(
        "memory per key: {} keys, 11-byte keys, 15-byte values, {} round(s), median",
        options.keys, options.rounds
    );
    println!(
        "{:<16} {:>12} {:>12} {:>10}",
        "load", "redis B/key", "ours B/key", "ours/redis"
    );
    for (label, ttl) in [("no TTL", false), ("PX on each key", true)] {
        let data = load(options.keys, ttl);
        let (mut theirs, mut mine) = (Vec::new(), Vec::new());
        for _ in 0..options.rounds {
            theirs.push(measure(&redis, &data, options.keys)?);
            mine.push(measure(ours, &data, options.keys)?);
        }
        let (t, m) = (median(theirs), median(mine));
        println!("{label:<16} {t:>12.1} {m:>12.1} {:>10.2}", m / t);
    }
    Ok(())
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(program))
            .find(|p| p.is_file())
    })
}

/// The longest and the 99th-percentile PING round trip seen by a client pinging as fast as it
/// can while `operation` runs in another process, plus how long the operation took.
struct Stall {
    worst: Duration,
    p99: Duration,
    took: Duration,
}

fn ping_loop(
    port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> Result<Vec<Duration>, String> {
    use std::io::Read;
    use std::sync::atomic::Ordering;
    let mut stream =
        TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let mut samples = Vec::new();
    let mut reply = [0u8; 7];
    while !stop.load(Ordering::Relaxed) {
        let sent = Instant::now();
        stream
            .write_all(b"PING\r\n")
            .map_err(|e| format!("ping: {e}"))?;
        stream
            .read_exact(&mut reply)
            .map_err(|e| format!("pong: {e}"))?;
        samples.push(sent.elapsed());
    }
    Ok(samples)
}

fn during(port: u16, operation: impl FnOnce() -> Result<(), String>) -> Result<Stall, String> {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let stop = Arc::new(AtomicBool::new(false));
    let pinger = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || ping_loop(port, stop))
    };
    std::thread::sleep(Duration::from_millis(100));
    let started = Instant::now();
    let result = operation();
    let took = started.elapsed();
    std::thread::sleep(Duration::from_millis(100));
    stop.store(true, Ordering::Relaxed);
    let mut samples = pinger
        .join()
        .map_err(|_| "the ping thread panicked".to_string())??;
    result?;
    samples.sort();
    let worst = samples.last().copied().unwrap_or_default();
    let p99 = samples
        .get(samples.len() * 99 / 100)
        .copied()
        .unwrap_or_default();
    Ok(Stall { worst, p99, took })
}

fn cli(port: u16, args: &[&str]) -> Result<(), String> {
    let status = Command::new("redis-cli")
        .args(["-p", &port.to_string()])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("redis-cli: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("redis-cli {args:?} failed"))
    }
}

fn pipe_into(port: u16, data: &[u8]) -> Result<(), String> {
    let mut pipe = Command::new("redis-cli")
        .args(["-p", &port.to_string(), "--pipe"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run redis-cli (apt-get install redis-tools): {e}"))?;
    pipe.stdin
        .take()
        .ok_or("no stdin for redis-cli")?
        .write_all(data)
        .map_err(|e| format!("pipe: {e}"))?;
    let status = pipe.wait().map_err(|e| format!("redis-cli: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("redis-cli --pipe failed: {status}"))
    }
}

/// `cargo xtask bench stall`: how long other clients wait while one runs KEYS *, a whole
/// SCAN, FLUSHALL, BGSAVE (until the file is written), or while the active expiry cycle
/// reclaims every key. `only` picks one scenario by name.
pub fn stall(ours: &Path, keys: usize, only: Option<&str>) -> Result<(), String> {
    let redis = which("redis-server")
        .ok_or("redis-server is not installed (apt-get install redis-server)")?;
    let plain = load(keys, false);
    // Deadlines 2 s away, so the keys expire while the PING loop watches.
    let short_ttl: Vec<u8> = String::from_utf8_lossy(&load(keys, true))
        .replace("$8\r\n86400000", "$4\r\n2000")
        .into_bytes();
    println!("stalls seen by a PING loop, {keys} keys (11-byte keys, 15-byte values)");
    println!(
        "{:<28} {:>24} {:>24}",
        "operation", "redis: worst/p99/took", "ours: worst/p99/took"
    );
    let scenarios: [(&str, &[u8]); 5] = [
        ("KEYS *", &plain),
        ("SCAN walk (redis-cli --scan)", &plain),
        ("FLUSHALL", &plain),
        ("BGSAVE (until written)", &plain),
        ("active expiry of all keys", &short_ttl),
    ];
    // Dumps go to a scratch directory, never into the repository: a fresh one for every
    // server, so that none loads the dump an earlier scenario's BGSAVE left (redis-server
    // would answer the next load with -LOADING while it reads it).
    let dir = std::env::temp_dir().join(format!("xtask-bench-{}", std::process::id()));
    for (index, (name, data)) in scenarios.into_iter().enumerate() {
        if only.is_some_and(|o| o != name) {
            continue;
        }
        let mut row = Vec::new();
        for (which, program) in [redis.as_path(), ours].into_iter().enumerate() {
            let scratch = dir.join(format!("{index}-{which}"));
            std::fs::create_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
            let dir_arg = scratch.to_string_lossy().into_owned();
            let server = start(program, &["--dir", &dir_arg])?;
            pipe_into(server.port, data)?;
            let port = server.port;
            let stall = during(port, || match name {
                "KEYS *" => cli(port, &["KEYS", "*"]),
                "FLUSHALL" => cli(port, &["FLUSHALL"]),
                "SCAN walk (redis-cli --scan)" => cli(port, &["--scan"]),
                "BGSAVE (until written)" => {
                    cli(port, &["BGSAVE"])?;
                    // Until INFO says the save is over (a fork's child, or our thread).
                    let deadline = Instant::now() + Duration::from_secs(120);
                    while Instant::now() < deadline {
                        let out = Command::new("redis-cli")
                            .args(["-p", &port.to_string(), "INFO", "persistence"])
                            .output()
                            .map_err(|e| format!("redis-cli: {e}"))?;
                        let text = String::from_utf8_lossy(&out.stdout).into_owned();
                        if text.contains("rdb_bgsave_in_progress:0") {
                            return if text.contains("rdb_last_bgsave_status:ok") {
                                Ok(())
                            } else {
                                Err("BGSAVE failed".into())
                            };
                        }
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err("BGSAVE did not finish within 120 s".into())
                }
                _ => {
                    // Wait until the cycle has reclaimed every key, or 20 s.
                    let deadline = Instant::now() + Duration::from_secs(20);
                    while Instant::now() < deadline {
                        let out = Command::new("redis-cli")
                            .args(["-p", &port.to_string(), "DBSIZE"])
                            .output();
                        if out.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0") {
                            return Ok(());
                        }
                        std::thread::sleep(Duration::from_millis(100));
                    }
                    Err("keys were not reclaimed within 20 s".into())
                }
            })?;
            row.push(format!(
                "{:.1}/{:.2}/{:.0} ms",
                ms(stall.worst),
                ms(stall.p99),
                ms(stall.took)
            ));
        }
        println!("{name:<28} {:>24} {:>24}", row[0], row[1]);
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Options of `cargo xtask bench throughput`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThroughputOptions {
    pub requests: usize,
    pub rounds: usize,
    pub clients: usize,
    pub pipelines: Vec<usize>,
    /// `--interleaved`: many short rounds (redis, ours, redis, ours... within each row) and
    /// the median of the per-round ratios, for a machine too busy for long runs to agree.
    pub interleaved: bool,
    /// `--only NAME`: the workloads whose label contains NAME (case-insensitive).
    pub only: Option<String>,
}

impl ThroughputOptions {
    pub fn parse(args: &[&str]) -> Result<ThroughputOptions, String> {
        let mut options = ThroughputOptions {
            requests: 200_000,
            rounds: 3,
            clients: 50,
            pipelines: vec![1, 16],
            interleaved: false,
            only: None,
        };
        let mut rest = args;
        loop {
            match rest {
                ["--quick", tail @ ..] => {
                    options.requests = 20_000;
                    options.rounds = 1;
                    rest = tail;
                }
                ["--interleaved", tail @ ..] => {
                    options.interleaved = true;
                    options.requests = 100_000;
                    options.rounds = 9;
                    rest = tail;
                }
                ["--only", name, tail @ ..] => {
                    options.only = Some(name.to_ascii_lowercase());
                    rest = tail;
                }
                [flag, value, tail @ ..] => {
                    let number = || parse_count(flag, value);
                    match *flag {
                        "--requests" => options.requests = number()?,
                        "--rounds" => options.rounds = number()?.max(1),
                        "--clients" => options.clients = number()?.max(1),
                        "--pipeline" => options.pipelines = vec![number()?.max(1)],
                        other => return Err(format!("unknown option '{other}'")),
                    }
                    rest = tail;
                }
                [] => return Ok(options),
                [dangling] => return Err(format!("option '{dangling}' needs a value")),
            }
        }
    }
}

/// One redis-benchmark row: requests per second and latency percentiles in ms.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Row {
    rps: f64,
    p50: f64,
    p99: f64,
    /// Server CPU (user + system) in ms per 100,000 requests; 0 when not measured.
    cpu: f64,
    /// redis-benchmark's own CPU time (user + system) over the run's wall time, in percent;
    /// 0 when not measured. Near 100 the client, not the server, set the rate: it runs one
    /// thread, and no server can be answered faster than the client asks.
    client: f64,
}

/// Parse `redis-benchmark --csv`: a header, then `"TEST","rps","avg",...,"p50","p95","p99","max"`.
fn parse_csv(text: &str) -> Vec<(String, Row)> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split("\",\"").map(|f| f.trim_matches('"')).collect();
            let number = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
            Some((
                fields.first()?.to_string(),
                Row {
                    rps: number(1)?,
                    p50: number(4)?,
                    p99: number(6)?,
                    cpu: 0.0,
                    client: 0.0,
                },
            ))
        })
        .collect()
}

/// The workloads: redis-benchmark arguments and a label. The random-key rows use `-r 100000`.
const WORKLOADS: &[(&str, &[&str])] = &[
    ("PING", &["-t", "ping_mbulk"]),
    ("SET", &["-t", "set"]),
    ("GET", &["-t", "get"]),
    ("INCR", &["-t", "incr"]),
    ("MSET (10 keys)", &["-t", "mset"]),
    ("SET random keys", &["-t", "set", "-r", "100000"]),
    ("GET random keys", &["-t", "get", "-r", "100000"]),
];

/// CPU time (user + system, all threads) a process has used, in clock ticks. Linux reports
/// these in USER_HZ, which is 100 on every architecture Rust's std runs Linux on.
fn cpu_ticks(pid: u32) -> Result<u64, String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_err(|e| format!("read /proc/{pid}/stat: {e}"))?;
    parse_cpu_ticks(&stat).ok_or_else(|| format!("unexpected /proc/{pid}/stat: {stat}"))
}

/// CPU time of this process's children that have exited and been waited for, in clock
/// ticks: read around a redis-benchmark run, the difference is the benchmark's own.
fn children_cpu_ticks() -> Result<u64, String> {
    let stat = std::fs::read_to_string("/proc/self/stat")
        .map_err(|e| format!("read /proc/self/stat: {e}"))?;
    parse_children_cpu_ticks(&stat).ok_or_else(|| format!("unexpected /proc/self/stat: {stat}"))
}

/// utime + stime (fields 14 and 15) of a `/proc/<pid>/stat` line. The command name (field 2)
/// is in parentheses and may hold spaces, so the fields are counted after its closing one.
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    stat_pair(stat, 11)
}

/// cutime + cstime (fields 16 and 17): the waited-for children's CPU time.
fn parse_children_cpu_ticks(stat: &str) -> Option<u64> {
    stat_pair(stat, 13)
}

/// The sum of two consecutive numeric fields, `skip` fields after the command name.
fn stat_pair(stat: &str, skip: usize) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(skip);
    let first: u64 = fields.next()?.parse().ok()?;
    let second: u64 = fields.next()?.parse().ok()?;
    Some(first + second)
}

const TICK_MS: f64 = 10.0;

fn benchmark(
    server: &Server,
    workload: &[&str],
    options: &ThroughputOptions,
    pipeline: usize,
) -> Result<Row, String> {
    let port = server.port;
    let before = cpu_ticks(server.child.id())?;
    let client_before = children_cpu_ticks()?;
    let started = Instant::now();
    let output = Command::new("redis-benchmark")
        .args([
            "-p",
            &port.to_string(),
            "-c",
            &options.clients.to_string(),
            "-n",
            &options.requests.to_string(),
        ])
        .args(["-P", &pipeline.to_string(), "--csv"])
        .args(workload)
        .output()
        .map_err(|e| format!("cannot run redis-benchmark (apt-get install redis-tools): {e}"))?;
    let wall_ms = started.elapsed().as_secs_f64() * 1000.0;
    let after = cpu_ticks(server.child.id())?;
    let client_ticks = children_cpu_ticks()? - client_before;
    let text = String::from_utf8_lossy(&output.stdout);
    let mut row = parse_csv(&text)
        .into_iter()
        .next()
        .map(|(_, row)| row)
        .ok_or_else(|| format!("no result from redis-benchmark {workload:?}: {text}"))?;
    row.cpu = (after - before) as f64 * TICK_MS * 100_000.0 / options.requests as f64;
    row.client = client_ticks as f64 * TICK_MS * 100.0 / wall_ms.max(1.0);
    Ok(row)
}

fn median_row(rows: &[Row]) -> Row {
    let pick = |f: fn(&Row) -> f64| median(rows.iter().map(f).collect());
    Row {
        rps: pick(|r| r.rps),
        p50: pick(|r| r.p50),
        p99: pick(|r| r.p99),
        cpu: pick(|r| r.cpu),
        client: pick(|r| r.client),
    }
}

/// `cargo xtask bench throughput`: redis-benchmark against both servers, alternating
/// redis/ours in every round, medians per row, with each server's CPU time per request.
pub fn throughput(ours: &Path, options: &ThroughputOptions) -> Result<(), String> {
    let redis = which("redis-server")
        .ok_or("redis-server is not installed (apt-get install redis-server)")?;
    let theirs_server = start(&redis, &[])?;
    let ours_server = start(ours, &[])?;
    println!(
        "throughput: redis-benchmark -c {} -n {} per run, {} round(s) of redis then ours per row{}, medians",
        options.clients,
        options.requests,
        options.rounds,
        if options.interleaved { " (interleaved)" } else { "" }
    );
    println!(
        "ratio: median of the per-round ours/redis rps; cpu: server user+sys ms per 100k requests"
    );
    println!(
        "client%: redis-benchmark's own CPU over the run's wall time, in the redis/ours runs (near 100: the client set the rate)"
    );
    println!(
        "{:<18} {:>3} {:>10} {:>10} {:>6} {:>9} {:>8} {:>6} {:>15} {:>15} {:>9}",
        "workload",
        "-P",
        "redis rps",
        "ours rps",
        "ratio",
        "redis cpu",
        "ours cpu",
        "ratio",
        "redis p50/p99",
        "ours p50/p99",
        "client%"
    );
    for &pipeline in &options.pipelines {
        for (label, workload) in WORKLOADS {
            if let Some(only) = &options.only {
                if !label.to_ascii_lowercase().contains(only.as_str()) {
                    continue;
                }
            }
            let (mut theirs, mut mine, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
            for _ in 0..options.rounds {
                let t = benchmark(&theirs_server, workload, options, pipeline)?;
                let m = benchmark(&ours_server, workload, options, pipeline)?;
                ratios.push(m.rps / t.rps);
                theirs.push(t);
                mine.push(m);
            }
            let (t, m) = (median_row(&theirs), median_row(&mine));
            println!(
                "{label:<18} {pipeline:>3} {:>10.0} {:>10.0} {:>6.2} {:>9.0} {:>8.0} {:>6.2} {:>15} {:>15} {:>9}",
                t.rps,
                m.rps,
                median(ratios),
                t.cpu,
                m.cpu,
                m.cpu / t.cpu,
                format!("{:.3}/{:.3}", t.p50, t.p99),
                format!("{:.3}/{:.3}", m.p50, m.p99),
                format!("{:.0}/{:.0}", t.client, m.client)
            );
        }
    }
    Ok(())
}

/// `cargo xtask bench startup`: time from spawning each server to its first PONG, and its
/// resident memory when idle.
pub fn startup(ours: &Path) -> Result<(), String> {
    use std::io::Read;
    let redis = which("redis-server")
        .ok_or("redis-server is not installed (apt-get install redis-server)")?;
    println!(
        "{:<14} {:>16} {:>14}",
        "server", "first PONG (ms)", "idle RSS (KiB)"
    );
    for (name, program) in [("redis-server", redis.as_path()), ("ours", ours)] {
        let mut times = Vec::new();
        let mut rss = 0;
        for _ in 0..5 {
            let port = free_port()?;
            let began = Instant::now();
            let mut child = Command::new(program)
                .args([
                    "--port",
                    &port.to_string(),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| format!("cannot start {}: {e}", program.display()))?;
            let pong = loop {
                if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) {
                    let mut reply = [0u8; 7];
                    if stream.write_all(b"PING\r\n").is_ok()
                        && stream.read_exact(&mut reply).is_ok()
                    {
                        break began.elapsed();
                    }
                }
                if began.elapsed() > Duration::from_secs(10) {
                    let _ = child.kill();
                    return Err(format!("{name} did not answer PING"));
                }
                std::thread::sleep(Duration::from_micros(200));
            };
            times.push(ms(pong));
            std::thread::sleep(Duration::from_millis(300));
            rss = rss_kib(child.id())?;
            let _ = child.kill();
            let _ = child.wait();
        }
        println!("{name:<14} {:>16.1} {rss:>14}", median(times));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_has_the_promised_sizes() {
        let data = load(2, false);
        assert_eq!(
            data,
            b"*3\r\n$3\r\nSET\r\n$11\r\nkey:0000000\r\n$15\r\nvalue:000000000\r\n*3\r\n$3\r\nSET\r\n$11\r\nkey:0000001\r\n$15\r\nvalue:000000001\r\n"
        );
        let data = load(1, true);
        assert!(data.ends_with(b"$2\r\nPX\r\n$8\r\n86400000\r\n"));
    }

    #[test]
    fn parses_redis_benchmark_csv() {
        let csv = "\"test\",\"rps\",\"avg_latency_ms\",\"min_latency_ms\",\"p50_latency_ms\",\"p95_latency_ms\",\"p99_latency_ms\",\"max_latency_ms\"\n\"MSET (10 keys)\",\"133333.34\",\"0.047\",\"0.016\",\"0.047\",\"0.071\",\"0.167\",\"0.423\"\n";
        assert_eq!(
            parse_csv(csv),
            vec![(
                "MSET (10 keys)".to_string(),
                Row {
                    rps: 133333.34,
                    p50: 0.047,
                    p99: 0.167,
                    cpu: 0.0,
                    client: 0.0
                }
            )]
        );
    }

    #[test]
    fn throughput_options() {
        let quick = ThroughputOptions::parse(&["--quick"]).unwrap();
        assert_eq!((quick.requests, quick.rounds), (20_000, 1));
        assert_eq!(
            ThroughputOptions::parse(&["--pipeline", "16"])
                .unwrap()
                .pipelines,
            vec![16]
        );
        assert!(ThroughputOptions::parse(&["--nope", "1"]).is_err());
        let interleaved = ThroughputOptions::parse(&["--interleaved", "--rounds", "5"]).unwrap();
        assert!(interleaved.interleaved);
        assert_eq!((interleaved.requests, interleaved.rounds), (100_000, 5));
        assert_eq!(
            ThroughputOptions::parse(&["--only", "GET"]).unwrap().only,
            Some("get".to_string())
        );
    }

    #[test]
    fn parses_cpu_ticks() {
        let stat =
            "1234 (redis server) S 1 1234 1234 0 -1 4194560 500 0 0 0 37 12 5 3 20 0 4 0 100 0 0";
        assert_eq!(parse_cpu_ticks(stat), Some(49));
        assert_eq!(parse_children_cpu_ticks(stat), Some(8));
        assert_eq!(parse_cpu_ticks("garbage"), None);
    }

    #[test]
    fn options() {
        assert_eq!(
            MemoryOptions::parse(&["--keys", "1_000"]).unwrap(),
            MemoryOptions {
                keys: 1000,
                rounds: 1
            }
        );
        assert!(MemoryOptions::parse(&["--keys"]).is_err());
        assert!(MemoryOptions::parse(&["--size", "1"]).is_err());
    }
}
