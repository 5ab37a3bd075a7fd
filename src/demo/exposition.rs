//! Counters of a simulated instance and their Prometheus text exposition.

use super::story::{self, Behavior, DemoService, Host};
use std::fmt::Write;
use std::time::Duration;

/// Histogram bucket bounds in seconds, as common client libraries default to.
pub const BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// Monotonic request counters, advanced by the story's request rate as time passes.
#[derive(Debug, Clone, Default)]
pub struct Counters {
    last: Option<Duration>,
    ok: f64,
    errors: f64,
    buckets: [f64; BUCKETS.len()],
    sum: f64,
    /// The host's CPU seconds (two CPUs), idle and all, and its latest numbers.
    cpu_idle: f64,
    cpu_total: f64,
    host: Option<Host>,
}

/// The simulated host's disk and memory sizes.
const DISK_BYTES: f64 = 200.0 * 1024.0 * 1024.0 * 1024.0;
const MEMORY_BYTES: f64 = 16.0 * 1024.0 * 1024.0 * 1024.0;

impl Counters {
    /// Adds the requests served between the last call and `t` under `b`.
    pub fn advance(&mut self, t: Duration, b: &Behavior, host: Option<Host>) {
        let dt = self.last.map_or(0.0, |last| t.saturating_sub(last).as_secs_f64());
        if let Some(h) = host {
            self.cpu_total += 2.0 * dt;
            self.cpu_idle += 2.0 * dt * (1.0 - h.cpu);
        }
        self.host = host;
        self.last = Some(t);
        let n = b.rps * dt;
        self.errors += n * b.error_ratio;
        self.ok += n * (1.0 - b.error_ratio);
        // Latencies are taken as exponential around the typical one: the CDF gives each bucket's share.
        let mean = b.latency.as_secs_f64().max(1e-4);
        for (count, le) in self.buckets.iter_mut().zip(BUCKETS) {
            *count += n * (1.0 - (-le / mean).exp());
        }
        self.sum += n * mean;
    }

    /// The exposition text of this instance.
    pub fn render(&self, service: &DemoService, instance: usize, version: &str) -> String {
        let total = (self.ok.floor() + self.errors.floor()) as u64;
        let mut out = String::with_capacity(2048);
        let _ = writeln!(out, "# HELP http_requests_total Requests served, by status code.");
        let _ = writeln!(out, "# TYPE http_requests_total counter");
        let _ = writeln!(out, "http_requests_total{{code=\"200\",method=\"GET\"}} {}", self.ok.floor());
        let _ = writeln!(out, "http_requests_total{{code=\"500\",method=\"GET\"}} {}", self.errors.floor());
        let _ = writeln!(out, "# HELP http_request_duration_seconds Request latency.");
        let _ = writeln!(out, "# TYPE http_request_duration_seconds histogram");
        for (count, le) in self.buckets.iter().zip(BUCKETS) {
            let c = (count.floor() as u64).min(total);
            let _ = writeln!(out, "http_request_duration_seconds_bucket{{le=\"{le}\"}} {c}");
        }
        let _ = writeln!(out, "http_request_duration_seconds_bucket{{le=\"+Inf\"}} {total}");
        let _ = writeln!(out, "http_request_duration_seconds_sum {:.3}", self.sum);
        let _ = writeln!(out, "http_request_duration_seconds_count {total}");
        let _ = writeln!(out, "# HELP app_build_info Build of the running binary.");
        let _ = writeln!(out, "# TYPE app_build_info gauge");
        let _ = writeln!(
            out,
            "app_build_info{{service=\"{}\",instance=\"{instance}\",version=\"{version}\"}} 1",
            service.name
        );
        if let Some(h) = self.host {
            host_lines(&mut out, h, self.cpu_idle, self.cpu_total);
        }
        out
    }
}

/// What a node exporter beside the app would say of its host, in its own names.
fn host_lines(out: &mut String, h: Host, idle: f64, total: f64) {
    let _ = writeln!(out, "# TYPE node_cpu_seconds_total counter");
    for cpu in 0..2 {
        let _ = writeln!(out, "node_cpu_seconds_total{{cpu=\"{cpu}\",mode=\"idle\"}} {:.2}", idle / 2.0);
        let _ = writeln!(out, "node_cpu_seconds_total{{cpu=\"{cpu}\",mode=\"user\"}} {:.2}", (total - idle) / 2.0);
    }
    let _ = writeln!(out, "# TYPE node_memory_MemTotal_bytes gauge\nnode_memory_MemTotal_bytes {MEMORY_BYTES}");
    let available = MEMORY_BYTES * (1.0 - h.memory);
    let _ = writeln!(out, "# TYPE node_memory_MemAvailable_bytes gauge\nnode_memory_MemAvailable_bytes {available:.0}");
    let _ = writeln!(out, "# TYPE node_load1 gauge\nnode_load1 {:.2}", h.cpu * 2.2);
    let mounts = [("/dev/nvme0n1p1", "ext4", "/", 0.41), ("/dev/nvme1n1", "xfs", story::INDEX_DISK, h.disk)];
    let _ = writeln!(out, "# TYPE node_filesystem_size_bytes gauge");
    for (device, fstype, mount, _) in mounts {
        let _ = writeln!(
            out,
            "node_filesystem_size_bytes{{device=\"{device}\",fstype=\"{fstype}\",mountpoint=\"{mount}\"}} {DISK_BYTES}"
        );
    }
    let _ =
        writeln!(out, "node_filesystem_size_bytes{{device=\"tmpfs\",fstype=\"tmpfs\",mountpoint=\"/run\"}} 1.6e+09");
    let _ = writeln!(out, "# TYPE node_filesystem_avail_bytes gauge");
    for (device, fstype, mount, used) in mounts {
        let avail = DISK_BYTES * (1.0 - used);
        let _ = writeln!(
            out,
            "node_filesystem_avail_bytes{{device=\"{device}\",fstype=\"{fstype}\",mountpoint=\"{mount}\"}} {avail:.0}"
        );
    }
    let _ = writeln!(out, "node_filesystem_avail_bytes{{device=\"tmpfs\",fstype=\"tmpfs\",mountpoint=\"/run\"}} 0");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::story::{HealthMode, SERVICES};

    #[test]
    fn counters_grow_by_rate_times_time_and_buckets_are_cumulative() {
        let b =
            Behavior { health: HealthMode::Healthy, latency: Duration::from_millis(50), error_ratio: 0.1, rps: 100.0 };
        let mut c = Counters::default();
        c.advance(Duration::from_secs(0), &b, None);
        c.advance(Duration::from_secs(10), &b, None);
        let text = c.render(&SERVICES[0], 0, "1.0.0");
        assert!(text.contains("http_requests_total{code=\"200\",method=\"GET\"} 900"), "{text}");
        assert!(text.contains("http_requests_total{code=\"500\",method=\"GET\"} 100"), "{text}");
        assert!(text.contains("http_request_duration_seconds_count 1000"), "{text}");
        let buckets: Vec<u64> = text
            .lines()
            .filter(|l| l.starts_with("http_request_duration_seconds_bucket"))
            .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
            .collect();
        assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{buckets:?}");
    }
}
