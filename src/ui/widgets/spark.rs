//! Inline sparklines: a series squeezed into a few characters of a table cell.

use crate::ui::symbols::BARS;

/// Spreads under this share of the largest value draw flat: jitter is not a trend.
const FLAT_SHARE: f64 = 0.1;

/// The newest `width` values as bar characters, scaled from the smallest to the largest shown.
pub fn inline(values: &[f64], width: usize) -> String {
    let shown = &values[values.len().saturating_sub(width)..];
    let finite = || shown.iter().copied().filter(|v| v.is_finite());
    let lo = finite().fold(f64::INFINITY, f64::min);
    let hi = finite().fold(f64::NEG_INFINITY, f64::max);
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
                let level = ((v - lo) / (hi - lo) * (BARS.len() - 1) as f64).round() as usize;
                BARS[level.min(BARS.len() - 1)]
            }
        })
        .collect()
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
    fn gaps_show_as_blanks() {
        assert_eq!(inline(&[1.0, f64::NAN, 2.0], 3), "▁ █");
    }
}
