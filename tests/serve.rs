//! `opsboard serve`, the real binary: the page in a real browser (headless chromium), its stale
//! alarm, /api/state, /metrics (parsed, and checked by promtool), the token, and secrets.

mod common;

use common::browser::{self, Browser};
use common::served::Served;
use common::{Reply, serve as serve_reply};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_opsboard");

/// A raw GET with extra header lines; status code, headers and body.
fn get(addr: SocketAddr, path: &str, headers: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n{headers}\r\n").unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let raw = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let code = head.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (code, head.to_string(), body.to_string())
}

/// The first event of the live stream (the whole frame), read until its blank line.
fn first_event(addr: SocketAddr, path: &str, headers: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}\r\n").unwrap();
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let Ok(n) = s.read(&mut buf) else { break };
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&raw);
        if let Some((_, body)) = text.split_once("\r\n\r\n")
            && (body.contains("\n\n") || text.starts_with("HTTP/1.1 401"))
        {
            break;
        }
    }
    let text = String::from_utf8_lossy(&raw).to_string();
    let code = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (code, text)
}

fn lines_trimmed(s: &str) -> Vec<String> {
    let mut v: Vec<String> = s.lines().map(|l| l.trim_end().to_string()).collect();
    while v.last().is_some_and(String::is_empty) {
        v.pop();
    }
    v
}

#[test]
fn the_page_in_chromium_equals_the_text_snapshot_and_raises_its_stale_alarm() {
    assert!(browser::available(), "chromium is needed (scripts/test installs it)");
    let dir = tempfile::tempdir().unwrap();
    let server = Served::start(dir.path(), &["--demo", "--listen", "127.0.0.1:0"], &[]);
    let port = server.port();
    let browser = Browser::start(1280, 720);
    // Sized by the window: no cols/rows in the address.
    let mut tab = browser.open(&format!("http://127.0.0.1:{port}/"));
    assert!(
        tab.wait_for(
            "document.body.dataset.offline === '0' && document.getElementById('screen').innerText.includes('services')",
            Duration::from_secs(30)
        ),
        "the page never showed the board: {}",
        tab.eval("document.body.innerText")
    );

    // The page's text is the frame as `snapshot --format text` writes it, at the same size. The
    // board changes every second or so: take the page, the server's frame, the page again, and
    // compare when the page held still.
    let size = tab.eval("document.body.dataset.size");
    let (cols, rows) = size.as_str().and_then(|s| s.split_once('x')).expect("the page's size");
    let (cols, rows): (usize, usize) = (cols.parse().unwrap(), rows.parse().unwrap());
    assert!((100..=160).contains(&cols) && (25..=45).contains(&rows), "1280x720 at 18px: {cols}x{rows}");
    let page_text = "Array.from(document.getElementById('screen').children).map(r => r.textContent).join('\\n')";
    let mut last = (Vec::new(), Vec::new());
    let matched = (0..20).any(|_| {
        let before = lines_trimmed(tab.eval(page_text).as_str().unwrap_or_default());
        let frame = lines_trimmed(&browser::http("GET", port, &format!("/api/frame.txt?cols={cols}&rows={rows}")));
        let after = lines_trimmed(tab.eval(page_text).as_str().unwrap_or_default());
        let same = before == after && after == frame;
        last = (after, frame);
        if !same {
            std::thread::sleep(Duration::from_millis(150));
        }
        same
    });
    assert!(matched, "page and frame differ:\n--- page\n{}\n--- frame\n{}", last.0.join("\n"), last.1.join("\n"));
    assert_eq!(last.1.len(), rows, "every row of the frame");
    assert!(last.0.iter().any(|l| l.contains("page 1/")), "the wall's pages: {}", last.0.join("\n"));

    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("web-wall.png");
    tab.screenshot(&shot);
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000, "a real picture");

    // The server stops: within two heartbeats (5 s each) the page says so over the last frame.
    drop(server);
    assert!(
        tab.wait_for("document.body.dataset.offline === '1'", Duration::from_secs(20)),
        "no stale banner after the server stopped"
    );
    let banner = tab.eval("document.getElementById('offline').innerText");
    assert!(banner.as_str().unwrap_or_default().contains("board offline for"), "{banner}");
    assert!(tab.eval(page_text).as_str().unwrap_or_default().contains("services"), "the last frame stays under it");

    // It comes back on the same address: the page reconnects by itself and the banner goes.
    let _again = Served::start(dir.path(), &["--demo", "--listen", &format!("127.0.0.1:{port}")], &[]);
    assert!(
        tab.wait_for("document.body.dataset.offline === '0'", Duration::from_secs(30)),
        "the page did not reconnect: {}",
        tab.eval("document.getElementById('offline').innerText")
    );
}

const HEADER_SECRET: &str = "hdr-s3cret-value";
const URL_PASSWORD: &str = "pa55word";
const TOKEN: &str = "t0ken-for-the-wall";

fn secret_config(dir: &Path, health: SocketAddr, metrics: SocketAddr) -> PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        format!(
            r#"
[polling]
jitter = 0.0

[serve]
listen = "0.0.0.0:0"
token = "${{OPSBOARD_TOKEN}}"

[services.api]
env = "prod"
interval = "1s"
timeout = "1s"
headers = {{ Authorization = "Bearer {HEADER_SECRET}" }}
instances = ["http://user:{URL_PASSWORD}@{health}", {{ url = "http://{metrics}", name = "api-b" }}]

[environments.prod]
label = "PROD"
"#
        ),
    )
    .unwrap();
    path
}

fn assert_no_secret(what: &str, text: &str) {
    for s in [HEADER_SECRET, URL_PASSWORD, TOKEN] {
        assert!(!text.contains(s), "{what} shows the secret `{s}`:\n{text}");
    }
}

/// An app's counter, and the host numbers of a node exporter's exposition.
const METRICS_BODY: &str = "# TYPE http_requests_total counter\nhttp_requests_total{code=\"200\"} 100\n\
    node_memory_MemTotal_bytes 8e+09\nnode_memory_MemAvailable_bytes 2e+09\n\
    node_filesystem_size_bytes{device=\"/dev/nvme0n1p1\",fstype=\"ext4\",mountpoint=\"/\"} 1e+11\n\
    node_filesystem_avail_bytes{device=\"/dev/nvme0n1p1\",fstype=\"ext4\",mountpoint=\"/\"} 4e+10\n\
    node_load1 0.5\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_metrics_token_and_no_secret_in_any_answer() {
    let up = serve_reply(Reply::text(200, "OK")).await;
    let metrics = serve_reply(Reply::text(200, METRICS_BODY)).await;
    let dir = tempfile::tempdir().unwrap();
    let config = secret_config(dir.path(), up.addr, metrics.addr);
    let config_arg = config.display().to_string();

    // Off loopback without a token it does not start, and says why.
    let out = Command::new(BIN)
        .args(["serve", "--config", &config_arg, "--log-file"])
        .arg(dir.path().join("refused.log"))
        .env("OPSBOARD_TOKEN", "")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("token is required"), "{out:?}");

    let served = tokio::task::spawn_blocking({
        let dir = dir.path().to_path_buf();
        let config_arg = config_arg.clone();
        move || Served::start(&dir, &["--config", &config_arg], &[("OPSBOARD_TOKEN", TOKEN)])
    })
    .await
    .unwrap();
    let addr: SocketAddr = format!("127.0.0.1:{}", served.port()).parse().unwrap();
    let dir_path = dir.path().to_path_buf();
    tokio::task::spawn_blocking(move || {
        // Every route refuses a request without the token, and the refusal is logged.
        for path in ["/", "/api/state", "/metrics", "/healthz", "/events?cols=80&rows=24", "/api/frame.txt"] {
            let (code, _, body) = get(addr, path, "");
            assert_eq!(code, 401, "{path} without a token");
            assert_no_secret(path, &body);
            let (code, _, _) = get(addr, path, "Authorization: Bearer wrong-token-value\r\n");
            assert_eq!(code, 401, "{path} with a wrong token");
        }
        let bearer = format!("Authorization: Bearer {TOKEN}\r\n");
        // Once as ?token=: a cookie, and the page without the token in its address.
        let (code, head, _) = get(addr, &format!("/?token={TOKEN}&font=30"), "");
        assert_eq!(code, 303, "{head}");
        assert!(head.contains("location: /?font=30"), "{head}");
        let cookie = head
            .lines()
            .find_map(|l| l.strip_prefix("set-cookie: "))
            .and_then(|c| c.split(';').next())
            .expect("a cookie")
            .to_string();
        let (code, _, page) = get(addr, "/", &format!("Cookie: {cookie}\r\n"));
        assert_eq!(code, 200);
        assert!(page.contains("EventSource"), "the live page");
        assert!(!page.contains("http://") && !page.contains("https://"), "nothing from another server");

        // Wait until both instances have been checked and scraped twice.
        let state = common::eventually(Duration::from_secs(20), "both instances checked and scraped twice", || {
            let (code, _, body) = get(addr, "/api/state", &bearer);
            assert_eq!(code, 200);
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            let checked =
                v["services"][0]["instances"].as_array().is_some_and(|i| i.iter().all(|i| i["status"] == "ok"));
            (checked && v["services"][0]["request_rate"].is_number()).then_some(body)
        });
        assert_no_secret("/api/state", &state);
        assert!(state.contains(&format!("http://user:****@{}", up.addr)), "{state}");

        let (code, head, metrics_text) = get(addr, "/metrics", &bearer);
        assert_eq!(code, 200);
        assert!(head.contains("text/plain; version=0.0.4"), "{head}");
        assert_no_secret("/metrics", &metrics_text);
        let scrape = prometheus_parse::Scrape::parse(metrics_text.lines().map(|l| Ok(l.to_string()))).unwrap();
        let value = |name: &str, label: (&str, &str)| {
            scrape.samples.iter().find(|s| s.metric == name && s.labels.get(label.0) == Some(label.1)).map(|s| match s
                .value
            {
                prometheus_parse::Value::Gauge(v) => v,
                ref other => panic!("{name} is not a gauge: {other:?}"),
            })
        };
        assert_eq!(value("opsboard_service_state", ("service", "api")), Some(0.0), "{metrics_text}");
        assert_eq!(value("opsboard_instance_up", ("instance", "api-b")), Some(1.0), "{metrics_text}");
        assert_eq!(value("opsboard_host_memory_ratio", ("instance", "api-b")), Some(0.75), "{metrics_text}");
        assert_eq!(value("opsboard_host_disk_used_ratio", ("mountpoint", "/")), Some(0.6), "{metrics_text}");
        assert_eq!(value("opsboard_host_load1", ("instance", "api-b")), Some(0.5), "{metrics_text}");
        assert!(
            scrape.docs.contains_key("opsboard_service_state") && scrape.docs.contains_key("opsboard_instance_up"),
            "HELP for every family"
        );
        let mut promtool = Command::new("promtool")
            .args(["check", "metrics"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("promtool (Debian's prometheus)");
        promtool.stdin.take().unwrap().write_all(metrics_text.as_bytes()).unwrap();
        let checked = promtool.wait_with_output().unwrap();
        assert!(checked.status.success(), "promtool check metrics: {checked:?}\n{metrics_text}");

        let (code, _, healthz) = get(addr, "/healthz", &bearer);
        assert_eq!((code, healthz.trim()), (200, "ok"));
        let (code, frame) = first_event(addr, "/events?cols=100&rows=30", &bearer);
        assert_eq!(code, 200, "{frame}");
        assert!(frame.contains("\"t\":\"full\""), "{frame}");
        assert_no_secret("/events", &frame);
        let (_, _, text) = get(addr, "/api/frame.txt?cols=100&rows=30", &bearer);
        assert!(text.contains("api"), "{text}");
        assert_no_secret("/api/frame.txt", &text);
        // The server only reads.
        let mut s = TcpStream::connect(addr).unwrap();
        write!(s, "POST /api/state HTTP/1.0\r\nHost: x\r\n{bearer}Content-Length: 0\r\n\r\n").unwrap();
        let mut answer = String::new();
        let _ = s.read_to_string(&mut answer);
        assert!(answer.starts_with("HTTP/1.0 405") || answer.starts_with("HTTP/1.1 405"), "{answer}");

        let log = std::fs::read_to_string(dir_path.join("opsboard.log")).unwrap_or_default();
        assert!(log.contains("refused: no valid token"), "refusals are logged: {log}");
        assert_no_secret("the log", &log);
    })
    .await
    .unwrap();

    // `check --json` shows the instance without its password.
    let out = tokio::process::Command::new(BIN)
        .args(["check", "--json", "--config", &config_arg])
        .env("OPSBOARD_TOKEN", TOKEN)
        .env("XDG_DATA_HOME", dir.path().join("data"))
        .output()
        .await
        .unwrap();
    let json = String::from_utf8_lossy(&out.stdout);
    assert!(json.contains("\"services\""), "{out:?}");
    assert_no_secret("check --json", &json);
    assert!(json.contains("user:****@"), "{json}");
    drop(served);
}

/// Every browser its own view: a key on one page opens a read-only view of its own there (the
/// same keys as the terminal), while another page keeps the shared rotation; `q` gives it back.
#[test]
fn a_key_on_one_page_opens_its_own_view_and_the_other_page_keeps_the_rotation() {
    assert!(browser::available(), "chromium is needed (scripts/test installs it)");
    let dir = tempfile::tempdir().unwrap();
    let server = Served::start(dir.path(), &["--demo", "--listen", "127.0.0.1:0"], &[]);
    let port = server.port();
    let browser = Browser::start(1280, 720);
    let url = format!("http://127.0.0.1:{port}/");
    let (mut a, mut b) = (browser.open(&url), browser.open(&url));
    let screen = "document.getElementById('screen').innerText";
    for tab in [&mut a, &mut b] {
        let rotating = format!("/page \\d+\\/\\d+/.test({screen})");
        assert!(tab.wait_for(&rotating, Duration::from_secs(30)), "the wall's rotation: {}", tab.eval(screen));
    }
    // Enter opens the worst service's detail on page a alone, read-only.
    a.press("Enter");
    assert!(
        a.wait_for(
            &format!("document.body.dataset.view === 'own' && {screen}.includes('INSTANCE ')"),
            Duration::from_secs(10)
        ),
        "page a never opened its own view: {}",
        a.eval(screen)
    );
    a.press("R");
    assert!(
        a.wait_for(&format!("{screen}.includes('the web page is read-only')"), Duration::from_secs(10)),
        "{}",
        a.eval(screen)
    );
    assert_eq!(b.eval("document.body.dataset.view"), "shared");
    let b_text = b.eval(screen).as_str().unwrap_or_default().to_string();
    assert!(b_text.contains("page ") && !b_text.contains("STATE     INSTANCE"), "page b keeps the rotation:\n{b_text}");
    // q gives page a back to the shared rotation.
    a.press("q");
    assert!(
        a.wait_for(
            &format!("document.body.dataset.view === 'shared' && {screen}.includes('page ')"),
            Duration::from_secs(10)
        ),
        "{}",
        a.eval(screen)
    );
    // A key for a view that is not open is refused, not guessed.
    assert!(browser::http("GET", port, "/key?view=0123&code=j").contains("that view is closed"));
}
