//! `tcp://` instances against a real Redis (Debian's redis-server, started here on 127.0.0.1):
//! PING → +PONG, an answer that is not the expected one, and a closed port.

mod common;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Redis {
    child: Child,
    port: u16,
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn redis() -> Redis {
    let port = free_port();
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server (scripts/test installs it)");
    common::listening(port, Duration::from_secs(15), "redis-server");
    Redis { child, port }
}

#[test]
fn redis_ping_pong_a_wrong_answer_and_a_closed_port() {
    let r = redis();
    let closed = free_port();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tcp.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[services.redis]
instances = [{{ url = "tcp://127.0.0.1:{port}", name = "redis-a" }}, {{ url = "tcp://127.0.0.1:{closed}", name = "redis-b" }}]
send = "PING\r\n"
expect = "+PONG"
timeout = "1s"

[services.redis-wrong]
instances = ["tcp://127.0.0.1:{port}"]
send = "PING\r\n"
expect = "+PANG"
timeout = "1s"

[services.port-only]
instances = ["tcp://127.0.0.1:{port}"]
"#,
            port = r.port
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_opsboard"))
        .args(["check", "--json", "--config"])
        .arg(&config)
        .env("XDG_DATA_HOME", dir.path())
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"));
    let service =
        |name: &str| report["services"].as_array().unwrap().iter().find(|s| s["name"] == name).unwrap().clone();

    let redis = service("redis");
    let a = &redis["instances"][0];
    assert_eq!(
        (a["name"].as_str(), a["status"].as_str(), a["code"].as_u64()),
        (Some("redis-a"), Some("ok"), Some(0)),
        "{a}"
    );
    // The check ends as soon as the expected answer is in: no 200 ms pause for more is counted.
    assert!(a["latency_ms"].as_u64().is_some_and(|ms| ms < 200), "the answer's latency: {a}");
    let b = &redis["instances"][1];
    assert_eq!((b["status"].as_str(), b["reason"].as_str()), (Some("crit"), Some("connection refused")), "{b}");
    assert!(redis["signals_note"].is_null() || !redis["signals_note"].as_str().unwrap().contains("scrape"), "{redis}");

    let wrong = service("redis-wrong");
    let w = &wrong["instances"][0];
    assert_eq!(w["status"], "crit", "{w}");
    assert_eq!(w["reason"], r#"expected "+PANG", got "+PONG""#, "{w}");

    let bare = service("port-only");
    assert_eq!(bare["instances"][0]["status"], "ok", "a port that accepts is up: {bare}");
}

#[test]
fn a_tcp_instance_without_a_port_is_named() {
    let err = opsboard::config::load_str("t.toml", "[services.db]\ninstances = [\"tcp://127.0.0.1\"]\n").unwrap_err();
    assert_eq!((err.line, err.key.as_deref()), (Some(2), Some("services.db.instances")), "{err}");
    assert!(err.message.contains("tcp://host:port"), "{err}");
}
