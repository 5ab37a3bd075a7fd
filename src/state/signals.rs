//! Golden signals from scrapes: per instance the latest window and a history of points,
//! per service the merged points; and the verdict of a point against thresholds.

use super::series::Ring;
use super::status::{Status, Verdict};
use crate::config::schema::Thresholds;
use crate::metrics::{Counts, Window, window};
use std::time::{Duration, SystemTime};

/// One scrape of one instance, as the source reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScrapeResult {
    pub at: SystemTime,
    pub outcome: Result<Counts, String>,
}

/// Signals over one window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SignalPoint {
    pub at: SystemTime,
    /// Requests per second.
    pub rate: f64,
    /// 5xx share of requests, 0..1.
    pub error_ratio: Option<f64>,
    /// Latency quantiles in seconds.
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
}

impl SignalPoint {
    pub fn of(at: SystemTime, w: &Window) -> Self {
        Self {
            at,
            rate: w.rate(),
            error_ratio: w.error_ratio(),
            p50: w.quantile(0.5),
            p95: w.quantile(0.95),
            p99: w.quantile(0.99),
        }
    }

    /// Error rate and p95 against thresholds; the worse of the two, with numbers in the reason.
    pub fn verdict(&self, t: &Thresholds) -> Verdict {
        let mut worst = Verdict::ok();
        if let Some(e) = self.error_ratio {
            let (status, limit) = if e >= t.error_rate_crit {
                (Status::Crit, t.error_rate_crit)
            } else if e >= t.error_rate_warn {
                (Status::Warn, t.error_rate_warn)
            } else {
                (Status::Ok, 0.0)
            };
            if status > worst.status {
                worst = Verdict::new(status, format!("errors {} ≥ {}", percent(e), percent(limit)));
            }
        }
        if let Some(p95) = self.p95 {
            let p95d = Duration::from_secs_f64(p95);
            let (status, limit) = if p95d >= t.p95_crit {
                (Status::Crit, t.p95_crit)
            } else if p95d >= t.p95_warn {
                (Status::Warn, t.p95_warn)
            } else {
                (Status::Ok, Duration::ZERO)
            };
            if status > worst.status {
                worst = Verdict::new(
                    status,
                    format!("p95 {} ≥ {}", crate::format::duration(p95d), crate::format::duration(limit)),
                );
            }
        }
        worst
    }
}

/// `0.4%`, `12%`, `0.05%`.
pub fn percent(ratio: f64) -> String {
    let p = ratio * 100.0;
    if p == 0.0 {
        "0%".into()
    } else if p < 0.1 {
        format!("{p:.2}%")
    } else if p < 10.0 {
        format!("{p:.1}%")
    } else {
        format!("{p:.0}%")
    }
}

/// What the scrapes of one instance have shown.
#[derive(Debug, Clone)]
pub struct InstanceMetrics {
    last: Option<(SystemTime, Counts)>,
    /// The latest window and when it ended.
    pub window: Option<(SystemTime, Window)>,
    pub points: Ring<SignalPoint>,
    /// The latest scrape failure, cleared by a good scrape.
    pub error: Option<(SystemTime, String)>,
    pub last_scrape: Option<SystemTime>,
    pub version: Option<String>,
}

impl InstanceMetrics {
    pub fn new(history: usize) -> Self {
        Self { last: None, window: None, points: Ring::new(history), error: None, last_scrape: None, version: None }
    }

    /// Folds in one scrape. Returns whether a new window was formed.
    pub fn apply(&mut self, result: ScrapeResult) -> bool {
        self.last_scrape = Some(result.at);
        let counts = match result.outcome {
            Ok(c) => c,
            Err(e) => {
                self.error = Some((result.at, e));
                return false;
            }
        };
        self.error = None;
        if counts.version.is_some() {
            self.version.clone_from(&counts.version);
        }
        let formed = match &self.last {
            Some((t0, prev)) => {
                let secs = result.at.duration_since(*t0).unwrap_or_default().as_secs_f64();
                window(prev, &counts, secs).map(|w| {
                    self.points.push(SignalPoint::of(result.at, &w));
                    self.window = Some((result.at, w));
                })
            }
            None => None,
        };
        self.last = Some((result.at, counts));
        formed.is_some()
    }

    /// The latest window if it ended within `fresh_for` of `now`.
    pub fn fresh_window(&self, now: SystemTime, fresh_for: Duration) -> Option<&Window> {
        let (at, w) = self.window.as_ref()?;
        (now.duration_since(*at).unwrap_or_default() <= fresh_for).then_some(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t() -> Thresholds {
        Thresholds::default()
    }

    fn point(error_ratio: Option<f64>, p95: Option<f64>) -> SignalPoint {
        SignalPoint { at: SystemTime::UNIX_EPOCH, rate: 10.0, error_ratio, p50: None, p95, p99: None }
    }

    #[test]
    fn verdict_table() {
        let cases = [
            (point(Some(0.001), Some(0.1)), Status::Ok, ""),
            (point(Some(0.02), Some(0.1)), Status::Warn, "errors 2.0% ≥ 1.0%"),
            (point(Some(0.06), Some(0.1)), Status::Crit, "errors 6.0% ≥ 5.0%"),
            (point(Some(0.0), Some(0.8)), Status::Warn, "p95 800ms ≥ 500ms"),
            (point(Some(0.02), Some(2.5)), Status::Crit, "p95 2.5s ≥ 2s"),
            (point(None, None), Status::Ok, ""),
        ];
        for (p, status, reason) in cases {
            let v = p.verdict(&t());
            assert_eq!((v.status, v.reason.as_str()), (status, reason), "{p:?}");
        }
    }

    #[test]
    fn two_scrapes_make_a_window_and_errors_keep_the_last_counts() {
        let mut m = InstanceMetrics::new(10);
        let at = |s: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(s);
        let c = |r: f64| Counts { requests: Some(r), ..Counts::default() };
        assert!(!m.apply(ScrapeResult { at: at(0), outcome: Ok(c(100.0)) }));
        assert!(!m.apply(ScrapeResult { at: at(5), outcome: Err("HTTP 500".into()) }));
        assert!(m.error.is_some());
        assert!(m.apply(ScrapeResult { at: at(10), outcome: Ok(c(300.0)) }));
        assert!(m.error.is_none());
        assert_eq!(m.points.latest().unwrap().rate, 20.0);
    }
}
