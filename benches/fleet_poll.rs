//! The live board watching 1,000 loopback health endpoints every 5 s: CPU% and RSS of the board
//! process, and the time from start to its first drawn frame.
//!
//! The endpoints run in a child process (this binary again, with OPSBOARD_BENCH_ROLE=server), so the
//! board's numbers are its own. `cargo bench --bench fleet_poll` (OPSBOARD_BENCH_SECS=60 by default).

mod support;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{BIN, Session, bench_secs, cpu_seconds, rss_kib};

const ENDPOINTS: usize = 1000;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    if std::env::var("OPSBOARD_BENCH_ROLE").as_deref() == Ok("server") {
        return serve();
    }
    let secs = bench_secs(60);
    let mut server = Command::new(std::env::current_exe().unwrap())
        .env("OPSBOARD_BENCH_ROLE", "server")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let addrs: Vec<String> = (&mut lines).take(ENDPOINTS).map(|l| l.unwrap()).collect();
    assert_eq!(addrs.len(), ENDPOINTS);

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("fleet.toml");
    let mut f = std::fs::File::create(&config).unwrap();
    writeln!(f, "[defaults]\ninterval = \"5s\"\ntimeout = \"2s\"\n").unwrap();
    for (i, chunk) in addrs.chunks(10).enumerate() {
        let urls: Vec<String> = chunk.iter().map(|a| format!("\"http://{a}\"")).collect();
        writeln!(f, "[services.svc-{i:03}]\nenv = \"prod\"\ninstances = [{}]\n", urls.join(", ")).unwrap();
    }
    drop(f);
    let log = dir.path().join("board.log");
    let command = format!("{BIN} --config {} --log-file {}", config.display(), log.display());
    let session = Session::start("fleet", 160, 50, &command, dir.path());

    // Warm up one full interval so every poller has started, then measure.
    std::thread::sleep(Duration::from_secs(6));
    let cpu0 = cpu_seconds(session.pid);
    let t0 = Instant::now();
    // OPSBOARD_BENCH_PERF=FILE records a profile of the board while it is measured.
    let perf = std::env::var("OPSBOARD_BENCH_PERF").ok().map(|out| {
        Command::new("perf")
            .args(["record", "-F", "499", "-g", "-o", &out, "-p", &session.pid.to_string(), "--", "sleep"])
            .arg(secs.as_secs().to_string())
            .stderr(Stdio::null())
            .spawn()
            .expect("perf")
    });
    std::thread::sleep(secs);
    if let Some(mut p) = perf {
        let _ = p.wait();
    }
    let elapsed = t0.elapsed().as_secs_f64();
    let cpu_percent = 100.0 * (cpu_seconds(session.pid) - cpu0) / elapsed;
    let (rss, peak) = rss_kib(session.pid);
    let screen = session.screen();
    drop(session);
    let _ = server.kill();
    let _ = server.wait();

    let log_text = std::fs::read_to_string(&log).unwrap_or_default();
    let first_frame_ms = log_text
        .lines()
        .find(|l| l.contains("first frame drawn"))
        .and_then(|l| l.split("ms=").nth(1))
        .and_then(|v| v.split_whitespace().next())
        .unwrap_or("?");
    println!("endpoints: {ENDPOINTS}, interval 5s, measured over {:.0}s", elapsed);
    println!("board cpu: {cpu_percent:.2}% of one core");
    println!("board rss: {:.1} MiB (peak {:.1} MiB)", rss as f64 / 1024.0, peak as f64 / 1024.0);
    println!("first frame: {first_frame_ms} ms after start");
    println!("header: {}", screen.lines().next().unwrap_or("").trim());
}

/// Serves `{"status":"UP"}` on ENDPOINTS loopback ports; prints each address, then serves until killed.
fn serve() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    rt.block_on(async {
        let mut stdout = std::io::stdout();
        for _ in 0..ENDPOINTS {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            writeln!(stdout, "{}", listener.local_addr().unwrap()).unwrap();
            tokio::spawn(async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else { return };
                    tokio::spawn(answer(stream));
                }
            });
        }
        stdout.flush().unwrap();
        std::future::pending::<()>().await;
    });
}

async fn answer(stream: tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = stream;
    let mut buf = [0u8; 4096];
    let body = r#"{"status":"UP","version":"1.0.0"}"#;
    let reply =
        format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}", body.len());
    // Keep-alive: answer each request on the connection until the client closes it.
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                if stream.write_all(reply.as_bytes()).await.is_err() {
                    return;
                }
            }
        }
    }
}
