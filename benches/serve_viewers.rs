//! `opsboard serve --demo` with 0, 1, 10 and 50 browsers' streams open: the server's CPU and the
//! bytes each viewer receives per second (gzip, as browsers ask for it).
//!
//! `cargo bench --bench serve_viewers -- flood` measures instead a normal client's `/healthz`, the
//! server's CPU and its RSS while one address (127.0.0.2) floods it: 600 half-sent heads renewed
//! 100 ms after each is closed, 240 live streams each at its own size (40 never read). `OPSBOARD_BIN`
//! runs another build of the server (to compare before and after).
//!
//! `cargo bench --bench serve_viewers` (OPSBOARD_BENCH_SECS=30 per row, two pages of the wall by default). The row with
//! no viewer is the cost of polling the fleet alone; the goal is that 50 viewers add less than
//! that (less than polling the fleet once more per interval), and that a viewer receives no more
//! bytes per second than the terminal board writes (`terminal_bytes`, `--demo --wall`).

#[path = "../tests/common/flood.rs"]
mod flood;
mod support;

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use support::{bench_secs, cpu_seconds, rss_kib};

/// One page's live stream, counting the bytes it receives until `stop`.
fn viewer(addr: SocketAddr, cols: u16, rows: u16, bytes: Arc<AtomicU64>, stop: Arc<AtomicBool>) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
    write!(s, "GET /events?cols={cols}&rows={rows} HTTP/1.1\r\nHost: {addr}\r\nAccept-Encoding: gzip, deflate\r\n\r\n")
        .unwrap();
    support::count_until(&mut s, &bytes, &stop);
}

struct Row {
    cpu_ms_per_s: f64,
    bytes_per_viewer_s: f64,
}

fn measure(addr: SocketAddr, pid: u32, viewers: usize, distinct_sizes: bool, secs: Duration) -> Row {
    let stop = Arc::new(AtomicBool::new(false));
    let bytes = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..viewers)
        .map(|i| {
            let (stop, bytes) = (stop.clone(), bytes.clone());
            let cols = if distinct_sizes { 120 + i as u16 } else { 120 };
            std::thread::spawn(move || viewer(addr, cols, 40, bytes, stop))
        })
        .collect();
    // Joining costs a whole frame each; the steady state is what is measured.
    std::thread::sleep(Duration::from_secs(2));
    let (cpu_ms_per_s, bytes_per_s) = support::steady(pid, &bytes, secs);
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    Row { cpu_ms_per_s, bytes_per_viewer_s: if viewers == 0 { 0.0 } else { bytes_per_s / viewers as f64 } }
}

/// A normal client's `/healthz` every 50 ms for `secs`: (median, slowest, failures), and the
/// server's highest RSS meanwhile.
fn ask_healthz(addr: SocketAddr, pid: u32, secs: Duration) -> (Duration, Duration, usize, u64) {
    let (mut took, mut failed, mut rss) = (Vec::new(), 0, 0);
    let t0 = Instant::now();
    while t0.elapsed() < secs {
        match flood::healthz(addr) {
            Ok(t) => took.push(t),
            Err(_) => failed += 1,
        }
        rss = rss.max(rss_kib(pid).0);
        std::thread::sleep(Duration::from_millis(50));
    }
    took.sort();
    let median = took.get(took.len() / 2).copied().unwrap_or_default();
    (median, took.last().copied().unwrap_or_default(), failed, rss)
}

fn flood_rows(addr: SocketAddr, pid: u32, secs: Duration) {
    println!(
        "{:<34} {:>12} {:>12} {:>9} {:>10} {:>10}",
        "serve --demo, healthz from 127.0.0.1", "median", "slowest", "failed", "cpu ms/s", "rss KiB"
    );
    let row = |label: &str, (median, slowest, failed, rss): (Duration, Duration, usize, u64), cpu: f64| {
        println!("{label:<34} {median:>12.1?} {slowest:>12.1?} {failed:>9} {cpu:>10.1} {rss:>10}");
    };
    let c0 = cpu_seconds(pid);
    let t0 = Instant::now();
    let quiet = ask_healthz(addr, pid, secs);
    row("quiet", quiet, 1000.0 * (cpu_seconds(pid) - c0) / t0.elapsed().as_secs_f64());

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();

    // What an idle connection costs: 2,000 half-sent heads from ten addresses, held for 3 s.
    let (stop, opened) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicU64::new(0)));
    let before = rss_kib(pid).0;
    for ip in ["127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6", "127.0.0.7"] {
        for ip in [ip, &ip.replace(".0.0.", ".0.1.")] {
            let ip: &'static str = Box::leak(ip.to_string().into_boxed_str());
            rt.spawn(flood::half_open_heads(ip, addr, (200, Duration::from_millis(100)), stop.clone(), opened.clone()));
        }
    }
    std::thread::sleep(Duration::from_secs(3));
    let held = rss_kib(pid).0.saturating_sub(before);
    println!("{:<34} 2,000 idle connections add {held} KiB of RSS: {:.1} KiB each", "", held as f64 / 2000.0);
    stop.store(true, Ordering::Relaxed);
    std::thread::sleep(Duration::from_secs(6));

    let stop = Arc::new(AtomicBool::new(false));
    let (opened, streamed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    rt.spawn(flood::half_open_heads(
        "127.0.0.2",
        addr,
        (600, Duration::from_millis(100)),
        stop.clone(),
        opened.clone(),
    ));
    for i in 0..240u16 {
        rt.spawn(flood::stream("127.0.0.2", addr, 160 + i, 60 + i % 140, i >= 40, stop.clone(), streamed.clone()));
    }
    let c0 = cpu_seconds(pid);
    let t0 = Instant::now();
    let flooded = ask_healthz(addr, pid, secs);
    let cpu = 1000.0 * (cpu_seconds(pid) - c0) / t0.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    rt.shutdown_timeout(Duration::from_secs(2));
    row("flooded from 127.0.0.2", flooded, cpu);
    println!(
        "{:<34} half-sent heads opened {}, stream bytes {}",
        "",
        opened.load(Ordering::Relaxed),
        streamed.load(Ordering::Relaxed)
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let flooding = std::env::args().any(|a| a == "flood");
    let secs = bench_secs(if flooding { 20 } else { 30 });
    let dir = tempfile::tempdir().unwrap();
    let (mut child, addr) = support::serve_demo(dir.path());
    if flooding {
        flood_rows(addr, child.id(), secs);
        let _ = child.kill();
        let _ = child.wait();
        return;
    }
    println!(
        "{:<22} {:>14} {:>12} {:>18} {:>10}",
        "viewers (120x40)", "cpu ms/s", "cpu %", "bytes/s per viewer", "rss KiB"
    );
    let mut baseline = 0.0;
    for (label, n, distinct) in [
        ("0 (polling alone)", 0, false),
        ("1", 1, false),
        ("10", 10, false),
        ("50", 50, false),
        ("10, each its own size", 10, true),
    ] {
        let r = measure(addr, child.id(), n, distinct, secs);
        if n == 0 {
            baseline = r.cpu_ms_per_s;
        }
        println!(
            "{label:<22} {:>14.2} {:>12.2} {:>18.0} {:>10}",
            r.cpu_ms_per_s,
            r.cpu_ms_per_s / 10.0,
            r.bytes_per_viewer_s,
            rss_kib(child.id()).0
        );
        if n == 50 {
            let extra = r.cpu_ms_per_s - baseline;
            println!(
                "{:<22} 50 viewers add {extra:.2} ms/s = {:.2}x the cost of polling the fleet",
                "",
                extra / baseline.max(f64::EPSILON)
            );
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}
