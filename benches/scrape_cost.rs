//! Scrape cost and memory on real expositions, side by side with Debian's Prometheus.
//!
//! Rows (`cargo bench --bench scrape_cost [-- node|prometheus|memory]`, all by default):
//! - `node`: 200 loopback targets serving node-exporter's real /metrics
//!   (tests/fixtures/node-exporter.prom, 57 KB) and a /health. The board (release binary, tmux
//!   160x45) health-checks and scrapes each every 5 s while Prometheus scrapes the same targets
//!   on the same interval, in the same run. opsboard's CPU per target per interval (health check
//!   included) against Prometheus' CPU per scrape.
//! - `prometheus`: the same with Prometheus' own exposition (tests/fixtures/prometheus.prom,
//!   histograms).
//! - `memory`: 500 targets with the node-exporter body and 1 h of history (720 points at 5 s):
//!   the live board's RSS over the run, and the heap the state itself holds after 100 … 1,000
//!   rounds of real results (history full at 720), counted by this binary's allocator.
//!
//! Targets serve gzip when asked, as the exporters do. OPSBOARD_BENCH_SECS=60 a row by default.

mod support;

use opsboard::state::{Event, HealthOutcome, HealthSample, InstanceId, ScrapeResult, State};
use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};
use support::{BIN, Endpoints, Session, bench_secs, cpu_seconds, rss_kib};

/// Counts the heap in use, so the state's own size can be read.
struct Counting;
static HEAP: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        HEAP.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        HEAP.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        HEAP.fetch_add(new_size, Ordering::Relaxed);
        HEAP.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const INTERVAL_SECS: u64 = 5;
const NODE_EXPORTER: &str = include_str!("../tests/fixtures/node-exporter.prom");
const PROMETHEUS: &str = include_str!("../tests/fixtures/prometheus.prom");

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    if std::env::var("OPSBOARD_BENCH_ROLE").as_deref() == Ok("server") {
        return serve();
    }
    let chosen: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let wants = |row: &str| chosen.is_empty() || chosen.iter().any(|c| c == row);
    let secs = bench_secs(60);
    if wants("node") || wants("prometheus") {
        println!(
            "{:<44} {:>8} {:>9} {:>14} {:>9} {:>10}",
            "row", "targets", "scrapes", "cpu ms/scrape", "rss MiB", "vs Prom"
        );
    }
    for (row, name, body) in
        [("node", "node-exporter 1.5", NODE_EXPORTER), ("prometheus", "Prometheus 2.42", PROMETHEUS)]
    {
        if wants(row) {
            side_by_side(name, body, 200, secs);
        }
    }
    if wants("memory") {
        memory(500, secs);
    }
}

/// `n` loopback targets serving `body` at /metrics and a health answer at /health; counts
/// (scrapes by opsboard, scrapes by Prometheus, health checks).
struct Targets(Endpoints);

impl Targets {
    fn start(body: &str, n: usize, dir: &std::path::Path) -> Self {
        let body_file = dir.join("body.prom");
        std::fs::write(&body_file, body).unwrap();
        let env =
            [("OPSBOARD_BENCH_BODY", body_file.into_os_string()), ("OPSBOARD_BENCH_TARGETS", n.to_string().into())];
        Self(Endpoints::start(n, &env, dir))
    }

    fn addrs(&self) -> &[String] {
        &self.0.addrs
    }

    fn counts(&self) -> [f64; 3] {
        self.0.counts()
    }

    /// A board config: one service per target, health and scrape every interval.
    fn board_config(&self, dir: &std::path::Path, history: usize) -> std::path::PathBuf {
        let path = dir.join("board.toml");
        let mut f = std::fs::File::create(&path).unwrap();
        writeln!(
            f,
            "[environments.prod]\n[polling]\nhistory = {history}\n[defaults]\ninterval = \"{INTERVAL_SECS}s\"\ntimeout = \"4s\"\n"
        )
        .unwrap();
        for (i, a) in self.addrs().iter().enumerate() {
            writeln!(f, "[services.svc-{i:04}]\nenv = \"prod\"\ninstances = [\"http://{a}\"]").unwrap();
        }
        path
    }
}

fn prometheus(targets: &Targets, dir: &std::path::Path) -> Child {
    let list: Vec<String> = targets.addrs().iter().map(|a| format!("'{a}'")).collect();
    let config = format!(
        "global:\n  scrape_interval: {INTERVAL_SECS}s\n  scrape_timeout: 4s\nscrape_configs:\n  - job_name: bench\n    static_configs:\n      - targets: [{}]\n",
        list.join(", ")
    );
    support::prometheus(&config, dir).expect("Debian's prometheus")
}

fn side_by_side(name: &str, body: &str, n: usize, secs: Duration) {
    let dir = tempfile::tempdir().unwrap();
    let targets = Targets::start(body, n, dir.path());
    let mut prom = prometheus(&targets, dir.path());
    let config = targets.board_config(dir.path(), 120);
    let command = format!("{BIN} --config {} --log-file {}", config.display(), dir.path().join("board.log").display());
    let board = Session::start("scrape", 160, 45, &command, dir.path());
    std::thread::sleep(Duration::from_secs(2 * INTERVAL_SECS + 2));
    let (b0, p0, c0) = (cpu_seconds(board.pid), cpu_seconds(prom.id()), targets.counts());
    let t0 = Instant::now();
    // OPSBOARD_BENCH_PERF=FILE records a profile of the board while it is measured.
    let perf = std::env::var("OPSBOARD_BENCH_PERF").ok().map(|out| {
        Command::new("perf")
            .args(["record", "-F", "299", "--call-graph", "dwarf,16384", "-o", &out, "-p", &board.pid.to_string()])
            .args(["--", "sleep", &secs.as_secs().to_string()])
            .stderr(Stdio::null())
            .spawn()
            .expect("perf")
    });
    std::thread::sleep(secs);
    if let Some(mut p) = perf {
        let _ = p.wait();
    }
    let (b1, p1, c1) = (cpu_seconds(board.pid), cpu_seconds(prom.id()), targets.counts());
    let elapsed = t0.elapsed().as_secs_f64();
    let (brss, prss) = (rss_kib(board.pid).0, rss_kib(prom.id()).0);
    let header = board.screen().lines().next().unwrap_or("").trim().to_string();
    drop(board);
    let _ = prom.kill();
    let _ = prom.wait();
    let (ours, theirs, health) = (c1[0] - c0[0], c1[1] - c0[1], c1[2] - c0[2]);
    let ours_ms = 1000.0 * (b1 - b0) / ours;
    let theirs_ms = 1000.0 * (p1 - p0) / theirs;
    let kb = body.len() as f64 / 1024.0;
    println!(
        "{:<44} {n:>8} {ours:>9.0} {ours_ms:>14.3} {:>9.1} {:>9.2}x",
        format!("opsboard, {name} ({kb:.0} KB), health + scrape"),
        brss as f64 / 1024.0,
        ours_ms / theirs_ms
    );
    println!(
        "{:<44} {n:>8} {theirs:>9.0} {theirs_ms:>14.3} {:>9.1}",
        format!("Prometheus, {name}, scrape"),
        prss as f64 / 1024.0
    );
    println!("  ({elapsed:.0}s; opsboard also made {health:.0} health checks; board header: {header})");
}

fn memory(n: usize, secs: Duration) {
    let dir = tempfile::tempdir().unwrap();
    let targets = Targets::start(NODE_EXPORTER, n, dir.path());
    let config = targets.board_config(dir.path(), 720);
    let command = format!("{BIN} --config {} --log-file {}", config.display(), dir.path().join("board.log").display());
    let board = Session::start("memory", 160, 45, &command, dir.path());
    println!("memory: {n} services, node-exporter body, health + scrape every {INTERVAL_SECS}s, history 720 (1 h)");
    let started = Instant::now();
    let mut readings = Vec::new();
    let step = Duration::from_secs(30).min(secs);
    while started.elapsed() < secs.max(step) {
        std::thread::sleep(step);
        readings.push(format!(
            "{:.0}s {:.1} MiB",
            started.elapsed().as_secs_f64(),
            rss_kib(board.pid).0 as f64 / 1024.0
        ));
    }
    println!("  live board RSS: {}", readings.join(", "));
    drop(board);
    drop(targets);

    // The state alone, filled with real results: parsed node-exporter bodies and health samples.
    let text = std::fs::read_to_string(&config).unwrap();
    let loaded = opsboard::config::load_str("bench.toml", &text).unwrap();
    let names = &loaded.fleet.services[0].check.names;
    let counts = opsboard::metrics::extract(NODE_EXPORTER, names).unwrap();
    let before = HEAP.load(Ordering::Relaxed);
    let mut state = State::new(&loaded.fleet, loaded.config.polling.history, 3);
    let base = SystemTime::now() - Duration::from_secs(INTERVAL_SECS * 1000);
    let mut line = Vec::new();
    for round in 1..=1000u64 {
        let at = base + Duration::from_secs(INTERVAL_SECS * round);
        for service in 0..n {
            let key = state.instance_key(InstanceId { service, instance: 0 }).expect("one instance each");
            let sample = HealthSample {
                at,
                latency: Duration::from_micros(900 + (round * 37 + service as u64) % 400),
                outcome: HealthOutcome::Response {
                    code: 200,
                    body: opsboard::state::BodyVerdict::Healthy,
                    version: None,
                    truncated: false,
                    cert: None,
                    status_expected: None,
                },
            };
            state.apply(Event::Health { key: key.clone(), sample, next_in: Duration::from_secs(INTERVAL_SECS) });
            let mut c = counts.clone();
            c.requests = Some(round as f64 * 100.0);
            state.apply(Event::Scrape { key, result: ScrapeResult { at, outcome: Ok(c) } });
        }
        if [100, 360, 720, 1000].contains(&round) {
            let held = HEAP.load(Ordering::Relaxed).saturating_sub(before);
            line.push(format!("{round} rounds {:.1} MiB", held as f64 / (1024.0 * 1024.0)));
        }
    }
    println!("  heap held by the state: {}", line.join(", "));
    println!("  per service: {:.1} KiB once the history is full", {
        let held = HEAP.load(Ordering::Relaxed).saturating_sub(before);
        held as f64 / 1024.0 / n as f64
    });
    drop(state);
}

fn serve() {
    let body = std::fs::read(std::env::var("OPSBOARD_BENCH_BODY").unwrap()).unwrap();
    let n: usize = std::env::var("OPSBOARD_BENCH_TARGETS").unwrap().parse().unwrap();
    let gzipped = {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&body).unwrap();
        e.finish().unwrap()
    };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    rt.block_on(async move {
        let bodies = Arc::new((body, gzipped));
        let counts: Arc<[AtomicU64; 3]> = Arc::new(Default::default());
        let mut stdout = std::io::stdout();
        for _ in 0..n {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            writeln!(stdout, "{}", listener.local_addr().unwrap()).unwrap();
            let (bodies, counts) = (bodies.clone(), counts.clone());
            tokio::spawn(async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else { return };
                    tokio::spawn(answer(stream, bodies.clone(), counts.clone()));
                }
            });
        }
        stdout.flush().unwrap();
        support::publish_counts(counts).await;
    });
}

/// Answers requests on one connection until the client closes it (or asks to).
async fn answer(mut stream: tokio::net::TcpStream, bodies: Arc<(Vec<u8>, Vec<u8>)>, counts: Arc<[AtomicU64; 3]>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = Vec::with_capacity(4096);
    loop {
        let end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match stream.read_buf(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
        buf.drain(..end);
        let close = head.contains("\r\nconnection: close");
        let reply = if head.starts_with("get /metrics") {
            let who = if head.contains("user-agent: prometheus") { 1 } else { 0 };
            counts[who].fetch_add(1, Ordering::Relaxed);
            let gzip = head.lines().any(|l| l.starts_with("accept-encoding:") && l.contains("gzip"));
            let (body, enc) = if gzip { (&bodies.1, "content-encoding: gzip\r\n") } else { (&bodies.0, "") };
            let mut r = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/plain; version=0.0.4; charset=utf-8\r\n{enc}content-length: {}\r\n\r\n",
                body.len()
            )
            .into_bytes();
            r.extend_from_slice(body);
            r
        } else {
            counts[2].fetch_add(1, Ordering::Relaxed);
            let body = r#"{"status":"UP"}"#;
            format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}", body.len())
                .into_bytes()
        };
        if stream.write_all(&reply).await.is_err() || close {
            return;
        }
    }
}
