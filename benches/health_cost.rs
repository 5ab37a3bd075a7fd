//! What one health check costs, side by side, against 1,000 loopback endpoints checked every 5 s:
//!
//! - the board (release binary, in tmux at 160x45, `scrape = false`): health checks, state,
//!   redraws — everything a check costs the process that shows it;
//! - the floor: a bare tokio loop doing connect / GET / read / close per check, no parsing, no
//!   state — what the connection itself costs on this machine — run twice: each check waking the
//!   process on its own, and, in the same window as the board on 1,000 endpoints of its own, the
//!   checks due within 250 ms woken together (the board's grid);
//! - Debian's blackbox exporter probing the board's endpoints for a Prometheus that scrapes each
//!   result, the usual way to get health checks into a dashboard.
//!
//! Checks are counted by the endpoints themselves. CPU is user + system time from /proc.
//! `cargo bench --bench health_cost` (OPSBOARD_BENCH_SECS=60 a row by default;
//! OPSBOARD_BENCH_PERF=FILE records a profile of the board's row).

mod support;

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use support::{BIN, Endpoints, Session, bench_secs, cpu_seconds, rss_kib};

const ENDPOINTS: usize = 1000;
const INTERVAL_SECS: u64 = 5;

struct Row {
    name: &'static str,
    checks: f64,
    secs: f64,
    cpu: Vec<(&'static str, f64)>,
    rss_kib: u64,
}

impl Row {
    fn print(&self, floor_ms: f64) {
        let total: f64 = self.cpu.iter().map(|(_, c)| c).sum();
        let per = 1000.0 * total / self.checks;
        let parts: Vec<String> =
            self.cpu.iter().map(|(who, c)| format!("{who} {:.3}", 1000.0 * c / self.checks)).collect();
        println!(
            "{:<34} {:>8.0} {:>10.3} {:>9.2} {:>10.1} {:>8.1}x   {}",
            self.name,
            self.checks,
            per,
            100.0 * total / self.secs,
            self.rss_kib as f64 / 1024.0,
            per / floor_ms,
            parts.join(", ")
        );
    }
}

/// What one checker is: its row's name, the endpoints it checks, its processes by role.
type Checker<'a> = (&'static str, &'a Endpoints, &'a [(&'static str, u32)]);

/// The CPU of each process and the checks its endpoints answered, over the same `secs` after a
/// one-interval warm-up: checkers measured together see the same machine.
fn measure_together(rows: &[Checker], secs: Duration) -> Vec<Row> {
    std::thread::sleep(Duration::from_secs(INTERVAL_SECS + 2));
    let cpu0: Vec<Vec<f64>> =
        rows.iter().map(|(_, _, pids)| pids.iter().map(|(_, p)| cpu_seconds(*p)).collect()).collect();
    let n0: Vec<f64> = rows.iter().map(|(_, ends, _)| ends.counts::<1>()[0]).collect();
    let t0 = Instant::now();
    std::thread::sleep(secs);
    let n1: Vec<f64> = rows.iter().map(|(_, ends, _)| ends.counts::<1>()[0]).collect();
    let elapsed = t0.elapsed().as_secs_f64();
    rows.iter()
        .enumerate()
        .map(|(i, (name, _, pids))| {
            let cpu = pids.iter().zip(&cpu0[i]).map(|((who, p), c0)| (*who, cpu_seconds(*p) - c0)).collect();
            let rss_kib = pids.iter().map(|(_, p)| rss_kib(*p).0).sum();
            Row { name, checks: n1[i] - n0[i], secs: elapsed, cpu, rss_kib }
        })
        .collect()
}

fn measure(name: &'static str, ends: &Endpoints, pids: &[(&'static str, u32)], secs: Duration) -> Row {
    measure_together(&[(name, ends, pids)], secs).remove(0)
}

/// The bare loop against `ends`: each check waking it alone (`grid_ms` 0) or on a grid.
fn spawn_floor(ends: &Endpoints, grid_ms: u64) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .env("OPSBOARD_BENCH_ROLE", "floor")
        .env("OPSBOARD_BENCH_TARGETS", ends.addrs.join(","))
        .env("OPSBOARD_BENCH_GRID_MS", grid_ms.to_string())
        .spawn()
        .unwrap()
}

fn stop(mut child: std::process::Child) {
    let _ = child.kill();
    let _ = child.wait();
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    match std::env::var("OPSBOARD_BENCH_ROLE").as_deref() {
        Ok("server") => return serve(),
        Ok("floor") => return floor(),
        _ => {}
    }
    let secs = bench_secs(60);
    let dir = tempfile::tempdir().unwrap();
    let endpoints = |name: &str| {
        let dir = dir.path().join(name);
        std::fs::create_dir(&dir).unwrap();
        Endpoints::start(ENDPOINTS, &[], &dir)
    };
    let (ends, beside) = (endpoints("board"), endpoints("beside"));
    println!(
        "{ENDPOINTS} loopback endpoints, each checked every {INTERVAL_SECS}s; {}s a row; CPU is user + system",
        secs.as_secs()
    );
    println!(
        "{:<34} {:>8} {:>10} {:>9} {:>10} {:>9}   ms/check by process",
        "checker", "checks", "ms/check", "% core", "rss MiB", "x floor"
    );

    // The bare loop with each check waking the process on its own (checks spread evenly).
    let floor = spawn_floor(&ends, 0);
    let alone = measure("bare loop, each check alone", &ends, &[("loop", floor.id())], secs);
    stop(floor);

    // The board, and beside it in the same window the bare loop with the checks due within one
    // step of the board's grid woken together, as the board does, on a second set of endpoints:
    // what the connection itself costs on this machine at that moment. "x floor" is against it;
    // measured apart, a minute later, the floor moves by up to a fifth with the machine's load.
    let config = dir.path().join("fleet.toml");
    let mut f = std::fs::File::create(&config).unwrap();
    writeln!(f, "[environments.prod]\n[defaults]\ninterval = \"{INTERVAL_SECS}s\"\ntimeout = \"2s\"\nscrape = false\n")
        .unwrap();
    for (i, a) in ends.addrs.iter().enumerate() {
        writeln!(f, "[services.svc-{i:04}]\nenv = \"prod\"\ninstances = [\"http://{a}/health\"]").unwrap();
    }
    drop(f);
    let log = dir.path().join("board.log");
    let command = format!("{BIN} --config {} --log-file {}", config.display(), log.display());
    let floor = spawn_floor(&beside, 250);
    let session = Session::start("health", 160, 45, &command, dir.path());
    let perf = std::env::var("OPSBOARD_BENCH_PERF").ok().map(|out| {
        Command::new("perf")
            .args(["record", "-F", "299", "--call-graph", "dwarf,16384", "-o", &out, "-p", &session.pid.to_string()])
            .args(["--", "sleep"])
            .arg((secs.as_secs() + INTERVAL_SECS + 2).to_string())
            .stderr(Stdio::null())
            .spawn()
            .expect("perf")
    });
    let mut rows = measure_together(
        &[
            ("bare loop, on a 250 ms grid", &beside, &[("loop", floor.id())]),
            ("opsboard (the board, 160x45)", &ends, &[("board", session.pid)]),
        ],
        secs,
    );
    stop(floor);
    if let Some(mut p) = perf {
        let _ = p.wait();
    }
    let header = session.screen().lines().next().unwrap_or("").trim().to_string();
    assert!(header.contains("1000/1000 ok"), "the board did not see every endpoint: {header}");
    drop(session);
    let board = rows.pop().expect("two rows");
    let grid = rows.pop().expect("two rows");
    let floor_ms = 1000.0 * grid.cpu.iter().map(|(_, c)| c).sum::<f64>() / grid.checks;
    for row in [&alone, &grid, &board] {
        row.print(floor_ms);
    }

    if let Some(row) = blackbox(&ends, dir.path(), secs) {
        row.print(floor_ms);
    } else {
        println!("(prometheus-blackbox-exporter or prometheus not installed: that row is left out)");
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Blackbox exporter probing every endpoint for a Prometheus that scrapes each probe's result.
fn blackbox(ends: &Endpoints, dir: &std::path::Path, secs: Duration) -> Option<Row> {
    let installed = |cmd: &str| {
        Command::new("sh").args(["-c", &format!("command -v {cmd}")]).output().ok()?.status.success().then_some(())
    };
    installed("prometheus-blackbox-exporter")?;
    installed("prometheus")?;
    let bb_port = free_port();
    std::fs::write(
        dir.join("blackbox.yml"),
        "modules:\n  http_2xx:\n    prober: http\n    timeout: 2s\n    http:\n      preferred_ip_protocol: ip4\n",
    )
    .unwrap();
    let mut bb = Command::new("prometheus-blackbox-exporter")
        .arg(format!("--config.file={}", dir.join("blackbox.yml").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{bb_port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let targets: Vec<String> = ends.addrs.iter().map(|a| format!("'http://{a}/health'")).collect();
    let config = format!(
        "global:\n  scrape_interval: {INTERVAL_SECS}s\n  scrape_timeout: 4s\nscrape_configs:\n  - job_name: blackbox\n    metrics_path: /probe\n    params:\n      module: [http_2xx]\n    static_configs:\n      - targets: [{}]\n    relabel_configs:\n      - source_labels: [__address__]\n        target_label: __param_target\n      - source_labels: [__param_target]\n        target_label: instance\n      - target_label: __address__\n        replacement: 127.0.0.1:{bb_port}\n",
        targets.join(", ")
    );
    let mut prom = support::prometheus(&config, dir).ok()?;
    let row =
        measure("blackbox exporter + Prometheus", ends, &[("blackbox", bb.id()), ("prometheus", prom.id())], secs);
    for child in [&mut prom, &mut bb] {
        let _ = child.kill();
        let _ = child.wait();
    }
    Some(row)
}

/// The floor: each target checked every interval (spread evenly, or on a grid of
/// OPSBOARD_BENCH_GRID_MS) by a bare connect, one GET written, the answer read to its end, close.
/// One thread, as the board's loop is one.
fn floor() {
    let targets: Vec<std::net::SocketAddr> =
        std::env::var("OPSBOARD_BENCH_TARGETS").unwrap().split(',').map(|a| a.parse().unwrap()).collect();
    let secs = bench_secs(60) + Duration::from_secs(3 * INTERVAL_SECS);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async move {
        let started = tokio::time::Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        let n = targets.len();
        let grid_ms: u64 = std::env::var("OPSBOARD_BENCH_GRID_MS").map_or(0, |v| v.parse().unwrap());
        for (i, addr) in targets.into_iter().enumerate() {
            let mut offset = Duration::from_secs(INTERVAL_SECS).mul_f64(i as f64 / n as f64);
            if let Some(steps) = (offset.as_millis() as u64).checked_div(grid_ms) {
                offset = Duration::from_millis(steps * grid_ms);
            }
            tasks.spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut tick = tokio::time::interval_at(started + offset, Duration::from_secs(INTERVAL_SECS));
                let request = format!("GET /health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
                let mut buf = [0u8; 1024];
                while started.elapsed() < secs {
                    tick.tick().await;
                    let Ok(mut s) = tokio::net::TcpStream::connect(addr).await else { continue };
                    if s.write_all(request.as_bytes()).await.is_err() {
                        continue;
                    }
                    while let Ok(n) = s.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                    }
                }
            });
        }
        while tasks.join_next().await.is_some() {}
    });
}

/// Serves `{"status":"UP"}` on ENDPOINTS loopback ports, counting requests into a file; prints each
/// address, then serves until killed.
fn serve() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    rt.block_on(async move {
        let count: Arc<[AtomicU64; 1]> = Arc::new(Default::default());
        let mut stdout = std::io::stdout();
        for _ in 0..ENDPOINTS {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            writeln!(stdout, "{}", listener.local_addr().unwrap()).unwrap();
            let count = count.clone();
            tokio::spawn(async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else { return };
                    tokio::spawn(answer(stream, count.clone()));
                }
            });
        }
        stdout.flush().unwrap();
        support::publish_counts(count).await;
    });
}

async fn answer(mut stream: tokio::net::TcpStream, count: Arc<[AtomicU64; 1]>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = [0u8; 4096];
    let body = r#"{"status":"UP","version":"1.0.0"}"#;
    let reply =
        format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}", body.len());
    // Answer each request on the connection until the client closes it.
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                count[0].fetch_add(1, Ordering::Relaxed);
                if stream.write_all(reply.as_bytes()).await.is_err() {
                    return;
                }
                // A client that asked to close gets the end of the stream, as real servers do.
                if buf[..n].to_ascii_lowercase().windows(17).any(|w| w == b"connection: close") {
                    return;
                }
            }
        }
    }
}
