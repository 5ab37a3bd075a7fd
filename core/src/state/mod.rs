//! Everything the board knows, as plain data. It changes only in [`State::apply`]
//! (`apply.rs`; a change of shape in `shape.rs`); everything else here reads it.

mod action_run;
mod apply;
pub mod aws;
pub mod backups;
pub mod blocked;
pub mod budget;
pub mod days;
pub mod deploys;
mod event;
mod health;
pub mod host;
mod instance;
pub mod life;
pub mod maintenance;
pub mod marks;
pub mod memory;
mod notes;
mod periods;
pub mod rollback;
pub mod rollouts;
mod series;
mod service;
mod shape;
mod signals;
pub mod silences;
mod status;
pub mod status_notes;
pub mod taken;
mod trend;
mod verdicts;
mod versions;

pub use action_run::{ActionEvent, ActionRun};
pub use event::{Event, InstanceKey, ServiceKey, UpSeries};
pub use health::{BodyVerdict, CertSeen, HealthOutcome, HealthSample, ProbeError};
pub use instance::{HEALTH_SAMPLES_KEPT, InstanceState};
pub use life::{Discovery, Found, FoundInstance, LbView, Life, SourceView, ViewBy};
pub use periods::{Judged, Periods};
pub use series::Ring;
pub use service::{CLOUDWATCH_DELAY, External, Feeds, ServiceState, named_worst};
pub use signals::{InstanceMetrics, ScrapeResult, SignalPoint, percent};
pub use status::{Status, Tally, Verdict};
pub use trend::Trend;
pub use verdicts::{Item, Kind, ServiceVerdicts, Verdicts};

use crate::config::{CheckSpec, Fleet};
use service::external_of;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Where one instance is in this state right now: what a screen selects and draws. Positions
/// move when the fleet changes shape; events name instances by [`InstanceKey`] instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InstanceId {
    pub service: usize,
    pub instance: usize,
}

#[derive(Debug, Clone)]
pub struct State {
    pub services: Vec<ServiceState>,
    pub backups: Vec<backups::BackupState>,
    pub deploys: deploys::Deploys,
    pub aws: Vec<aws::AwsAccountState>,
    /// Missed intervals after which a result is stale.
    pub stale_after_intervals: u32,
    /// Judge every result as it comes, without memory: for one-shot looks (`check`, `snapshot`)
    /// that see each instance once and have no time to wait for a threshold to hold.
    pub at_once: bool,
    /// Notifications muted, by item.
    pub silences: silences::Silences,
    /// Maintenance windows set from the board, by item.
    pub maintenance: maintenance::AdHoc,
    /// Incidents taken, by item.
    pub taken: taken::Taken,
    /// The public status page's components (`[status]`), its notes, and its services' days.
    pub components: Vec<crate::config::schema::StatusComponent>,
    pub status_notes: status_notes::StatusNotes,
    pub days: days::Days,
    /// The last notification that could not be delivered: the webhook's label and why.
    pub undelivered: Option<(String, String)>,
    /// Why the counts of requests and checks are not written to disk, while they are not.
    pub counts_trouble: Option<String>,
    /// What became of the last reload of the config, if there was one.
    pub config_note: Option<crate::config::review::ConfigNote>,
    /// Events applied so far: kept verdicts brought to the same moment again have nothing to do
    /// while this has not moved.
    events: u64,
    /// Changes of shape so far: kept verdicts are all made again after one.
    shape: u64,
    /// Where each service and instance is, by key.
    positions: Positions,
}

/// Services and instances by key, rebuilt whenever the shape changes.
#[derive(Debug, Clone, Default)]
struct Positions {
    services: HashMap<ServiceKey, usize>,
    instances: HashMap<InstanceKey, InstanceId>,
}

impl Positions {
    fn of(services: &[ServiceState]) -> Self {
        let mut p = Self::default();
        for (si, svc) in services.iter().enumerate() {
            p.services.insert(svc.name.clone(), si);
            for (ii, inst) in svc.instances.iter().enumerate() {
                let key = InstanceKey { service: svc.name.clone(), instance: inst.spec.key().into() };
                p.instances.insert(key, InstanceId { service: si, instance: ii });
            }
        }
        p
    }
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
        let services: Vec<ServiceState> =
            fleet.services.iter().map(|s| ServiceState::new(fleet, s, history, stale_after_intervals)).collect();
        Self {
            deploys: deploys::Deploys::new(Vec::new()),
            backups: jobs.iter().map(backups::BackupState::new).collect(),
            positions: Positions::of(&services),
            services,
            stale_after_intervals,
            at_once: false,
            silences: Default::default(),
            maintenance: Default::default(),
            taken: Default::default(),
            components: Vec::new(),
            status_notes: Default::default(),
            days: Default::default(),
            undelivered: None,
            counts_trouble: None,
            config_note: None,
            events: 0,
            shape: 0,
            aws: fleet.aws.iter().map(aws::AwsAccountState::new).collect(),
        }
    }

    /// Where the instance named `key` is now.
    pub fn position(&self, key: &InstanceKey) -> Option<InstanceId> {
        self.positions.instances.get(key).copied()
    }

    /// Where the service named `name` is now.
    pub fn service_position(&self, name: &str) -> Option<usize> {
        self.positions.services.get(name).copied()
    }

    /// The key of the instance at `id`.
    pub fn instance_key(&self, id: InstanceId) -> Option<InstanceKey> {
        let svc = self.services.get(id.service)?;
        let inst = svc.instances.get(id.instance)?;
        Some(InstanceKey { service: svc.name.clone(), instance: Arc::from(inst.spec.key()) })
    }

    /// How long a window counts as current: the same grace as health results.
    pub fn signal_fresh_for(&self, check: &CheckSpec) -> Duration {
        check.interval * self.stale_after_intervals + check.timeout
    }

    /// The service's signals current at `now`, each from the source that feeds it.
    pub fn current_signals(&self, service: usize, now: SystemTime) -> Option<SignalPoint> {
        let svc = self.services.get(service)?;
        let fresh = |p: &SignalPoint, fresh_for: Duration| now.duration_since(p.at).unwrap_or_default() <= fresh_for;
        let scraped = svc.scraped.filter(|p| fresh(p, self.signal_fresh_for(&svc.check)));
        let (feeds, external) = match &svc.external {
            Some(e) => (e.feeds, e.latest.filter(|p| fresh(p, e.fresh_for))),
            None => (Feeds::default(), None),
        };
        // A signal an external source feeds comes from it; when that source has no value for
        // it (no datapoint in the period), the scrape's value stands in.
        let pick = |fed: bool, f: fn(&SignalPoint) -> Option<f64>| {
            let ext = if fed { external.and_then(|p| f(&p).map(|v| (p, v))) } else { None };
            ext.or_else(|| scraped.and_then(|p| f(&p).map(|v| (p, v))))
        };
        let traffic = if feeds.traffic && external.is_some_and(|p| p.rate.is_some() || p.error_ratio.is_some()) {
            external
        } else {
            scraped
        };
        let (p50, p95, p99) = (pick(feeds.p50, |p| p.p50), pick(feeds.p95, |p| p.p95), pick(feeds.p99, |p| p.p99));
        let times = [traffic.map(|p| p.at), p50.map(|(p, _)| p.at), p95.map(|(p, _)| p.at), p99.map(|(p, _)| p.at)];
        let at = times.into_iter().flatten().max()?;
        let window = traffic.map_or(svc.check.window, |p| p.window);
        Some(SignalPoint {
            rate: traffic.and_then(|p| p.rate),
            requests: traffic.and_then(|p| p.requests),
            error_ratio: traffic.and_then(|p| p.error_ratio),
            p50: p50.map(|(_, v)| v),
            p95: p95.map(|(_, v)| v),
            p99: p99.map(|(_, v)| v),
            ..SignalPoint::empty(at, window)
        })
    }

    /// The service's signals against its thresholds at `now`, with memory; `None` without
    /// current signals. While a change is pending, the level stays and the reason says so.
    pub fn signal_verdict(&self, service: usize, now: SystemTime) -> Option<Verdict> {
        let svc = self.services.get(service)?;
        let p = self.current_signals(service, now)?;
        let t = &svc.check.thresholds;
        let periodic = svc.external.as_ref().and_then(|e| e.periods.as_ref().map(|p| (p, e.feeds)));
        // What a rise waits for: `for` on scrapes, M of N periods on a periodic source.
        let pending = |d: &memory::Debounced, fed: bool, level: apply::PointLevel| match periodic.filter(|_| fed) {
            Some((periods, _)) => {
                let j = periods.judge(t, |x| level(x, t, 1.0)).filter(|j| j.newest > d.level)?;
                let (m, n) = (t.datapoints_to_alarm, t.evaluation_periods);
                Some((j.newest, format!("at {m} of {n} periods ({} so far)", j.reaching_newest)))
            }
            None => d
                .pending()
                .filter(|p| p.towards > d.level)
                .map(|p| (p.towards, format!("if it holds {}", crate::format::duration(t.hold)))),
        };
        let traffic_periodic = periodic.is_some_and(|(_, f)| f.traffic);
        let latency_periodic = periodic.is_some_and(|(_, f)| f.p95);
        let value = p.error_ratio.map(|e| format!("errors {}", percent(e))).unwrap_or_default();
        let errors = describe(
            &svc.errors,
            p.error_level(t, 1.0),
            pending(&svc.errors, traffic_periodic, apply::period_error_level),
            value,
            |s| p.error_reason(t, s),
        );
        let value = p.p95.map(|v| format!("p95 {}", crate::format::latency(Duration::from_secs_f64(v.max(0.0)))));
        let latency = describe(
            &svc.latency,
            p.latency_level(t, 1.0),
            pending(&svc.latency, latency_periodic, apply::period_latency_level),
            value.unwrap_or_default(),
            |s| p.latency_reason(t, s),
        );
        let worst = if latency.status > errors.status || errors.reason.is_empty() { latency } else { errors };
        if worst.reason.is_empty() && p.error_ratio.is_some() && p.low_traffic(t) {
            return Some(Verdict::new(Status::Ok, p.low_traffic_note(svc.traffic_window(&p))));
        }
        Some(worst)
    }

    /// Why the service's signals are missing or only partly judged, in words; `None` when they
    /// are all there.
    pub fn signals_note(&self, service: usize, now: SystemTime) -> Option<String> {
        notes::signals_note(self, service, now)
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
        self.verdicts(now).worst_first().to_vec()
    }

    /// When any instance last answered over HTTP (any status code). A fleet that stops
    /// answering, a lost network and a sleeping laptop all leave this behind.
    pub fn last_answer(&self) -> Option<SystemTime> {
        self.services.iter().flat_map(|s| &s.instances).filter_map(InstanceState::last_answer).max()
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

    /// When the newest result of any kind arrived.
    pub fn last_update(&self) -> Option<SystemTime> {
        self.services.iter().flat_map(|s| &s.instances).filter_map(|i| i.health.latest().map(|h| h.at)).max()
    }
}

/// A debounced level at this point: the level, with the latest value in the reason, and what is
/// pending.
fn describe(
    d: &memory::Debounced,
    now: Option<Status>,
    pending: Option<(Status, String)>,
    value: String,
    reason: impl Fn(Status) -> String,
) -> Verdict {
    let level = d.level;
    let current = now.unwrap_or(Status::Ok);
    // The text names the hold time or the periods, not the seconds elapsed, so it stays still
    // between frames.
    let text = match pending {
        Some((towards, wait)) => format!("{}: {} {wait}", reason(towards), towards.word()),
        _ if current >= level => reason(level),
        _ => format!("{value} ({} until it clears)", level.word()),
    };
    Verdict::new(level, text)
}
