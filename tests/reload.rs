//! The config loaded again without a restart, by the real binary: when its file changes (an
//! editor's rename), on SIGHUP and from Ctrl-R, in the terminal board (tmux) and in `serve`
//! (its `/api/state`). A broken edit is refused with file, line and key while everything runs on.

mod common;

use common::served::Served;
use common::tmux::Tmux;
use common::{Reply, TestServer, serve};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_opsboard");

fn replace(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

fn service(name: &str, server: &TestServer) -> String {
    format!("[services.{name}]\ninstances = [\"{}\"]\n", server.url(""))
}

fn head() -> &'static str {
    "[defaults]\ninterval = \"500ms\"\ntimeout = \"400ms\"\nscrape = false\n"
}

fn log_has(dir: &Path, needle: &str) -> bool {
    std::fs::read_to_string(dir.join("opsboard.log")).is_ok_and(|l| l.contains(needle))
}

fn hangup(pid: u32) {
    // SAFETY: kill(2) on a process this test started.
    unsafe { libc::kill(pid as i32, libc::SIGHUP) };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_board_takes_a_changed_config_without_a_restart_and_refuses_a_broken_one() {
    let dir = tempfile::tempdir().unwrap();
    let web = serve(Reply::json(200, r#"{"status":"UP"}"#)).await;
    let api = serve(Reply::json(200, r#"{"status":"UP"}"#)).await;
    let file = dir.path().join("config.toml");
    std::fs::write(&file, format!("{}{}", head(), service("webshop", &web))).unwrap();
    let pidfile = dir.path().join("pid");
    let command = format!(
        "sh -c 'echo $$ > {pid}; XDG_DATA_HOME={data} exec {BIN} --config {file} --log-file {log}'; sleep 30",
        pid = pidfile.display(),
        data = dir.path().join("data").display(),
        file = file.display(),
        log = dir.path().join("opsboard.log").display(),
    );
    let tmux = Tmux::start("reload", 120, 30, &command);
    let shown = |name: &'static str| move |s: &str| s.contains(name) && s.contains("OK");
    tokio::task::block_in_place(|| tmux.wait_for("webshop", shown("webshop")));
    let pid: u32 = std::fs::read_to_string(&pidfile).unwrap().trim().parse().unwrap();

    // A service added to the file appears without a restart; the one there stays.
    replace(&file, &format!("{}{}{}", head(), service("webshop", &web), service("apigw", &api)));
    let screen = tokio::task::block_in_place(|| tmux.wait_for("the new service", |s| s.contains("apigw")));
    assert!(screen.contains("webshop"), "{screen}");
    assert!(screen.contains("config reloaded"), "the footer says so:\n{screen}");

    // A broken edit is refused, naming file, line and key; the board goes on.
    let broken = format!(
        "{}{}[services.apigw]\ninstances = [\"{}\"]\ninterval = \"soon\"\n",
        head(),
        service("webshop", &web),
        api.url("")
    );
    replace(&file, &broken);
    let screen = tokio::task::block_in_place(|| tmux.wait_for("the refusal", |s| s.contains("config not reloaded")));
    assert!(screen.contains("config.toml:"), "the file and line are named:\n{screen}");
    assert!(screen.contains("webshop") && screen.contains("apigw"), "everything still shows:\n{screen}");

    // SIGHUP reads the file again: still broken, still refused, in the log too.
    hangup(pid);
    tokio::task::block_in_place(|| {
        common::eventually(Duration::from_secs(10), "the SIGHUP reload in the log", || {
            log_has(dir.path(), "SIGHUP").then_some(())
        })
    });
    assert!(log_has(dir.path(), "config not reloaded"));

    // Fixed, and asked for with Ctrl-R: taken.
    std::fs::write(&file, format!("{}{}", head(), service("webshop", &web))).unwrap();
    tmux.keys(&["C-r"]);
    let screen = tokio::task::block_in_place(|| {
        tmux.wait_for("the fixed file", |s| {
            !s.contains("apigw") && !s.contains("not reloaded") && s.contains("webshop")
        })
    });
    assert!(screen.contains("webshop"), "{screen}");
    tmux.keys(&["q"]);
}

fn get(addr: SocketAddr, path: &str) -> String {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut raw = String::new();
    let _ = s.read_to_string(&mut raw);
    raw.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default()
}

fn names(state: &serde_json::Value) -> Vec<String> {
    let services = state["services"].as_array().cloned().unwrap_or_default();
    services.iter().filter_map(|s| s["name"].as_str().map(str::to_string)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_follows_its_config_and_keeps_what_needs_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let web = serve(Reply::json(200, r#"{"status":"UP"}"#)).await;
    let api = serve(Reply::json(200, r#"{"status":"UP"}"#)).await;
    let file = dir.path().join("config.toml");
    std::fs::write(&file, format!("{}{}", head(), service("web", &web))).unwrap();
    let served = Served::start(dir.path(), &["--config", file.to_str().unwrap(), "--listen", "127.0.0.1:0"], &[]);
    let state = |addr| serde_json::from_str::<serde_json::Value>(&get(addr, "/api/state")).unwrap_or_default();
    let addr = served.addr;
    tokio::task::block_in_place(|| {
        common::eventually(Duration::from_secs(15), "web in /api/state", || {
            (names(&state(addr)) == ["web"]).then_some(())
        })
    });
    let with_api = format!("{}[serve]\nfont_size = 30\n{}{}", head(), service("web", &web), service("api", &api));
    replace(&file, &with_api);
    let after = tokio::task::block_in_place(|| {
        common::eventually(Duration::from_secs(15), "api in /api/state", || {
            let s = state(addr);
            (names(&s) == ["web", "api"]).then_some(s)
        })
    });
    let reload = &after["config_reload"];
    assert_eq!(reload["needs_restart"], serde_json::json!(["serve"]), "{reload}");
    assert!(reload["error"].is_null(), "{reload}");
    replace(&file, &format!("{with_api}[polling]\nmax_in_flight = 0\n"));
    let refused = tokio::task::block_in_place(|| {
        common::eventually(Duration::from_secs(15), "the refusal in /api/state", || {
            let s = state(addr);
            s["config_reload"]["error"].as_str().map(str::to_string)
        })
    });
    assert!(refused.contains("config.toml:") && refused.contains("max_in_flight"), "{refused}");
    assert_eq!(names(&state(addr)), ["web", "api"], "the running config stands");
}

#[test]
fn a_terminal_that_hangs_up_still_ends_the_board() {
    // SIGHUP reloads the config now; a terminal really gone must end the board all the same.
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pid");
    let command = format!(
        "sh -c 'echo $$ > {pid}; exec {BIN} --demo --log-file {log}'",
        pid = pidfile.display(),
        log = dir.path().join("opsboard.log").display()
    );
    let tmux = Tmux::start("hangup", 100, 30, &command);
    tmux.wait_for("the demo", |s| s.contains("payments"));
    let pid = std::fs::read_to_string(&pidfile).unwrap().trim().to_string();
    drop(tmux);
    common::eventually(Duration::from_secs(15), "the board gone with its terminal", || {
        (!Path::new(&format!("/proc/{pid}")).exists()).then_some(())
    });
}
