//! The public status page, the real binaries: a `serve` with `status_listen`, a failing service
//! behind one public component, a note written from an operator's attached terminal (`n`); the
//! page in headless chromium shows the public names, states and the note, and neither the page
//! nor its JSON holds any of the config's internal names, addresses or reasons. Nothing else is
//! served on that listener.

mod common;

use common::browser::{self, Browser};
use common::served::Served;
use common::tmux::Tmux;
use common::{Reply, audit, eventually, serve_with};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_opsboard");

/// A free port on 127.0.0.1 (bound, then let go).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn get(port: u16, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").unwrap();
    let mut all = String::new();
    let _ = s.read_to_string(&mut all);
    let code = all.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (code, all.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_page_shows_public_names_states_and_notes_and_nothing_internal() {
    assert!(browser::available(), "chromium is needed (scripts/test installs it)");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    // Internal names a customer must never see: services, paths, reasons, versions.
    let payments = serve_with(|_| Reply::text(503, "DOWN: pgbouncer-eu1 refused")).await;
    let frontend = serve_with(|_| Reply::json(200, r#"{"status":"UP","version":"7.4.1-rc3"}"#)).await;
    std::fs::write(dir.path().join("alice.token"), "alice-0123456789abcdef\n").unwrap();
    let status_port = free_port();
    let cfg = dir.path().join("served.toml");
    std::fs::write(
        &cfg,
        format!(
            "[board]\ntitle = \"internal-prod-board\"\n[polling]\njitter = 0.0\n\
             [defaults]\ninterval = \"300ms\"\ntimeout = \"250ms\"\nscrape = false\n\
             [services.payments-svc-eu1]\nhealth_path = \"/internal-health-x\"\ninstances = [\"{p}\"]\n\
             [services.frontend-nginx-3]\nhealth_path = \"/internal-health-x\"\ninstances = [\"{f}\"]\n\
             [serve]\nstatus_listen = \"127.0.0.1:{status_port}\"\n\
             [status]\ntitle = \"Acme status\"\ndays = 14\n\
             [[status.components]]\nname = \"Checkout\"\nservices = [\"payments-svc-eu1\"]\n\
             [[status.components]]\nname = \"Website\"\nservices = [\"frontend-nginx-3\"]\n\
             [[serve.operators]]\nname = \"alice\"\ntoken_file = \"{d}/alice.token\"\n",
            p = payments.url(""),
            f = frontend.url(""),
        ),
    )
    .unwrap();
    let server = Served::start(dir.path(), &["--config", cfg.to_str().unwrap(), "--listen", "127.0.0.1:0"], &[]);
    let url = format!("http://{}", server.addr);

    // A note from an operator's terminal, on the failing service's component.
    let h = dir.path().join("op");
    let op = Tmux::start(
        "status-op",
        120,
        30,
        &format!(
            "env XDG_CONFIG_HOME={h}/config {BIN} attach {url} --operator-token-file {d}/alice.token --log-file {h}.log; sleep 30",
            h = h.display()
        ),
    );
    op.wait_for("the failing service first", |s| {
        s.lines().find(|l| l.contains("payments-svc-eu1")).is_some_and(|l| l.contains("CRIT"))
    });
    op.keys(&["n"]);
    op.wait_for("the note dialog", |s| s.contains("status page · Checkout"));
    op.text("We are looking into failed payments");
    op.keys(&["Enter"]);
    op.wait_for("the note posted", |s| s.contains("Checkout: note on the status page"));
    let note = audit(dir.path()).into_iter().find(|r| r["phase"] == "status note").expect("the note is audited");
    assert_eq!((note["user"].as_str(), note["item"].as_str()), (Some("alice"), Some("component Checkout")), "{note}");

    // The page in chromium: public names, their states in customers' words, the note.
    let browser = Browser::start(1024, 900);
    let mut tab = browser.open(&format!("http://127.0.0.1:{status_port}/status"));
    assert!(
        tab.wait_for("document.body && document.body.innerText.includes('failed payments')", Duration::from_secs(30)),
        "the page never showed the note: {}",
        tab.eval("document.body ? document.body.innerText : ''")
    );
    let text = tab.eval("document.body.innerText").as_str().unwrap_or_default().to_string();
    let html = tab.eval("document.documentElement.outerHTML").as_str().unwrap_or_default().to_string();
    for public in ["Acme status", "Checkout", "Website", "Major outage", "Operational"] {
        assert!(text.contains(public), "`{public}` is on the page:\n{text}");
    }
    let strip = tab.eval("document.querySelectorAll('ol.days')[0].children.length");
    assert_eq!(strip.as_u64(), Some(14), "a strip of 14 days");
    let (code, json) = get(status_port, "/status.json");
    assert_eq!(code, 200);
    let page: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(page["components"][0]["status"], "major_outage", "{page}");
    assert_eq!(page["components"][1]["status"], "operational", "{page}");

    // Today is in the strip once the collector has counted a few seconds of it.
    eventually(Duration::from_secs(20), "today's outage minutes", || {
        let (_, json) = get(status_port, "/status.json");
        let page: serde_json::Value = serde_json::from_str(&json).ok()?;
        let today = page["components"][0]["days"].as_array()?.last()?.clone();
        (today["status"] == "major_outage" && today["outage_min"].as_u64()? >= 1).then_some(())
    });

    // Nothing internal, in the page or its JSON.
    let internal = [
        "payments-svc-eu1",
        "frontend-nginx-3",
        "internal-health-x",
        "internal-prod-board",
        "pgbouncer",
        "HTTP 503",
        "DOWN",
        "7.4.1",
        "alice",
        &payments.url(""),
        &frontend.url(""),
        &format!(":{}", server.port()),
    ];
    for secret in internal {
        assert!(!html.contains(secret), "`{secret}` is on the page:\n{html}");
        assert!(!json.contains(secret), "`{secret}` is in /status.json:\n{json}");
    }

    // Nothing else is served on that listener, and no token is asked.
    for path in ["/api/state", "/metrics", "/events", "/attach", "/healthz", "/api/frame.txt"] {
        let (code, body) = get(status_port, path);
        assert_eq!(code, 404, "{path} on the status listener: {body}");
        assert!(!body.contains("payments"), "{path}: {body}");
    }
}
