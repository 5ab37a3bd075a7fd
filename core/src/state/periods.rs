//! Signals from a source with a period (CloudWatch): the level rises when M of the last N
//! complete periods are past a threshold, as a CloudWatch alarm's `DatapointsToAlarm` of
//! `EvaluationPeriods`, and falls when fewer than M are still past it by the clear margin.
//!
//! Time-based holds (`for`) suit scrapes, whose points are seconds apart. A period's point
//! stays the newest for a whole period, so a 30 s hold is met by one datapoint re-read twice:
//! one bad minute would page. Counting periods judges each minute once.

use super::signals::SignalPoint;
use super::status::Status;
use crate::config::schema::{MissingData, Thresholds};
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

/// Periods kept: enough to look back past missing ones for the longest evaluation.
const KEEP: usize = 2 * crate::config::MAX_EVALUATION_PERIODS as usize;

/// The recent complete periods of one service's signals, by the period's start.
#[derive(Debug, Clone, Default)]
pub struct Periods {
    pub period: Duration,
    points: BTreeMap<SystemTime, SignalPoint>,
}

/// One signal judged over its periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Judged {
    /// The highest level at least M of the judged periods reach.
    pub level: Status,
    /// The newest period's own level.
    pub newest: Status,
    /// How many judged periods are at or above the newest one's level.
    pub reaching_newest: usize,
    /// How many periods were judged (fewer than N when `missing` skips and history is short).
    pub judged: usize,
}

impl Periods {
    pub fn new(period: Duration) -> Self {
        Self { period, points: BTreeMap::new() }
    }

    /// Adds a period's point, replacing that period's earlier reading (CloudWatch revises a
    /// period as late data arrives). Returns whether it changed anything.
    pub fn insert(&mut self, p: SignalPoint) -> bool {
        let changed = self.points.insert(p.at, p) != Some(p);
        while self.points.len() > KEEP {
            self.points.pop_first();
        }
        changed
    }

    pub fn newest(&self) -> Option<&SignalPoint> {
        self.points.values().next_back()
    }

    /// One signal over the last `evaluation_periods` periods ending at the newest with a point.
    /// `value` gives a period's level, `None` when the period has no value for this signal
    /// (then `treat_missing_data` decides). `None` when no period can be judged.
    pub fn judge(&self, t: &Thresholds, value: impl Fn(&SignalPoint) -> Option<Status>) -> Option<Judged> {
        let (&newest_at, _) = self.points.iter().next_back()?;
        let n = t.evaluation_periods.max(1) as usize;
        let m = (t.datapoints_to_alarm.max(1) as usize).min(n);
        let step = self.period.max(Duration::from_secs(1));
        let oldest = *self.points.keys().next()?;
        let mut levels: Vec<Status> = Vec::with_capacity(n);
        let mut slot = Some(newest_at);
        let mut looked = 0;
        while let Some(at) = slot.filter(|at| *at >= oldest)
            && levels.len() < n
            && looked < KEEP
        {
            let level = self.points.get(&at).and_then(&value);
            let level = match (level, t.treat_missing_data) {
                (Some(l), _) => Some(l),
                (None, MissingData::Missing) => None,
                (None, MissingData::NotBreaching) => Some(Status::Ok),
                (None, MissingData::Breaching) => Some(Status::Crit),
            };
            // Without a missing treatment, the evaluation range is the last N periods, read or not.
            if level.is_some() || t.treat_missing_data != MissingData::Missing {
                levels.push(level.unwrap_or(Status::Ok));
            }
            looked += 1;
            slot = at.checked_sub(step);
        }
        let newest = *levels.first()?;
        let reaching = |s: Status| levels.iter().filter(|l| **l >= s).count();
        let level = [Status::Crit, Status::Warn].into_iter().find(|s| reaching(*s) >= m).unwrap_or(Status::Ok);
        Some(Judged { level, newest, reaching_newest: reaching(newest), judged: levels.len() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(min: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(60 * min)
    }

    fn point(min: u64, errors: Option<f64>) -> SignalPoint {
        SignalPoint {
            requests: Some(1000.0),
            rate: Some(1000.0 / 60.0),
            error_ratio: errors,
            ..SignalPoint::empty(at(min), Duration::from_secs(60))
        }
    }

    fn judge(points: &[SignalPoint], t: &Thresholds) -> Judged {
        let mut p = Periods::new(Duration::from_secs(60));
        points.iter().for_each(|x| _ = p.insert(*x));
        p.judge(t, |x| x.error_ratio.map(|_| x.error_level(t, 1.0).unwrap_or(Status::Ok))).unwrap()
    }

    #[test]
    fn two_of_three_periods_raise_one_does_not() {
        let t = Thresholds::default();
        let one = judge(&[point(1, Some(0.0)), point(2, Some(0.0)), point(3, Some(0.2))], &t);
        assert_eq!((one.level, one.newest, one.reaching_newest, one.judged), (Status::Ok, Status::Crit, 1, 3));
        let two = judge(&[point(1, Some(0.2)), point(2, Some(0.0)), point(3, Some(0.2))], &t);
        assert_eq!(two.level, Status::Crit);
        // One CRIT and one WARN period: two are at WARN or worse.
        let mixed = judge(&[point(1, Some(0.0)), point(2, Some(0.02)), point(3, Some(0.2))], &t);
        assert_eq!(mixed.level, Status::Warn);
        // A bad period three periods back has left the range.
        let old = judge(&[point(1, Some(0.2)), point(2, Some(0.0)), point(3, Some(0.0)), point(4, Some(0.2))], &t);
        assert_eq!(old.level, Status::Ok);
    }

    #[test]
    fn missing_periods_as_cloudwatch_treats_them() {
        // Periods 1 and 3 were bad; period 2 has no datapoint.
        let points = [point(1, Some(0.2)), point(3, Some(0.2))];
        let t = |treat| Thresholds { treat_missing_data: treat, ..Thresholds::default() };
        let missing = judge(&points, &t(MissingData::Missing));
        assert_eq!((missing.level, missing.judged), (Status::Crit, 2));
        let good = judge(&[point(2, Some(0.2)), point(4, Some(0.2))], &t(MissingData::NotBreaching));
        // Periods 4 and 2 are bad, 3 counts as good: still 2 of 3.
        assert_eq!((good.level, good.judged), (Status::Crit, 3));
        let good = judge(&[point(1, Some(0.2)), point(4, Some(0.2))], &t(MissingData::NotBreaching));
        assert_eq!(good.level, Status::Ok);
        let bad = judge(&[point(1, Some(0.0)), point(2, None), point(3, Some(0.2))], &t(MissingData::Breaching));
        assert_eq!(bad.level, Status::Crit);
    }

    #[test]
    fn a_revised_period_replaces_its_first_reading() {
        let t = Thresholds { datapoints_to_alarm: 1, evaluation_periods: 1, ..Thresholds::default() };
        let j = judge(&[point(1, Some(0.2)), point(1, Some(0.0))], &t);
        assert_eq!((j.level, j.judged), (Status::Ok, 1));
    }
}
