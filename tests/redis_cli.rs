//! redis-cli in a real terminal, as a person uses it: tmux runs the interactive client against
//! our server, types, and reads the screen. redis-cli builds its grey hints and `help` output
//! from our COMMAND DOCS, so this proves the whole introspection path end to end.
//!
//! Needs `tmux` and `redis-cli`; without them it says it skipped (CI installs both and sets
//! REDIS_CLONE_REQUIRE_REFERENCE, which turns the skip into a failure).

mod support;

use std::io::Write;
use std::process::Command;
use std::time::{Duration, Instant};

fn installed(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

struct Tmux {
    socket: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("run tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "cli"])
    }

    /// Wait until the screen shows `text`, and return the screen.
    fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let screen = self.screen();
            if screen.contains(text) || Instant::now() > deadline {
                return screen;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.run(&["kill-server"]);
    }
}

#[test]
fn hints_and_help_in_an_interactive_redis_cli() {
    if !installed("tmux") || !installed("redis-cli") {
        if std::env::var_os("REDIS_CLONE_REQUIRE_REFERENCE").is_some() {
            panic!("tmux and redis-cli are required here (REDIS_CLONE_REQUIRE_REFERENCE is set)");
        }
        let _ = std::io::stderr().write_all(
            b"SKIPPED: tmux or redis-cli is not installed, so redis-cli hints were not checked\n",
        );
        return;
    }
    let server = support::start_ours("redis-cli-hints", &[]);
    let tmux = Tmux {
        socket: format!("redis-clone-test-{}", std::process::id()),
    };
    let cli = format!("redis-cli -p {}", server.port);
    tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "cli",
        "-x",
        "220",
        "-y",
        "40",
        &cli,
    ]);
    let prompt = format!("127.0.0.1:{}>", server.port);
    tmux.wait_for(&prompt);

    tmux.run(&["send-keys", "-t", "cli", "SET k v "]);
    let hint = "[NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]";
    let screen = tmux.wait_for(hint);
    assert!(
        screen.contains(&format!("SET k v {hint}")),
        "no SET hint on screen:\n{screen}"
    );

    tmux.run(&["send-keys", "-t", "cli", "C-u"]);
    tmux.run(&["send-keys", "-t", "cli", "help config get", "Enter"]);
    let screen = tmux.wait_for("CONFIG GET parameter [parameter ...]");
    assert!(
        screen.contains("CONFIG GET parameter [parameter ...]"),
        "no CONFIG GET help:\n{screen}"
    );
    assert!(
        screen.contains("group: server"),
        "help shows the group:\n{screen}"
    );

    tmux.run(&["send-keys", "-t", "cli", "help set", "Enter"]);
    let screen = tmux.wait_for("SET key value [NX|XX]");
    assert!(
        screen.contains(&format!("SET key value {hint}")),
        "no SET help:\n{screen}"
    );
}
