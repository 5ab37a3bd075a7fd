//! Actions end to end, in a real terminal: the dialog, the typed confirmation, a real
//! subprocess, its output on the board, the audit log (durable across kill -9), one run at a
//! time per service, and read-only modes in which no key runs anything.

mod common;

use common::audit;
use common::tmux::Tmux;
use common::versioned::Versioned;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_opsboard");
const WAIT: Duration = Duration::from_secs(25);

/// A board on one service with a rollback (R) and a restart (X) that leave marker files.
fn config(dir: &Path, port: u16, env_read_only: bool, rollback_cmd: &str) -> PathBuf {
    let path = dir.join("board.toml");
    let d = dir.display();
    std::fs::write(
        &path,
        format!(
            "[defaults]\ninterval = \"300ms\"\ntimeout = \"250ms\"\nscrape = false\n\
             [environments.prod]\nread_only = {env_read_only}\n\
             [services.api]\nenv = \"prod\"\nhealth_path = \"/health.json\"\ninstances = [\"http://127.0.0.1:{port}\"]\n\
             [actions.rollback]\nkey = \"R\"\nneeds_version = true\ntimeout = \"30s\"\ncommand = '{rollback_cmd}'\n\
             [actions.restart]\nkey = \"X\"\ncommand = 'touch {d}/restarted-{{service}}'\n"
        ),
    )
    .unwrap();
    path
}

fn board(dir: &Path, config: &Path, extra: &str) -> String {
    format!(
        "sh -c 'echo $$ > {d}/pid; exec env XDG_DATA_HOME={d}/data {BIN} --config {c} --log-file {d}/log {extra}'; sleep 30",
        d = dir.display(),
        c = config.display()
    )
}

/// Starts the board and waits until it has seen 1.0.0 and then 2.0.0 on the service.
fn board_after_a_deploy(
    name: &str,
    dir: &Path,
    fleet: &Versioned,
    env_read_only: bool,
    cmd: &str,
    extra: &str,
) -> Tmux {
    let cfg = config(dir, fleet.port, env_read_only, cmd);
    let tmux = Tmux::start(name, 120, 40, &board(dir, &cfg, extra));
    // OK is drawn from a check of the one instance, on 1.0.0: the board's first whole look.
    tmux.wait_for("the service", |s| s.contains("api") && s.contains("OK"));
    fleet.deploy("2.0.0");
    // The board recorded the deploy from that look to 2.0.0 (whatever page a wall shows).
    let history = dir.join("data/opsboard/deploys.jsonl");
    common::eventually(WAIT, "the deploy to 2.0.0", || {
        std::fs::read_to_string(&history).ok().filter(|h| h.contains("\"2.0.0\"")).map(drop)
    });
    tmux
}

#[test]
fn rollback_needs_the_typed_name_runs_once_and_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let fleet = Versioned::start(dir.path(), "1.0.0");
    let cmd = format!(
        "echo rolling {{service}} back to {{version}}; echo {{version}} > {}/rolled-{{service}}; sleep 3",
        dir.path().display()
    );
    let tmux = board_after_a_deploy("rollback", dir.path(), &fleet, false, &cmd, "");

    tmux.keys(&["R"]);
    let screen = tmux.wait_for("the dialog", |s| s.contains("rollback · api"));
    assert!(screen.contains("2.0.0 on 1") && screen.contains("◀ 1.0.0 ▶"), "{screen}");
    assert!(screen.contains("back to 1.0.0; echo 1.0.0 >"), "the exact command is shown:\n{screen}");

    // A wrong name is refused and nothing runs.
    tmux.text("apx");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the refusal", |s| s.contains("type `api` exactly to confirm"));
    assert!(!dir.path().join("rolled-api").exists());
    assert!(audit(dir.path()).is_empty());

    tmux.keys(&["BSpace", "BSpace", "BSpace"]);
    tmux.text("api");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the output pane", |s| s.contains("rolling api back to 1.0.0") && s.contains("running for"));

    // A second rollback of the same service while one runs is refused.
    tmux.keys(&["Escape"]);
    tmux.keys(&["R"]);
    tmux.wait_for("the refusal", |s| s.contains("rollback of api is already running"));

    tmux.keys(&["o"]);
    tmux.wait_for("the end", |s| s.contains("succeeded after"));
    assert_eq!(std::fs::read_to_string(dir.path().join("rolled-api")).unwrap().trim(), "1.0.0");
    let records = audit(dir.path());
    assert_eq!(records.len(), 2, "{records:?}");
    assert_eq!((records[0]["phase"].as_str(), records[1]["phase"].as_str()), (Some("start"), Some("end")));
    assert_eq!(records[0]["from_version"], "2.0.0");
    assert_eq!(records[0]["to_version"], "1.0.0");
    assert_eq!(records[1]["exit_status"], 0);
    assert!(records[0]["command"].as_str().unwrap().contains("back to 1.0.0"));
    for key in ["time", "user", "host", "ssh_client", "service", "env"] {
        assert!(records[0].get(key).is_some(), "audit lacks {key}");
    }
}

#[test]
fn audit_start_is_on_disk_before_the_command_runs_and_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let fleet = Versioned::start(dir.path(), "1.0.0");
    let cmd = format!("touch {}/started; sleep 30", dir.path().display());
    let tmux = board_after_a_deploy("kill9", dir.path(), &fleet, false, &cmd, "");
    tmux.keys(&["R"]);
    tmux.wait_for("the dialog", |s| s.contains("rollback · api"));
    tmux.text("api");
    tmux.keys(&["Enter"]);
    common::eventually(WAIT, "the command started", || dir.path().join("started").exists().then_some(()));
    let pid = std::fs::read_to_string(dir.path().join("pid")).unwrap();
    Command::new("kill").args(["-KILL", pid.trim()]).status().unwrap();
    let records = audit(dir.path());
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["phase"], "start");
    assert_eq!(records[0]["to_version"], "1.0.0");
}

/// Every key the board knows, then the action keys with a typed confirmation.
fn press_everything(tmux: &Tmux) {
    for k in ["Down", "Up", "Enter", "Escape", "?", "Escape", "j", "k", "g", "G", "s", "s", "c", "c", "o", "Escape"] {
        tmux.keys(&[k]);
    }
    for action in ["R", "X"] {
        tmux.keys(&[action]);
        tmux.text("api");
        tmux.keys(&["Enter"]);
        tmux.keys(&["Escape"]);
    }
}

/// A board in a mode where actions are off, after every key has been pressed and `refusal`
/// drawn for a last R (the keys arrived), then quit (every key was handled before the quit):
/// no command ran and nothing was audited.
fn nothing_runs(name: &str, env_read_only: bool, extra: &str, refusal: &str) {
    let dir = tempfile::tempdir().unwrap();
    let fleet = Versioned::start(dir.path(), "1.0.0");
    let cmd = format!("touch {}/rolled-{{service}}", dir.path().display());
    let tmux = board_after_a_deploy(name, dir.path(), &fleet, env_read_only, &cmd, extra);
    press_everything(&tmux);
    tmux.keys(&["R"]);
    tmux.wait_for("the reason", |s| s.contains(refusal));
    let pid = std::fs::read_to_string(dir.path().join("pid")).unwrap();
    tmux.keys(&["q"]);
    let proc = PathBuf::from(format!("/proc/{}", pid.trim()));
    common::eventually(WAIT, "the board to quit", || (!proc.exists()).then_some(()));
    assert!(!dir.path().join("rolled-api").exists(), "rollback ran");
    assert!(!dir.path().join("restarted-api").exists(), "restart ran");
    assert!(audit(dir.path()).is_empty());
    drop(fleet);
}

#[test]
fn read_only_board_runs_nothing_whatever_is_pressed() {
    nothing_runs("ro", false, "--read-only", "rollback is off: the board is read-only");
}

#[test]
fn read_only_environment_runs_nothing_whatever_is_pressed() {
    nothing_runs("roenv", true, "", "rollback is off: environment prod is read-only");
}

#[test]
fn wall_runs_nothing_whatever_is_pressed() {
    nothing_runs("wall", false, "--wall", opsboard::ui::view::WALL_REFUSAL);
}

#[test]
fn m_silences_a_service_audited_kept_across_restarts_and_listed_by_check() {
    let dir = tempfile::tempdir().unwrap();
    let fleet = Versioned::start(dir.path(), "1.0.0");
    let cfg = config(dir.path(), fleet.port, true, "true");
    let tmux = Tmux::start("silence", 120, 40, &board(dir.path(), &cfg, ""));
    tmux.wait_for("the service", |s| s.contains("api") && s.contains("OK"));
    tmux.keys(&["m"]);
    let screen = tmux.wait_for("the silence dialog", |s| s.contains("silence · api"));
    assert!(screen.contains("◀ 1h ▶"), "{screen}");
    tmux.text("deploy in progress");
    tmux.keys(&["Enter"]);
    let screen =
        tmux.wait_for("the silence on the row", |s| s.contains("🔇 until") && s.contains("deploy in progress"));
    assert!(screen.contains("api"), "{screen}");
    let records = audit(dir.path());
    let r = records.iter().find(|r| r["phase"] == "silence").expect("the silence is audited");
    assert_eq!((r["item"].as_str(), r["reason"].as_str()), (Some("service api"), Some("deploy in progress")));
    assert!(
        r["user"].is_string() && r["host"].is_string() && r["until"].as_str().is_some_and(|u| u.ends_with('Z')),
        "{r}"
    );
    tmux.keys(&["q"]);
    drop(tmux);

    // Kept across a restart, and listed by `check --json`.
    let out = Command::new(BIN)
        .args(["check", "--json", "--config"])
        .arg(&cfg)
        .env("XDG_DATA_HOME", dir.path().join("data"))
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["silences"][0]["item"], "service api", "{report}");
    assert_eq!(report["silences"][0]["reason"], "deploy in progress");

    // The wall cannot silence.
    let tmux = Tmux::start("silence-wall", 120, 40, &board(dir.path(), &cfg, "--read-only"));
    tmux.wait_for("the service", |s| s.contains("api") && s.contains("🔇 until"));
    tmux.keys(&["m"]);
    tmux.wait_for("the refusal", |s| s.contains("silences are off: the board is read-only"));
}
