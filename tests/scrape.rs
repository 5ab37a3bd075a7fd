//! Scraping `/metrics` from real HTTP servers on 127.0.0.1, and parsing real exporter output.

mod common;

use common::{Reply, serve, serve_with};
use opsboard::metrics::{self, MetricNames, exposition};
use opsboard::sources::scrape::{MAX_METRICS_BODY_BYTES, metrics_client, scrape};
use reqwest::header::HeaderMap;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

const NODE_EXPORTER: &str = include_str!("fixtures/node-exporter.prom");
const TIMEOUT: Duration = Duration::from_secs(2);

async fn scrape_url(url: &str) -> Result<metrics::Counts, String> {
    let url = reqwest::Url::parse(url).unwrap();
    scrape(&metrics_client(), url, &HeaderMap::new(), TIMEOUT, &MetricNames::default()).await.outcome
}

fn exposition(requests: u64, errors: u64) -> String {
    format!(
        "# HELP http_requests_total Requests.\n# TYPE http_requests_total counter\n\
         http_requests_total{{code=\"200\"}} {}\nhttp_requests_total{{code=\"500\"}} {errors}\n\
         # TYPE http_request_duration_seconds histogram\n\
         http_request_duration_seconds_bucket{{le=\"0.1\"}} {}\n\
         http_request_duration_seconds_bucket{{le=\"1\"}} {requests}\n\
         http_request_duration_seconds_bucket{{le=\"+Inf\"}} {requests}\n\
         http_request_duration_seconds_count {requests}\n\
         app_build_info{{version=\"2.0.0\"}} 1\n",
        requests - errors,
        requests / 2,
    )
}

#[test]
fn node_exporter_fixture_parses_every_sample() {
    let mut samples = 0;
    let mut families = Vec::new();
    let stats = exposition::parse_with(NODE_EXPORTER, |_| samples += 1, |name, _| families.push(name)).unwrap();
    // Every non-comment, non-blank line is a sample.
    let expected = NODE_EXPORTER.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')).count();
    assert_eq!(stats.samples, expected);
    assert_eq!(samples, expected);
    assert_eq!(families.len(), NODE_EXPORTER.lines().filter(|l| l.starts_with("# TYPE")).count());
    assert!(families.contains(&"go_gc_duration_seconds"));
}

#[test]
fn node_exporter_values_match_prometheus_parse() {
    // Same input through the prometheus-parse crate: every (name, value) must agree.
    let lines = NODE_EXPORTER.lines().map(|l| Ok(l.to_string()));
    let theirs = prometheus_parse::Scrape::parse(lines).unwrap();
    let mut ours = Vec::new();
    exposition::parse(NODE_EXPORTER, |s| ours.push((s.name.to_string(), s.value))).unwrap();
    let count = |name: &str| ours.iter().filter(|(n, _)| n == name).count();
    assert_eq!(
        count("node_cpu_seconds_total"),
        theirs.samples.iter().filter(|s| s.metric == "node_cpu_seconds_total").count()
    );
    let load1 = theirs.samples.iter().find(|s| s.metric == "node_load1").unwrap();
    let prometheus_parse::Value::Gauge(v) = load1.value else { panic!("node_load1 is a gauge") };
    assert_eq!(ours.iter().find(|(n, _)| n == "node_load1").unwrap().1, v);
}

#[test]
fn node_exporter_has_no_request_counter_and_that_is_not_zero_traffic() {
    let c = metrics::extract(NODE_EXPORTER, &MetricNames::default()).unwrap();
    assert_eq!(c.requests, None);
    assert!(c.samples > 500);
}

#[tokio::test]
async fn two_scrapes_give_rate_error_ratio_and_quantiles() {
    let scrapes = Arc::new(AtomicU64::new(0));
    let n = scrapes.clone();
    let server = serve_with(move |_| {
        let i = n.fetch_add(1, Ordering::SeqCst);
        // First scrape: 1000 requests, 10 errors. Second: 1400 requests, 30 errors.
        let (r, e) = if i == 0 { (1000, 10) } else { (1400, 30) };
        Reply::text(200, &exposition(r, e))
    })
    .await;
    let a = scrape_url(&server.url("/metrics")).await.unwrap();
    let b = scrape_url(&server.url("/metrics")).await.unwrap();
    assert_eq!(b.version.as_deref(), Some("2.0.0"));
    let w = metrics::window(&a, &b, 10.0).unwrap();
    assert_eq!(w.rate(), 40.0);
    assert_eq!(w.error_ratio(), Some(0.05));
    // 200 of the 400 new requests are under 100 ms: p50 = 0.1, p95 = 0.1 + 0.9 * 180/200.
    assert!((w.quantile(0.5).unwrap() - 0.1).abs() < 1e-9);
    assert!((w.quantile(0.95).unwrap() - 0.91).abs() < 1e-9);
}

#[tokio::test]
async fn gzip_bodies_are_accepted() {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(exposition(500, 5).as_bytes()).unwrap();
    let body = gz.finish().unwrap();
    let server = serve(Reply::Raw { headers: "content-type: text/plain\r\ncontent-encoding: gzip\r\n", body }).await;
    let c = scrape_url(&server.url("/metrics")).await.unwrap();
    assert_eq!((c.requests, c.errors), (Some(500.0), 5.0));
}

#[tokio::test]
async fn garbage_is_an_error_in_words() {
    let server = serve(Reply::text(200, "<html><body>502 Bad Gateway</body></html>")).await;
    let e = scrape_url(&server.url("/metrics")).await.unwrap_err();
    assert!(e.starts_with("metrics line 1: "), "{e}");
}

#[tokio::test]
async fn binary_garbage_is_an_error_not_a_crash() {
    let body: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
    let server = serve(Reply::Raw { headers: "content-type: application/octet-stream\r\n", body }).await;
    assert!(scrape_url(&server.url("/metrics")).await.is_err());
}

#[tokio::test]
async fn truncated_body_is_an_error() {
    let full = exposition(100, 1);
    let server = serve(Reply::Truncated { announced: full.len(), body: full[..full.len() / 2].to_string() }).await;
    let e = scrape_url(&server.url("/metrics")).await.unwrap_err();
    assert!(e.contains("reading metrics") || e.contains("metrics line"), "{e}");
}

#[tokio::test]
async fn huge_body_is_refused_without_reading_it_all() {
    const LEN: u64 = 100 * 1024 * 1024;
    let server = serve(Reply::Huge { len: LEN }).await;
    let e = scrape_url(&server.url("/metrics")).await.unwrap_err();
    assert!(e.starts_with("metrics body over 10M"), "{e}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sent = server.bytes_sent.load(Ordering::SeqCst);
    assert!(sent < LEN / 4, "server wrote {sent} of {LEN} bytes");
    assert!(sent > MAX_METRICS_BODY_BYTES as u64);
}

#[tokio::test]
async fn http_error_and_timeout_in_words() {
    let server = serve(Reply::text(404, "no metrics here")).await;
    assert_eq!(scrape_url(&server.url("/metrics")).await.unwrap_err(), "metrics: HTTP 404");
    let server = serve(Reply::Hang).await;
    assert_eq!(scrape_url(&server.url("/metrics")).await.unwrap_err(), "timeout after 2s");
}

/// A keep-alive metrics server: counts connections and requests; answers gzip when asked, and
/// with `close_after_each` shuts every connection after its answer (an idle timeout between
/// scrapes, as seen by the next one).
async fn keep_alive_server(body: String, close_after_each: bool) -> (String, Arc<AtomicU64>, Arc<AtomicU64>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/metrics", listener.local_addr().unwrap());
    let (conns, reqs) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let (c, r) = (conns.clone(), reqs.clone());
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else { return };
            c.fetch_add(1, Ordering::SeqCst);
            let (r, body) = (r.clone(), body.clone());
            tokio::spawn(async move {
                let mut buf = Vec::new();
                loop {
                    let end = loop {
                        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break i + 4;
                        }
                        let mut chunk = [0u8; 1024];
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    };
                    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                    buf.drain(..end);
                    r.fetch_add(1, Ordering::SeqCst);
                    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                    gz.write_all(body.as_bytes()).unwrap();
                    let zipped = gz.finish().unwrap();
                    assert!(head.contains("accept-encoding: gzip"), "{head}");
                    // Chunked, as Go's servers stream a gzip body: two chunks, then the end.
                    let half = zipped.len() / 2;
                    let mut out =
                        b"HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
                    for part in [&zipped[..half], &zipped[half..]] {
                        out.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
                        out.extend_from_slice(part);
                        out.extend_from_slice(b"\r\n");
                    }
                    out.extend_from_slice(b"0\r\n\r\n");
                    if stream.write_all(&out).await.is_err() || close_after_each {
                        return;
                    }
                }
            });
        }
    });
    (url, conns, reqs)
}

#[tokio::test]
async fn a_scraper_keeps_its_connection_and_reconnects_when_the_server_closed_it() {
    let names = MetricNames::default();
    for (close_after_each, connections) in [(false, 1), (true, 3)] {
        let (url, conns, reqs) = keep_alive_server(exposition(300, 3), close_after_each).await;
        let mut scraper = opsboard::sources::scrape::Scraper::new(reqwest::Url::parse(&url).unwrap(), HeaderMap::new());
        for _ in 0..3 {
            let c = scraper.scrape(&metrics_client(), TIMEOUT, &names).await.outcome.unwrap();
            assert_eq!((c.requests, c.errors, c.version.as_deref()), (Some(300.0), 3.0, Some("2.0.0")));
            // Time for a server that closes to have closed before the next scrape.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(reqs.load(Ordering::SeqCst), 3);
        assert_eq!(conns.load(Ordering::SeqCst), connections, "close after each: {close_after_each}");
    }
}

/// Debian's prometheus-node-exporter on loopback: three scrapes on one kept connection, gzip
/// and chunked as Go serves them, every sample parsed and the version read.
#[tokio::test]
async fn a_real_node_exporter_scraped_three_times() {
    let port = common::closed_port().port();
    let mut child = std::process::Command::new("prometheus-node-exporter")
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("Debian's prometheus-node-exporter (scripts/test installs it)");
    let url = reqwest::Url::parse(&format!("http://127.0.0.1:{port}/metrics")).unwrap();
    let mut scraper = opsboard::sources::scrape::Scraper::new(url, HeaderMap::new());
    let mut ready = false;
    for _ in 0..50 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "node-exporter did not start");
    for _ in 0..3 {
        let c = scraper.scrape(&metrics_client(), Duration::from_secs(10), &MetricNames::default()).await.outcome;
        let c = c.unwrap_or_else(|e| panic!("{e}"));
        assert!(c.samples > 300, "{} samples", c.samples);
        assert!(c.version.as_deref().is_some_and(|v| v.starts_with('1')), "{:?}", c.version);
    }
    let _ = child.kill();
    let _ = child.wait();
}
