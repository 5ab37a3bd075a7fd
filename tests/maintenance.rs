//! Maintenance windows, the real board in tmux on loopback servers with a webhook receiver: a
//! planned window (`[[maintenance]]`, by cron) and one set from the board (`M`). Inside, the row
//! says "maintenance until …" and nothing is sent; the board's is audited; a service still down
//! when its window ends notifies at once. Bad windows are config errors with file, line and key.

mod common;

use common::tmux::Tmux;
use common::{TestServer, audit, eventually, receiver, rejected, switchable};
use opsboard::config;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_opsboard");

#[test]
fn a_bad_time_zone_cron_day_or_service_is_named_with_its_line_and_key() {
    let head = "[services.api]\ninstances = [\"http://127.0.0.1:1\"]\n\
                [[maintenance]]\nweekly = \"sun 02:00\"\nduration = \"1h\"\n\
                [[maintenance]]\nduration = \"1h\"\n";
    let err = rejected(&format!("{head}tz = \"Europe/Atlantis\"\ncron = \"0 2 * * 0\"\n"));
    assert_eq!((err.line, err.key.as_deref()), (Some(8), Some("maintenance[1].tz")), "{err}");
    assert!(err.to_string().contains("not a time zone"), "{err}");
    let err = rejected(&format!("{head}cron = \"0 2 * *\"\n"));
    assert_eq!((err.line, err.key.as_deref()), (Some(8), Some("maintenance[1].cron")), "{err}");
    let err = rejected(&format!("{head}weekly = \"someday 02:00\"\n"));
    assert!(err.to_string().contains("not a weekly time"), "{err}");
    let err = rejected(&format!("{head}cron = \"0 2 * * 0\"\nservices = [\"apj\"]\n"));
    assert_eq!((err.line, err.key.as_deref()), (Some(9), Some("maintenance[1].services")), "{err}");
    let err = rejected(&format!("{head}reason = \"neither\"\n"));
    assert!(err.to_string().contains("needs one of weekly"), "{err}");
}

#[test]
fn inside_a_window_a_failing_service_is_not_counted_and_the_status_page_says_under_maintenance() {
    use common::fixtures::{failed, health, now};
    use opsboard::state::{ProbeError, State, Status};
    let text = "[services.api]\ninstances = [\"http://127.0.0.1:1\"]\nslo = { objective = \"99%\" }\n\
                [services.web]\ninstances = [\"http://127.0.0.1:2\"]\nslo = { objective = \"99%\" }\n\
                [[status.components]]\nname = \"API\"\nservices = [\"api\"]\n\
                [[maintenance]]\nweekly = \"daily 00:00\"\ntz = \"UTC\"\nduration = \"24h\"\nservices = [\"api\"]\n\
                reason = \"migration\"\n";
    let loaded = config::load_str("m.toml", text).unwrap();
    let mut state = State::new(&loaded.fleet, 120, 3);
    state.components = loaded.config.status.components.clone();
    let t = now();
    for k in 0..2 {
        let at = t + Duration::from_millis(100 * k);
        state.apply(health(&state, 0, 0, failed(at, ProbeError::Refused)));
        state.apply(health(&state, 1, 0, failed(at, ProbeError::Refused)));
    }
    let at = t + Duration::from_secs(1);
    let v = state.verdicts(at);
    assert_eq!(state.service_verdict(0, at).status, Status::Crit, "the state stays the state");
    assert_eq!(v.service_tally.crit, 1, "only web is counted: {:?}", v.service_tally);
    let report = opsboard::report::report(&state, at);
    let m = report.services[0].maintenance.as_ref().expect("api is in maintenance");
    assert_eq!((m.reason.as_str(), m.window.as_deref()), ("migration", Some("weekly daily 00:00")));
    let page = opsboard::status_page::report(&state, &v, "Status", 7, at);
    assert_eq!(page.components[0].words, "Under maintenance");
    // The window's failed checks do not count against api's budget; web's do.
    let checks = |si: usize| state.services[si].outcomes.checks.sum(at, Duration::from_secs(3600));
    assert_eq!((checks(0).total, checks(1).total, checks(1).good), (0, 2, 0));
}

fn board(dir: &Path, config: &Path) -> String {
    format!(
        "env XDG_DATA_HOME={d}/data {BIN} --config {c} --log-file {d}/log; sleep 30",
        d = dir.display(),
        c = config.display()
    )
}

fn write_config(dir: &Path, api: &TestServer, hook: &receiver::Receiver, extra: &str) -> std::path::PathBuf {
    let cfg = dir.join("board.toml");
    let text = format!(
        "[polling]\njitter = 0.0\n\
         [defaults]\ninterval = \"300ms\"\ntimeout = \"250ms\"\nscrape = false\n\
         [services.api]\ninstances = [\"{}\"]\n\
         [[notify]]\nurl = \"{}\"\nformat = \"json\"\ngroup_wait = \"0s\"\ncooldown = \"0s\"\n{extra}",
        api.url("/health"),
        hook.url()
    );
    std::fs::write(&cfg, text).unwrap();
    cfg
}

/// The CRIT changes received for api.
fn crits(hook: &receiver::Receiver) -> usize {
    hook.bodies().iter().filter(|b| b.contains("\"state\":\"crit\"") && b.contains("\"name\":\"api\"")).count()
}

fn api_row(screen: &str) -> String {
    screen.lines().find(|l| l.contains(" api ")).unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planned_window_sends_nothing_inside_and_a_service_still_down_at_its_end_notifies_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (api, up) = switchable().await;
    let hook = receiver::start(&[], false).await;
    // Windows of 12 s from seconds 0, 20 and 40 of every minute.
    let window = "[[maintenance]]\nname = \"patching\"\ncron = \"0,20,40 * * * * *\"\ntz = \"UTC\"\nduration = \"12s\"\n\
                  services = [\"api\"]\nreason = \"kernel patches\"\n";
    let cfg = write_config(dir.path(), &api, &hook, window);
    let tmux = Tmux::start("maintenance-planned", 140, 30, &board(dir.path(), &cfg));
    // Wait for the start of a window, so that most of it is ahead.
    tmux.wait_for("a window just begun", |s| {
        let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() % 20;
        api_row(s).contains("maintenance until") && secs < 5
    });
    up.store(false, Ordering::SeqCst);
    let screen = tmux.wait_for("CRIT in maintenance", |s| {
        let row = api_row(s);
        row.contains("CRIT") && row.contains("maintenance until")
    });
    assert!(!screen.lines().next().unwrap().contains("CRIT"), "the header does not count it: {screen}");
    assert_eq!(crits(&hook), 0, "nothing is sent inside the window");

    // The window ends with api still down: it notifies at once.
    let inside = Instant::now();
    tmux.wait_for("the window over", |s| !api_row(s).contains("maintenance") && api_row(s).contains("CRIT"));
    let ended = Instant::now();
    eventually(Duration::from_secs(3), "the notification at the window's end", || (crits(&hook) == 1).then_some(()));
    assert!(ended.duration_since(inside) < Duration::from_secs(12), "the window lasts 12 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_set_from_the_board_is_audited_sends_nothing_and_ending_it_notifies_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (api, up) = switchable().await;
    let hook = receiver::start(&[], false).await;
    let cfg = write_config(dir.path(), &api, &hook, "");
    let tmux = Tmux::start("maintenance-adhoc", 140, 30, &board(dir.path(), &cfg));
    tmux.wait_for("api OK", |s| api_row(s).contains("OK"));
    tmux.keys(&["M"]);
    let screen = tmux.wait_for("the maintenance dialog", |s| s.contains("maintenance · api"));
    assert!(screen.contains("◀ 1h ▶"), "{screen}");
    tmux.text("db upgrade");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the row", |s| api_row(s).contains("maintenance until"));
    let records = audit(dir.path());
    let r = records.iter().find(|r| r["phase"] == "maintenance").expect("the window is audited");
    assert_eq!((r["item"].as_str(), r["reason"].as_str()), (Some("service api"), Some("db upgrade")), "{r}");

    up.store(false, Ordering::SeqCst);
    tmux.wait_for("CRIT in maintenance", |s| api_row(s).contains("CRIT") && api_row(s).contains("maintenance"));
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(crits(&hook), 0, "nothing is sent inside the window: {:?}", hook.bodies());

    // Ended by hand (the last choice) while api is still down: sent at once, and audited.
    tmux.keys(&["M"]);
    tmux.wait_for("the dialog", |s| s.contains("maintenance · api"));
    tmux.keys(&["Right", "Right", "Right"]);
    tmux.wait_for("the last choice", |s| s.contains("end the window"));
    tmux.keys(&["Enter"]);
    tmux.wait_for("the window over", |s| !api_row(s).contains("maintenance") && api_row(s).contains("CRIT"));
    eventually(Duration::from_secs(3), "the notification once the window ended", || (crits(&hook) == 1).then_some(()));
    let records = audit(dir.path());
    assert!(records.iter().any(|r| r["phase"] == "maintenance ended" && r["item"] == "service api"), "{records:?}");
}
