//! Bytes written to the terminal per second, CPU% and RSS of the live board, in tmux,
//! next to btop at the same size when it is installed.
//!
//! `cargo bench --bench terminal_bytes` (OPSBOARD_BENCH_SECS=60 by default).

mod support;

use std::time::{Duration, Instant};
use support::{BIN, Session, bench_secs, cpu_seconds, rss_kib};

struct Reading {
    bytes_per_sec: f64,
    cpu_percent: f64,
    rss_kib: u64,
    peak_rss_kib: u64,
}

fn measure(name: &str, command: &str, width: u16, height: u16, secs: Duration) -> Reading {
    let dir = tempfile::tempdir().unwrap();
    let session = Session::start(name, width, height, command, dir.path());
    // Let it start up and draw its first full frame before counting.
    std::thread::sleep(Duration::from_secs(3));
    session.start_counting();
    let cpu0 = cpu_seconds(session.pid);
    let t0 = Instant::now();
    std::thread::sleep(secs);
    let elapsed = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds(session.pid) - cpu0;
    let (rss, peak) = rss_kib(session.pid);
    Reading {
        bytes_per_sec: session.bytes_counted() as f64 / elapsed,
        cpu_percent: 100.0 * cpu / elapsed,
        rss_kib: rss,
        peak_rss_kib: peak,
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let secs = bench_secs(60);
    let have_btop =
        std::process::Command::new("sh").args(["-c", "command -v btop"]).output().is_ok_and(|o| o.status.success());
    println!("{:<28} {:>8} {:>12} {:>8} {:>10} {:>10}", "program", "size", "bytes/s", "cpu %", "rss KiB", "peak KiB");
    for (w, h) in [(120u16, 40u16), (200, 60)] {
        let mut runs: Vec<(&str, String)> = vec![
            ("opsboard --demo", format!("{BIN} --demo --log-file /dev/null")),
            ("opsboard --demo --wall", format!("{BIN} --demo --wall --log-file /dev/null")),
        ];
        if have_btop {
            runs.push(("btop", "btop".into()));
        }
        for (label, command) in runs {
            let r = measure(&label.replace([' ', '-'], "_"), &command, w, h, secs);
            println!(
                "{label:<28} {:>8} {:>12.0} {:>8.2} {:>10} {:>10}",
                format!("{w}x{h}"),
                r.bytes_per_sec,
                r.cpu_percent,
                r.rss_kib,
                r.peak_rss_kib
            );
        }
    }
    println!(
        "({}s per run; the demo servers run inside the opsboard process and are counted in its CPU and RSS)",
        secs.as_secs()
    );
}
