//! A service's signal trend, packed: 40 bytes a point instead of the 128 of a [`SignalPoint`].
//! An hour of trend for hundreds of services is most of what the board holds; the trend feeds
//! sparklines and before/after comparisons, for which `f32` is more precision than a cell shows.
//! The current values are not kept here: they come unpacked from the latest scrape or query.

use super::signals::SignalPoint;
use std::collections::VecDeque;
use std::time::{Duration, UNIX_EPOCH};

#[derive(Debug, Clone, Copy)]
struct Packed {
    /// Nanoseconds since the Unix epoch: exact for the next five centuries.
    at_ns: u64,
    window_ms: u32,
    /// rate, requests, error ratio, p50, p95, p99; NaN for none.
    values: [f32; 6],
}

fn pack_value(v: Option<f64>) -> f32 {
    v.map_or(f32::NAN, |v| v as f32)
}

fn unpack_value(v: f32) -> Option<f64> {
    (!v.is_nan()).then_some(v as f64)
}

impl Packed {
    fn of(p: &SignalPoint) -> Self {
        let at_ns = p.at.duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos().min(u64::MAX as u128) as u64;
        Self {
            at_ns,
            window_ms: p.window.as_millis().min(u32::MAX as u128) as u32,
            values: [p.rate, p.requests, p.error_ratio, p.p50, p.p95, p.p99].map(pack_value),
        }
    }

    fn point(&self) -> SignalPoint {
        let [rate, requests, error_ratio, p50, p95, p99] = self.values.map(unpack_value);
        SignalPoint {
            at: UNIX_EPOCH + Duration::from_nanos(self.at_ns),
            window: Duration::from_millis(self.window_ms as u64),
            rate,
            requests,
            error_ratio,
            p50,
            p95,
            p99,
        }
    }
}

/// Points kept at full resolution: more than the widest sparkline draws (40 cells of 10 s at a
/// 5 s interval is 80 points).
pub const RECENT_POINTS: usize = 120;
/// Older points are kept as one averaged point a minute.
const OLDER_BUCKET_NS: u64 = 60_000_000_000;

/// A service's signal trend over its history: the newest [`RECENT_POINTS`] as they came, and
/// before them one point a minute (their mean), back as far as `cap` points at the pace they come
/// would reach. An hour at 5 s is 120 + 50 points instead of 720; oldest first.
#[derive(Debug, Clone)]
pub struct Trend {
    cap: usize,
    recent: VecDeque<Packed>,
    older: VecDeque<(Packed, u32)>,
}

impl Trend {
    pub fn new(cap: usize) -> Self {
        Self { cap: cap.max(1), recent: VecDeque::new(), older: VecDeque::new() }
    }

    /// How many points of history it stands for.
    pub fn capacity(&self) -> usize {
        self.cap
    }

    pub fn push(&mut self, p: SignalPoint) {
        self.recent.push_back(Packed::of(&p));
        if self.recent.len() > self.cap.min(RECENT_POINTS) {
            let Some(out) = self.recent.pop_front() else { return };
            self.keep_older(out);
        }
    }

    /// Folds a point that left the recent ones into its minute, and forgets minutes past the
    /// history's reach.
    fn keep_older(&mut self, p: Packed) {
        if self.cap <= RECENT_POINTS {
            return;
        }
        match self.older.back_mut() {
            Some((mean, n)) if mean.at_ns / OLDER_BUCKET_NS == p.at_ns / OLDER_BUCKET_NS => {
                *n += 1;
                let w = 1.0 / *n as f32;
                for (m, v) in mean.values.iter_mut().zip(p.values) {
                    *m = match (m.is_nan(), v.is_nan()) {
                        (true, _) => v,
                        (false, true) => *m,
                        (false, false) => *m + (v - *m) * w,
                    };
                }
                mean.at_ns = p.at_ns;
                mean.window_ms = p.window_ms;
            }
            _ => self.older.push_back((p, 1)),
        }
        // The pace of the recent points says how far back `cap` points reach.
        let (Some(first), Some(last)) = (self.recent.front(), self.recent.back()) else { return };
        let pace = (last.at_ns.saturating_sub(first.at_ns)) / (self.recent.len().max(2) as u64 - 1);
        let reach = pace.saturating_mul(self.cap as u64);
        while self.older.front().is_some_and(|(o, _)| last.at_ns.saturating_sub(o.at_ns) > reach)
            || self.older.len() > self.cap - RECENT_POINTS
        {
            self.older.pop_front();
        }
    }

    pub fn replace_latest(&mut self, p: SignalPoint) {
        self.recent.pop_back();
        self.push(p);
    }

    pub fn latest(&self) -> Option<SignalPoint> {
        self.recent.back().map(Packed::point)
    }

    /// Oldest first: the minutes, then the recent points.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = SignalPoint> + '_ {
        self.older.iter().map(|(p, _)| p.point()).chain(self.recent.iter().map(Packed::point))
    }

    pub fn len(&self) -> usize {
        self.older.len() + self.recent.len()
    }

    pub fn is_empty(&self) -> bool {
        self.recent.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_point_comes_back_as_it_went_in_to_f32_precision() {
        let at = UNIX_EPOCH + Duration::new(1_795_000_000, 123_456_789);
        let p = SignalPoint {
            rate: Some(1234.5),
            requests: Some(74_070.0),
            error_ratio: Some(0.0213),
            p50: None,
            p95: Some(0.38),
            p99: Some(2.0),
            ..SignalPoint::empty(at, Duration::from_secs(60))
        };
        let mut t = Trend::new(2);
        t.push(p);
        let back = t.latest().unwrap();
        assert_eq!(back.at, at);
        assert_eq!(back.window, Duration::from_secs(60));
        assert_eq!((back.rate, back.requests, back.p50, back.p99), (Some(1234.5), Some(74_070.0), None, Some(2.0)));
        assert!((back.error_ratio.unwrap() - 0.0213).abs() < 1e-7);
        assert!((back.p95.unwrap() - 0.38).abs() < 1e-7);
        t.push(SignalPoint::empty(at + Duration::from_secs(5), Duration::from_secs(60)));
        t.push(SignalPoint::empty(at + Duration::from_secs(10), Duration::from_secs(60)));
        assert_eq!(t.len(), 2);
        assert_eq!(t.iter().next().unwrap().at, at + Duration::from_secs(5));
        assert_eq!(std::mem::size_of::<Packed>(), 40);
    }

    fn point(at: std::time::SystemTime, rate: f64) -> SignalPoint {
        SignalPoint { rate: Some(rate), ..SignalPoint::empty(at, Duration::from_secs(60)) }
    }

    #[test]
    fn an_hour_at_five_seconds_keeps_the_recent_points_and_a_mean_a_minute_before_them() {
        let start = UNIX_EPOCH + Duration::from_secs(1_795_000_020);
        let mut t = Trend::new(720);
        // Two hours: rate 10 in the first, 20 in the second.
        for i in 0..1440u64 {
            t.push(point(start + Duration::from_secs(5 * i), if i < 720 { 10.0 } else { 20.0 }));
        }
        let points: Vec<SignalPoint> = t.iter().collect();
        let newest = start + Duration::from_secs(5 * 1439);
        // Recent: the last 120 as they came; older: one a minute, within the hour.
        assert_eq!(t.recent.len(), RECENT_POINTS);
        assert!((49..=51).contains(&t.older.len()), "{} minutes kept", t.older.len());
        let oldest = points[0].at;
        let span = newest.duration_since(oldest).unwrap();
        assert!(span <= Duration::from_secs(3600) && span >= Duration::from_secs(3540), "{span:?}");
        assert!(points.windows(2).all(|w| w[0].at < w[1].at), "oldest first, no overlap");
        // The first minute kept may straddle the hour; after it, all is 20.
        assert!(points[1..].iter().all(|p| p.rate == Some(20.0)), "the last hour is 20");
        assert_eq!(t.latest().unwrap().at, newest);
        // A minute's mean: 10 and 20 meet at the hour.
        let mut m = Trend::new(720);
        for i in 0..150u64 {
            m.push(point(start + Duration::from_secs(5 * i), if i % 2 == 0 { 10.0 } else { 20.0 }));
        }
        let first = m.iter().next().unwrap();
        assert!((first.rate.unwrap() - 15.0).abs() < 1.0, "{:?}", first.rate);
    }

    #[test]
    fn a_short_history_is_kept_point_by_point() {
        let start = UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        let mut t = Trend::new(30);
        for i in 0..100u64 {
            t.push(point(start + Duration::from_secs(i), i as f64));
        }
        assert_eq!(t.len(), 30);
        assert_eq!(t.iter().next().unwrap().rate, Some(70.0));
    }
}
