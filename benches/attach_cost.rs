//! `opsboard serve --demo` with 0, 1, 10 and 50 terminals attached (`opsboard attach`'s protocol,
//! spoken here by plain threads at 120×40, each its own view): the server's CPU and RSS per
//! terminal, the bytes each receives per second, and the time from a key to its frame (median
//! and p99, a probe terminal moving its cursor every 100 ms).
//!
//! Then 10 browsers, each with its own view (the page's `/events?view=new`, keys by `/key`),
//! measured the same way.
//!
//! The alternative protocol, the state sent to each terminal and drawn there, is priced by what
//! it would send: `/api/state` whole at each change (its size is printed beside the frames').
//!
//! `cargo bench --bench attach_cost` (OPSBOARD_BENCH_SECS=20 per row). `OPSBOARD_BIN` runs another
//! build of the server.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use support::{bench_secs, rss_kib};

/// An attached terminal: upgraded, hello said, its first (whole) frame read.
fn attach(addr: SocketAddr) -> BufReader<TcpStream> {
    let theme = include_str!("../themes/dark.toml");
    let hello = serde_json::json!({ "t": "hello", "cols": 120, "rows": 40, "theme": theme, "utc_offset_secs": 0 });
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_nodelay(true).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
    write!(
        s,
        "GET /attach HTTP/1.1\r\nHost: {addr}\r\nConnection: upgrade\r\nUpgrade: opsboard-attach\r\nopsboard-protocol: 1\r\n\r\n{hello}\n"
    )
    .unwrap();
    let mut r = BufReader::new(s);
    let mut line = String::new();
    loop {
        line.clear();
        r.read_line(&mut line).expect("the upgrade's head");
        assert!(!line.is_empty(), "the server closed the attach");
        if line == "\r\n" {
            break;
        }
    }
    line.clear();
    r.read_line(&mut line).expect("the first frame");
    assert!(line.contains(r#""t":"full""#), "{line}");
    r
}

/// A terminal that only reads, counting bytes until `stop`.
fn watcher(mut r: BufReader<TcpStream>, bytes: Arc<AtomicU64>, stop: Arc<AtomicBool>) {
    support::count_until(&mut r, &bytes, &stop);
}

/// Key-to-frame times: `n` keys (down, up, down, …) 100 ms apart, each sent by `send` and timed
/// to the first frame that follows it on `r` (`is_frame` skips heartbeats and the like).
fn time_keys(
    r: &mut BufReader<TcpStream>,
    n: usize,
    mut send: impl FnMut(&mut BufReader<TcpStream>, &str),
    is_frame: impl Fn(&str) -> bool,
) -> Vec<Duration> {
    r.get_mut().set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut took = Vec::new();
    let mut line = String::new();
    for i in 0..n {
        std::thread::sleep(Duration::from_millis(100));
        let key = if i % 2 == 0 { "j" } else { "k" };
        let t0 = Instant::now();
        send(r, key);
        loop {
            line.clear();
            if r.read_line(&mut line).is_err() || line.is_empty() {
                return took;
            }
            if is_frame(&line) {
                break;
            }
        }
        took.push(t0.elapsed());
    }
    took
}

/// A terminal's keys, on its own connection.
fn key_latencies(addr: SocketAddr, n: usize) -> Vec<Duration> {
    let mut r = attach(addr);
    let send = |r: &mut BufReader<TcpStream>, key: &str| {
        writeln!(r.get_mut(), r#"{{"t":"key","code":"{key}","mods":0}}"#).unwrap();
    };
    time_keys(&mut r, n, send, |line| !line.contains(r#""t":"hb""#))
}

/// A browser's own view: the page's stream opened with `view=new`, read up to its whole frame;
/// the view's name with it.
fn own_page(addr: SocketAddr) -> (BufReader<TcpStream>, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_nodelay(true).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
    write!(s, "GET /events?cols=120&rows=40&view=new HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut r = BufReader::new(s);
    let (mut line, mut name) = (String::new(), String::new());
    loop {
        line.clear();
        r.read_line(&mut line).expect("the stream");
        assert!(!line.is_empty(), "the server closed the stream");
        if let Some(rest) = line.split(r#""t":"view","id":""#).nth(1) {
            name = rest.split('"').next().unwrap_or_default().to_string();
        }
        if line.contains(r#""t":"full""#) {
            return (r, name);
        }
    }
}

/// A browser's keys on its own view: each key a request of its own, timed to the next event on
/// the view's stream.
fn page_key_latencies(addr: SocketAddr, n: usize) -> Vec<Duration> {
    let (mut r, name) = own_page(addr);
    let send = |_: &mut BufReader<TcpStream>, key: &str| {
        let mut k = TcpStream::connect(addr).unwrap();
        write!(k, "GET /key?view={name}&code={key}&mods=0 HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
        // Its answer comes as the frame is sent: read it, so the request is not cut short.
        let _ = k.read_to_end(&mut Vec::new());
    };
    time_keys(&mut r, n, send, |line| line.starts_with("data:") && !line.contains(r#""t":"hb""#))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

struct Row {
    cpu_ms_per_s: f64,
    bytes_per_viewer_s: f64,
    rss_per_viewer_kib: f64,
    median: Duration,
    p99: Duration,
}

/// How a row's viewers join and how its probe times keys: terminals or browsers.
#[derive(Clone, Copy)]
enum Viewers {
    Terminals,
    Browsers,
}

fn measure(addr: SocketAddr, pid: u32, viewers: usize, secs: Duration, kind: Viewers) -> Row {
    let rss0 = rss_kib(pid).0;
    let stop = Arc::new(AtomicBool::new(false));
    let bytes = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..viewers)
        .map(|_| {
            let r = match kind {
                Viewers::Terminals => attach(addr),
                Viewers::Browsers => own_page(addr).0,
            };
            let (stop, bytes) = (stop.clone(), bytes.clone());
            std::thread::spawn(move || watcher(r, bytes, stop))
        })
        .collect();
    std::thread::sleep(Duration::from_secs(2));
    let rss_per_viewer_kib =
        if viewers == 0 { 0.0 } else { rss_kib(pid).0.saturating_sub(rss0) as f64 / viewers as f64 };
    let (cpu_ms_per_s, bytes_per_s) = support::steady(pid, &bytes, secs);
    // The probe runs after the quiet measurement, with the same terminals attached.
    let mut took = match kind {
        Viewers::Terminals => key_latencies(addr, 200),
        Viewers::Browsers => page_key_latencies(addr, 200),
    };
    took.sort();
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    std::thread::sleep(Duration::from_secs(1));
    Row {
        cpu_ms_per_s,
        bytes_per_viewer_s: if viewers == 0 { 0.0 } else { bytes_per_s / viewers as f64 },
        rss_per_viewer_kib,
        median: percentile(&took, 0.5),
        p99: percentile(&took, 0.99),
    }
}

/// `/api/state` as a terminal drawing it itself would need it: its bytes plain, and gzipped
/// here at the default level (the server sends it plain).
fn state_size(addr: SocketAddr) -> (usize, usize) {
    use std::io::Write as _;
    let mut s = TcpStream::connect(addr).unwrap();
    write!(s, "GET /api/state HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut all = Vec::new();
    s.read_to_end(&mut all).unwrap();
    let body = all.windows(4).position(|w| w == b"\r\n\r\n").map_or(&all[..0], |i| &all[i + 4..]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(body).unwrap();
    (body.len(), gz.finish().unwrap().len())
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let secs = bench_secs(20);
    let dir = tempfile::tempdir().unwrap();
    let (mut child, addr) = support::serve_demo(dir.path());
    println!(
        "{:<20} {:>10} {:>14} {:>16} {:>16} {:>12} {:>12}",
        "terminals (120x40)", "cpu ms/s", "cpu ms/s each", "bytes/s each", "rss KiB each", "key median", "key p99"
    );
    let mut baseline = 0.0;
    let rows = [(0, Viewers::Terminals), (1, Viewers::Terminals), (10, Viewers::Terminals), (50, Viewers::Terminals)];
    for (n, kind) in rows.into_iter().chain([(10, Viewers::Browsers)]) {
        let r = measure(addr, child.id(), n, secs, kind);
        if n == 0 {
            baseline = r.cpu_ms_per_s;
        }
        let each = if n == 0 { 0.0 } else { (r.cpu_ms_per_s - baseline) / n as f64 };
        let label = match (n, kind) {
            (0, _) => "0 (+ the probe)".to_string(),
            (n, Viewers::Terminals) => n.to_string(),
            (n, Viewers::Browsers) => format!("{n} browsers, own"),
        };
        println!(
            "{:<20} {:>10.2} {:>14.3} {:>16.0} {:>16.0} {:>12.1?} {:>12.1?}",
            label, r.cpu_ms_per_s, each, r.bytes_per_viewer_s, r.rss_per_viewer_kib, r.median, r.p99
        );
    }
    let (plain, gzip) = state_size(addr);
    println!(
        "the state a terminal would draw itself: /api/state is {plain} bytes ({gzip} gzip), sent whole at each change"
    );
    let _ = child.kill();
    let _ = child.wait();
}
