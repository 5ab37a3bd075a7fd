//! A real Prometheus (Debian's `prometheus`) on 127.0.0.1 with a throwaway storage dir.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Prometheus {
    pub url: String,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts Prometheus scraping `targets` (host:port) every second and waits until it is ready.
pub fn start(targets: &[String]) -> Prometheus {
    let list: Vec<String> = targets.iter().map(|t| format!("'{t}'")).collect();
    let job = format!("  - job_name: app\n    static_configs:\n      - targets: [{}]\n", list.join(", "));
    start_with(&job)
}

/// Starts Prometheus with a job `job_name` whose targets come from file_sd `file` (its own
/// discovery: it watches the file, and reads it again every second).
pub fn start_file_sd(job_name: &str, file: &std::path::Path) -> Prometheus {
    let job = format!(
        "  - job_name: {job_name}\n    file_sd_configs:\n      - files: ['{}']\n        refresh_interval: 1s\n",
        file.display()
    );
    start_with(&job)
}

/// Starts Prometheus with these scrape jobs (YAML list items) and waits until it is ready.
fn start_with(jobs: &str) -> Prometheus {
    let dir = tempfile::tempdir().unwrap();
    let port = super::closed_port().port();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n{jobs}"),
    )
    .unwrap();
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("Debian's prometheus must be installed (scripts/test installs it)");
    let url = format!("http://127.0.0.1:{port}");
    super::eventually(Duration::from_secs(30), "prometheus ready", || {
        reqwest::blocking_ready(&format!("{url}/-/ready")).then_some(())
    });
    Prometheus { url, child, _dir: dir }
}

mod reqwest {
    /// A plain HTTP GET over std, so readiness can be polled from sync code.
    pub fn blocking_ready(url: &str) -> bool {
        use std::io::{Read, Write};
        let rest = url.trim_start_matches("http://");
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        let Ok(mut s) = std::net::TcpStream::connect(host) else { return false };
        let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(2)));
        if write!(s, "GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n").is_err() {
            return false;
        }
        let mut buf = String::new();
        let _ = s.read_to_string(&mut buf);
        buf.starts_with("HTTP/1.1 200") || buf.starts_with("HTTP/1.0 200")
    }
}
