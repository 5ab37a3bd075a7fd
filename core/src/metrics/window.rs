//! Rates and quantiles over the window between two scrapes, and over a run of such steps
//! (PromQL's `rate(x[1m])`), with counter resets handled in each step.

use super::extract::Counts;
use super::quantile::histogram_quantile;

/// What happened between two scrapes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Window {
    pub seconds: f64,
    pub requests: f64,
    pub errors: f64,
    /// Cumulative bucket increases `(le, count)` over the window.
    pub buckets: Vec<(f64, f64)>,
    /// The latest summary quantiles (summaries are already windowed by the client).
    pub summary: Vec<(f64, f64)>,
}

/// Increase of a counter; after a reset (the value went down) the new value is the increase.
fn increase(before: f64, after: f64) -> f64 {
    if after >= before { after - before } else { after }
}

/// The window between `prev` and `cur`, `seconds` apart. `None` without a request counter or time.
pub fn window(prev: &Counts, cur: &Counts, seconds: f64) -> Option<Window> {
    let (Some(r0), Some(r1)) = (prev.requests, cur.requests) else { return None };
    if seconds <= 0.0 {
        return None;
    }
    let same_layout =
        prev.buckets.len() == cur.buckets.len() && prev.buckets.iter().zip(&cur.buckets).all(|(a, b)| a.0 == b.0);
    let reset = !same_layout || prev.buckets.iter().zip(&cur.buckets).any(|(a, b)| b.1 < a.1);
    let buckets = if reset {
        cur.buckets.clone()
    } else {
        prev.buckets.iter().zip(&cur.buckets).map(|(a, b)| (b.0, b.1 - a.1)).collect()
    };
    let requests = increase(r0, r1);
    // After a reset of the request counter, errors restart too.
    let errors = if r1 < r0 { cur.errors } else { increase(prev.errors, cur.errors) };
    Some(Window { seconds, requests, errors, buckets, summary: cur.summary.clone() })
}

impl Window {
    pub fn rate(&self) -> f64 {
        self.requests / self.seconds
    }

    /// The 5xx share of requests; `None` when there were none.
    pub fn error_ratio(&self) -> Option<f64> {
        (self.requests > 0.0).then(|| (self.errors / self.requests).clamp(0.0, 1.0))
    }

    /// Latency quantile in seconds: from the histogram, else from the summary.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        histogram_quantile(q, &self.buckets)
            .or_else(|| self.summary.iter().find(|(k, _)| (*k - q).abs() < 1e-9).map(|(_, v)| *v))
            .filter(|v| v.is_finite())
    }

    /// Consecutive steps of one instance as one window, oldest first. Each step already handled
    /// its own counter reset. Buckets add up over the steps that share the newest step's layout.
    pub fn sum<'a>(steps: impl IntoIterator<Item = &'a Window>) -> Option<Window> {
        let steps: Vec<&Window> = steps.into_iter().collect();
        let newest = *steps.last()?;
        let mut out = Window { summary: newest.summary.clone(), buckets: newest.buckets.clone(), ..Window::default() };
        for (i, w) in steps.iter().enumerate() {
            out.seconds += w.seconds;
            out.requests += w.requests;
            out.errors += w.errors;
            let last = i + 1 == steps.len();
            let same_layout =
                w.buckets.len() == out.buckets.len() && w.buckets.iter().zip(&out.buckets).all(|(a, b)| a.0 == b.0);
            if !last && same_layout {
                for (acc, b) in out.buckets.iter_mut().zip(&w.buckets) {
                    acc.1 += b.1;
                }
            }
        }
        Some(out)
    }

    /// The windows of several instances as one. Counts are added as rates, so instances whose
    /// windows differ in length weigh right; summaries take the worst.
    pub fn merge<'a>(windows: impl IntoIterator<Item = &'a Window>) -> Option<Window> {
        let mut seconds: f64 = 0.0;
        let (mut req_rate, mut err_rate) = (0.0, 0.0);
        let mut bucket_rates: Vec<(f64, f64)> = Vec::new();
        let mut summary: Vec<(f64, f64)> = Vec::new();
        let mut any = false;
        for w in windows.into_iter().filter(|w| w.seconds > 0.0) {
            any = true;
            seconds = seconds.max(w.seconds);
            req_rate += w.requests / w.seconds;
            err_rate += w.errors / w.seconds;
            for &(le, c) in &w.buckets {
                match bucket_rates.iter_mut().find(|(b, _)| *b == le) {
                    Some((_, r)) => *r += c / w.seconds,
                    None => bucket_rates.push((le, c / w.seconds)),
                }
            }
            for &(q, v) in &w.summary {
                match summary.iter_mut().find(|(k, _)| *k == q) {
                    Some((_, acc)) => *acc = acc.max(v),
                    None => summary.push((q, v)),
                }
            }
        }
        if !any {
            return None;
        }
        bucket_rates.sort_by(|a, b| a.0.total_cmp(&b.0));
        Some(Window {
            seconds,
            requests: req_rate * seconds,
            errors: err_rate * seconds,
            buckets: bucket_rates.into_iter().map(|(le, r)| (le, r * seconds)).collect(),
            summary,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(requests: f64, errors: f64, buckets: &[(f64, f64)]) -> Counts {
        Counts { requests: Some(requests), errors, buckets: buckets.to_vec(), ..Counts::default() }
    }

    const INF: f64 = f64::INFINITY;

    #[test]
    fn rate_and_error_ratio_over_the_window() {
        let w = window(&counts(1000.0, 10.0, &[]), &counts(1600.0, 40.0, &[]), 10.0).unwrap();
        assert_eq!(w.rate(), 60.0);
        assert_eq!(w.error_ratio(), Some(0.05));
    }

    #[test]
    fn counter_reset_does_not_produce_negative_rate() {
        let w = window(&counts(5000.0, 50.0, &[]), &counts(300.0, 3.0, &[]), 10.0).unwrap();
        assert_eq!(w.rate(), 30.0);
        assert_eq!(w.error_ratio(), Some(0.01));
    }

    #[test]
    fn quantile_comes_from_the_bucket_increase_not_the_totals() {
        // Before: everything fast. In the window: 100 requests, half of them slow.
        let before = counts(1000.0, 0.0, &[(0.1, 1000.0), (1.0, 1000.0), (INF, 1000.0)]);
        let after = counts(1100.0, 0.0, &[(0.1, 1050.0), (1.0, 1100.0), (INF, 1100.0)]);
        let w = window(&before, &after, 10.0).unwrap();
        assert_eq!(w.buckets, vec![(0.1, 50.0), (1.0, 100.0), (INF, 100.0)]);
        // p95: rank 95 in (0.1, 1]: 0.1 + 0.9 * 45/50 = 0.91.
        assert!((w.quantile(0.95).unwrap() - 0.91).abs() < 1e-9);
    }

    #[test]
    fn bucket_reset_uses_the_new_counts() {
        let before = counts(1000.0, 0.0, &[(0.1, 900.0), (INF, 1000.0)]);
        let after = counts(10.0, 0.0, &[(0.1, 5.0), (INF, 10.0)]);
        let w = window(&before, &after, 10.0).unwrap();
        assert_eq!(w.buckets, vec![(0.1, 5.0), (INF, 10.0)]);
    }

    #[test]
    fn no_requests_means_no_error_ratio() {
        let w = window(&counts(10.0, 0.0, &[]), &counts(10.0, 0.0, &[]), 5.0).unwrap();
        assert_eq!(w.error_ratio(), None);
    }

    #[test]
    fn sum_over_steps_keeps_a_reset_inside_the_window() {
        // 10 s steps: 100 requests, then a restart (the step counts only what came after), then 50.
        let a = window(&counts(1000.0, 1.0, &[]), &counts(1100.0, 3.0, &[]), 10.0).unwrap();
        let b = window(&counts(1100.0, 3.0, &[]), &counts(40.0, 4.0, &[]), 10.0).unwrap();
        let c = window(&counts(40.0, 4.0, &[]), &counts(90.0, 4.0, &[]), 10.0).unwrap();
        let w = Window::sum([&a, &b, &c]).unwrap();
        assert_eq!((w.seconds, w.requests, w.errors), (30.0, 190.0, 6.0));
        assert!((w.rate() - 190.0 / 30.0).abs() < 1e-9);
    }

    #[test]
    fn sum_adds_buckets_of_the_same_layout_only() {
        let a = Window { seconds: 5.0, requests: 10.0, buckets: vec![(0.1, 10.0), (INF, 10.0)], ..Window::default() };
        let b = Window { seconds: 5.0, requests: 10.0, buckets: vec![(0.5, 2.0), (INF, 10.0)], ..Window::default() };
        let c = Window { seconds: 5.0, requests: 10.0, buckets: vec![(0.5, 8.0), (INF, 10.0)], ..Window::default() };
        let w = Window::sum([&a, &b, &c]).unwrap();
        assert_eq!(w.buckets, vec![(0.5, 10.0), (INF, 20.0)]);
        assert_eq!(w.requests, 30.0);
    }

    #[test]
    fn merge_adds_rates_and_buckets() {
        let a = Window {
            seconds: 10.0,
            requests: 100.0,
            errors: 10.0,
            buckets: vec![(0.1, 50.0), (INF, 100.0)],
            summary: vec![],
        };
        let b = Window {
            seconds: 10.0,
            requests: 300.0,
            errors: 0.0,
            buckets: vec![(0.1, 300.0), (INF, 300.0)],
            summary: vec![],
        };
        let m = Window::merge([&a, &b]).unwrap();
        assert_eq!(m.rate(), 40.0);
        assert_eq!(m.error_ratio(), Some(0.025));
        assert_eq!(m.buckets, vec![(0.1, 350.0), (INF, 400.0)]);
    }
}
