//! `opsboard attach`, the real binaries: terminals in tmux on one `serve`, each with its own view,
//! one poller for all of them, the stale alarm when the server dies and its end when one returns;
//! the protocol's refusals, and a hostile terminal that does not take the server down.

mod common;

use common::audit;
use common::served::Served;
use common::tmux::Tmux;
use common::versioned::Versioned;
use common::{Reply, TestServer, serve};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_opsboard");
const SERVICES: [&str; 3] = ["alpha", "bravo", "charlie"];

fn config(dir: &Path, apps: &[TestServer]) -> PathBuf {
    let mut toml = String::from("[polling]\njitter = 0.0\n");
    for (name, app) in SERVICES.iter().zip(apps) {
        toml.push_str(&format!(
            "\n[services.{name}]\ninterval = \"1s\"\ntimeout = \"1s\"\ninstances = [\"{}\"]\n",
            app.url("/health")
        ));
    }
    let path = dir.join("config.toml");
    std::fs::write(&path, toml).unwrap();
    path
}

/// A terminal running `opsboard attach url`, with a config dir of its own (none).
fn terminal(dir: &Path, name: &str, url: &str) -> Tmux {
    let home = dir.join(name);
    let command = format!(
        "env XDG_CONFIG_HOME={h}/config XDG_DATA_HOME={h}/data {BIN} attach {url} --log-file {h}.log; echo EXIT=$?; sleep 30",
        h = home.display()
    );
    Tmux::start(name, 100, 30, &command)
}

fn shows_fleet(screen: &str) -> bool {
    SERVICES.iter().all(|s| screen.contains(s)) && !screen.contains("board offline")
}

fn requests(apps: &[TestServer]) -> Vec<u64> {
    apps.iter().map(|a| a.requests.load(Ordering::SeqCst)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_terminals_share_one_poller_keep_their_own_views_and_survive_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let mut apps = Vec::new();
    for _ in SERVICES {
        apps.push(serve(Reply::json(200, r#"{"status":"UP"}"#)).await);
    }
    let cfg = config(dir.path(), &apps);
    let cfg = cfg.to_str().unwrap();
    let server = Served::start(dir.path(), &["--config", cfg, "--listen", "127.0.0.1:0"], &[]);
    let addr = server.addr;
    let url = format!("http://{addr}");
    let terms: Vec<Tmux> = ["a", "b", "c"].iter().map(|n| terminal(dir.path(), n, &url)).collect();
    for t in &terms {
        t.wait_for("the fleet on an attached terminal", shows_fleet);
    }

    // One poller for the server and its three terminals: at 1 s a service, about one request a
    // second each; four pollers would make about four.
    let before = requests(&apps);
    std::thread::sleep(Duration::from_secs(5));
    let after = requests(&apps);
    for ((name, b), a) in SERVICES.iter().zip(&before).zip(&after) {
        let n = a - b;
        assert!((3..=8).contains(&n), "{name} was asked {n} times in 5 s: not one poller");
    }

    // Each terminal its own view: one opens a service, one filters, one stays as it was.
    terms[0].keys(&["Enter"]);
    terms[0].wait_for("the detail view on the first terminal", |s| s.contains("last results"));
    terms[1].text("/cha");
    terms[1].keys(&["Enter"]);
    terms[1].wait_for("the filter on the second terminal", |s| s.contains("charlie") && !s.contains("bravo"));
    let first = terms[0].screen();
    assert!(first.contains("last results"), "the first terminal left its detail view:\n{first}");
    let third = terms[2].screen();
    assert!(shows_fleet(&third) && !third.contains("last results"), "the third terminal moved:\n{third}");
    let second = terms[1].screen();
    assert!(!second.contains("last results"), "the second terminal opened a service:\n{second}");

    // The server dies: every terminal raises the alarm over its last frame (within two
    // heartbeats), and clears it when a server answers on the same address again.
    drop(server);
    for t in &terms {
        let s = t.wait_for("the stale alarm", |s| s.contains("board offline for"));
        assert!(s.contains("reconnecting to"), "{s}");
    }
    let _again = Served::start(dir.path(), &["--config", cfg, "--listen", &addr.to_string()], &[]);
    for t in &terms {
        t.wait_for("the alarm cleared by the new server", shows_fleet);
    }

    // q quits the attached terminal, as on a local board, and restores it.
    terms[2].keys(&["q"]);
    let s = terms[2].wait_for("the terminal to exit", |s| s.contains("EXIT="));
    assert!(s.contains("EXIT=0"), "{s}");
}

/// An attach request with `version`; the status line and the rest of the head, and the stream
/// after it.
fn upgrade(addr: SocketAddr, version: &str) -> (String, BufReader<TcpStream>) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET /attach HTTP/1.1\r\nHost: {addr}\r\nConnection: upgrade\r\nUpgrade: opsboard-attach\r\nopsboard-protocol: {version}\r\n\r\n"
    )
    .unwrap();
    let mut r = BufReader::new(s);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    (head, r)
}

fn hello() -> String {
    hello_with(include_str!("../themes/mono.toml"))
}

/// A hello whose theme is `theme`, as a theme file.
fn hello_with(theme: &str) -> String {
    serde_json::json!({ "t": "hello", "cols": 80, "rows": 24, "theme": theme, "utc_offset_secs": 0 }).to_string()
}

#[test]
fn another_protocol_version_is_refused_in_words_and_so_is_a_plain_request() {
    let dir = tempfile::tempdir().unwrap();
    let server = Served::start(dir.path(), &["--demo", "--listen", "127.0.0.1:0"], &[]);
    let (head, mut rest) = upgrade(server.addr, "99");
    assert!(head.starts_with("HTTP/1.1 400"), "{head}");
    let mut body = String::new();
    let _ = rest.read_to_string(&mut body);
    assert!(body.contains("this server speaks attach protocol 1 and the terminal 99"), "{body}");
    let mut s = TcpStream::connect(server.addr).unwrap();
    write!(s, "GET /attach HTTP/1.0\r\n\r\n").unwrap();
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.0 400") && answer.contains("run `opsboard attach URL`"), "{answer}");
}

#[test]
fn the_protocol_gives_whole_frames_and_heartbeats_and_ends_a_terminal_that_breaks_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = Served::start(dir.path(), &["--demo", "--listen", "127.0.0.1:0"], &[]);
    let (head, mut r) = upgrade(server.addr, "1");
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    r.get_mut().write_all(format!("{}\n", hello()).as_bytes()).unwrap();
    let mut first = String::new();
    r.read_line(&mut first).unwrap();
    let v: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert_eq!((v["t"].as_str(), v["cols"].as_u64(), v["rows"].as_u64()), (Some("full"), Some(80), Some(24)));
    // A line longer than the protocol allows closes the connection; the server stays.
    let _ = r.get_mut().write_all(&vec![b'x'; 16 * 1024]);
    let _ = r.get_mut().write_all(b"\n");
    let mut rest = Vec::new();
    let _ = r.read_to_end(&mut rest);
    let mut s = TcpStream::connect(server.addr).unwrap();
    write!(s, "GET /healthz HTTP/1.0\r\n\r\n").unwrap();
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.0 200"), "{answer}");

    // A hello that is not one hears why, and the connection ends.
    let (_, mut r) = upgrade(server.addr, "1");
    r.get_mut().write_all(b"{\"t\":\"hello\",\"cols\":80}\n").unwrap();
    let mut bye = String::new();
    r.read_line(&mut bye).unwrap();
    assert!(bye.contains(r#""t":"bye""#) && bye.contains("not a hello"), "{bye}");

    // A theme the server cannot read is refused with its key.
    let (_, mut r) = upgrade(server.addr, "1");
    r.get_mut().write_all(format!("{}\n", hello_with("[colors]\nbg = \"blood\"\n")).as_bytes()).unwrap();
    let mut bye = String::new();
    r.read_line(&mut bye).unwrap();
    assert!(bye.contains("not a theme") && bye.contains("blood"), "{bye}");

    // One that says nothing is closed after the head timeout.
    let (_, mut r) = upgrade(server.addr, "1");
    let mut said = String::new();
    r.read_line(&mut said).unwrap();
    assert!(said.contains("no hello in time"), "{said}");
}

#[test]
fn a_server_that_is_not_there_or_not_opsboard_is_an_error_before_the_terminal_is_taken() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let other = rt.block_on(serve(Reply::text(404, "nothing here")));
    let out = std::process::Command::new(BIN).args(["attach", &other.url("")]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("is not an opsboard serve that takes terminals"), "{err}");
    let closed = common::closed_port();
    let out = std::process::Command::new(BIN).args(["attach", &format!("http://{closed}")]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("cannot reach http://{closed}")), "{err}");
}

/// A plain `opsboard` in a terminal of its own, on `config`.
fn board(dir: &Path, name: &str, config: &Path) -> Tmux {
    let home = dir.join(name);
    let command = format!(
        "env XDG_CONFIG_HOME={h}/config XDG_DATA_HOME={h}/data {BIN} --config {c} --log-file {h}.log; echo EXIT=$?; sleep 30",
        h = home.display(),
        c = config.display()
    );
    Tmux::start(name, 150, 30, &command)
}

/// `[attach] url`: a plain `opsboard` shows the server's board when the server answers; when it
/// does not, it polls alone, says so in its header, and leaves the webhooks to the server unless
/// its config asks (`notify = true`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_server_is_attached_to_and_without_it_the_board_polls_alone_without_webhooks() {
    let dir = tempfile::tempdir().unwrap();
    let down = serve(Reply::json(500, r#"{"status":"DOWN"}"#)).await;
    let (quiet_hook, loud_hook) = (serve(Reply::text(200, "ok")).await, serve(Reply::text(200, "ok")).await);
    let served_cfg = dir.path().join("served.toml");
    std::fs::write(
        &served_cfg,
        format!(
            "[polling]\njitter = 0.0\n\n[services.alpha]\ninterval = \"1s\"\ntimeout = \"1s\"\ninstances = [\"{}\"]\n",
            down.url("/health")
        ),
    )
    .unwrap();
    let server = Served::start(dir.path(), &["--config", served_cfg.to_str().unwrap(), "--listen", "127.0.0.1:0"], &[]);
    let with = |url: &str, hook: &TestServer, notify: bool, file: &str| {
        let text = format!(
            "[attach]\nurl = \"{url}\"\nnotify = {notify}\n\n[polling]\njitter = 0.0\n\n[services.lonely]\ninterval = \"1s\"\ntimeout = \"1s\"\ninstances = [\"{}\"]\n\n[[notify]]\nurl = \"{}\"\ngroup_wait = \"1s\"\n",
            down.url("/health"),
            hook.url("/hook")
        );
        let path = dir.path().join(file);
        std::fs::write(&path, text).unwrap();
        path
    };

    // The server answers: this board is the server's (its service, read-only), and the server
    // counts it among its terminals.
    let attached =
        board(dir.path(), "attached", &with(&format!("http://{}", server.addr), &quiet_hook, false, "a.toml"));
    let s = attached.wait_for("the server's board", |s| s.contains("alpha"));
    assert!(!s.contains("lonely") && s.contains("[read-only]"), "{s}");
    common::eventually(Duration::from_secs(10), "the server counting the terminal", || {
        http_get(server.addr, "/metrics").contains("opsboard_attached_terminals 1").then_some(())
    });

    // No server: both boards poll alone and say so; only the one whose config asks sends.
    let closed = format!("http://{}", common::closed_port());
    let quiet = board(dir.path(), "quiet", &with(&closed, &quiet_hook, false, "q.toml"));
    let loud = board(dir.path(), "loud", &with(&closed, &loud_hook, true, "l.toml"));
    for t in [&quiet, &loud] {
        let s = t.wait_for("the board polling alone", |s| s.contains("lonely") && s.contains("CRIT"));
        assert!(s.contains(&format!("[no server at {closed}: polling alone]")), "{s}");
    }
    common::eventually(Duration::from_secs(30), "the loud board's webhook", || {
        (loud_hook.requests.load(Ordering::SeqCst) > 0).then_some(())
    });
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(quiet_hook.requests.load(Ordering::SeqCst), 0, "a board polling alone sent the server's webhooks");
}

/// A GET's body over plain HTTP/1.0.
fn http_get(addr: SocketAddr, path: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut all = String::new();
    let _ = s.read_to_string(&mut all);
    all
}

/// A rollback from an attached terminal runs on the server, once, under the operator's name;
/// the same key on a terminal without an operator token is refused in words.
#[test]
fn an_operator_rolls_back_through_the_server_and_a_plain_terminal_cannot() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let fleet = Versioned::start(dir.path(), "1.0.0");
    std::fs::write(dir.path().join("alice.token"), "alice-0123456789abcdef\n").unwrap();
    let cfg = dir.path().join("served.toml");
    std::fs::write(
        &cfg,
        format!(
            "[defaults]\ninterval = \"300ms\"\ntimeout = \"250ms\"\nscrape = false\n\
             [services.api]\nhealth_path = \"/health.json\"\ninstances = [\"http://127.0.0.1:{port}\"]\n\
             [actions.rollback]\nkey = \"R\"\nneeds_version = true\ncommand = 'echo {{version}} >> {d}/rolled-{{service}}'\n\n\
             [[serve.operators]]\nname = \"alice\"\ntoken_file = \"{d}/alice.token\"\n",
            port = fleet.port
        ),
    )
    .unwrap();
    let server = Served::start(dir.path(), &["--config", cfg.to_str().unwrap(), "--listen", "127.0.0.1:0"], &[]);
    let url = format!("http://{}", server.addr);
    let h = dir.path().join("op");
    let op = Tmux::start(
        "op",
        120,
        40,
        &format!(
            "env XDG_CONFIG_HOME={h}/config {BIN} attach {url} --operator-token-file {d}/alice.token --log-file {h}.log; sleep 30",
            h = h.display()
        ),
    );
    let plain = terminal(dir.path(), "plain", &url);
    let s = op.wait_for("the operator's board", |s| s.contains("api") && s.contains("OK"));
    assert!(!s.contains("[read-only]") && s.contains("[operator alice]"), "an operator's board:\n{s}");
    plain.wait_for("the plain board", |s| s.contains("api") && s.contains("[read-only]"));
    // The server records the deploy from 1.0.0 to 2.0.0: the version to roll back to.
    fleet.deploy("2.0.0");
    let history = dir.path().join("data/opsboard/deploys.jsonl");
    common::eventually(Duration::from_secs(20), "the deploy to 2.0.0", || {
        std::fs::read_to_string(&history).ok().filter(|h| h.contains("\"2.0.0\"")).map(drop)
    });

    // Without an operator token the key is refused in words, and nothing runs.
    plain.keys(&["R"]);
    plain.wait_for("the refusal", |s| s.contains("rollback is off: this terminal has no operator token"));

    // The operator's: the typed confirmation (checked by the server, which holds the dialog),
    // then the command runs there once, audited under the operator's name and terminal.
    op.keys(&["R"]);
    op.wait_for("the dialog", |s| s.contains("rollback · api") && s.contains("1.0.0"));
    op.text("api");
    op.keys(&["Enter"]);
    let marker = dir.path().join("rolled-api");
    let records = common::eventually(Duration::from_secs(10), "the audit's end record", || {
        let r = audit(dir.path());
        (r.len() >= 2).then_some(r)
    });
    assert_eq!(std::fs::read_to_string(&marker).unwrap(), "1.0.0\n", "it ran once, back to 1.0.0");
    assert_eq!(records.len(), 2, "{records:?}");
    for r in &records {
        assert_eq!(r["user"], "alice", "{r}");
        assert_eq!(r["to_version"], "1.0.0", "{r}");
        assert!(r["terminal"].as_str().is_some_and(|t| t.starts_with("127.0.0.1:")), "{r}");
        assert!(r["host"].as_str().is_some_and(|h| !h.is_empty()), "{r}");
    }
    // Every screen of the collector sees the run: the plain terminal too.
    plain.keys(&["Escape"]);
    plain.keys(&["o"]);
    plain.wait_for("the run on the other terminal", |s| s.contains("succeeded"));
}

/// An attach request with extra header lines: what the server answers within a second.
fn upgrade_with(addr: SocketAddr, headers: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    write!(
        s,
        "GET /attach HTTP/1.1\r\nHost: {addr}\r\nConnection: upgrade\r\nUpgrade: opsboard-attach\r\nopsboard-protocol: 1\r\n{headers}\r\n"
    )
    .unwrap();
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn operator_tokens_are_refused_off_loopback_with_a_cookie_and_when_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    std::fs::write(dir.path().join("reader.token"), "reader-0123456789abcdef\n").unwrap();
    let cfg = dir.path().join("ops.toml");
    std::fs::write(
        &cfg,
        "[services.alpha]\ninstances = [\"http://127.0.0.1:9/health\"]\n\n[[serve.operators]]\nname = \"alice\"\ntoken = \"alice-0123456789abcdef\"\n",
    )
    .unwrap();
    let cfg = cfg.to_str().unwrap();
    let reader = "Authorization: Bearer reader-0123456789abcdef\r\n";

    // A listener open to the network: the token would cross it in clear.
    let open = Served::start(
        dir.path(),
        &["--config", cfg, "--listen", "0.0.0.0:0", "--token-file", &format!("{d}/reader.token")],
        &[],
    );
    let at = SocketAddr::from(([127, 0, 0, 1], open.port()));
    let head = upgrade_with(at, &format!("{reader}opsboard-operator: alice-0123456789abcdef\r\n"));
    assert!(head.starts_with("HTTP/1.1 403"), "{head}");
    assert!(head.contains("a token would cross the network in clear"), "{head}");
    assert!(upgrade_with(at, reader).starts_with("HTTP/1.1 101"), "a reader still attaches");
    drop(open);

    let local = Served::start(dir.path(), &["--config", cfg, "--listen", "127.0.0.1:0"], &[]);
    let cookie = "Cookie: opsboard_token=x\r\nopsboard-operator: alice-0123456789abcdef\r\n";
    let head = upgrade_with(local.addr, cookie);
    assert!(head.starts_with("HTTP/1.1 403") && head.contains("the page's cookie"), "{head}");
    let wrong = "opsboard-operator: mallory-0123456789abcdef\r\n";
    assert!(upgrade_with(local.addr, wrong).starts_with("HTTP/1.1 403"), "an unknown token");
    let right = "opsboard-operator: alice-0123456789abcdef\r\n";
    assert!(upgrade_with(local.addr, right).starts_with("HTTP/1.1 101"), "alice's own");
}

/// A CA and a certificate it signed for 127.0.0.1, as PEM files in `dir`: (ca, cert, key).
fn certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "the team's CA");
    let ca_key = KeyPair::generate().unwrap();
    let ca_pem = ca.self_signed(&ca_key).unwrap().pem();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = leaf.signed_by(&key, &Issuer::from_params(&ca, &ca_key)).unwrap();
    let paths = (dir.join("ca.pem"), dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&paths.0, ca_pem).unwrap();
    std::fs::write(&paths.1, cert.pem()).unwrap();
    std::fs::write(&paths.2, key.serialize_pem()).unwrap();
    paths
}

/// With TLS, a listener open to the network takes an operator's token: the terminal attaches over
/// https:// (the team's CA), runs as the operator; plain HTTP to that port gets nowhere, and a
/// terminal that does not trust the certificate is refused in words before it takes the screen.
#[test]
fn over_tls_an_operator_attaches_from_the_network_and_an_untrusted_certificate_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let (ca, cert, key) = certificates(dir.path());
    std::fs::write(dir.path().join("reader.token"), "reader-0123456789abcdef\n").unwrap();
    std::fs::write(dir.path().join("alice.token"), "alice-0123456789abcdef\n").unwrap();
    let cfg = dir.path().join("tls.toml");
    std::fs::write(
        &cfg,
        format!(
            "[services.alpha]\ninstances = [\"http://127.0.0.1:9/health\"]\n\
             [serve]\ntls_cert = \"{}\"\ntls_key = \"{}\"\n\
             [[serve.operators]]\nname = \"alice\"\ntoken_file = \"{d}/alice.token\"\n",
            cert.display(),
            key.display()
        ),
    )
    .unwrap();
    let cfg = cfg.to_str().unwrap();
    let reader = format!("{d}/reader.token");
    let server = Served::start(dir.path(), &["--config", cfg, "--listen", "0.0.0.0:0", "--token-file", &reader], &[]);
    let url = format!("https://127.0.0.1:{}", server.port());

    // Plain HTTP to the TLS port: no answer in HTTP.
    let plain = upgrade_with(SocketAddr::from(([127, 0, 0, 1], server.port())), "");
    assert!(!plain.starts_with("HTTP/1.1 101"), "{plain}");

    // A terminal that does not trust the certificate: refused in words, before the screen.
    let out = std::process::Command::new(BIN)
        .args(["attach", &url, "--token-file", &reader, "--log-file"])
        .arg(dir.path().join("untrusted.log"))
        .env("XDG_CONFIG_HOME", dir.path().join("none"))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && said.contains("TLS"), "{said}");

    // With the team's CA, the operator's terminal attaches over the network listener.
    let h = dir.path().join("op");
    let op = Tmux::start(
        "tls-op",
        100,
        30,
        &format!(
            "env XDG_CONFIG_HOME={h}/config {BIN} attach {url} --token-file {reader} --operator-token-file {d}/alice.token --ca-file {ca} --log-file {h}.log; sleep 30",
            h = h.display(),
            ca = ca.display()
        ),
    );
    op.wait_for("the operator's board over TLS", |s| s.contains("alpha") && s.contains("[operator alice]"));
}

/// On the server's Unix socket an operator attaches with no network at all, and the audit log
/// names the bastion user by the peer's uid.
#[test]
fn on_the_unix_socket_an_operator_is_named_by_the_peer_s_uid() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    std::fs::write(dir.path().join("alice.token"), "alice-0123456789abcdef\n").unwrap();
    let socket = dir.path().join("board.sock");
    let cfg = dir.path().join("unix.toml");
    std::fs::write(
        &cfg,
        format!(
            "[services.alpha]\ninstances = [\"http://127.0.0.1:9/health\"]\n\
             [serve]\nunix_socket = \"{}\"\n\
             [[serve.operators]]\nname = \"alice\"\ntoken_file = \"{d}/alice.token\"\n",
            socket.display()
        ),
    )
    .unwrap();
    let _server = Served::start(dir.path(), &["--config", cfg.to_str().unwrap(), "--listen", "127.0.0.1:0"], &[]);
    common::eventually(Duration::from_secs(10), "the socket", || socket.exists().then_some(()));
    let h = dir.path().join("op");
    let op = Tmux::start(
        "unix-op",
        100,
        30,
        &format!(
            "env XDG_CONFIG_HOME={h}/config {BIN} attach unix:{s} --operator-token-file {d}/alice.token --log-file {h}.log; sleep 30",
            h = h.display(),
            s = socket.display()
        ),
    );
    op.wait_for("the operator's board on the socket", |s| s.contains("alpha") && s.contains("[operator alice]"));
    op.keys(&["m"]);
    op.wait_for("the silence dialog", |s| s.contains("silence · alpha"));
    op.keys(&["Enter"]);
    let record = common::eventually(Duration::from_secs(10), "the silence's audit record", || {
        audit(dir.path()).into_iter().find(|r| r["phase"] == "silence")
    });
    let uid = std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("Uid:").map(|u| u.split_whitespace().next().unwrap().to_string()))
        .unwrap();
    assert_eq!(record["user"], "alice", "{record}");
    let terminal = record["terminal"].as_str().unwrap_or_default();
    assert!(terminal.starts_with(&format!("uid {uid} (")), "{record}");
    assert!(terminal.ends_with(&format!("on {}", socket.display())), "{record}");
}
