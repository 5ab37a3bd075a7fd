//! Shared by the bench binaries: a tmux session to run a program in, and /proc readings of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_opsboard");

/// Clock ticks per second for /proc/<pid>/stat times (USER_HZ; 100 on Linux).
const TICKS_PER_SEC: f64 = 100.0;

/// A program running in a detached tmux session of a given size, its output bytes counted.
pub struct Session {
    socket: String,
    pub bytes_file: PathBuf,
    pub pid: u32,
}

impl Session {
    /// Starts `command` (run via `exec`, so the pane's pid is the program's).
    pub fn start(name: &str, width: u16, height: u16, command: &str, dir: &Path) -> Self {
        let socket = format!("opsboard-bench-{name}-{}", std::process::id());
        let bytes_file = dir.join(format!("{name}.bytes"));
        let pidfile = dir.join(format!("{name}.pid"));
        let script = format!("echo $$ > {}; exec {command}", pidfile.display());
        let ok = Command::new("tmux")
            .args(["-L", &socket, "new-session", "-d", "-x", &width.to_string(), "-y", &height.to_string()])
            .args(["sh", "-c", &script])
            .env("TERM", "xterm-256color")
            .status()
            .expect("tmux is needed for this benchmark")
            .success();
        assert!(ok, "tmux failed to start {command}");
        let deadline = Instant::now() + Duration::from_secs(10);
        let pid = loop {
            if let Some(pid) = std::fs::read_to_string(&pidfile).ok().and_then(|s| s.trim().parse().ok()) {
                break pid;
            }
            assert!(Instant::now() < deadline, "no pid for {command}");
            std::thread::sleep(Duration::from_millis(20));
        };
        Self { socket, bytes_file, pid }
    }

    /// Counts every byte the program writes to its terminal from now on.
    pub fn start_counting(&self) {
        let _ = std::fs::remove_file(&self.bytes_file);
        Command::new("tmux")
            .args(["-L", &self.socket, "pipe-pane", "-o", &format!("cat >> {}", self.bytes_file.display())])
            .status()
            .unwrap();
    }

    pub fn bytes_counted(&self) -> u64 {
        std::fs::metadata(&self.bytes_file).map(|m| m.len()).unwrap_or(0)
    }

    pub fn screen(&self) -> String {
        let out = Command::new("tmux").args(["-L", &self.socket, "capture-pane", "-p"]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["-L", &self.socket, "kill-server"]).status();
    }
}

/// CPU seconds (user + system) a process has used so far.
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which is in parentheses and may contain spaces.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / TICKS_PER_SEC
}

/// (current RSS, peak RSS) in KiB.
pub fn rss_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// How long each measurement runs: `OPSBOARD_BENCH_SECS`, default `default`.
pub fn bench_secs(default: u64) -> Duration {
    Duration::from_secs(std::env::var("OPSBOARD_BENCH_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(default))
}

/// Loopback endpoints served by this bench binary run again with `OPSBOARD_BENCH_ROLE=server`
/// (plus `env`); they print one address a line and write their request counts to a file.
pub struct Endpoints {
    child: std::process::Child,
    pub addrs: Vec<String>,
    count_file: PathBuf,
}

impl Endpoints {
    pub fn start(n: usize, env: &[(&str, std::ffi::OsString)], dir: &Path) -> Self {
        use std::io::BufRead;
        let count_file = dir.join("requests");
        let mut child = Command::new(std::env::current_exe().unwrap())
            .env("OPSBOARD_BENCH_ROLE", "server")
            .env("OPSBOARD_BENCH_COUNT_FILE", &count_file)
            .envs(env.iter().map(|(k, v)| (*k, v)))
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let addrs: Vec<String> =
            std::io::BufReader::new(child.stdout.take().unwrap()).lines().take(n).map(|l| l.unwrap()).collect();
        assert_eq!(addrs.len(), n);
        Self { child, addrs, count_file }
    }

    /// The counts the server wrote last (it writes them every 100 ms); NaN if none could be read.
    pub fn counts<const N: usize>(&self) -> [f64; N] {
        for _ in 0..20 {
            std::thread::sleep(Duration::from_millis(150));
            let text = std::fs::read_to_string(&self.count_file).unwrap_or_default();
            let v: Vec<f64> = text.split_whitespace().filter_map(|s| s.parse().ok()).collect();
            if let Ok(counts) = <[f64; N]>::try_from(v) {
                return counts;
            }
        }
        [f64::NAN; N]
    }
}

impl Drop for Endpoints {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// In the server role: writes `counts` every 100 ms to the file the bench reads, whole (written
/// aside, then renamed), so a reader never sees half a number. Runs until the process ends.
pub async fn publish_counts<const N: usize>(counts: std::sync::Arc<[std::sync::atomic::AtomicU64; N]>) {
    let path = std::env::var("OPSBOARD_BENCH_COUNT_FILE").unwrap();
    let part = format!("{path}.part");
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tick.tick().await;
        let text: Vec<String> =
            counts.iter().map(|c| c.load(std::sync::atomic::Ordering::Relaxed).to_string()).collect();
        if std::fs::write(&part, text.join(" ")).is_ok() {
            let _ = std::fs::rename(&part, &path);
        }
    }
}

/// Debian's Prometheus with `config` (YAML) and a throwaway store in `dir`, on a free port.
pub fn prometheus(config: &str, dir: &Path) -> std::io::Result<std::process::Child> {
    std::fs::write(dir.join("prometheus.yml"), config)?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    Command::new("prometheus")
        .arg(format!("--config.file={}", dir.join("prometheus.yml").display()))
        .arg(format!("--storage.tsdb.path={}", dir.join("tsdb").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
}

/// `opsboard serve --demo` (or `OPSBOARD_BIN`'s) on a free loopback port, its data in `dir`, given
/// five seconds to poll its fleet: the process and its address.
pub fn serve_demo(dir: &Path) -> (std::process::Child, std::net::SocketAddr) {
    use std::io::BufRead;
    let bin = std::env::var("OPSBOARD_BIN").unwrap_or_else(|_| BIN.to_string());
    let mut child = Command::new(bin)
        .args(["serve", "--demo", "--listen", "127.0.0.1:0", "--log-file"])
        .arg(dir.join("log"))
        .env("XDG_DATA_HOME", dir)
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("opsboard serve");
    let line = std::io::BufReader::new(child.stderr.take().unwrap()).lines().next().unwrap().unwrap();
    let addr =
        line.split("http://").nth(1).and_then(|r| r.split('/').next()).and_then(|a| a.parse().ok()).expect(&line);
    std::thread::sleep(Duration::from_secs(5));
    (child, addr)
}

/// Reads `from` until it ends or `stop` is set, adding what arrives to `bytes`; `from` must
/// have a read timeout, so `stop` is looked at even when nothing comes.
pub fn count_until(
    from: &mut impl std::io::Read,
    bytes: &std::sync::atomic::AtomicU64,
    stop: &std::sync::atomic::AtomicBool,
) {
    use std::sync::atomic::Ordering;
    let mut buf = [0u8; 16 * 1024];
    while !stop.load(Ordering::Relaxed) {
        match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                bytes.fetch_add(n as u64, Ordering::Relaxed);
            }
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(_) => break,
        }
    }
}

/// The process's CPU (ms a second) and the bytes a second added to `bytes`, over `secs`.
pub fn steady(pid: u32, bytes: &std::sync::atomic::AtomicU64, secs: Duration) -> (f64, f64) {
    use std::sync::atomic::Ordering;
    let (b0, c0, t0) = (bytes.load(Ordering::Relaxed), cpu_seconds(pid), Instant::now());
    std::thread::sleep(secs);
    let elapsed = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds(pid) - c0;
    let got = bytes.load(Ordering::Relaxed) - b0;
    (1000.0 * cpu / elapsed, got as f64 / elapsed)
}
