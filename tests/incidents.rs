//! Taking an incident, the real binaries: one `serve` with an operator, two attached terminals
//! in tmux, the web page in headless chromium and a webhook receiver. An operator takes a failing
//! service; every screen says who is on it, /api/state and /metrics too; the notification names
//! them; the `repeat` destination's reminders stop once it is taken; it ends when the service is
//! OK again, and the audit log has both.

mod common;

use common::browser::{self, Browser};
use common::served::Served;
use common::tmux::Tmux;
use common::{audit, eventually, receiver, switchable};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_opsboard");

fn attached(dir: &Path, name: &str, url: &str, extra: &str) -> Tmux {
    let h = dir.join(name);
    let command = format!(
        "env XDG_CONFIG_HOME={h}/config XDG_DATA_HOME={h}/data {BIN} attach {url} {extra} --log-file {h}.log; sleep 30",
        h = h.display()
    );
    Tmux::start(name, 120, 30, &command)
}

/// The lines of the receiver's bodies that are reminders (`still CRIT after …`).
fn reminders(bodies: &[String]) -> usize {
    bodies.iter().filter(|b| b.contains("still CRIT after")).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incident_taken_on_one_terminal_shows_everywhere_stops_reminders_and_ends_on_recovery() {
    assert!(browser::available(), "chromium is needed (scripts/test installs it)");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let (db, db_up) = switchable().await;
    let (web, _) = switchable().await;
    let hook = receiver::start(&[], false).await;
    std::fs::write(dir.path().join("alice.token"), "alice-0123456789abcdef\n").unwrap();
    let cfg = dir.path().join("served.toml");
    std::fs::write(
        &cfg,
        format!(
            "[polling]\njitter = 0.0\n\
             [defaults]\ninterval = \"300ms\"\ntimeout = \"250ms\"\nscrape = false\n\
             [services.orders-db]\ninstances = [\"{db}\"]\n\
             [services.web]\ninstances = [\"{web}\"]\n\
             [[notify]]\nurl = \"{hook}\"\nformat = \"json\"\ngroup_wait = \"0s\"\ncooldown = \"10m\"\nrepeat = \"2s\"\n\
             [[serve.operators]]\nname = \"alice\"\ntoken_file = \"{d}/alice.token\"\n",
            db = db.url("/health"),
            web = web.url("/health"),
            hook = hook.url(),
        ),
    )
    .unwrap();
    let server = Served::start(dir.path(), &["--config", cfg.to_str().unwrap(), "--listen", "127.0.0.1:0"], &[]);
    let url = format!("http://{}", server.addr);
    let op = attached(dir.path(), "op", &url, &format!("--operator-token-file {d}/alice.token"));
    let plain = attached(dir.path(), "plain", &url, "");
    let checked = |s: &str| ["orders-db", "web"].iter().all(|n| s.lines().any(|l| l.contains(n) && l.contains("OK")));
    op.wait_for("the operator's board", |s| checked(s) && s.contains("[operator alice]"));
    plain.wait_for("the plain board", |s| s.contains("orders-db") && s.contains("web"));

    // Nothing to take while it is OK.
    op.keys(&["a"]);
    op.wait_for("the refusal", |s| s.contains("is OK: nothing to take"));

    // The database goes down: told once, then reminded every 2 s while nobody has it.
    db_up.store(false, Ordering::SeqCst);
    eventually(Duration::from_secs(20), "two reminders", || (reminders(&hook.bodies()) >= 2).then_some(()));
    let first = &hook.bodies()[0];
    assert!(first.contains("✖ orders-db CRIT") && !first.contains("still"), "the first message is the change: {first}");

    // A plain terminal may not take it; the operator's may, with a note.
    plain.keys(&["a"]);
    plain.wait_for("the plain refusal", |s| s.contains("taking incidents is off: this terminal has no operator token"));
    op.keys(&["a"]);
    op.wait_for("the dialog", |s| s.contains("take · orders-db") && s.contains("take it"));
    op.text("looking at the DB");
    op.keys(&["Enter"]);
    op.wait_for("the operator's row", |s| s.contains("taken by alice"));
    plain.wait_for("the other terminal's row", |s| s.contains("orders-db") && s.contains("taken by alice"));

    // /api/state and /metrics say who.
    let state: serde_json::Value = serde_json::from_str(&browser::http("GET", server.port(), "/api/state")).unwrap();
    let taken = &state["taken"][0];
    assert_eq!((taken["item"].as_str(), taken["who"].as_str()), (Some("service orders-db"), Some("alice")), "{state}");
    assert_eq!(taken["note"], "looking at the DB");
    let metrics = browser::http("GET", server.port(), "/metrics");
    assert!(metrics.contains(r#"opsboard_taken{kind="service",name="orders-db",by="alice"} 1"#), "{metrics}");

    // The web page, in chromium.
    let browser = Browser::start(1280, 720);
    let mut tab = browser.open(&url);
    assert!(
        tab.wait_for("document.getElementById('screen').innerText.includes('taken by alice')", Duration::from_secs(30)),
        "the page never said who took it: {}",
        tab.eval("document.body.innerText")
    );

    // The destination was told who is on it, and is reminded no more.
    let notice = eventually(Duration::from_secs(10), "the taken notice", || {
        hook.bodies().into_iter().find(|b| b.contains("taken by alice"))
    });
    assert!(notice.contains("☝ orders-db CRIT taken by alice — looking at the DB"), "{notice}");
    let reminded = reminders(&hook.bodies());
    let quiet = Instant::now();
    while quiet.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(250));
        assert_eq!(reminders(&hook.bodies()), reminded, "a reminder after the take: {:?}", hook.bodies());
    }

    // Back: the recovery names who was on it, and the incident ends by itself, everywhere.
    db_up.store(true, Ordering::SeqCst);
    let ok = eventually(Duration::from_secs(20), "the recovery", || {
        hook.bodies().into_iter().find(|b| b.contains("✔ orders-db OK"))
    });
    assert!(ok.contains("taken by alice"), "the recovery names who was on it: {ok}");
    plain.wait_for("the row without it", |s| s.contains("orders-db") && !s.contains("taken by"));
    eventually(Duration::from_secs(10), "no incident in /api/state", || {
        let state: serde_json::Value =
            serde_json::from_str(&browser::http("GET", server.port(), "/api/state")).unwrap_or_default();
        state["taken"].as_array().is_some_and(|t| t.is_empty()).then_some(())
    });

    // The audit log: taken by alice from her terminal, over when it was OK again.
    let records = audit(dir.path());
    let take = records.iter().find(|r| r["phase"] == "take").expect("a take record");
    assert_eq!((take["user"].as_str(), take["item"].as_str()), (Some("alice"), Some("service orders-db")), "{take}");
    assert!(take["terminal"].as_str().is_some_and(|t| t.starts_with("127.0.0.1:")), "{take}");
    let over = records.iter().find(|r| r["phase"] == "over").expect("an over record");
    assert_eq!(over["note"], "OK again; taken by alice", "{over}");
}
