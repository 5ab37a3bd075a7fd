//! States with memory: an instance is down after N failed checks in a row (as a load balancer
//! counts), a signal threshold must hold for a while before the state rises and clear by a
//! margin before it falls, and a service whose state keeps changing is flapping (as Nagios says).

use super::status::Status;
use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

/// A level that rises only after its condition held for `hold`, and falls only after the value
/// stayed clear of the threshold (by the margin) for `hold`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Debounced {
    pub level: Status,
    /// Since when, and towards which level, the value has been above the current level.
    rising: Option<(SystemTime, Status)>,
    /// Since when, and towards which level, the value has been clear below the current level.
    falling: Option<(SystemTime, Status)>,
    last: Option<SystemTime>,
}

/// Where a debounced level is heading, and for how long it has been.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pending {
    pub towards: Status,
    pub since: SystemTime,
}

impl Debounced {
    /// One evaluation at `at`: `up` is the level the value reaches against the thresholds, `down`
    /// the level against the thresholds lowered by the margin (never below `up`); rising takes
    /// `hold`, falling `clear_for`. After a silence longer than `gap` the old level is forgotten.
    pub fn update(&mut self, at: SystemTime, up: Status, down: Status, hold: (Duration, Duration), gap: Duration) {
        let (hold, clear_for) = hold;
        if self.last.is_some_and(|l| at.duration_since(l).unwrap_or_default() > gap) {
            *self = Self::default();
        }
        self.last = Some(at);
        let held = |since: SystemTime| at.duration_since(since).unwrap_or_default() >= hold;
        if up > self.level {
            self.falling = None;
            let since = self.rising.map_or(at, |(t, _)| t);
            self.rising = Some((since, up));
            if held(since) {
                self.level = up;
                self.rising = None;
            }
        } else if down < self.level {
            self.rising = None;
            let since = self.falling.map_or(at, |(t, _)| t);
            self.falling = Some((since, down));
            if at.duration_since(since).unwrap_or_default() >= clear_for {
                self.level = down;
                self.falling = None;
            }
        } else {
            self.rising = None;
            self.falling = None;
        }
    }

    /// The change under way, if any.
    pub fn pending(&self) -> Option<Pending> {
        self.rising.or(self.falling).map(|(since, towards)| Pending { towards, since })
    }
}

/// The confirmed level of an instance from its newest raw check results (newest first):
/// worse only after `unhealthy_after` worse results in a row, better only after `healthy_after`
/// better ones. An instance never confirmed takes its first passing result at once.
pub fn settle(
    level: Option<Status>,
    newest_first: &[Status],
    unhealthy_after: u32,
    healthy_after: u32,
) -> Option<Status> {
    let (up_n, down_n) = (unhealthy_after.max(1) as usize, healthy_after.max(1) as usize);
    let latest = *newest_first.first()?;
    let Some(level) = level else {
        if latest == Status::Ok {
            return Some(Status::Ok);
        }
        let run = newest_first.iter().take(up_n);
        return (newest_first.len() >= up_n && newest_first[..up_n].iter().all(|s| *s > Status::Ok))
            .then(|| run.min().copied())
            .flatten();
    };
    if newest_first.len() >= up_n && newest_first[..up_n].iter().all(|s| *s > level) {
        return newest_first[..up_n].iter().min().copied();
    }
    if newest_first.len() >= down_n && newest_first[..down_n].iter().all(|s| *s < level) {
        return newest_first[..down_n].iter().max().copied();
    }
    Some(level)
}

/// Evaluations remembered for flapping, as Nagios does.
pub const FLAP_HISTORY: usize = 21;
/// Weighted share of changes at which a service starts flapping, and below which it stops
/// (Nagios' defaults for services).
const FLAP_START: f64 = 0.20;
const FLAP_STOP: f64 = 0.05;

/// A service's recent states and whether they change too often to be read one by one.
#[derive(Debug, Clone, Default)]
pub struct Flapping {
    states: VecDeque<Status>,
    last: Option<SystemTime>,
    pub flapping: bool,
}

impl Flapping {
    /// Records the state evaluated at `at`; evaluations closer than `min_gap` replace each other.
    pub fn record(&mut self, at: SystemTime, status: Status, min_gap: Duration) {
        let close = self.last.is_some_and(|l| at.duration_since(l).unwrap_or_default() < min_gap);
        if close && let Some(last) = self.states.back_mut() {
            *last = status;
        } else {
            self.states.push_back(status);
            self.last = Some(at);
            while self.states.len() > FLAP_HISTORY {
                self.states.pop_front();
            }
        }
        let share = self.change_share();
        if share >= FLAP_START {
            self.flapping = true;
        } else if share < FLAP_STOP {
            self.flapping = false;
        }
    }

    /// Changes over the remembered evaluations, the newest weighing 1.2 and the oldest 0.8, as a
    /// share of the 20 possible.
    pub fn change_share(&self) -> f64 {
        let n = FLAP_HISTORY - 1;
        let offset = n + 1 - self.states.len();
        let weighted: f64 = self
            .states
            .iter()
            .zip(self.states.iter().skip(1))
            .enumerate()
            .filter(|(_, (a, b))| a != b)
            .map(|(i, _)| 0.8 + 0.4 * (i + offset) as f64 / (n - 1) as f64)
            .sum();
        weighted / n as f64
    }

    /// Changes among the remembered evaluations.
    pub fn changes(&self) -> usize {
        self.states.iter().zip(self.states.iter().skip(1)).filter(|(a, b)| a != b).count()
    }

    /// The states it moves between, best first.
    pub fn between(&self) -> Vec<Status> {
        let mut seen: Vec<Status> = self.states.iter().copied().collect();
        seen.sort();
        seen.dedup();
        seen
    }

    /// "flapping between OK and CRIT (6 changes in 21 checks)".
    pub fn reason(&self) -> String {
        let words: Vec<&str> = self.between().into_iter().map(Status::word).collect();
        let between = match words.as_slice() {
            [] => String::new(),
            [one] => (*one).to_string(),
            [init @ .., last] => format!("{} and {last}", init.join(", ")),
        };
        format!("flapping between {between} ({} changes in {} checks)", self.changes(), self.states.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::{Crit, Ok, Warn};

    fn at(s: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(s)
    }

    const HOLD: (Duration, Duration) = (Duration::from_secs(30), Duration::from_secs(30));
    const GAP: Duration = Duration::from_secs(60);

    #[test]
    fn a_level_rises_only_after_holding_and_falls_only_after_clearing() {
        let mut d = Debounced::default();
        d.update(at(0), Crit, Crit, HOLD, GAP);
        assert_eq!(d.level, Ok);
        assert_eq!(d.pending(), Some(Pending { towards: Crit, since: at(0) }));
        d.update(at(10), Ok, Ok, HOLD, GAP);
        assert_eq!((d.level, d.pending()), (Ok, None), "a blip resets the wait");
        for s in [20, 30, 40] {
            d.update(at(s), Crit, Crit, HOLD, GAP);
        }
        assert_eq!(d.level, Ok);
        d.update(at(50), Crit, Crit, HOLD, GAP);
        assert_eq!(d.level, Crit, "held for 30s");
        // Just under the threshold is not clear of it: the level stays.
        for s in [60, 70, 80, 90, 100] {
            d.update(at(s), Warn, Crit, HOLD, GAP);
        }
        assert_eq!(d.level, Crit);
        for s in [110, 120, 130, 140] {
            d.update(at(s), Ok, Ok, HOLD, GAP);
        }
        assert_eq!(d.level, Ok);
    }

    #[test]
    fn a_long_silence_forgets_the_level() {
        let mut d = Debounced::default();
        d.update(at(0), Crit, Crit, (Duration::ZERO, Duration::ZERO), GAP);
        assert_eq!(d.level, Crit);
        d.update(at(600), Ok, Ok, HOLD, GAP);
        assert_eq!(d.level, Ok);
    }

    #[test]
    fn settle_counts_results_in_a_row() {
        assert_eq!(settle(None, &[Ok], 2, 2), Some(Ok));
        assert_eq!(settle(None, &[Crit], 2, 2), None);
        assert_eq!(settle(None, &[Crit, Crit], 2, 2), Some(Crit));
        assert_eq!(settle(Some(Ok), &[Crit, Ok, Ok], 2, 2), Some(Ok));
        assert_eq!(settle(Some(Ok), &[Crit, Warn, Ok], 2, 2), Some(Warn));
        assert_eq!(settle(Some(Crit), &[Ok, Crit], 2, 2), Some(Crit));
        assert_eq!(settle(Some(Crit), &[Ok, Ok, Crit], 2, 2), Some(Ok));
        assert_eq!(settle(Some(Ok), &[Crit], 1, 1), Some(Crit));
    }

    #[test]
    fn flapping_from_a_recorded_sequence() {
        let mut f = Flapping::default();
        let gap = Duration::from_secs(5);
        // Steady, then one real incident: not flapping.
        let steady = [Ok, Ok, Ok, Ok, Crit, Crit, Crit, Ok, Ok, Ok];
        for (i, s) in steady.iter().enumerate() {
            f.record(at(i as u64 * 10), *s, gap);
            assert!(!f.flapping, "at {i}");
        }
        // Then it starts changing every other check.
        let mut started = None;
        for i in 10..30u64 {
            let s = if i % 2 == 0 { Crit } else { Ok };
            f.record(at(i * 10), s, gap);
            if f.flapping && started.is_none() {
                started = Some(i);
            }
        }
        assert!(started.is_some_and(|i| i <= 13), "started at {started:?}");
        assert!(f.reason().starts_with("flapping between OK and CRIT ("), "{}", f.reason());
        // It settles: after enough quiet checks it is no longer flapping.
        for i in 30..60u64 {
            f.record(at(i * 10), Ok, gap);
        }
        assert!(!f.flapping);
    }
}
