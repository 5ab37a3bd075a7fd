//! Scrape cost side by side: opsboard's scrapers and Debian's Prometheus scraping the same 500
//! loopback targets (~100 KB each) on the same 5 s interval, at the same time.
//! Prints CPU-seconds per target scrape and RSS of each.
//!
//! Roles (this binary re-executes itself): the targets, and opsboard's scrapers alone (no board,
//! no health checks), since Prometheus here scrapes and stores but draws nothing.
//! `cargo bench --bench scrape_cost` (OPSBOARD_BENCH_SECS=60 by default; needs `prometheus`).

mod support;

use opsboard::config;
use opsboard::state::{Event, State};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{bench_secs, cpu_seconds, rss_kib};

const TARGETS: usize = 500;
const INTERVAL_SECS: u64 = 5;
const NODE_EXPORTER: &str = include_str!("../tests/fixtures/node-exporter.prom");

fn body() -> String {
    // Two node-exporter expositions (renamed apart) and request metrics: about 100 KB.
    let mut out = String::new();
    out.push_str(NODE_EXPORTER);
    out.push_str(
        &NODE_EXPORTER
            .replace("node_", "node2_")
            .replace("go_", "go2_")
            .replace("process_", "process2_")
            .replace("promhttp_", "promhttp2_"),
    );
    for code in ["200", "404", "500"] {
        out.push_str(&format!("http_requests_total{{code=\"{code}\"}} 12345\n"));
    }
    out
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    match std::env::var("OPSBOARD_BENCH_ROLE").as_deref() {
        Ok("server") => return serve(),
        Ok("scraper") => return scrape_loop(),
        _ => {}
    }
    let secs = bench_secs(60);
    let exe = std::env::current_exe().unwrap();
    let mut server = Command::new(&exe).env("OPSBOARD_BENCH_ROLE", "server").stdout(Stdio::piped()).spawn().unwrap();
    let addrs: Vec<String> =
        BufReader::new(server.stdout.take().unwrap()).lines().take(TARGETS).map(|l| l.unwrap()).collect();
    let dir = tempfile::tempdir().unwrap();

    // Prometheus on the same targets.
    let prom_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let targets: Vec<String> = addrs.iter().map(|a| format!("'{a}'")).collect();
    std::fs::write(
        dir.path().join("prometheus.yml"),
        format!(
            "global:\n  scrape_interval: {INTERVAL_SECS}s\n  scrape_timeout: 4s\nscrape_configs:\n  - job_name: bench\n    static_configs:\n      - targets: [{}]\n",
            targets.join(", ")
        ),
    )
    .unwrap();
    let mut prom = Command::new("prometheus")
        .arg(format!("--config.file={}", dir.path().join("prometheus.yml").display()))
        .arg(format!("--storage.tsdb.path={}", dir.path().join("tsdb").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{prom_port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("Debian's prometheus");

    // opsboard's scrapers on the same targets.
    let mut toml =
        format!("[defaults]\ninterval = \"{INTERVAL_SECS}s\"\ntimeout = \"4s\"\n[polling]\nmax_in_flight = 64\n");
    for (i, chunk) in addrs.chunks(10).enumerate() {
        let urls: Vec<String> = chunk.iter().map(|a| format!("\"http://{a}\"")).collect();
        toml.push_str(&format!("[services.s{i}]\ninstances = [{}]\n", urls.join(", ")));
    }
    std::fs::write(dir.path().join("board.toml"), &toml).unwrap();
    let mut ours = Command::new(&exe)
        .env("OPSBOARD_BENCH_ROLE", "scraper")
        .env("OPSBOARD_BENCH_CONFIG", dir.path().join("board.toml"))
        .env("OPSBOARD_BENCH_SECS", (secs.as_secs() + 2 * INTERVAL_SECS).to_string())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();

    // Let both reach steady state, then measure the same window.
    std::thread::sleep(Duration::from_secs(2 * INTERVAL_SECS));
    let (p0, o0) = (cpu_seconds(prom.id()), cpu_seconds(ours.id()));
    let t0 = Instant::now();
    std::thread::sleep(secs);
    let elapsed = t0.elapsed().as_secs_f64();
    let (p1, o1) = (cpu_seconds(prom.id()), cpu_seconds(ours.id()));
    let (prss, _) = rss_kib(prom.id());
    let (orss, _) = rss_kib(ours.id());
    let prom_scrapes = prometheus_scrapes(prom_port, elapsed);
    let our_out = BufReader::new(ours.stdout.take().unwrap()).lines().map_while(Result::ok).collect::<Vec<_>>();
    let _ = ours.wait();
    let _ = prom.kill();
    let _ = prom.wait();
    let _ = server.kill();
    let _ = server.wait();
    let our_scrapes: f64 = our_out
        .iter()
        .find_map(|l| l.strip_prefix("scrapes_in_window "))
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN);
    let expected = TARGETS as f64 * elapsed / INTERVAL_SECS as f64;
    let body_kb = body().len() as f64 / 1024.0;
    println!(
        "{TARGETS} targets x {body_kb:.0} KB, every {INTERVAL_SECS}s, measured {elapsed:.0}s (expected ~{expected:.0} scrapes each)"
    );
    println!("{:<12} {:>10} {:>12} {:>18} {:>10}", "scraper", "scrapes", "cpu s", "cpu ms / scrape", "rss MiB");
    for (name, scrapes, cpu, rss) in
        [("opsboard", our_scrapes, o1 - o0, orss), ("prometheus", prom_scrapes, p1 - p0, prss)]
    {
        println!(
            "{name:<12} {scrapes:>10.0} {cpu:>12.2} {:>18.3} {:>10.1}",
            1000.0 * cpu / scrapes,
            rss as f64 / 1024.0
        );
    }
    let ratio = ((o1 - o0) / our_scrapes) / ((p1 - p0) / prom_scrapes);
    println!("opsboard CPU per scrape = {:.2} x Prometheus'", ratio);
    for l in our_out.iter().filter(|l| l.starts_with("errors")) {
        println!("{l}");
    }
}

/// Scrapes Prometheus did in the last `secs`, from its own `up` series.
fn prometheus_scrapes(port: u16, secs: f64) -> f64 {
    let query = format!("sum(count_over_time(up[{}s]))", secs.round() as u64);
    let path = format!(
        "/api/v1/query?query={}",
        query.replace(' ', "%20").replace('[', "%5B").replace(']', "%5D").replace('(', "%28").replace(')', "%29")
    );
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
    let mut buf = String::new();
    std::io::Read::read_to_string(&mut s, &mut buf).unwrap();
    let json = buf.split("\r\n\r\n").nth(1).unwrap_or("");
    let v: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
    v["data"]["result"][0]["value"][1].as_str().and_then(|s| s.parse().ok()).unwrap_or(f64::NAN)
}

/// opsboard's scrapers alone, folding every result into a State as the board does.
fn scrape_loop() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let text = std::fs::read_to_string(std::env::var("OPSBOARD_BENCH_CONFIG").unwrap()).unwrap();
        let loaded = config::load_str("bench.toml", &text).unwrap();
        let secs = bench_secs(60);
        let mut state = State::new(&loaded.fleet, loaded.config.polling.history, 3);
        let (tx, mut rx) = tokio::sync::mpsc::channel(4096);
        let _scrapers = opsboard::sources::spawn_scrapers_only(&loaded.fleet, &loaded.config.polling, tx);
        let started = Instant::now();
        let warmup = Duration::from_secs(2 * INTERVAL_SECS);
        let (mut in_window, mut errors) = (0u64, 0u64);
        let mut last_error = String::new();
        while started.elapsed() < secs {
            let Ok(Some(event)) = tokio::time::timeout(Duration::from_millis(500), rx.recv()).await else { continue };
            if let Event::Scrape { result, .. } = &event {
                if started.elapsed() >= warmup {
                    in_window += 1;
                }
                if let Err(e) = &result.outcome {
                    errors += 1;
                    last_error.clone_from(e);
                }
            }
            state.apply(event);
        }
        println!("scrapes_in_window {in_window}");
        println!("errors {errors} {last_error}");
    });
}

fn serve() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    rt.block_on(async {
        let body = std::sync::Arc::new(body());
        let mut stdout = std::io::stdout();
        for _ in 0..TARGETS {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            writeln!(stdout, "{}", listener.local_addr().unwrap()).unwrap();
            let body = body.clone();
            tokio::spawn(async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else { return };
                    tokio::spawn(answer(stream, body.clone()));
                }
            });
        }
        stdout.flush().unwrap();
        std::future::pending::<()>().await;
    });
}

async fn answer(mut stream: tokio::net::TcpStream, body: std::sync::Arc<String>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = [0u8; 8192];
    let head =
        format!("HTTP/1.1 200 OK\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\n\r\n", body.len());
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                if stream.write_all(head.as_bytes()).await.is_err() || stream.write_all(body.as_bytes()).await.is_err()
                {
                    return;
                }
            }
        }
    }
}
