//! Causes before symptoms (`depends_on`): the config refuses unknown names and cycles where they
//! are written; a failing cause blocks its failing dependents in the state, the rows, the header,
//! the counts, `check --json` and `/metrics`; and the real board, on loopback servers, sends one
//! notification for the cause, then one for a dependent still failing once the cause is back.

mod common;

use common::fixtures::{failed, health, now, ok};
use common::tmux::Tmux;
use common::{Reply, TestServer, eventually, receiver, rejected, serve_with};
use opsboard::config;
use opsboard::state::{ProbeError, State, Status};
use opsboard::ui::{self, Look, view::View};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

const BIN: &str = env!("CARGO_BIN_EXE_opsboard");

fn service(name: &str, port: u16, extra: &str) -> String {
    format!("[services.{name}]\ninstances = [\"http://127.0.0.1:{port}\"]\n{extra}\n")
}

#[test]
fn an_unknown_name_a_wrong_kind_and_a_cycle_are_refused_with_file_line_and_key() {
    let unknown = service("web", 1, "depends_on = [\"orders-db\"]");
    let err = rejected(&unknown);
    assert_eq!((err.line, err.key.as_deref()), (Some(3), Some("services.web.depends_on")), "{err}");
    assert!(err.to_string().contains("`orders-db` names service `orders-db`, which is not in [services]"), "{err}");

    let queue = service("web", 1, "depends_on = [\"queue:emails\"]");
    let err = rejected(&queue);
    assert_eq!(err.key.as_deref(), Some("services.web.depends_on"), "{err}");
    assert!(err.to_string().contains("queue `emails`"), "{err}");

    let kind = service("web", 1, "depends_on = [\"lambda:resize\"]");
    assert!(rejected(&kind).to_string().contains("`lambda` is not a kind of item"));

    let own = service("web", 1, "depends_on = [\"web\"]");
    assert!(rejected(&own).to_string().contains("`web` depends on itself"));

    let cycle = [
        service("web", 1, "depends_on = [\"api\"]"),
        service("api", 2, "depends_on = [\"db\"]"),
        service("db", 3, "depends_on = [\"web\"]"),
    ]
    .concat();
    let err = rejected(&cycle);
    assert_eq!((err.line, err.key.as_deref()), (Some(3), Some("services.web.depends_on")), "{err}");
    assert!(err.to_string().contains("a cycle: web → api → db → web"), "{err}");
}

#[test]
fn the_wait_defaults_to_the_time_the_slowest_cause_takes_to_be_judged_down() {
    let text = [
        service("db", 1, "interval = \"10s\"\ntimeout = \"1s\""),
        service("cache", 2, "interval = \"3s\"\ntimeout = \"1s\"\nunhealthy_after = 3"),
        service("web", 3, "interval = \"2s\"\ntimeout = \"1s\"\ndepends_on = [\"db\", \"cache\"]"),
        service("api", 4, "depends_on = [\"db\"]\ndependency_wait = \"45s\""),
    ]
    .concat();
    let loaded = config::load_str("wait.toml", &text).unwrap();
    let spec = |n: &str| loaded.fleet.services.iter().find(|s| s.name == n).unwrap();
    // Two failed checks 10 s apart and a timeout; the cache's three 3 s checks take less.
    assert_eq!(spec("web").dependency_wait, Duration::from_secs(21));
    assert_eq!(spec("api").dependency_wait, Duration::from_secs(45));
    assert_eq!(spec("db").dependency_wait, Duration::ZERO);
}

/// orders-db and four services that need it (one through another), all checked at `at`.
fn fleet() -> State {
    let text = [
        service("orders-db", 1, ""),
        service("web", 2, "depends_on = [\"api\"]"),
        service("api", 3, "depends_on = [\"orders-db\"]"),
        service("cart", 4, "depends_on = [\"orders-db\"]"),
        service("search", 5, "depends_on = [\"orders-db\"]"),
        service("docs", 6, ""),
    ]
    .concat();
    let loaded = config::load_str("fleet.toml", &text).unwrap();
    State::new(&loaded.fleet, 120, 3)
}

fn check_all(state: &mut State, at: SystemTime, up: impl Fn(&str) -> bool) {
    for si in 0..state.services.len() {
        let name = state.services[si].name.to_string();
        // Twice: `unhealthy_after` is 2.
        for k in 0..2 {
            let t = at + Duration::from_millis(100 * k);
            let sample = if up(&name) { ok(t, 20) } else { failed(t, ProbeError::Refused) };
            state.apply(health(state, si, 0, sample));
        }
    }
}

#[test]
fn a_failing_cause_blocks_its_failing_dependents_and_counts_once() {
    let mut state = fleet();
    let t = now();
    check_all(&mut state, t, |_| true);
    assert!(state.verdicts(t + Duration::from_secs(1)).blocking.causes.is_empty());

    // The database is down and everything behind it fails; docs does not depend on it.
    check_all(&mut state, t + Duration::from_secs(5), |n| n == "docs");
    let at = t + Duration::from_secs(6);
    let v = state.verdicts(at);
    let pos = |n: &str| state.services.iter().position(|s| &*s.name == n).unwrap();
    assert_eq!(v.blocking.causes.len(), 1, "{:?}", v.blocking.causes);
    let cause = &v.blocking.causes[0];
    assert_eq!(cause.headline(), "orders-db CRIT — 4 services behind it");
    // web is behind api, which is behind the database: the first failure in the chain is named.
    assert_eq!(v.blocking.label(pos("web")).as_deref(), Some("blocked by orders-db"));
    assert_eq!(v.blocking.label(pos("orders-db")), None);
    assert_eq!(v.blocking.label(pos("docs")), None, "not failing, not blocked");
    // Counted once: the database's CRIT; the four are not counted.
    assert_eq!((v.service_tally.crit, v.service_tally.ok), (1, 1), "{:?}", v.service_tally);
    assert_eq!(v.items[0].name, "orders-db", "the cause first");
    // The state stays the state; the reason stays the service's own.
    assert_eq!(state.service_verdict(pos("cart"), at).status, Status::Crit);
    let report = opsboard::report::report(&state, at);
    let cart = report.services.iter().find(|s| s.name == "cart").unwrap();
    assert_eq!((cart.status, cart.blocked_by.as_slice()), (Status::Crit, &["orders-db".to_string()][..]));
    assert!(cart.reason.contains("refused"), "{}", cart.reason);
    assert_eq!(report.causes[0].behind, ["web", "api", "cart", "search"]);
    assert_eq!(report.status, Status::Crit);

    // A row per dependent says so, after the state; the header names the cause.
    let look = Look {
        title: "prod".into(),
        theme: ui::theme::Theme::default(),
        utc_offset_secs: 0,
        read_only: false,
        started_at: t,
        note: None,
    };
    let view = View::default();
    let buffer = ui::render_to_buffer(&ui::Scene::new(&state, &view, &look, at), 140, 20);
    let screen = opsboard::snapshot::text(&buffer);
    let lines: Vec<&str> = screen.lines().collect();
    assert!(lines[0].contains("orders-db CRIT — 4 services behind it"), "{screen}");
    for name in ["web", "api", "cart", "search"] {
        let row = lines.iter().find(|l| l.contains(&format!(" {name} "))).unwrap();
        assert!(row.contains("CRIT") && row.contains("blocked by orders-db"), "{name}: {screen}");
    }
    let db_row = lines.iter().position(|l| l.contains("orders-db") && !l.contains("blocked")).unwrap();
    let first_blocked = lines.iter().position(|l| l.contains("blocked by")).unwrap();
    assert!(db_row < first_blocked, "the cause's row before the rows behind it: {screen}");

    // The database is back; cart still fails, on its own now.
    check_all(&mut state, t + Duration::from_secs(10), |n| n != "cart");
    let v = state.verdicts(t + Duration::from_secs(11));
    assert!(v.blocking.causes.is_empty());
    assert_eq!((v.service_tally.crit, v.service_tally.ok), (1, 5));
    assert_eq!(v.items[0].name, "cart");
}

/// A health endpoint that is up while `up` holds.
async fn switchable(flags: Vec<Arc<AtomicBool>>) -> TestServer {
    let reply = move |_: &str| {
        if flags.iter().all(|f| f.load(Ordering::SeqCst)) { Reply::text(200, "OK") } else { Reply::text(503, "DOWN") }
    };
    serve_with(reply).await
}

fn board(dir: &Path, config: &Path) -> String {
    format!(
        "env XDG_DATA_HOME={d}/data {BIN} --config {c} --log-file {d}/log; sleep 30",
        d = dir.display(),
        c = config.display()
    )
}

/// Each change received, as `name state` and the title of the message it came in.
fn sent(bodies: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for b in bodies {
        let v: serde_json::Value = serde_json::from_str(b).unwrap_or_default();
        for c in v["changes"].as_array().cloned().unwrap_or_default() {
            let (name, state) = (c["name"].as_str().unwrap_or(""), c["state"].as_str().unwrap_or(""));
            out.push(format!("{name} {state} {}", v["title"].as_str().unwrap_or("")));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_board_sends_the_cause_once_and_a_dependent_still_failing_after_it_on_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let db_up = Arc::new(AtomicBool::new(true));
    let cart_up = Arc::new(AtomicBool::new(true));
    let db = switchable(vec![db_up.clone()]).await;
    let mut text = String::from("[polling]\njitter = 0.0\n[defaults]\nscrape = false\ntimeout = \"1s\"\n");
    text.push_str(&format!("[services.orders-db]\ninterval = \"10s\"\ninstances = [\"{}\"]\n", db.url("/health")));
    let mut servers = Vec::new();
    for name in ["web", "api", "cart", "search"] {
        let mut flags = vec![db_up.clone()];
        if name == "cart" {
            flags.push(cart_up.clone());
        }
        let s = switchable(flags).await;
        text.push_str(&format!(
            "[services.{name}]\ninterval = \"2s\"\ndepends_on = [\"orders-db\"]\ninstances = [\"{}\"]\n",
            s.url("/health")
        ));
        servers.push(s);
    }
    let hook = receiver::start(&[], false).await;
    text.push_str(&format!(
        "[[notify]]\nurl = \"{}\"\nformat = \"json\"\ngroup_wait = \"0s\"\ncooldown = \"0s\"\n",
        hook.url()
    ));
    let cfg = dir.path().join("board.toml");
    std::fs::write(&cfg, &text).unwrap();
    let tmux = Tmux::start("dependencies", 140, 30, &board(dir.path(), &cfg));
    tmux.wait_for("all OK", |s| {
        ["orders-db", "web", "api", "cart", "search"]
            .iter()
            .all(|n| s.lines().any(|l| l.contains(&format!(" {n} ")) && l.contains("OK")))
    });

    // The database goes down: the dependents, checked every 2 s, fail first; they wait for it.
    db_up.store(false, Ordering::SeqCst);
    let screen = tmux.wait_for("four rows blocked by the database", |s| {
        s.lines().filter(|l| l.contains("blocked by orders-db")).count() == 4
    });
    assert!(screen.lines().next().unwrap().contains("orders-db CRIT — 4 services behind it"), "{screen}");
    let told = eventually(Duration::from_secs(10), "the cause's notification", || {
        let s = sent(&hook.bodies());
        (!s.is_empty()).then_some(s)
    });
    // A while longer than any dependent's wait: still the one notification.
    std::thread::sleep(Duration::from_secs(5));
    let told_now = sent(&hook.bodies());
    assert_eq!(told_now.len(), 1, "one notification, for the database: {told_now:?}");
    assert!(told[0].starts_with("orders-db crit") && told[0].contains("4 services behind it"), "{told:?}");

    // Back, while cart still fails: cart is judged on its own and notifies at once.
    cart_up.store(false, Ordering::SeqCst);
    db_up.store(true, Ordering::SeqCst);
    let after = eventually(Duration::from_secs(40), "the database back and cart on its own", || {
        let s = sent(&hook.bodies());
        (s.iter().any(|l| l.starts_with("orders-db ok")) && s.iter().any(|l| l.starts_with("cart crit"))).then_some(s)
    });
    let names: Vec<&str> = after.iter().map(|l| l.split(' ').next().unwrap()).collect();
    assert!(!names.iter().any(|n| ["web", "api", "search"].contains(n)), "the others were never told: {after:?}");
    let screen = tmux.wait_for("cart alone", |s| {
        s.lines().any(|l| l.contains(" cart ") && l.contains("CRIT")) && !s.contains("blocked by")
    });
    drop(screen);
    drop(servers);
}
