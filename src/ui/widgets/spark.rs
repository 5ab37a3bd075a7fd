//! Inline sparklines: a series squeezed into a few characters of a table cell.

use crate::ui::symbols::BARS;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Spreads under this share of the largest value draw flat: jitter is not a trend.
const FLAT_SHARE: f64 = 0.1;

/// How a sparkline's bars are scaled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scale {
    /// From the smallest value shown to the largest: the shape of the series.
    Spread,
    /// From zero to this mark or the largest value shown, whichever is more: a series under the
    /// mark stays in the lower bars however it wiggles, and only a value at the mark or over it
    /// fills a bar. For error rates, where 0.1 % against 0.2 % is noise, not a spike.
    UpTo(f64),
}

/// The newest `width` values as bar characters, scaled from the smallest to the largest shown.
pub fn inline(values: &[f64], width: usize) -> String {
    scaled(values, width, Scale::Spread)
}

/// The newest `width` values as bar characters, scaled as `scale` says.
pub fn scaled(values: &[f64], width: usize, scale: Scale) -> String {
    let shown = &values[values.len().saturating_sub(width)..];
    let finite = || shown.iter().copied().filter(|v| v.is_finite());
    let hi = finite().fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = match scale {
        Scale::Spread => (finite().fold(f64::INFINITY, f64::min), hi),
        Scale::UpTo(top) => (0.0, hi.max(top)),
    };
    // Also flat when nothing is finite (lo and hi stay infinite and the spread is NaN).
    let flat = (hi - lo).is_nan() || hi - lo <= hi.abs() * FLAT_SHARE;
    shown
        .iter()
        .map(|&v| {
            if !v.is_finite() {
                ' '
            } else if flat {
                BARS[0]
            } else {
                let level = (v - lo) / (hi - lo) * (BARS.len() - 1) as f64;
                // Up to a mark, only the mark itself fills the bar.
                let level = if scale == Scale::Spread { level.round() } else { level.floor() }.max(0.0) as usize;
                BARS[level.min(BARS.len() - 1)]
            }
        })
        .collect()
}

/// A sparkline of timed points in fixed time buckets aligned to the clock: the newest cell
/// is the bucket holding `now`, each cell the largest value in its bucket. Between bucket
/// boundaries only the newest cell can change, so a steady trend costs almost no bytes.
pub fn bucketed(points: &[(SystemTime, f64)], now: SystemTime, bucket: Duration, width: usize, scale: Scale) -> String {
    let cells = buckets(points, now, bucket, width);
    // Leading empty buckets (before any data) are not drawn at all.
    let first = cells.iter().position(|v| v.is_finite()).unwrap_or(width);
    scaled(&cells[first..], width, scale)
}

/// The largest value of each of `width` buckets of `bucket`, aligned to the clock, the newest
/// holding `now`; NaN where no point fell.
pub fn buckets(points: &[(SystemTime, f64)], now: SystemTime, bucket: Duration, width: usize) -> Vec<f64> {
    let secs = |t: SystemTime| t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let step = bucket.as_secs().max(1);
    let newest = secs(now) / step;
    let mut cells = vec![f64::NAN; width];
    for (t, v) in points.iter().filter(|(_, v)| v.is_finite()) {
        let age = usize::try_from(newest.saturating_sub(secs(*t) / step)).unwrap_or(usize::MAX);
        if age < width {
            let cell = &mut cells[width - 1 - age];
            *cell = if cell.is_nan() { *v } else { cell.max(*v) };
        }
    }
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_from_smallest_to_largest() {
        assert_eq!(inline(&[0.0, 50.0, 100.0], 10), "▁▅█");
        assert_eq!(inline(&[100.0, 150.0, 200.0], 10), "▁▅█");
    }

    #[test]
    fn small_jitter_draws_flat() {
        assert_eq!(inline(&[60.0, 61.0, 62.0], 10), "▁▁▁");
    }

    #[test]
    fn keeps_the_newest_values() {
        assert_eq!(inline(&[100.0, 0.0, 100.0], 2), "▁█");
    }

    #[test]
    fn buckets_keep_their_place_until_the_next_boundary() {
        let t = |s: u64| UNIX_EPOCH + Duration::from_secs(1_700_000_000 + s);
        let ten = Duration::from_secs(10);
        let points = [(t(0), 1.0), (t(3), 5.0), (t(10), 2.0), (t(21), 9.0)];
        // Buckets [0,10): max 5; [10,20): 2; [20,30): 9.
        assert_eq!(bucketed(&points, t(25), ten, 5, Scale::Spread), "▄▁█");
        // A new point inside the same bucket changes only the newest cell.
        let more = [(t(0), 1.0), (t(3), 5.0), (t(10), 2.0), (t(21), 9.0), (t(28), 1.0)];
        assert_eq!(bucketed(&more, t(29), ten, 5, Scale::Spread), "▄▁█");
        assert_eq!(bucketed(&points, t(45), ten, 5, Scale::Spread), "▄▁█  ");
    }

    #[test]
    fn up_to_a_mark_keeps_noise_low_and_fills_the_bar_at_the_mark() {
        // Error rates of 0.1–0.2 % against a warning at 1 %: low bars, not a spike.
        assert_eq!(scaled(&[0.001, 0.002, 0.001], 10, Scale::UpTo(0.01)), "▁▂▁");
        // The same numbers by their spread: a full bar.
        assert_eq!(inline(&[0.001, 0.002, 0.001], 10), "▁█▁");
        // At or over the mark: full; a steady 10 % stays full, not flat at the bottom.
        assert_eq!(scaled(&[0.0, 0.005, 0.0099, 0.01], 10, Scale::UpTo(0.01)), "▁▄▇█");
        assert_eq!(scaled(&[0.1, 0.1, 0.1], 10, Scale::UpTo(0.01)), "███");
        // Nothing at all: the lowest bar, and no mark makes no difference.
        assert_eq!(scaled(&[0.0, 0.0], 10, Scale::UpTo(0.0)), "▁▁");
    }

    #[test]
    fn gaps_show_as_blanks() {
        assert_eq!(inline(&[1.0, f64::NAN, 2.0], 3), "▁ █");
    }
}
