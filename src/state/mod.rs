//! Everything the board knows, as plain data. It changes only in [`State::apply`].

mod action_run;
pub mod aws;
pub mod backups;
pub mod deploys;
mod health;
mod series;
mod signals;
mod status;
mod verdicts;

pub use action_run::{ActionEvent, ActionRun};
pub use health::{BodyVerdict, HealthOutcome, HealthSample, ProbeError};
pub use series::Ring;
pub use signals::{InstanceMetrics, ScrapeResult, SignalPoint, percent};
pub use status::{Status, Tally, Verdict};
pub use verdicts::{ServiceVerdicts, Verdicts};

use crate::config::{CheckSpec, EnvSpec, Fleet, InstanceSpec};
use crate::metrics::Window;
use std::time::{Duration, SystemTime};

/// Names one instance: indices into the fleet, stable for the life of a config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InstanceId {
    pub service: usize,
    pub instance: usize,
}

/// Everything a source can tell the board.
#[derive(Debug, Clone)]
pub enum Event {
    /// A health check finished; the next one is due in `next_in`.
    Health { id: InstanceId, sample: HealthSample, next_in: Duration },
    /// A metrics scrape finished.
    Scrape { id: InstanceId, result: ScrapeResult },
    /// Service-level signal points from PromQL, oldest first, or why the queries failed.
    Signals { service: usize, result: Result<Vec<SignalPoint>, String> },
    /// Something from one AWS account (by index).
    Aws { account: usize, event: aws::AwsEvent },
    /// Something from an action running against a service.
    Action { service: usize, event: ActionEvent },
    /// New lines of the deploy log.
    DeployLog { entries: Vec<deploys::LogEntry> },
    /// A backup job was checked.
    Backup { job: usize, sample: backups::BackupSample },
}

#[derive(Debug, Clone)]
pub struct InstanceState {
    pub spec: InstanceSpec,
    pub health: Ring<HealthSample>,
    /// The interval in force for this instance, backoff included.
    pub expected_every: Duration,
    pub metrics: InstanceMetrics,
}

#[derive(Debug, Clone)]
pub struct ServiceState {
    pub name: String,
    pub env: EnvSpec,
    pub check: CheckSpec,
    pub instances: Vec<InstanceState>,
    /// The service's signals: its instances' windows merged, one point per scrape round,
    /// or the points of its PromQL queries.
    pub signals: Ring<SignalPoint>,
    /// Why the service's PromQL queries failed last, cleared by a success.
    pub promql_error: Option<(SystemTime, String)>,
    /// Signals come from PromQL or CloudWatch rather than scrapes.
    pub external_signals: bool,
    /// The latest action run against this service.
    pub action: Option<ActionRun>,
}

impl ServiceState {
    /// Whether anything feeds this service's error-rate and latency signals.
    pub fn has_signal_source(&self) -> bool {
        self.check.scrape || self.external_signals
    }
}

#[derive(Debug, Clone)]
pub struct State {
    pub services: Vec<ServiceState>,
    pub backups: Vec<backups::BackupState>,
    pub deploys: deploys::Deploys,
    pub aws: Vec<aws::AwsAccountState>,
    /// Missed intervals after which a result is stale.
    pub stale_after_intervals: u32,
}

impl State {
    pub fn new(fleet: &Fleet, history: usize, stale_after_intervals: u32) -> Self {
        Self::with_backups(fleet, &[], history, stale_after_intervals)
    }

    /// A state that also follows backup jobs.
    pub fn with_backups(
        fleet: &Fleet,
        jobs: &[crate::config::schema::BackupJob],
        history: usize,
        stale_after_intervals: u32,
    ) -> Self {
        let services: Vec<ServiceState> = fleet
            .services
            .iter()
            .map(|s| ServiceState {
                name: s.name.clone(),
                env: s.env.clone(),
                check: s.check.clone(),
                instances: s
                    .instances
                    .iter()
                    .map(|i| InstanceState {
                        spec: i.clone(),
                        health: Ring::new(history),
                        expected_every: s.check.interval,
                        metrics: InstanceMetrics::new(history),
                    })
                    .collect(),
                signals: Ring::new(history),
                promql_error: None,
                external_signals: s.external_signals,
                action: None,
            })
            .collect();
        Self {
            deploys: deploys::Deploys::new(services.len(), Vec::new()),
            backups: jobs.iter().map(backups::BackupState::new).collect(),
            services,
            stale_after_intervals,
            aws: fleet.aws.iter().map(aws::AwsAccountState::new).collect(),
        }
    }

    /// Folds one event into the state. Events for unknown instances are ignored.
    pub fn apply(&mut self, event: Event) {
        match event {
            Event::Health { id, sample, next_in } => {
                let at = sample.at;
                if let Some(inst) = self.instance_mut(id) {
                    let mut sample = sample;
                    sample.share_version(inst.health.latest());
                    inst.health.push(sample);
                    inst.expected_every = next_in;
                    self.observe_rollout(id.service, at);
                }
            }
            Event::Backup { job, sample } => {
                if let Some(b) = self.backups.get_mut(job) {
                    b.samples.push(sample);
                }
            }
            Event::DeployLog { entries } => {
                for e in entries {
                    self.deploys.log(e);
                }
            }
            Event::Action { service, event } => {
                if let Some(svc) = self.services.get_mut(service) {
                    ActionRun::apply(&mut svc.action, event);
                }
            }
            Event::Aws { account, event } => {
                if let Some(a) = self.aws.get_mut(account) {
                    a.apply(event);
                }
            }
            Event::Signals { service, result } => {
                let Some(svc) = self.services.get_mut(service) else { return };
                match result {
                    Ok(points) => {
                        svc.promql_error = None;
                        for p in points {
                            if svc.signals.latest().is_none_or(|last| p.at > last.at) {
                                svc.signals.push(p);
                            }
                        }
                    }
                    Err(e) => svc.promql_error = Some((SystemTime::now(), e)),
                }
            }
            Event::Scrape { id, result } => {
                let at = result.at;
                let formed = self.instance_mut(id).is_some_and(|inst| inst.metrics.apply(result));
                if formed {
                    self.merge_service_signals(id.service, at);
                }
            }
        }
    }

    fn observe_rollout(&mut self, service: usize, at: SystemTime) {
        let rollout = self.rollout(service);
        let name = self.services[service].name.clone();
        self.deploys.observe(service, &name, &rollout, at);
    }

    /// How long a window counts as current: the same grace as health results.
    pub fn signal_fresh_for(&self, check: &CheckSpec) -> Duration {
        check.interval * self.stale_after_intervals + check.timeout
    }

    /// Merges the fresh windows of a service's instances into one service point at `at`.
    /// Points closer together than half an interval replace each other, so a round of
    /// jittered scrapes makes one point.
    fn merge_service_signals(&mut self, service: usize, at: SystemTime) {
        let Some(svc) = self.services.get(service) else { return };
        let fresh_for = self.signal_fresh_for(&svc.check);
        let merged = Window::merge(svc.instances.iter().filter_map(|i| i.metrics.fresh_window(at, fresh_for)));
        let Some(merged) = merged else { return };
        let point = SignalPoint::of(at, &merged);
        let half = svc.check.interval / 2;
        let svc = &mut self.services[service];
        match svc.signals.latest() {
            Some(last) if at.duration_since(last.at).unwrap_or_default() < half => svc.signals.replace_latest(point),
            _ => svc.signals.push(point),
        }
    }

    /// The service's latest signal point if it is current at `now`.
    pub fn current_signals(&self, service: usize, now: SystemTime) -> Option<&SignalPoint> {
        let svc = self.services.get(service)?;
        let p = svc.signals.latest()?;
        (now.duration_since(p.at).unwrap_or_default() <= self.signal_fresh_for(&svc.check)).then_some(p)
    }

    pub fn instance(&self, id: InstanceId) -> Option<&InstanceState> {
        self.services.get(id.service)?.instances.get(id.instance)
    }

    fn instance_mut(&mut self, id: InstanceId) -> Option<&mut InstanceState> {
        self.services.get_mut(id.service)?.instances.get_mut(id.instance)
    }

    /// The verdict for one instance at `now`.
    pub fn instance_verdict(&self, id: InstanceId, now: SystemTime) -> Verdict {
        let Some(svc) = self.services.get(id.service) else {
            return Verdict::new(Status::Unknown, "no such instance");
        };
        match svc.instances.get(id.instance) {
            Some(inst) => inst.verdict(&svc.check, self.stale_after_intervals, now),
            None => Verdict::new(Status::Unknown, "no such instance"),
        }
    }

    /// A service is as bad as its worst instance; the reason names that instance.
    pub fn service_verdict(&self, service: usize, now: SystemTime) -> Verdict {
        let Some(svc) = self.services.get(service) else {
            return Verdict::new(Status::Unknown, "no such service");
        };
        named_worst(svc, &self.verdicts(now).services[service])
    }

    /// Every verdict at `now`, computed once.
    pub fn verdicts(&self, now: SystemTime) -> Verdicts {
        Verdicts::of(self, now)
    }

    /// Services by status at `now`.
    pub fn service_tally(&self, now: SystemTime) -> Tally {
        self.verdicts(now).service_tally
    }

    /// Instances by status at `now`.
    pub fn instance_tally(&self, now: SystemTime) -> Tally {
        self.verdicts(now).instance_tally
    }

    /// Service indices, worst first; ties keep config order.
    pub fn services_worst_first(&self, now: SystemTime) -> Vec<usize> {
        self.verdicts(now).worst_first()
    }

    /// When any instance last answered over HTTP (any status code). A fleet that stops
    /// answering, a lost network and a sleeping laptop all leave this behind.
    pub fn last_answer(&self) -> Option<SystemTime> {
        self.services
            .iter()
            .flat_map(|s| &s.instances)
            .filter_map(|i| i.health.iter().rev().find(|h| h.code().is_some()).map(|h| h.at))
            .max()
    }

    /// How long without any answer before the board calls its own view stale.
    pub fn board_stale_after(&self) -> Duration {
        self.services
            .iter()
            .map(|s| s.check.interval * self.stale_after_intervals + s.check.timeout)
            .min()
            .unwrap_or(Duration::from_secs(30))
    }

    /// `Some(age)` when nothing has answered for longer than [`Self::board_stale_after`].
    pub fn board_staleness(&self, now: SystemTime, started: SystemTime) -> Option<Duration> {
        let since = self.last_answer().unwrap_or(started);
        let age = now.duration_since(since).unwrap_or_default();
        (age > self.board_stale_after()).then_some(age)
    }

    /// The version most instances report now, and how many of them.
    pub fn current_version(&self, service: usize) -> Option<(String, usize)> {
        self.rollout(service).into_iter().next()
    }

    /// Instances per version right now, most first: a rolling deploy shows as two entries.
    pub fn rollout(&self, service: usize) -> Vec<(String, usize)> {
        let Some(svc) = self.services.get(service) else { return Vec::new() };
        let mut counts: Vec<(String, usize)> = Vec::new();
        for inst in &svc.instances {
            let Some(v) = inst.version().or(inst.metrics.version.as_deref()) else { continue };
            match counts.iter_mut().find(|(name, _)| name == v) {
                Some((_, n)) => *n += 1,
                None => counts.push((v.to_string(), 1)),
            }
        }
        counts.sort_by_key(|c| std::cmp::Reverse(c.1));
        counts
    }

    /// Versions seen on the service's instances, newest sighting first.
    pub fn versions_seen(&self, service: usize) -> Vec<String> {
        let Some(svc) = self.services.get(service) else { return Vec::new() };
        let mut seen: Vec<(SystemTime, String)> = Vec::new();
        for inst in &svc.instances {
            for s in inst.health.iter() {
                if let Some(v) = s.version() {
                    match seen.iter_mut().find(|(_, name)| name == v) {
                        Some((t, _)) => *t = (*t).max(s.at),
                        None => seen.push((s.at, v.to_string())),
                    }
                }
            }
        }
        seen.sort_by_key(|s| std::cmp::Reverse(s.0));
        seen.into_iter().map(|(_, v)| v).collect()
    }

    /// When the newest result of any kind arrived.
    pub fn last_update(&self) -> Option<SystemTime> {
        self.services.iter().flat_map(|s| &s.instances).filter_map(|i| i.health.latest().map(|h| h.at)).max()
    }
}

impl InstanceState {
    /// Unknown before the first check, stale when results stop, else the latest check's verdict.
    pub fn verdict(&self, check: &CheckSpec, stale_after_intervals: u32, now: SystemTime) -> Verdict {
        let Some(last) = self.health.latest() else {
            return Verdict::new(Status::Unknown, "not checked yet");
        };
        let age = now.duration_since(last.at).unwrap_or_default();
        let allowed = self.expected_every.max(check.interval) * stale_after_intervals + check.timeout;
        if age > allowed {
            return Verdict::new(Status::Stale, format!("no result for {}", crate::format::age(age)));
        }
        last.verdict(check.slow_after)
    }

    /// Checks failed in a row, newest back.
    pub fn consecutive_failures(&self) -> usize {
        self.health.iter().rev().take_while(|s| s.is_failure()).count()
    }

    /// The version the instance reported last, if any.
    pub fn version(&self) -> Option<&str> {
        self.health.iter().rev().find_map(|s| s.version())
    }

    pub fn age(&self, now: SystemTime) -> Option<Duration> {
        self.health.latest().map(|s| now.duration_since(s.at).unwrap_or_default())
    }
}

fn worst_index(verdicts: &[Verdict]) -> Option<usize> {
    verdicts.iter().enumerate().rev().max_by_key(|(_, v)| v.status).map(|(i, _)| i)
}

/// The service's verdict: its worst instance's (named unless all is well), or its signals'
/// when those are worse.
pub fn named_worst(svc: &ServiceState, v: &ServiceVerdicts) -> Verdict {
    let health = match (v.worst, v.worst_verdict()) {
        (Some(_), Some(w)) if w.status == Status::Ok => w.clone(),
        (Some(i), Some(w)) => Verdict::new(w.status, format!("{}: {}", svc.instances[i].spec.label, w.reason)),
        _ => Verdict::new(Status::Unknown, "no instances"),
    };
    match &v.signals {
        Some(s) if s.status > health.status => s.clone(),
        _ => health,
    }
}
