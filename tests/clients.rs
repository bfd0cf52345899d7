//! Client libraries used as their users use them: redis-py 5 in its default mode and with
//! `protocol=3` (tests/clients/redis_py_check.py). Skips, saying so, when python3 with redis-py
//! is missing; CI installs it and sets REDIS_CLONE_REQUIRE_REFERENCE, which makes it required.

mod support;

use std::io::Write;
use std::process::Command;

fn redis_py_available() -> bool {
    Command::new("python3")
        .args(["-c", "import redis"])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn redis_py_works_in_both_protocols() {
    if !redis_py_available() {
        if std::env::var_os("REDIS_CLONE_REQUIRE_REFERENCE").is_some() {
            panic!("redis-py is required here (REDIS_CLONE_REQUIRE_REFERENCE is set): pip install 'redis>=5,<6'");
        }
        let _ = std::io::stderr().write_all(
            b"SKIPPED: python3 with redis-py is not installed, so redis-py was not tried\n",
        );
        return;
    }
    let server = support::start_ours(
        "clients-redis-py",
        &[
            "--enable-debug-command",
            "local",
            "--latency-monitor-threshold",
            "1",
        ],
    );
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/clients/redis_py_check.py"
    );
    let output = Command::new("python3")
        .arg(script)
        .arg(server.port.to_string())
        .output()
        .expect("run python3");
    assert!(
        output.status.success(),
        "redis-py check failed:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
