//! Backup freshness: per job the newest artefact's age against its allowed age, and its size
//! against the one before (a backup much smaller than the last is suspicious).

use super::series::Ring;
use super::status::{Status, Verdict};
use crate::config::schema::BackupJob;
use crate::format;
use std::time::{Duration, SystemTime};

/// One look at a job's newest backup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSample {
    pub at: SystemTime,
    /// Why the check itself failed (unreadable dir, command error, metric missing).
    pub error: Option<String>,
    /// When the newest backup was made; `None` when there is none.
    pub newest: Option<SystemTime>,
    pub size: Option<u64>,
    /// The size of the artefact before the newest in the same listing, when the source lists.
    pub previous_size: Option<u64>,
    /// What was found: a file name, a metric, a command's output.
    pub what: String,
}

#[derive(Debug, Clone)]
pub struct BackupState {
    pub job: BackupJob,
    pub samples: Ring<BackupSample>,
}

/// A backup smaller than this share of the previous one is a warning.
const SHRINK_WARN: f64 = 0.5;
/// Results older than this many intervals are stale.
const STALE_INTERVALS: u32 = 3;

impl BackupState {
    pub fn new(job: &BackupJob) -> Self {
        Self { job: job.clone(), samples: Ring::new(60) }
    }

    /// The newest backup's age at `now`.
    pub fn age(&self, now: SystemTime) -> Option<Duration> {
        self.samples.latest()?.newest.map(|t| now.duration_since(t).unwrap_or_default())
    }

    /// Sizes of distinct backups seen, oldest first (a new backup shows as a new newest time).
    pub fn sizes(&self) -> Vec<u64> {
        let mut out: Vec<(SystemTime, u64)> = Vec::new();
        for s in self.samples.iter() {
            if let (Some(t), Some(size)) = (s.newest, s.size)
                && out.last().is_none_or(|(last, _)| *last != t)
            {
                out.push((t, size));
            }
        }
        out.into_iter().map(|(_, s)| s).collect()
    }

    pub fn verdict(&self, now: SystemTime) -> Verdict {
        let Some(last) = self.samples.latest() else { return Verdict::new(Status::Unknown, "not checked yet") };
        if now.duration_since(last.at).unwrap_or_default() > self.job.interval * STALE_INTERVALS {
            return Verdict::new(Status::Stale, "no recent check");
        }
        if let Some(e) = &last.error {
            return Verdict::new(Status::Unknown, format!("can't check: {e}"));
        }
        let Some(age) = self.age(now) else { return Verdict::new(Status::Crit, "no backup found") };
        if age > self.job.max_age {
            return Verdict::new(
                Status::Crit,
                format!("{} old > {} allowed", format::age(age), format::duration(self.job.max_age)),
            );
        }
        // The listing's own previous artefact first; else the backups this board has watched.
        let listed = last.size.zip(last.previous_size);
        let watched = match self.sizes().as_slice() {
            [.., before, latest] => Some((*latest, *before)),
            _ => None,
        };
        if let Some((latest, before)) = listed.or(watched)
            && (latest as f64) < before as f64 * SHRINK_WARN
        {
            return Verdict::new(
                Status::Warn,
                format!("{}, the one before was {}", format::bytes(latest), format::bytes(before)),
            );
        }
        Verdict::ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> BackupJob {
        BackupJob {
            name: "db".into(),
            max_age: Duration::from_secs(24 * 3600),
            interval: Duration::from_secs(60),
            glob: Some("/x/*".into()),
            metric: None,
            command: None,
            s3: None,
            rds: None,
        }
    }

    fn at(s: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + s)
    }

    fn sample(now: u64, newest: Option<u64>, size: Option<u64>) -> BackupSample {
        BackupSample { at: at(now), error: None, newest: newest.map(at), size, previous_size: None, what: "f".into() }
    }

    #[test]
    fn verdict_table() {
        let mut b = BackupState::new(&job());
        assert_eq!(b.verdict(at(0)).status, Status::Unknown);
        b.samples.push(sample(100_000, Some(100_000 - 3600), Some(50 << 20)));
        assert_eq!(b.verdict(at(100_000)), Verdict::ok());
        b.samples.push(sample(100_060, Some(100_050), Some(10 << 20)));
        assert_eq!(b.verdict(at(100_060)).reason, "10M, the one before was 50M");
        b.samples.push(sample(200_000, Some(100_050), Some(10 << 20)));
        let v = b.verdict(at(200_000));
        assert_eq!((v.status, v.reason.as_str()), (Status::Crit, "27h old > 24h allowed"));
        b.samples.push(sample(200_060, None, None));
        assert_eq!(b.verdict(at(200_060)).reason, "no backup found");
        assert_eq!(b.verdict(at(300_000)).status, Status::Stale);
    }
}
