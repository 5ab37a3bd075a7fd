//! Quantiles from cumulative histogram buckets, computed the way Prometheus' `histogram_quantile` does.

/// `buckets` are `(upper bound, cumulative count)`, sorted by bound, ending with `+Inf`.
/// Returns `None` without observations or without a `+Inf` bucket.
pub fn histogram_quantile(q: f64, buckets: &[(f64, f64)]) -> Option<f64> {
    if !(0.0..=1.0).contains(&q) {
        return None;
    }
    let &(last_le, total) = buckets.last()?;
    if last_le != f64::INFINITY || total <= 0.0 || buckets.len() < 2 {
        return None;
    }
    let rank = q * total;
    // The first bucket whose cumulative count reaches the rank.
    let idx = buckets.iter().position(|&(_, c)| c >= rank)?;
    if idx == buckets.len() - 1 {
        // In the +Inf bucket: the best answer is the highest finite bound.
        return Some(buckets[idx - 1].0);
    }
    let (upper, count) = buckets[idx];
    let (lower, below) = if idx == 0 {
        // The lowest bucket starts at 0 when its bound is positive.
        (if upper > 0.0 { 0.0 } else { upper }, 0.0)
    } else {
        buckets[idx - 1]
    };
    let in_bucket = count - below;
    if in_bucket <= 0.0 {
        return Some(upper);
    }
    Some(lower + (upper - lower) * (rank - below) / in_bucket)
}

#[cfg(test)]
mod tests {
    use super::*;

    const INF: f64 = f64::INFINITY;

    #[test]
    fn interpolates_inside_the_bucket_like_prometheus() {
        // 100 observations: 50 <= 0.1, 40 in (0.1, 0.5], 10 in (0.5, 1].
        let b = [(0.1, 50.0), (0.5, 90.0), (1.0, 100.0), (INF, 100.0)];
        // p50: rank 50 reaches the first bucket exactly: 0 + 0.1 * 50/50.
        assert!((histogram_quantile(0.5, &b).unwrap() - 0.1).abs() < 1e-12);
        // p95: rank 95 in (0.5, 1]: 0.5 + 0.5 * (95-90)/10 = 0.75.
        assert!((histogram_quantile(0.95, &b).unwrap() - 0.75).abs() < 1e-12);
        // p70: rank 70 in (0.1, 0.5]: 0.1 + 0.4 * 20/40 = 0.3.
        assert!((histogram_quantile(0.7, &b).unwrap() - 0.3).abs() < 1e-12);
    }

    #[test]
    fn rank_in_the_inf_bucket_gives_the_highest_finite_bound() {
        let b = [(0.1, 10.0), (0.5, 20.0), (INF, 100.0)];
        assert_eq!(histogram_quantile(0.99, &b), Some(0.5));
    }

    #[test]
    fn no_observations_or_no_inf_bucket_gives_none() {
        assert_eq!(histogram_quantile(0.5, &[(0.1, 0.0), (INF, 0.0)]), None);
        assert_eq!(histogram_quantile(0.5, &[(0.1, 5.0), (0.5, 10.0)]), None);
        assert_eq!(histogram_quantile(1.5, &[(0.1, 5.0), (INF, 10.0)]), None);
    }
}
