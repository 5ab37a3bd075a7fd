//! Inline sparklines: a series squeezed into a few characters of a table cell.

use crate::ui::symbols::BARS;

/// The newest `width` values as bar characters, scaled from 0 to the largest value shown.
pub fn inline(values: &[f64], width: usize) -> String {
    let shown = &values[values.len().saturating_sub(width)..];
    let max = shown.iter().copied().filter(|v| v.is_finite()).fold(0.0_f64, f64::max);
    shown
        .iter()
        .map(|&v| {
            if !v.is_finite() {
                ' '
            } else if max <= 0.0 {
                BARS[0]
            } else {
                let level = ((v / max) * (BARS.len() - 1) as f64).round() as usize;
                BARS[level.min(BARS.len() - 1)]
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_to_the_largest_value() {
        assert_eq!(inline(&[0.0, 50.0, 100.0], 10), "▁▅█");
    }

    #[test]
    fn keeps_the_newest_values() {
        assert_eq!(inline(&[100.0, 0.0, 100.0], 2), "▁█");
    }

    #[test]
    fn gaps_show_as_blanks() {
        assert_eq!(inline(&[1.0, f64::NAN, 1.0], 3), "█ █");
    }
}
