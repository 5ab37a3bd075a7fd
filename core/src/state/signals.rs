//! Golden signals from scrapes: per instance the latest window and a history of points,
//! per service the merged points; and the verdict of a point against thresholds.

use super::status::{Status, Verdict};
use crate::config::schema::Thresholds;
use crate::metrics::{Counts, Window, window};
use std::collections::VecDeque;
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
    /// Requests per second, when something counts requests.
    pub rate: Option<f64>,
    /// Requests counted in the window: what the error ratio is judged on.
    pub requests: Option<f64>,
    /// How much time the point covers.
    pub window: Duration,
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
            rate: Some(w.rate()),
            requests: Some(w.requests),
            window: Duration::from_secs_f64(w.seconds.max(0.0)),
            error_ratio: w.error_ratio(),
            p50: w.quantile(0.5),
            p95: w.quantile(0.95),
            p99: w.quantile(0.99),
        }
    }

    /// A point with nothing in it yet, to be filled signal by signal.
    pub fn empty(at: SystemTime, window: Duration) -> Self {
        Self { at, rate: None, requests: None, window, error_ratio: None, p50: None, p95: None, p99: None }
    }

    /// Too few requests in the window for the error ratio to mean anything.
    pub fn low_traffic(&self, t: &Thresholds) -> bool {
        self.requests.is_some_and(|r| r < t.min_requests as f64)
    }

    /// "low traffic (12 req/1m)", over the configured `window` (the point's own span wobbles
    /// with scrape jitter; the words should not).
    pub fn low_traffic_note(&self, window: Duration) -> String {
        let n = self.requests.unwrap_or(0.0).round() as u64;
        format!("low traffic ({n} req/{})", crate::format::span(window))
    }

    /// The level of the error ratio against thresholds scaled by `scale` (1.0 to rise, below to
    /// fall); `None` when there is no ratio or too little traffic to judge.
    pub fn error_level(&self, t: &Thresholds, scale: f64) -> Option<Status> {
        let e = self.error_ratio?;
        if self.low_traffic(t) {
            return None;
        }
        Some(level(e, t.error_rate_warn * scale, t.error_rate_crit * scale))
    }

    /// The level of p95 against thresholds scaled by `scale`.
    pub fn latency_level(&self, t: &Thresholds, scale: f64) -> Option<Status> {
        let p95 = self.p95?;
        Some(level(p95, t.p95_warn.as_secs_f64() * scale, t.p95_crit.as_secs_f64() * scale))
    }

    /// Error rate and p95 against thresholds, this point alone; the worse of the two, with numbers.
    pub fn verdict(&self, t: &Thresholds) -> Verdict {
        let errors = self.error_level(t, 1.0).map(|s| Verdict::new(s, self.error_reason(t, s)));
        let latency = self.latency_level(t, 1.0).map(|s| Verdict::new(s, self.latency_reason(t, s)));
        match (errors, latency) {
            (Some(e), Some(l)) if l.status > e.status => l,
            (Some(e), _) => e,
            (None, Some(l)) => l,
            (None, None) => Verdict::ok(),
        }
    }

    /// "errors 6.0% ≥ 5.0%" for a level, or the value alone for OK.
    pub fn error_reason(&self, t: &Thresholds, status: Status) -> String {
        let e = self.error_ratio.unwrap_or(0.0);
        match status {
            Status::Crit => format!("errors {} ≥ {}", percent(e), percent(t.error_rate_crit)),
            Status::Warn => format!("errors {} ≥ {}", percent(e), percent(t.error_rate_warn)),
            _ if status == Status::Ok && e < t.error_rate_warn => String::new(),
            _ => format!("errors {}", percent(e)),
        }
    }

    /// "p95 2.5s ≥ 2s" for a level.
    pub fn latency_reason(&self, t: &Thresholds, status: Status) -> String {
        let p95 = Duration::from_secs_f64(self.p95.unwrap_or(0.0).max(0.0));
        let d = crate::format::duration;
        match status {
            Status::Crit => format!("p95 {} ≥ {}", d(p95), d(t.p95_crit)),
            Status::Warn => format!("p95 {} ≥ {}", d(p95), d(t.p95_warn)),
            _ if p95 < t.p95_warn => String::new(),
            _ => format!("p95 {}", d(p95)),
        }
    }
}

fn level(v: f64, warn: f64, crit: f64) -> Status {
    if v >= crit {
        Status::Crit
    } else if v >= warn {
        Status::Warn
    } else {
        Status::Ok
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
    /// The steps between consecutive scrapes that make up the current window, oldest first.
    steps: VecDeque<Window>,
    /// How much time the window spans.
    span: Duration,
    /// The latest window and when it ended.
    pub window: Option<(SystemTime, Window)>,
    /// The point of the latest scrape, over the window that ended there (the trend is kept per
    /// service, in [`super::Trend`]).
    pub latest: Option<SignalPoint>,
    /// The latest scrape failure, cleared by a good scrape.
    pub error: Option<(SystemTime, String)>,
    pub last_scrape: Option<SystemTime>,
    pub version: Option<String>,
}

impl InstanceMetrics {
    pub fn new(span: Duration) -> Self {
        Self {
            last: None,
            steps: VecDeque::new(),
            span,
            window: None,
            latest: None,
            error: None,
            last_scrape: None,
            version: None,
        }
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
        let step = self.last.as_ref().and_then(|(t0, prev)| {
            let secs = result.at.duration_since(*t0).unwrap_or_default().as_secs_f64();
            window(prev, &counts, secs)
        });
        self.last = Some((result.at, counts));
        let Some(step) = step else { return false };
        self.steps.push_back(step);
        // Keep the newest steps that cover the span; one step at least.
        let span = self.span.as_secs_f64() * 0.999;
        let mut covered = 0.0;
        let keep = self.steps.iter().rev().take_while(|w| {
            let inside = covered < span;
            covered += w.seconds;
            inside
        });
        let keep = keep.count().max(1);
        while self.steps.len() > keep {
            self.steps.pop_front();
        }
        let Some(w) = Window::sum(self.steps.iter()) else { return false };
        self.latest = Some(SignalPoint::of(result.at, &w));
        self.window = Some((result.at, w));
        true
    }

    /// The step between the last two scrapes: the requests and errors it added.
    pub fn last_step(&self) -> Option<&Window> {
        self.steps.back()
    }

    /// Whether any scrape came back with a body.
    pub fn has_scraped(&self) -> bool {
        self.last.is_some()
    }

    /// Whether the last good scrape had no request counter.
    pub fn no_request_counter(&self) -> bool {
        self.last.as_ref().is_some_and(|(_, c)| c.requests.is_none())
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
        SignalPoint {
            rate: Some(10.0),
            requests: Some(600.0),
            error_ratio,
            p95,
            ..SignalPoint::empty(SystemTime::UNIX_EPOCH, Duration::from_secs(60))
        }
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
        let mut m = InstanceMetrics::new(Duration::from_secs(60));
        let at = |s: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(s);
        let c = |r: f64| Counts { requests: Some(r), ..Counts::default() };
        assert!(!m.apply(ScrapeResult { at: at(0), outcome: Ok(c(100.0)) }));
        assert!(!m.apply(ScrapeResult { at: at(5), outcome: Err("HTTP 500".into()) }));
        assert!(m.error.is_some());
        assert!(m.apply(ScrapeResult { at: at(10), outcome: Ok(c(300.0)) }));
        assert!(m.error.is_none());
        assert_eq!(m.latest.unwrap().rate, Some(20.0));
    }

    #[test]
    fn the_window_slides_over_the_last_minute_of_scrapes() {
        let mut m = InstanceMetrics::new(Duration::from_secs(60));
        let at = |s: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(s);
        let c = |r: f64, e: f64| Counts { requests: Some(r), errors: e, ..Counts::default() };
        // 10 req/s; one error in the first 5 s, none after.
        m.apply(ScrapeResult { at: at(0), outcome: Ok(c(0.0, 0.0)) });
        m.apply(ScrapeResult { at: at(5), outcome: Ok(c(50.0, 1.0)) });
        assert_eq!(m.latest.unwrap().error_ratio, Some(0.02));
        for i in 2..=12 {
            m.apply(ScrapeResult { at: at(i * 5), outcome: Ok(c(i as f64 * 50.0, 1.0)) });
        }
        // Twelve steps: the first one, with the error, is still inside the minute.
        let p = m.latest.unwrap();
        assert_eq!((p.requests, p.window), (Some(600.0), Duration::from_secs(60)));
        assert!((p.error_ratio.unwrap() - 1.0 / 600.0).abs() < 1e-12);
        m.apply(ScrapeResult { at: at(65), outcome: Ok(c(650.0, 1.0)) });
        // Now it slid out.
        assert_eq!(m.latest.unwrap().error_ratio, Some(0.0));
        assert_eq!(m.latest.unwrap().rate, Some(10.0));
    }

    #[test]
    fn low_traffic_does_not_judge_errors() {
        let t = t();
        let p = SignalPoint {
            requests: Some(12.0),
            error_ratio: Some(0.5),
            ..SignalPoint::empty(SystemTime::UNIX_EPOCH, Duration::from_secs(60))
        };
        assert_eq!(p.error_level(&t, 1.0), None);
        assert_eq!(p.verdict(&t).status, Status::Ok);
        assert_eq!(p.low_traffic_note(Duration::from_secs(60)), "low traffic (12 req/1m)");
    }
}
