//! The real binary in a real terminal (tmux): the demo board draws, and every way out restores the terminal.

mod common;

use common::tmux::Tmux;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_opsboard");
const WAIT: Duration = Duration::from_secs(20);

/// A shell line that runs the board, then reports its exit code and whether the tty is back in cooked mode.
fn board_then_report(dir: &Path, args: &str) -> String {
    let pidfile = dir.join("pid");
    format!(
        "sh -c 'echo $$ > {pid}; exec {BIN} {args} --log-file {log}'; echo EXIT=$?; \
         stty -a | grep -q -- ' icanon' && echo COOKED; stty -a | grep -q -- ' echo ' && echo ECHOING; echo DONE; sleep 30",
        pid = pidfile.display(),
        log = dir.join("opsboard.log").display(),
    )
}

fn board_pid(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("pid")).unwrap().trim().to_string()
}

fn shows_demo(screen: &str) -> bool {
    ["web-frontend", "checkout-api", "payments", "search", "auth"].iter().all(|s| screen.contains(s))
        && screen.contains("updated")
}

fn restored(screen: &str) -> bool {
    screen.contains("COOKED") && screen.contains("ECHOING")
}

#[test]
fn demo_board_draws_and_q_restores_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let tmux = Tmux::start("quit", 120, 40, &board_then_report(dir.path(), "--demo"));
    let screen = tmux.wait_for("the demo services", shows_demo);
    assert!(screen.contains("opsboard demo"), "{screen}");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the detail view", |s| s.contains("last results"));
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("exit", |s| s.contains("DONE"));
    assert!(screen.contains("EXIT=0"), "{screen}");
    assert!(restored(&screen), "terminal not restored:\n{screen}");
    assert!(!screen.contains("last results"), "alternate screen was not left:\n{screen}");
    let log = std::fs::read_to_string(dir.path().join("opsboard.log")).unwrap();
    assert!(log.contains("board starting"), "logs go to the file: {log}");
}

#[test]
fn sigterm_restores_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let tmux = Tmux::start("term", 100, 30, &board_then_report(dir.path(), "--demo"));
    tmux.wait_for("the demo services", shows_demo);
    Command::new("kill").args(["-TERM", &board_pid(dir.path())]).status().unwrap();
    let screen = tmux.wait_for("exit", |s| s.contains("DONE"));
    assert!(screen.contains("EXIT=0"), "{screen}");
    assert!(restored(&screen), "terminal not restored:\n{screen}");
}

#[test]
fn sigint_and_ctrl_c_restore_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let tmux = Tmux::start("int", 100, 30, &board_then_report(dir.path(), "--demo"));
    tmux.wait_for("the demo services", shows_demo);
    Command::new("kill").args(["-INT", &board_pid(dir.path())]).status().unwrap();
    let screen = tmux.wait_for("exit", |s| s.contains("DONE"));
    assert!(restored(&screen), "terminal not restored:\n{screen}");

    let dir = tempfile::tempdir().unwrap();
    let tmux = Tmux::start("ctrlc", 100, 30, &board_then_report(dir.path(), "--demo"));
    tmux.wait_for("the demo services", shows_demo);
    tmux.keys(&["C-c"]);
    let screen = tmux.wait_for("exit", |s| s.contains("DONE"));
    assert!(screen.contains("EXIT=0") && restored(&screen), "{screen}");
}

#[test]
fn tiny_terminal_says_too_small_and_resize_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let tmux = Tmux::start("small", 30, 8, &board_then_report(dir.path(), "--demo"));
    tmux.wait_for("the too-small message", |s| s.contains("too small"));
    Command::new("tmux").args(["-L", &tmux.socket, "resize-window", "-x", "120", "-y", "40"]).status().unwrap();
    tmux.wait_for("the board after resize", shows_demo);
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("exit", |s| s.contains("DONE"));
    assert!(screen.contains("EXIT=0") && restored(&screen), "{screen}");
}

#[test]
fn check_on_the_demo_prints_json_with_every_instance() {
    let out = Command::new(BIN).args(["check", "--demo", "--json"]).output().unwrap();
    let code = out.status.code().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("check --json prints JSON");
    let services = json["services"].as_array().unwrap();
    assert!(services.len() >= 6);
    for s in services {
        let instances = s["instances"].as_array().unwrap();
        assert!((2..=5).contains(&instances.len()), "{s}");
        for i in instances {
            assert!(i["url"].as_str().unwrap().starts_with("http://127.0.0.1:"), "{i}");
            for key in ["status", "latency_ms", "reason", "version"] {
                assert!(i.get(key).is_some(), "instance lacks {key}: {i}");
            }
        }
    }
    let worst = json["status"].as_str().unwrap();
    assert_eq!(
        code,
        match worst {
            "ok" => 0,
            "crit" => 2,
            _ => 1,
        },
        "exit code follows the verdict"
    );
}

#[test]
fn check_exit_code_is_two_when_an_instance_is_down() {
    // 80s into the story a payments node fails its health check.
    let out = Command::new(BIN).args(["check", "--demo", "--demo-at", "80s"]).output().unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{table}");
    assert!(table.contains("CRIT     payments"), "{table}");
    assert!(table.contains("HTTP 503 status=fail"), "{table}");
}

/// A real, separate HTTP server process (Python's http.server) that the test can freeze.
struct PythonServer {
    child: std::process::Child,
    port: u16,
}

impl PythonServer {
    fn start(dir: &Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("python3")
            .args(["-m", "http.server", &port.to_string(), "--bind", "127.0.0.1"])
            .current_dir(dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("python3");
        common::listening(port, WAIT, "http.server");
        Self { child, port }
    }

    fn signal(&self, sig: &str) {
        Command::new("kill").args([sig, &self.child.id().to_string()]).status().unwrap();
    }
}

impl Drop for PythonServer {
    fn drop(&mut self) {
        self.signal("-CONT");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn wall_rotates_pages_and_says_stale_when_the_fleet_stops_answering() {
    let dir = tempfile::tempdir().unwrap();
    let server = PythonServer::start(dir.path());
    let config = dir.path().join("wall.toml");
    std::fs::write(
        &config,
        format!(
            "[board]\ntitle = \"wall test\"\n[board.wall]\npage_interval = \"1s\"\n\
             [defaults]\ninterval = \"1s\"\ntimeout = \"500ms\"\nscrape = false\n\
             [environments.prod]\n[services.files]\nenv = \"prod\"\nhealth_path = \"/\"\ninstances = [\"http://127.0.0.1:{}\"]\n",
            server.port
        ),
    )
    .unwrap();
    let tmux =
        Tmux::start("wall", 120, 40, &board_then_report(dir.path(), &format!("--wall --config {}", config.display())));
    tmux.wait_for("the wall with a healthy fleet", |s| s.contains("ALL OK") && s.contains("files"));
    tmux.wait_for("page 1", |s| s.contains("page 1/5"));
    tmux.wait_for("page 2", |s| s.contains("page 2/5"));
    tmux.wait_for("page 3", |s| s.contains("page 3/5"));

    // Freeze the fleet: connections hang, nothing answers.
    server.signal("-STOP");
    let screen = tmux.wait_for("the stale banner", |s| s.contains("STALE: no answer from the fleet"));
    assert!(!screen.contains("ALL OK"), "a stale wall must not show old green:\n{screen}");

    // Thaw it: the wall recovers by itself.
    server.signal("-CONT");
    tmux.wait_for("recovery", |s| s.contains("ALL OK") && !s.contains("STALE"));

    // Keys other than quit do nothing on the wall; q leaves.
    tmux.keys(&["Enter", "/", "x", "?"]);
    // The keys arrived (the wall says it takes none) and did nothing: no detail, filter or help.
    let screen = tmux.wait_for("the refusal", |s| s.contains(opsboard::ui::view::WALL_REFUSAL));
    let opened = ["last results", "Esc clear", "to close"];
    assert!(opened.iter().all(|o| !screen.contains(o)), "{screen}");
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("exit", |s| s.contains("DONE"));
    assert!(screen.contains("EXIT=0") && restored(&screen), "{screen}");
}

/// `script` gives the board a pty whose other end only copies output: nobody answers a
/// terminal query there, as on some serial consoles.
#[test]
fn the_board_draws_on_a_terminal_that_never_answers_and_quits_cleanly() {
    use std::io::{Read, Write};
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let cmd = format!("stty cols 120 rows 40; exec {BIN} --demo --log-file {}", dir.path().join("log").display());
    let mut child = Command::new("script")
        .args(["-qfec", &cmd, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("script (util-linux)");
    let mut stdout = child.stdout.take().unwrap();
    let drawn = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let reader = {
        let drawn = drawn.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n @ 1..) = stdout.read(&mut buf) {
                drawn.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        })
    };
    // Nothing is written to the board until it has drawn its first frame with the fleet on it.
    common::eventually(WAIT, "the first frames", || {
        String::from_utf8_lossy(&drawn.lock().unwrap()).contains("checkout-api").then_some(())
    });
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"q").unwrap();
    stdin.flush().unwrap();
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the board did not quit");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    drop(stdin);
    reader.join().unwrap();
    let out = String::from_utf8_lossy(&drawn.lock().unwrap()).into_owned();
    assert!(status.success(), "exit {status:?}: {}", out.chars().rev().take(400).collect::<String>());
    assert!(out.contains("checkout-api") && out.contains("health"), "the board drew: {out:.400}");
    assert!(out.contains("\u{1b}[?1049l"), "the alternate screen was left");
}

#[test]
fn the_demo_s_search_node_fills_its_index_disk_and_a_compaction_frees_it() {
    let search = |at: &str| {
        let out = Command::new(BIN).args(["check", "--demo", "--demo-at", at, "--json"]).output().unwrap();
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        report["services"].as_array().unwrap().iter().find(|s| s["name"] == "search").unwrap().clone()
    };
    let full = search("150s");
    let instances = full["instances"].as_array().unwrap();
    let node = instances.iter().find(|i| i["host"]["disk"].as_f64().is_some_and(|d| d > 0.95)).expect("a full disk");
    assert_eq!(node["status"], "crit", "{node}");
    assert!(node["reason"].as_str().unwrap().starts_with("disk /var/lib/search 97% ≥ 95%"), "{node}");
    assert!(instances.iter().all(|i| i["host"]["cpus"] == 2), "{full}");
    let freed = search("200s");
    let node = freed["instances"].as_array().unwrap().iter().find(|i| i["name"] == node["name"]).unwrap().clone();
    assert_eq!(node["host"]["disk"].as_f64().map(|d| (d * 100.0).round()), Some(58.0), "{node}");
    assert!(!node["reason"].as_str().unwrap_or_default().contains("disk"), "{node}");
}
