//! The health probe against real HTTP servers on 127.0.0.1.

mod common;

use opsboard::config::TlsSpec;

use common::{Reply, closed_port, serve};
use opsboard::sources::health::{MAX_HEALTH_BODY_BYTES, probe};
use opsboard::sources::{http, http_client};
use opsboard::state::{BodyVerdict, HealthOutcome, HealthSample, ProbeError, Status};
use reqwest::header::HeaderMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_millis(800);
const SLOW_AFTER: Duration = Duration::from_millis(300);

async fn check(url: &str) -> HealthSample {
    probe(&http_client(), url, &HeaderMap::new(), TIMEOUT, &TlsSpec::default(), &Default::default()).await
}

#[tokio::test]
async fn ok_200_plain_text() {
    let server = serve(Reply::text(200, "OK")).await;
    let s = check(&server.url("/health")).await;
    assert_eq!(s.code(), Some(200));
    assert!(matches!(s.outcome, HealthOutcome::Response { body: BodyVerdict::Healthy, truncated: false, .. }));
    assert_eq!(s.verdict(SLOW_AFTER).status, Status::Ok);
}

#[tokio::test]
async fn http_503_is_critical_with_code_in_reason() {
    let server = serve(Reply::text(503, "Service Unavailable")).await;
    let v = check(&server.url("/health")).await.verdict(SLOW_AFTER);
    assert_eq!(v.status, Status::Crit);
    assert_eq!(v.reason, "HTTP 503");
}

#[tokio::test]
async fn slow_answer_inside_timeout_is_a_warning() {
    let server = serve(Reply::slow(200, "ok", Duration::from_millis(450))).await;
    let s = check(&server.url("/health")).await;
    let v = s.verdict(SLOW_AFTER);
    assert_eq!(v.status, Status::Warn, "{v:?}");
    assert!(v.reason.starts_with("slow: "), "{}", v.reason);
}

#[tokio::test]
async fn slow_past_timeout_is_a_timeout() {
    let server = serve(Reply::slow(200, "ok", Duration::from_secs(5))).await;
    let started = Instant::now();
    let s = check(&server.url("/health")).await;
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(s.outcome, HealthOutcome::Failed(ProbeError::Timeout(TIMEOUT)));
    assert_eq!(s.verdict(SLOW_AFTER).reason, "timeout after 800ms");
}

#[tokio::test]
async fn server_that_accepts_and_never_answers_times_out() {
    let server = serve(Reply::Hang).await;
    let started = Instant::now();
    let s = check(&server.url("/health")).await;
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(s.outcome, HealthOutcome::Failed(ProbeError::Timeout(TIMEOUT)));
    assert_eq!(server.requests.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn connection_refused_says_so() {
    let addr = closed_port();
    let s = check(&format!("http://{addr}/health")).await;
    let v = s.verdict(SLOW_AFTER);
    assert_eq!(v.status, Status::Crit);
    assert_eq!(v.reason, "connection refused");
}

#[tokio::test]
async fn spring_boot_down_with_200_is_critical() {
    let server = serve(Reply::json(200, r#"{"status":"DOWN","components":{"db":{"status":"DOWN"}}}"#)).await;
    let v = check(&server.url("/actuator/health")).await.verdict(SLOW_AFTER);
    assert_eq!((v.status, v.reason.as_str()), (Status::Crit, "status=DOWN"));
}

#[tokio::test]
async fn spring_boot_down_with_503_keeps_both_reasons() {
    let server = serve(Reply::json(503, r#"{"status":"DOWN"}"#)).await;
    let v = check(&server.url("/health")).await.verdict(SLOW_AFTER);
    assert_eq!((v.status, v.reason.as_str()), (Status::Crit, "HTTP 503 status=DOWN"));
}

#[tokio::test]
async fn ietf_draft_pass_warn_fail_and_release_id() {
    for (body, status) in [
        (r#"{"status":"pass","version":"1","releaseId":"1.4.2"}"#, Status::Ok),
        (r#"{"status":"warn","version":"1","releaseId":"1.4.2"}"#, Status::Warn),
        (r#"{"status":"fail","version":"1","releaseId":"1.4.2"}"#, Status::Crit),
    ] {
        let server = serve(Reply::json(200, body)).await;
        let s = check(&server.url("/health")).await;
        assert_eq!(s.verdict(SLOW_AFTER).status, status, "{body}");
        assert_eq!(s.version(), Some("1.4.2"));
    }
}

#[tokio::test]
async fn ok_and_degraded_json_with_version() {
    let server = serve(Reply::json(200, r#"{"status":"degraded","version":"v2.0.1"}"#)).await;
    let s = check(&server.url("/health")).await;
    let v = s.verdict(SLOW_AFTER);
    assert_eq!((v.status, v.reason.as_str()), (Status::Warn, "status=degraded"));
    assert_eq!(s.version(), Some("v2.0.1"));
    let server = serve(Reply::json(200, r#"{"status":"ok"}"#)).await;
    assert_eq!(check(&server.url("/health")).await.verdict(SLOW_AFTER).status, Status::Ok);
}

#[tokio::test]
async fn fifty_megabyte_body_is_capped_not_read_whole() {
    const LEN: u64 = 50 * 1024 * 1024;
    let server = serve(Reply::Huge { len: LEN }).await;
    let s = check(&server.url("/health")).await;
    assert!(matches!(s.outcome, HealthOutcome::Response { code: 200, truncated: true, .. }), "{:?}", s.outcome);
    // Once the server has noticed the closed connection, see how much it got out.
    server.closed_all(Duration::from_secs(5)).await;
    let sent = server.bytes_sent.load(Ordering::SeqCst);
    assert!(sent < LEN / 4, "server wrote {sent} bytes: the client kept reading");
    assert!(sent >= MAX_HEALTH_BODY_BYTES as u64);
}

/// Sockets in TIME_WAIT between `port` and one of `peers` (either end), as the kernel lists
/// them (Linux). Matching both ends keeps out what an earlier test on a reused port left.
fn time_wait_between(port: u16, peers: &[u16]) -> usize {
    let table = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp lists the TCP sockets");
    let port_of = |addr: &str| addr.rsplit(':').next().and_then(|p| u16::from_str_radix(p, 16).ok());
    let ours = |a: Option<u16>, b: Option<u16>| a == Some(port) && b.is_some_and(|b| peers.contains(&b));
    table
        .lines()
        .skip(1)
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .filter(|f| f.len() > 3 && f[3] == "06")
        .filter(|f| ours(port_of(f[1]), port_of(f[2])) || ours(port_of(f[2]), port_of(f[1])))
        .count()
}

#[tokio::test]
async fn checks_leave_no_connection_in_time_wait_on_either_end() {
    let server = serve(Reply::json(200, r#"{"status":"UP"}"#)).await;
    for _ in 0..3 {
        let s = check(&server.url("/health")).await;
        assert!(matches!(s.outcome, HealthOutcome::Response { code: 200, body: BodyVerdict::Healthy, .. }));
    }
    // Once the server has closed its side of each connection.
    server.closed_all(Duration::from_secs(5)).await;
    assert_eq!(server.requests.load(Ordering::SeqCst), 3);
    let peers: Vec<u16> = server.peers.lock().unwrap().iter().map(|p| p.port()).collect();
    assert_eq!(peers.len(), 3, "one connection per check");
    assert_eq!(time_wait_between(server.addr.port(), &peers), 0, "a closed check left its connection waiting");
}

#[tokio::test]
async fn a_server_that_keeps_the_connection_open_sees_a_plain_close_not_a_reset() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/health", listener.local_addr().unwrap());
    // Answers, keeps its side open, and reports how the check's side ended.
    let server = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 4096];
        let _ = stream.read(&mut buf).await.unwrap();
        stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nOK").await.unwrap();
        stream.read(&mut buf).await.map_err(|e| e.kind())
    });
    let s = check(&url).await;
    assert!(matches!(s.outcome, HealthOutcome::Response { code: 200, body: BodyVerdict::Healthy, .. }));
    let ended = tokio::time::timeout(Duration::from_secs(5), server).await.expect("the check closed").unwrap();
    assert_eq!(ended, Ok(0), "the server read an end of stream, not a reset");
}

#[tokio::test]
async fn configured_headers_are_sent() {
    let server = common::serve_with(|head| {
        let authorised = head.lines().any(|l| l.eq_ignore_ascii_case("authorization: Bearer t0ken"));
        if authorised { Reply::text(200, "ok") } else { Reply::text(401, "who are you") }
    })
    .await;
    let mut headers = HeaderMap::new();
    headers.insert("authorization", "Bearer t0ken".parse().unwrap());
    let s = probe(&http_client(), &server.url("/health"), &headers, TIMEOUT, &TlsSpec::default(), &Default::default())
        .await;
    assert_eq!(s.code(), Some(200));
    let without = check(&server.url("/health")).await;
    assert_eq!(without.code(), Some(401));
}

#[tokio::test]
async fn a_long_bearer_token_is_sent_whole() {
    // Over one TCP segment's worth (a large JWT): the request still goes out in full.
    let token = format!("Bearer {}", "x".repeat(3000));
    let expected = format!("authorization: {token}");
    let server = common::serve_with(move |head| {
        if head.lines().any(|l| l.eq_ignore_ascii_case(&expected)) {
            Reply::text(200, "ok")
        } else {
            Reply::text(401, "who are you")
        }
    })
    .await;
    let mut headers = HeaderMap::new();
    headers.insert("authorization", token.parse().unwrap());
    let s = probe(&http_client(), &server.url("/health"), &headers, TIMEOUT, &TlsSpec::default(), &Default::default())
        .await;
    assert_eq!(s.code(), Some(200));
}

/// The verdict of one check of `reply` under the conditions a config gives the service `api`.
async fn judged(reply: Reply, conditions: &str) -> (Status, String) {
    let server = serve(reply).await;
    let text = format!("[services.api]\ninstances = [\"{}\"]\n{conditions}\n", server.url(""));
    let loaded = opsboard::config::load_str("c.toml", &text).unwrap_or_else(|e| panic!("{e}"));
    let check = &loaded.fleet.services[0].check;
    let url = server.url("/health");
    let s = probe(&http_client(), url.as_str(), &HeaderMap::new(), TIMEOUT, &check.tls, &check.answer).await;
    let v = s.verdict(SLOW_AFTER);
    (v.status, v.reason)
}

#[tokio::test]
async fn conditions_on_the_answer_spring_ietf_and_nested_json() {
    let spring =
        r#"{"status":"UP","components":{"db":{"status":"DOWN"},"diskSpace":{"status":"UP","details":{"free":1024}}}}"#;
    let ietf = r#"{"status":"pass","checks":{"queue:depth":[{"observedValue":1500}]}}"#;
    let cases = [
        (Reply::json(200, spring), r#"conditions = ['"/status" == "UP"']"#, Status::Ok, ""),
        (
            Reply::json(200, spring),
            r#"conditions = ['"/status" == "UP"', '"/components/db/status" != "DOWN"']"#,
            Status::Crit,
            r#"/components/db/status is "DOWN", not != "DOWN""#,
        ),
        (
            Reply::json(200, spring),
            r#"conditions = ['"/components/diskSpace/details/free" >= 4096']"#,
            Status::Crit,
            "/components/diskSpace/details/free is 1024, not >= 4096",
        ),
        (
            Reply::json(200, ietf),
            r#"conditions = ['"/checks/queue:depth/0/observedValue" < 1000']"#,
            Status::Crit,
            "/checks/queue:depth/0/observedValue is 1500, not < 1000",
        ),
        (
            Reply::json(200, ietf),
            r#"conditions = ['"/version" == "2"']"#,
            Status::Crit,
            r#"/version missing (wanted == "2")"#,
        ),
        (Reply::text(204, ""), "expect_status = [200, 204]", Status::Ok, ""),
        (Reply::text(401, "login"), "expect_status = [401]", Status::Ok, ""),
        (Reply::text(200, "OK"), "expect_status = [204]", Status::Crit, "HTTP 200, not an expected status"),
        (Reply::text(200, "alive v2"), "body_contains = \"ready\"", Status::Crit, r#"body does not contain "ready""#),
        (Reply::text(200, "alive v2"), "body_regex = 'v\\d+'", Status::Ok, ""),
        (Reply::text(200, "alive"), "body_regex = '^ready'", Status::Crit, "body does not match /^ready/"),
        (Reply::text(200, "<html>"), r#"conditions = ['"/status" == "UP"']"#, Status::Crit, "body is not JSON"),
    ];
    for (reply, conditions, status, reason) in cases {
        let got = judged(reply, conditions).await;
        assert_eq!(got, (status, reason.to_string()), "{conditions}");
    }
}

#[test]
fn a_malformed_condition_names_its_line_and_key() {
    for (line, key, message) in [
        (r#"conditions = ['status == "UP"']"#, "services.api.conditions", "JSON pointer in quotes"),
        (r#"conditions = ['"/depth" < "many"']"#, "services.api.conditions", "compares numbers"),
        ("body_regex = '(unclosed'", "services.api.body_regex", "not a regular expression"),
        ("expect_status = [42]", "services.api.expect_status", "42 is not an HTTP status code"),
    ] {
        let text = format!("[services.api]\ninstances = [\"http://127.0.0.1:9\"]\n{line}\n");
        let err = opsboard::config::load_str("c.toml", &text).unwrap_err();
        assert_eq!((err.line, err.key.as_deref()), (Some(3), Some(key)), "{err}");
        assert!(err.message.contains(message), "{err}");
    }
}

#[tokio::test]
async fn redirects_are_followed_up_to_three() {
    let server = common::serve_with(|head| match common::path_of(head) {
        "/health" => Reply::Redirect { code: 301, location: "/health/".into() },
        "/health/" => Reply::Redirect { code: 307, location: "ready?deep=1".into() },
        "/health/ready?deep=1" => Reply::text(200, "OK"),
        "/loop" => Reply::Redirect { code: 302, location: "/loop".into() },
        _ => Reply::text(404, "no"),
    })
    .await;
    let s = check(&server.url("/health")).await;
    assert_eq!(s.code(), Some(200), "{:?}", s.outcome);
    assert_eq!(s.verdict(SLOW_AFTER).status, Status::Ok);
    let looped = check(&server.url("/loop")).await;
    let v = looped.verdict(SLOW_AFTER);
    assert_eq!(v.status, Status::Crit);
    assert!(v.reason.contains("more than 3 redirects"), "{}", v.reason);
    assert_eq!(server.requests.load(Ordering::SeqCst), 3 + 4);
}

#[tokio::test]
async fn credentials_do_not_follow_a_redirect_to_another_origin() {
    let other = common::serve_with(|head| {
        let leaked = head.lines().any(|l| l.to_ascii_lowercase().starts_with("authorization:"));
        if leaked { Reply::text(500, "leaked") } else { Reply::text(200, "OK") }
    })
    .await;
    let to = other.url("/health");
    let first = common::serve_with(move |_| Reply::Redirect { code: 302, location: to.clone() }).await;
    let mut headers = HeaderMap::new();
    headers.insert("authorization", "Bearer t0ken".parse().unwrap());
    let s =
        probe(&http_client(), &first.url("/health"), &headers, TIMEOUT, &TlsSpec::default(), &Default::default()).await;
    assert_eq!(s.code(), Some(200), "{:?}", s.outcome);
}

#[tokio::test]
async fn basic_auth_from_the_url() {
    let server = common::serve_with(|head| {
        // base64("ops:s3cret")
        let ok = head.lines().any(|l| l.eq_ignore_ascii_case("authorization: Basic b3BzOnMzY3JldA=="));
        if ok { Reply::text(200, "ok") } else { Reply::text(401, "who are you") }
    })
    .await;
    let s = check(&format!("http://ops:s3cret@{}/health", server.addr)).await;
    assert_eq!(s.code(), Some(200));
}

#[tokio::test]
async fn chunked_bodies_are_joined_and_capped() {
    // 40 KiB in 10 chunks, then the verdict in a last chunk with an extension.
    let small = serve(Reply::Chunked { size: 4096, count: 10, last_line: "tail-ok" }).await;
    let text = format!("[services.api]\ninstances = [\"{}\"]\nbody_regex = 'x{{4096}}tail-ok$'\n", small.url(""));
    let loaded = opsboard::config::load_str("c.toml", &text).unwrap();
    let check_spec = &loaded.fleet.services[0].check;
    let s =
        probe(&http_client(), &small.url("/"), &HeaderMap::new(), TIMEOUT, &check_spec.tls, &check_spec.answer).await;
    assert!(matches!(s.outcome, HealthOutcome::Response { code: 200, truncated: false, .. }), "{:?}", s.outcome);
    assert_eq!(s.verdict(SLOW_AFTER).status, Status::Ok, "{}", s.verdict(SLOW_AFTER).reason);
    // 50 MB chunked: capped, and the server is left with most of it unsent.
    let huge = serve(Reply::Chunked { size: 64 * 1024, count: 800, last_line: "end" }).await;
    let s = check(&huge.url("/")).await;
    assert!(matches!(s.outcome, HealthOutcome::Response { code: 200, truncated: true, .. }), "{:?}", s.outcome);
    huge.closed_all(Duration::from_secs(5)).await;
    assert!(huge.bytes_sent.load(Ordering::SeqCst) < 12 * 1024 * 1024);
}

/// A real Go server (Debian's Prometheus): its health endpoint, and its /metrics streamed
/// chunked, read whole (the last family is found) under the cap.
#[tokio::test]
async fn a_real_go_server_health_and_chunked_metrics() {
    let prom = tokio::task::spawn_blocking(|| common::prometheus::start(&[])).await.unwrap();
    let s = check(&format!("{}/-/healthy", prom.url)).await;
    assert_eq!(s.code(), Some(200), "{:?}", s.outcome);
    let text = format!(
        "[services.prom]\ninstances = [\"{}\"]\nbody_contains = \"prometheus_build_info\"\nbody_regex = '(?s)^# HELP.*promhttp_metric_handler_requests_total\\{{code=\"503\"\\}} \\d+\\s*$'\n",
        prom.url
    );
    let loaded = opsboard::config::load_str("c.toml", &text).unwrap_or_else(|e| panic!("{e}"));
    let spec = &loaded.fleet.services[0].check;
    let s =
        probe(&http_client(), &format!("{}/metrics", prom.url), &HeaderMap::new(), TIMEOUT, &spec.tls, &spec.answer)
            .await;
    assert!(matches!(s.outcome, HealthOutcome::Response { code: 200, truncated: false, .. }), "{:?}", s.outcome);
    assert_eq!(s.verdict(SLOW_AFTER).status, Status::Ok, "{}", s.verdict(SLOW_AFTER).reason);
}

#[tokio::test]
async fn every_client_names_itself_the_same() {
    let server = common::serve_with(|head| {
        let named = head.lines().any(|l| l.eq_ignore_ascii_case(&format!("user-agent: {}", http::USER_AGENT)));
        if named { Reply::text(200, "ok") } else { Reply::text(400, "who are you") }
    })
    .await;
    // The lean plain-http check, and a reqwest client as webhooks, backups and https use.
    assert_eq!(check(&server.url("/health")).await.code(), Some(200));
    let resp = http::client().get(server.url("/health")).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
}
