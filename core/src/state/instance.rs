//! One instance as the board knows it: its recent checks, its scrape window, its confirmed level.

use super::{HealthOutcome, HealthSample, InstanceMetrics, Ring, Status, Verdict};
use crate::config::{CheckSpec, InstanceSpec};
use std::time::{Duration, SystemTime};

/// Health checks kept per instance, whatever the history: what the detail view's latency line
/// and the state's runs of results read. The longer history is the service's signal trend.
pub const HEALTH_SAMPLES_KEPT: usize = 120;

#[derive(Debug, Clone)]
pub struct InstanceState {
    pub spec: InstanceSpec,
    pub health: Ring<HealthSample>,
    /// The interval in force for this instance, backoff included.
    pub expected_every: Duration,
    pub metrics: InstanceMetrics,
    /// The confirmed level: changed only by `unhealthy_after` / `healthy_after` results in a row.
    pub level: Option<Status>,
    /// Starting, serving, draining or gone: whether it counts towards its service.
    pub life: super::life::Life,
    /// Its load balancer's view of it, when it is a target group's target.
    pub lb: Option<super::life::LbView>,
    /// Its host, when a node exporter tells of it.
    pub host: super::host::HostState,
    /// Checks recorded so far; the newest with a version and the newest that got an answer, by
    /// number: what [`Self::version`] and [`State::last_answer`] read without searching the ring.
    recorded: u64,
    newest_version: Option<(u64, std::sync::Arc<str>)>,
    newest_answer: Option<(u64, SystemTime)>,
}

impl InstanceState {
    pub fn new(spec: InstanceSpec, history: usize, check: &CheckSpec) -> Self {
        Self {
            spec,
            health: Ring::new(history.min(HEALTH_SAMPLES_KEPT)),
            expected_every: check.interval,
            metrics: InstanceMetrics::new(check.window),
            level: None,
            life: super::life::Life::Serving,
            lb: None,
            host: super::host::HostState::default(),
            recorded: 0,
            newest_version: None,
            newest_answer: None,
        }
    }

    /// Adds one check's result to the history; its version and certificate share the previous
    /// result's copies when they are the same.
    pub fn record(&mut self, mut sample: HealthSample) {
        sample.share_version(self.health.latest());
        self.recorded += 1;
        if let HealthOutcome::Response { version, .. } = &sample.outcome {
            if let Some(v) = version {
                self.newest_version = Some((self.recorded, v.clone()));
            }
            self.newest_answer = Some((self.recorded, sample.at));
        }
        self.health.push(sample);
    }

    /// Whether the check numbered `n` is still in the history.
    fn kept(&self, n: u64) -> bool {
        n + self.health.len() as u64 > self.recorded
    }

    /// When the instance last answered over HTTP (any status code), among the checks kept.
    pub fn last_answer(&self) -> Option<SystemTime> {
        self.newest_answer.filter(|(n, _)| self.kept(*n)).map(|(_, at)| at)
    }

    /// Unknown before the first check, stale when results stop, else the latest check's verdict;
    /// what its life says instead while it starts, drains or is gone.
    pub fn verdict(&self, check: &CheckSpec, stale_after_intervals: u32, now: SystemTime) -> Verdict {
        if !self.present() {
            return self.life_verdict(Verdict::new(Status::Unknown, ""), now);
        }
        let checked = self.checked_verdict(check, stale_after_intervals, now);
        // A host too full or too busy is the instance's problem while it still answers.
        let fresh_for = self.stale_after(check, stale_after_intervals);
        let host = match self.host.verdict(&check.hosts, now, fresh_for) {
            Some(h) if matches!(checked.status, Status::Ok | Status::Warn) && h.status > checked.status => h,
            _ => checked,
        };
        self.life_verdict(host, now)
    }

    /// What the checks alone say.
    fn checked_verdict(&self, check: &CheckSpec, stale_after_intervals: u32, now: SystemTime) -> Verdict {
        let Some(last) = self.health.latest() else {
            return Verdict::new(Status::Unknown, "not checked yet");
        };
        let age = now.duration_since(last.at).unwrap_or_default();
        if age > self.stale_after(check, stale_after_intervals) {
            return Verdict::new(Status::Stale, format!("no result for {}", crate::format::age(age)));
        }
        let latest = last.verdict(check.slow_after);
        let level = self.level.unwrap_or(Status::Unknown);
        if self.level == Some(latest.status) {
            return latest;
        }
        // A change not yet confirmed: the level stays, the reason shows the latest result at once.
        let slow = check.slow_after;
        let base = self.level.unwrap_or(Status::Ok);
        if self.level.is_none() || latest.status > base {
            let run = self.health.iter().rev().take_while(|h| h.status(slow) > base).count();
            let word = if latest.status == Status::Crit { "failing" } else { "warning" };
            return Verdict::new(level, format!("{word} {run}/{}: {}", check.unhealthy_after, latest.reason));
        }
        let run = self.health.iter().rev().take_while(|h| Some(h.status(slow)) < self.level).count();
        let was = self.health.iter().rev().find(|h| Some(h.status(slow)) >= self.level).map(|h| h.verdict(slow).reason);
        let was = was.filter(|r| !r.is_empty()).map(|r| format!(" after {r}")).unwrap_or_default();
        Verdict::new(level, format!("recovering {run}/{}{was}", check.healthy_after))
    }

    /// How long a result stays current: the intervals allowed to pass (backoff included), and the timeout.
    pub fn stale_after(&self, check: &CheckSpec, stale_after_intervals: u32) -> Duration {
        self.expected_every.max(check.interval) * stale_after_intervals + check.timeout
    }

    /// Checks failed in a row, newest back.
    pub fn consecutive_failures(&self) -> usize {
        self.health.iter().rev().take_while(|s| s.is_failure()).count()
    }

    /// The version the instance reported last, if any of the checks kept has one.
    pub fn version(&self) -> Option<&str> {
        self.newest_version.as_ref().filter(|(n, _)| self.kept(*n)).map(|(_, v)| v.as_ref())
    }

    pub fn age(&self, now: SystemTime) -> Option<Duration> {
        self.health.latest().map(|s| now.duration_since(s.at).unwrap_or_default())
    }
}
