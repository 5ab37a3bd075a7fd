//! Error budgets from a real app's counters: `opsboard serve` on loopback scrapes an app whose
//! requests fail at 0.05 %; against 99.9 % that spends half the budget; the budget is in
//! /api/state and /metrics; the store survives a kill -9 of the process, and the budget read
//! after the restart is the one read before it. A bad objective is a config error.

mod common;

use common::browser;
use common::served::Served;
use common::{Reply, eventually, serve_with};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

#[test]
fn an_objective_that_is_no_share_or_a_window_too_long_is_named() {
    for (slo, words) in [
        ("{ objective = \"100%\" }", "not a share between 0 and 1"),
        ("{ objective = \"high\" }", "is not a share"),
        ("{ objective = 0.999, window = \"365d\" }", "from 1h to 90d"),
    ] {
        let err = common::rejected(&format!("[services.api]\ninstances = [\"http://127.0.0.1:1\"]\nslo = {slo}\n"));
        assert_eq!((err.line, err.key.as_deref()), (Some(3), Some("services.api.slo")), "{err}");
        assert!(err.to_string().contains(words), "{err}");
    }
}

/// An app whose counters grow by 2,000 requests and one 5xx at each scrape, until frozen.
async fn app(frozen: Arc<AtomicBool>) -> common::TestServer {
    app_failing(frozen, 1).await
}

/// An app whose counters grow by 2,000 requests, `bad` of them 5xx, at each scrape.
async fn app_failing(frozen: Arc<AtomicBool>, bad: u64) -> common::TestServer {
    let scrapes = Arc::new(AtomicU64::new(0));
    serve_with(move |head: &str| {
        if !common::path_of(head).starts_with("/metrics") {
            return Reply::text(200, "OK");
        }
        let n = if frozen.load(Ordering::SeqCst) {
            scrapes.load(Ordering::SeqCst)
        } else {
            scrapes.fetch_add(1, Ordering::SeqCst) + 1
        };
        Reply::text(
            200,
            &format!(
                "# TYPE http_requests_total counter\n\
                 http_requests_total{{code=\"200\"}} {}\nhttp_requests_total{{code=\"500\"}} {}\n",
                n * (2000 - bad),
                n * bad
            ),
        )
    })
    .await
}

fn fleet_config(dir: &std::path::Path, app: &common::TestServer) -> std::path::PathBuf {
    let cfg = dir.join("board.toml");
    std::fs::write(
        &cfg,
        format!(
            "[polling]\njitter = 0.0\n[defaults]\ninterval = \"300ms\"\ntimeout = \"250ms\"\n\
             [services.api]\ninstances = [\"{app}\"]\nslo = {{ objective = \"99.9%\", window = \"30d\" }}\n\
             [services.web]\ninstances = [\"{app}\"]\n",
            app = app.url("")
        ),
    )
    .unwrap();
    cfg
}

/// `opsboard check --gate …` with an empty data dir: its exit code and output.
fn gate(dir: &std::path::Path, cfg: &std::path::Path, extra: &[&str]) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_opsboard"))
        .args(["check", "--gate", "--config"])
        .arg(cfg)
        .args(extra)
        .env("XDG_DATA_HOME", dir.join("ci-data"))
        .env("XDG_CONFIG_HOME", dir.join("ci-config"))
        .output()
        .unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gate_asks_the_running_board_and_without_one_says_budgets_are_unknown() {
    let dir = tempfile::tempdir().unwrap();
    // 20 % of requests failing: 200× the budget's pace; the board's 1h burn is far over 1.
    let burning = app_failing(Arc::new(AtomicBool::new(false)), 400).await;
    let cfg = fleet_config(dir.path(), &burning);
    let args = ["--config", cfg.to_str().unwrap(), "--listen", "127.0.0.1:0"];
    let server = Served::start(dir.path(), &args, &[]);
    let url = format!("http://{}", server.addr);
    eventually(Duration::from_secs(20), "a burning budget", || {
        budget(server.port())["burn"]["1h"].as_f64().filter(|b| *b > 100.0)
    });
    let (code, out) = gate(dir.path(), &cfg, &["--server", &url]);
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("gate: FAIL") && out.contains("api burns its error budget") && out.contains(&url), "{out}");
    let (code, json) = gate(dir.path(), &cfg, &["--server", &url, "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        (code, &v["pass"], &v["budgets"]["from"]),
        (1, &serde_json::json!(false), &serde_json::json!("server")),
        "{v}"
    );
    drop(server);

    // A healthy fleet (0.05 % failing: half the budget's pace) passes.
    let dir = tempfile::tempdir().unwrap();
    let healthy = app(Arc::new(AtomicBool::new(false))).await;
    let cfg = fleet_config(dir.path(), &healthy);
    let args = ["--config", cfg.to_str().unwrap(), "--listen", "127.0.0.1:0"];
    let server = Served::start(dir.path(), &args, &[]);
    let url = format!("http://{}", server.addr);
    eventually(Duration::from_secs(20), "a budget", || budget(server.port())["burn"]["1h"].as_f64());
    let (code, out) = gate(dir.path(), &cfg, &["--server", &url]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("gate: pass"), "{out}");

    // No server and no store: judged on what is seen now, and it says budgets are unknown.
    drop(server);
    let (code, out) = gate(dir.path(), &cfg, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("budgets are unknown"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_board_that_quits_writes_what_it_counted_since_the_last_write() {
    use opsboard::collector::Collector;
    use opsboard::store::budgets::BudgetStore;
    use std::time::SystemTime;
    // Collectors of this process keep their counts in this binary's own data dir.
    common::own_data_dir();
    let store = opsboard::store::data_dir().unwrap().join("budgets.redb");
    let _ = std::fs::remove_file(&store);
    let dir = tempfile::tempdir().unwrap();
    let text = "[defaults]\ninterval = \"1h\"\nwindow = \"1h\"\n[services.api]\ninstances = [\"http://127.0.0.1:1\"]\n";
    let loaded = Arc::new(opsboard::config::load_str("quit.toml", text).unwrap());
    let mut c = Collector::start(&loaded, opsboard::history::DeployHistory::new(dir.path().join("deploys.jsonl")));
    // The first tick starts the count; the second counts a second and writes; three more
    // count three seconds that no write has taken when the board quits.
    let t0 = SystemTime::now();
    for s in 0..5 {
        c.tick(t0 + Duration::from_secs(s));
    }
    drop(c);
    let [requests, checks] = BudgetStore::read(&store, &["api"]).unwrap().remove(0);
    let seen = |rows: &opsboard::store::budgets::Rows| rows.hours.iter().map(|(_, r)| r.2).sum::<u32>();
    assert_eq!((seen(&requests), seen(&checks)), (4, 4), "every second seen is written, the last three on the way out");
    assert!(requests.minutes.is_empty(), "no minutes kept for a service without an objective");
}

fn budget(port: u16) -> serde_json::Value {
    service(port, 0)["budget"].clone()
}

fn service(port: u16, si: usize) -> serde_json::Value {
    let state: serde_json::Value = serde_json::from_str(&browser::http("GET", port, "/api/state")).unwrap();
    state["services"][si].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_budget_survives_a_kill_and_reads_the_same_after_the_restart() {
    let dir = tempfile::tempdir().unwrap();
    let frozen = Arc::new(AtomicBool::new(false));
    let app = app(frozen.clone()).await;
    let cfg = fleet_config(dir.path(), &app);
    let args = ["--config", cfg.to_str().unwrap(), "--listen", "127.0.0.1:0"];
    let server = Served::start(dir.path(), &args, &[]);
    let port = server.port();
    // Counted on requests: one in 2,000 failing is half of a 0.1 % budget.
    let first = eventually(Duration::from_secs(20), "a budget on requests", || {
        let b = budget(port);
        (b["basis"] == "requests" && b["left"].is_number()).then_some(b)
    });
    assert!((first["left"].as_f64().unwrap() - 0.5).abs() < 0.01, "{first}");
    assert_eq!(first["objective"], 0.999);
    // Availability over 24h, of the service with the objective and of the one without: one
    // request in 2,000 failed; every check passed.
    for si in 0..2 {
        let all = service(port, si)["availability"].clone();
        let day = &all[0];
        assert_eq!(day["window"], "24h", "{all}");
        assert!((day["requests"].as_f64().unwrap() - 0.9995).abs() < 1e-6, "{all}");
        assert_eq!(day["checks"], 1.0, "{all}");
        assert!(day["coverage"].as_f64().unwrap() > 0.0, "{all}");
    }
    assert!(service(port, 1)["budget"].is_null(), "web has no objective");
    let metrics = browser::http("GET", port, "/metrics");
    assert!(metrics.contains("opsboard_slo_budget_remaining_ratio{service=\"api\""), "{metrics}");
    let burn = metrics
        .lines()
        .find(|l| l.starts_with("opsboard_slo_burn_rate{service=\"api\"") && l.contains("window=\"5m\""));
    assert!(burn.is_some_and(|l| l.ends_with(" 0.5")), "{metrics}");
    let web_day = metrics.lines().find(|l| {
        l.starts_with("opsboard_service_availability_ratio{service=\"web\"")
            && l.contains("window=\"24h\"")
            && l.contains("of=\"requests\"")
    });
    assert!(web_day.is_some_and(|l| l.ends_with(" 0.9995")), "{metrics}");

    // The counters stop; once the count holds and the store has had time to flush (every 5 s),
    // the process is killed (-9).
    frozen.store(true, Ordering::SeqCst);
    let mut last = budget(port)["events"].clone();
    eventually(Duration::from_secs(10), "the count to hold", || {
        std::thread::sleep(Duration::from_secs(1));
        let now = budget(port)["events"].clone();
        let held = now == last;
        last = now;
        held.then_some(())
    });
    std::thread::sleep(Duration::from_secs(7));
    let before = budget(port);
    let web_before = service(port, 1);
    drop(server);
    assert!(dir.path().join("data/opsboard/budgets.redb").exists());

    let server = Served::start(dir.path(), &args, &[]);
    let after = budget(server.port());
    assert_eq!(after["left"], before["left"], "before {before}, after {after}");
    // The service without an objective kept its counts too: its month's availability.
    let month = |v: serde_json::Value| v["availability"][2]["requests"].clone();
    assert_eq!(month(service(server.port(), 1)), month(web_before.clone()), "{web_before}");
    assert_eq!(after["events"], before["events"], "every request counted is still there: {before} {after}");
    assert_eq!(after["basis"], "requests");
    // The time seen since the last flush is what a kill loses: at most the 5 s between flushes
    // and a tick (the new board may have seen a second of its own by the read).
    let seen = |b: &serde_json::Value| b["seen_s"].as_u64().unwrap();
    assert!(seen(&after) <= seen(&before) + 1 && seen(&after) + 7 >= seen(&before), "{before} {after}");

    // On this machine, without --server, the gate reads the store: beside the running board,
    // and once it is gone (killed again, the file left to repair).
    let local_gate = || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_opsboard"))
            .args(["check", "--gate", "--json", "--config"])
            .arg(&cfg)
            .env("XDG_DATA_HOME", dir.path().join("data"))
            .env("XDG_CONFIG_HOME", dir.path().join("config"))
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["budgets"]["from"], "local_store", "{v}");
        assert_eq!(v["services"][0]["left"], before["left"], "{v}");
        assert_eq!(out.status.code(), Some(0), "{v}");
    };
    local_gate();
    drop(server);
    local_gate();
}
