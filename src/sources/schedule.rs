//! When a poller runs next: its interval, random jitter, and backoff while a target keeps failing.

use std::time::Duration;

/// The schedule of one poller. It owns no timer; it only says how long to wait.
#[derive(Debug, Clone)]
pub struct Schedule {
    interval: Duration,
    jitter: f64,
    backoff_max: Duration,
    failures: u32,
}

impl Schedule {
    pub fn new(interval: Duration, jitter: f64, backoff_max: Duration) -> Self {
        Self { interval, jitter: jitter.clamp(0.0, 0.5), backoff_max: backoff_max.max(interval), failures: 0 }
    }

    /// The first poll lands anywhere in the first interval, so a fleet's checks spread out.
    /// `unit` is a random number in `[0, 1)`.
    pub fn first_delay(&self, unit: f64) -> Duration {
        self.interval.mul_f64(unit.clamp(0.0, 1.0))
    }

    /// Records the outcome of a poll.
    pub fn record(&mut self, failed: bool) {
        self.failures = if failed { self.failures.saturating_add(1) } else { 0 };
    }

    /// The interval in force: the base, doubled for each failure after the first, capped.
    pub fn current_interval(&self) -> Duration {
        if self.failures < 2 {
            return self.interval;
        }
        let factor = 2u32.saturating_pow((self.failures - 1).min(16));
        self.interval.saturating_mul(factor).min(self.backoff_max)
    }

    /// The wait until the next poll, shifted by up to ±jitter of the interval.
    /// `unit` is a random number in `[0, 1)`.
    pub fn next_delay(&self, unit: f64) -> Duration {
        let shift = self.jitter * (2.0 * unit.clamp(0.0, 1.0) - 1.0);
        self.current_interval().mul_f64(1.0 + shift)
    }

    pub fn failures(&self) -> u32 {
        self.failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sched() -> Schedule {
        Schedule::new(Duration::from_secs(5), 0.1, Duration::from_secs(60))
    }

    #[test]
    fn one_failure_keeps_the_interval() {
        let mut s = sched();
        s.record(true);
        assert_eq!(s.current_interval(), Duration::from_secs(5));
    }

    #[test]
    fn repeated_failures_double_up_to_the_cap() {
        let mut s = sched();
        let seen: Vec<u64> = (0..7)
            .map(|_| {
                s.record(true);
                s.current_interval().as_secs()
            })
            .collect();
        assert_eq!(seen, vec![5, 10, 20, 40, 60, 60, 60]);
    }

    #[test]
    fn success_resets_backoff() {
        let mut s = sched();
        for _ in 0..5 {
            s.record(true);
        }
        s.record(false);
        assert_eq!(s.current_interval(), Duration::from_secs(5));
        assert_eq!(s.failures(), 0);
    }

    #[test]
    fn jitter_stays_within_bounds() {
        let s = sched();
        assert_eq!(s.next_delay(0.0), Duration::from_millis(4500));
        assert_eq!(s.next_delay(0.5), Duration::from_secs(5));
        assert!(s.next_delay(0.999) < Duration::from_millis(5500));
        assert!(s.first_delay(0.999) < Duration::from_secs(5));
    }
}
