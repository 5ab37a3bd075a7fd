//! Notifications through real webhooks on 127.0.0.1: one CRIT and one resolved message for a
//! service that goes down and comes back (slack and json bodies), retries on 500, a receiver
//! that never answers does not slow the board, a flapping service sends one "flapping" message,
//! a silenced service sends nothing.

mod common;

use common::receiver::{self, Receiver};
use common::{Reply, TestServer, drive, serve_with};
use opsboard::collector::Collector;
use opsboard::history::DeployHistory;
use opsboard::state::silences::Silence;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

/// A health endpoint that is up or down as the test says.
async fn switchable() -> (TestServer, Arc<AtomicBool>) {
    let up = Arc::new(AtomicBool::new(true));
    let flag = up.clone();
    let server =
        serve_with(
            move |_| {
                if flag.load(Ordering::SeqCst) { Reply::text(200, "OK") } else { Reply::text(503, "DOWN") }
            },
        )
        .await;
    (server, up)
}

fn config(health: &TestServer, hooks: &[(&Receiver, &str, &str)], interval: &str) -> opsboard::config::Loaded {
    let mut text = format!(
        r#"
[board]
title = "prod board"

[polling]
jitter = 0.0

[environments.prod]

[services.api]
env = "prod"
scrape = false
interval = "{interval}"
timeout = "{interval}"
instances = ["{}"]
"#,
        health.url("")
    );
    for (r, format, extra) in hooks {
        text.push_str(&format!(
            "\n[[notify]]\nurl = \"{}\"\nformat = \"{format}\"\ngroup_wait = \"1s\"\ntimeout = \"1s\"\n{extra}\n",
            r.url()
        ));
    }
    opsboard::config::load_str("notify.toml", &text).unwrap_or_else(|e| panic!("{e}"))
}

fn start(loaded: &opsboard::config::Loaded, dir: &std::path::Path) -> Collector {
    common::own_data_dir();
    let mut c = Collector::start(&Arc::new(loaded.clone()), DeployHistory::new(dir.join("deploys.jsonl")));
    c.keep_silences_in(dir.join("silences.json"));
    c
}

fn service_is(c: &Collector, status: &str) -> bool {
    c.state.service_verdict(0, SystemTime::now()).status.word() == status
}

#[tokio::test]
async fn down_and_back_is_one_crit_and_one_resolved_message_in_each_format() {
    let dir = tempfile::tempdir().unwrap();
    let (health, up) = switchable().await;
    let slack = receiver::start(&[], false).await;
    let json = receiver::start(&[], false).await;
    let loaded = config(&health, &[(&slack, "slack", ""), (&json, "json", "")], "500ms");
    let mut c = start(&loaded, dir.path());
    assert!(drive(&mut c, Duration::from_secs(10), |c| service_is(c, "OK")).await);
    drive(&mut c, Duration::from_secs(2), |_| false).await;
    assert!(slack.bodies().is_empty(), "OK from the start is no news: {:?}", slack.bodies());

    up.store(false, Ordering::SeqCst);
    assert!(drive(&mut c, Duration::from_secs(15), |_| slack.bodies().len() == 1 && json.bodies().len() == 1).await);
    up.store(true, Ordering::SeqCst);
    assert!(drive(&mut c, Duration::from_secs(15), |_| slack.bodies().len() == 2 && json.bodies().len() == 2).await);
    drive(&mut c, Duration::from_secs(3), |_| false).await;

    let s: Vec<serde_json::Value> = slack.bodies().iter().map(|b| serde_json::from_str(b).unwrap()).collect();
    assert_eq!(s.len(), 2, "exactly two: {s:?}");
    let crit = s[0]["text"].as_str().unwrap();
    assert!(crit.starts_with("✖ api (prod) CRIT: ") && crit.contains("HTTP 503"), "{crit}");
    let ok = s[1]["text"].as_str().unwrap();
    assert!(ok.starts_with("✔ api (prod) OK after ") && ok.ends_with("(was CRIT)"), "{ok}");

    let j: Vec<serde_json::Value> = json.bodies().iter().map(|b| serde_json::from_str(b).unwrap()).collect();
    assert_eq!(j.len(), 2, "exactly two: {j:?}");
    assert_eq!(j[0]["board"], "prod board");
    assert_eq!(j[0]["changes"][0]["name"], "api");
    assert_eq!(j[0]["changes"][0]["env"], "prod");
    assert_eq!(
        (j[0]["changes"][0]["state"].as_str(), j[0]["changes"][0]["previous"].as_str()),
        (Some("crit"), Some("ok"))
    );
    assert_eq!(
        (j[1]["changes"][0]["state"].as_str(), j[1]["changes"][0]["previous"].as_str()),
        (Some("ok"), Some("crit"))
    );
    assert!(j[1]["changes"][0]["previous_for_s"].as_u64().is_some(), "{}", j[1]);
    assert!(c.state.undelivered.is_none());
}

#[tokio::test]
async fn a_receiver_failing_twice_gets_the_message_on_the_third_try() {
    let dir = tempfile::tempdir().unwrap();
    let (health, up) = switchable().await;
    let flaky = receiver::start(&[500, 500], false).await;
    let loaded = config(&health, &[(&flaky, "json", "")], "500ms");
    let mut c = start(&loaded, dir.path());
    assert!(drive(&mut c, Duration::from_secs(10), |c| service_is(c, "OK")).await);
    up.store(false, Ordering::SeqCst);
    // Backoff 1 s, then 2 s.
    assert!(drive(&mut c, Duration::from_secs(20), |_| flaky.bodies().len() == 3).await, "{:?}", flaky.bodies());
    drive(&mut c, Duration::from_secs(1), |_| false).await;
    let b = flaky.bodies();
    assert!(b.iter().all(|x| x == &b[0]), "the same message each time");
    assert!(c.state.undelivered.is_none(), "delivered in the end: {:?}", c.state.undelivered);
}

#[tokio::test]
async fn a_receiver_that_never_answers_does_not_slow_the_board() {
    let dir = tempfile::tempdir().unwrap();
    let (health, up) = switchable().await;
    let stuck = receiver::start(&[], true).await;
    let steady = serve_with(|_| Reply::text(200, "OK")).await;
    let mut loaded = config(&health, &[(&stuck, "json", "retries = 0")], "250ms");
    // A second service that stays up: a failing instance is checked less often (backoff), this
    // one keeps the full pace.
    let more = config(&steady, &[], "250ms");
    let mut other = more.fleet.services[0].clone();
    other.name = "steady".into();
    loaded.fleet.services.push(other);
    let mut c = start(&loaded, dir.path());
    assert!(drive(&mut c, Duration::from_secs(10), |c| service_is(c, "OK")).await);
    up.store(false, Ordering::SeqCst);
    assert!(drive(&mut c, Duration::from_secs(10), |_| !stuck.bodies().is_empty()).await);
    // While the webhook hangs, checks keep landing at their pace: 4 a second.
    let before = steady.requests.load(Ordering::SeqCst);
    let t0 = Instant::now();
    drive(&mut c, Duration::from_secs(3), |_| false).await;
    let landed = steady.requests.load(Ordering::SeqCst) - before;
    let elapsed = t0.elapsed();
    assert!(landed >= 8, "{landed} checks in {elapsed:?} while the webhook hung");
    let (label, why) = c.state.undelivered.clone().expect("the failure is shown");
    assert_eq!(label, "127.0.0.1");
    assert!(why.contains("no answer within 1s"), "{why}");
}

#[tokio::test]
async fn a_flapping_service_sends_one_flapping_message_not_a_storm() {
    let dir = tempfile::tempdir().unwrap();
    // Fails two checks, passes two, fails two …
    let n = Arc::new(AtomicU64::new(0));
    let count = n.clone();
    let health = serve_with(move |_| {
        let i = count.fetch_add(1, Ordering::SeqCst);
        if i < 8 || (i / 2) % 2 == 1 { Reply::text(200, "OK") } else { Reply::text(503, "DOWN") }
    })
    .await;
    let hook = receiver::start(&[], false).await;
    let loaded = config(&health, &[(&hook, "slack", "")], "250ms");
    let mut c = start(&loaded, dir.path());
    let flapping = |c: &Collector| c.state.service_verdict(0, SystemTime::now()).reason.starts_with("flapping");
    assert!(drive(&mut c, Duration::from_secs(30), flapping).await, "never flapping");
    drive(&mut c, Duration::from_secs(8), |_| false).await;
    let texts: Vec<String> = hook
        .bodies()
        .iter()
        .map(|b| serde_json::from_str::<serde_json::Value>(b).unwrap()["text"].as_str().unwrap().to_string())
        .collect();
    let flaps = texts.iter().filter(|t| t.contains("flapping")).count();
    assert_eq!(flaps, 1, "{texts:?}");
    assert!(texts.len() <= 3, "CRIT, OK and flapping at most: {texts:?}");
    assert!(n.load(Ordering::SeqCst) > 40, "it changed state many times");
}

#[tokio::test]
async fn a_silenced_service_sends_nothing_but_still_shows_its_state() {
    let dir = tempfile::tempdir().unwrap();
    let (health, up) = switchable().await;
    let hook = receiver::start(&[], false).await;
    let loaded = config(&health, &[(&hook, "json", "")], "500ms");
    let mut c = start(&loaded, dir.path());
    assert!(drive(&mut c, Duration::from_secs(10), |c| service_is(c, "OK")).await);
    let s = Silence::new("service api", Some(Duration::from_secs(1800)), "deploy", "ana", "bastion", SystemTime::now());
    c.apply(opsboard::state::Event::Silenced(s)).unwrap();
    let kept: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("silences.json")).unwrap()).unwrap();
    assert_eq!(kept[0]["item"], "service api", "the collector keeps it on disk: {kept}");
    up.store(false, Ordering::SeqCst);
    assert!(drive(&mut c, Duration::from_secs(10), |c| service_is(c, "CRIT")).await, "the state is not hidden");
    drive(&mut c, Duration::from_secs(4), |_| false).await;
    assert!(hook.bodies().is_empty(), "{:?}", hook.bodies());
}

/// Bytes the board wrote to its terminal (a pty from `script`), read from the typescript.
fn typescript(path: &std::path::Path) -> String {
    String::from_utf8_lossy(&std::fs::read(path).unwrap_or_default()).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_terminal_gets_a_bell_and_a_desktop_notification_on_a_change_and_not_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let (health, up) = switchable().await;
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[board]\ntitle = \"prod board\"\nbell = \"crit\"\nnotify = true\n[polling]\njitter = 0.0\n\
             [services.api]\nscrape = false\ninterval = \"500ms\"\ntimeout = \"500ms\"\ninstances = [\"{}\"]\n",
            health.url("")
        ),
    )
    .unwrap();
    let out = dir.path().join("typescript");
    let board = format!(
        "stty cols 100 rows 30; exec {} --config {} --log-file {}",
        env!("CARGO_BIN_EXE_opsboard"),
        config.display(),
        dir.path().join("log").display()
    );
    let mut child = tokio::process::Command::new("script")
        .args(["-q", "-f", "-e", "-c", &board])
        .arg(&out)
        .env("TERM", "foot")
        .env_remove("TMUX")
        .env("XDG_DATA_HOME", dir.path().join("data"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("script (bsdutils)");
    let wait_for = |what: &'static str, within: Duration| {
        let out = out.clone();
        async move {
            let deadline = Instant::now() + within;
            while Instant::now() < deadline {
                if typescript(&out).contains(what) {
                    return true;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            false
        }
    };
    assert!(wait_for("api", Duration::from_secs(15)).await, "the board drew: {}", typescript(&out));
    tokio::time::sleep(Duration::from_secs(3)).await;
    let calm = typescript(&out);
    assert!(!calm.contains('\x07') && !calm.contains("\x1b]777"), "nothing rings while nothing changes");

    up.store(false, Ordering::SeqCst);
    assert!(wait_for("\x1b]777;notify;prod board;", Duration::from_secs(15)).await, "no desktop notification");
    let rang = typescript(&out);
    let osc = rang.split("\x1b]777;notify;prod board;").nth(1).unwrap().split("\x1b\\").next().unwrap().to_string();
    assert!(osc.starts_with("✖ api CRIT:") && osc.contains("HTTP 503"), "{osc}");
    assert_eq!(rang.matches('\x07').count(), 1, "one bell");
    // Steady CRIT: nothing more.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let later = typescript(&out);
    assert_eq!((later.matches('\x07').count(), later.matches("\x1b]777").count()), (1, 1), "once per change");
    let _ = child.start_kill();
    let _ = child.wait().await;
}
