//! Counters of a simulated instance and their Prometheus text exposition.

use super::story::{Behavior, DemoService};
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
}

impl Counters {
    /// Adds the requests served between the last call and `t` under `b`.
    pub fn advance(&mut self, t: Duration, b: &Behavior) {
        let dt = self.last.map_or(0.0, |last| t.saturating_sub(last).as_secs_f64());
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
        out
    }
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
        c.advance(Duration::from_secs(0), &b);
        c.advance(Duration::from_secs(10), &b);
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
