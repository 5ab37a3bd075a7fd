//! Everything the board knows, as plain data. It changes only in [`State::apply`].

mod action_run;
pub mod aws;
pub mod backups;
pub mod deploys;
mod health;
pub mod memory;
mod series;
mod signals;
pub mod silences;
mod status;
mod trend;
mod verdicts;

pub use action_run::{ActionEvent, ActionRun};
pub use health::{BodyVerdict, CertSeen, HealthOutcome, HealthSample, ProbeError};
pub use series::Ring;
pub use signals::{InstanceMetrics, ScrapeResult, SignalPoint, percent};
pub use status::{Status, Tally, Verdict};
pub use trend::Trend;
pub use verdicts::{Item, Kind, ServiceVerdicts, Verdicts};

mod notes;

use crate::config::{CheckSpec, EnvSpec, Fleet, InstanceSpec};
use crate::metrics::Window;
use std::time::{Duration, SystemTime};

/// Health checks kept per instance, whatever the history: what the detail view's latency line
/// and the state's runs of results read. The longer history is the service's signal trend.
pub const HEALTH_SAMPLES_KEPT: usize = 120;

/// Names one instance: indices into the fleet, stable for the life of a config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InstanceId {
    pub service: usize,
    pub instance: usize,
}

/// One instance's series of an `up` query.
#[derive(Debug, Clone, PartialEq)]
pub struct UpSeries {
    pub instance: String,
    pub value: f64,
    /// `up`, `probe_success` …: how the reason names it.
    pub metric: String,
}

/// Everything a source can tell the board.
#[derive(Debug, Clone)]
pub enum Event {
    /// A health check finished; the next one is due in `next_in`.
    Health { id: InstanceId, sample: HealthSample, next_in: Duration },
    /// A metrics scrape finished.
    Scrape { id: InstanceId, result: ScrapeResult },
    /// Service-level signal points from PromQL or CloudWatch, oldest first, or why they failed.
    Signals { service: usize, result: Result<Vec<SignalPoint>, String> },
    /// Something from one AWS account (by index).
    Aws { account: usize, event: aws::AwsEvent },
    /// Something from an action running against a service.
    Action { service: usize, event: ActionEvent },
    /// New lines of the deploy log.
    DeployLog { entries: Vec<deploys::LogEntry> },
    /// A backup job was checked.
    Backup { job: usize, sample: backups::BackupSample },
    /// The instances of a service whose health comes from Prometheus' `up`, or why not.
    Up { service: usize, at: SystemTime, result: Result<Vec<UpSeries>, String> },
    /// A notification went out to webhook `target`, or could not.
    Delivery { target: usize, label: String, error: Option<String> },
    /// An item's notifications muted (from the board).
    Silenced(silences::Silence),
    /// Silences lifted, or over (by time, or their item is OK again).
    Unsilenced { items: Vec<String> },
}

impl Event {
    /// The service the event is about, if it is about one.
    fn service(&self) -> Option<usize> {
        match self {
            Event::Health { id, .. } | Event::Scrape { id, .. } => Some(id.service),
            Event::Signals { service, .. } | Event::Up { service, .. } | Event::Action { service, .. } => {
                Some(*service)
            }
            Event::Aws { .. }
            | Event::DeployLog { .. }
            | Event::Backup { .. }
            | Event::Delivery { .. }
            | Event::Silenced(_)
            | Event::Unsilenced { .. } => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct InstanceState {
    pub spec: InstanceSpec,
    pub health: Ring<HealthSample>,
    /// The interval in force for this instance, backoff included.
    pub expected_every: Duration,
    pub metrics: InstanceMetrics,
    /// The confirmed level: changed only by `unhealthy_after` / `healthy_after` results in a row.
    pub level: Option<Status>,
    /// Checks recorded so far; the newest with a version and the newest that got an answer, by
    /// number: what [`Self::version`] and [`State::last_answer`] read without searching the ring.
    recorded: u64,
    newest_version: Option<(u64, std::sync::Arc<str>)>,
    newest_answer: Option<(u64, SystemTime)>,
}

/// Which signals an external source (PromQL, CloudWatch) gives a service; scrapes give the rest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Feeds {
    /// Request rate, request count and error ratio.
    pub traffic: bool,
    pub p50: bool,
    pub p95: bool,
    pub p99: bool,
}

impl Feeds {
    pub fn any(&self) -> bool {
        self.traffic || self.p50 || self.p95 || self.p99
    }

    pub fn all(&self) -> bool {
        self.traffic && self.p50 && self.p95 && self.p99
    }
}

/// Where one service's signals come from besides scrapes.
#[derive(Debug, Clone, Default)]
pub struct External {
    /// `PromQL` or `CloudWatch`.
    pub source: &'static str,
    pub feeds: Feeds,
    /// How long a point stays current: what the source promises.
    pub fresh_for: Duration,
    /// The latest point.
    pub latest: Option<SignalPoint>,
    /// Why the source failed last, cleared by a success.
    pub error: Option<(SystemTime, String)>,
}

#[derive(Debug, Clone)]
pub struct ServiceState {
    pub name: String,
    pub env: EnvSpec,
    pub check: CheckSpec,
    pub instances: Vec<InstanceState>,
    /// The service's signals as the board shows them, one point per round: each signal from
    /// the source that feeds it.
    pub signals: Trend,
    /// The latest merge of the instances' scrape windows.
    pub scraped: Option<SignalPoint>,
    /// PromQL or CloudWatch, when either feeds this service.
    pub external: Option<External>,
    /// Error ratio and latency levels with memory.
    pub errors: memory::Debounced,
    pub latency: memory::Debounced,
    /// The service's recent states, for flapping.
    pub flapping: memory::Flapping,
    /// The latest action run against this service.
    pub action: Option<ActionRun>,
    /// Events applied to this service: kept verdicts are made again when it moves.
    changes: u64,
}

impl ServiceState {
    /// Whether the instances report more than one version right now.
    pub fn versions_differ(&self) -> bool {
        let mut versions = self.instances.iter().filter_map(|i| i.version().or(i.metrics.version.as_deref()));
        let first = versions.next();
        versions.any(|v| Some(v) != first)
    }

    /// Instances per version right now, most first: a rolling deploy shows as two entries.
    pub fn rollout(&self) -> Vec<(String, usize)> {
        let mut counts: Vec<(String, usize)> = Vec::new();
        for inst in &self.instances {
            let Some(v) = inst.version().or(inst.metrics.version.as_deref()) else { continue };
            match counts.iter_mut().find(|(name, _)| name == v) {
                Some((_, n)) => *n += 1,
                None => counts.push((v.to_string(), 1)),
            }
        }
        counts.sort_by_key(|c| std::cmp::Reverse(c.1));
        counts
    }

    /// Whether anything feeds this service's error-rate and latency signals.
    pub fn has_signal_source(&self) -> bool {
        self.check.scrape || self.external.is_some()
    }

    /// The window the service's traffic is counted over, as configured (scrapes) or as the
    /// external source gives it (a CloudWatch period).
    pub fn traffic_window(&self, p: &SignalPoint) -> Duration {
        match &self.external {
            Some(e) if e.feeds.traffic => p.window,
            _ => self.check.window,
        }
    }

    /// Which source gives each signal: `(name, source)` for requests, errors, p50, p95, p99.
    pub fn signal_sources(&self) -> Vec<(&'static str, &'static str)> {
        let feeds = self.external.as_ref().map(|e| (e.source, e.feeds));
        let scrape = if self.check.scrape { "scrape" } else { "none" };
        let pick = |fed: fn(&Feeds) -> bool| match feeds {
            Some((source, f)) if fed(&f) => source,
            _ => scrape,
        };
        vec![
            ("requests", pick(|f| f.traffic)),
            ("errors", pick(|f| f.traffic)),
            ("p50", pick(|f| f.p50)),
            ("p95", pick(|f| f.p95)),
            ("p99", pick(|f| f.p99)),
        ]
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
    /// Judge every result as it comes, without memory: for one-shot looks (`check`, `snapshot`)
    /// that see each instance once and have no time to wait for a threshold to hold.
    pub at_once: bool,
    /// Notifications muted, by item.
    pub silences: silences::Silences,
    /// The last notification that could not be delivered: the webhook's label and why.
    pub undelivered: Option<(String, String)>,
    /// Events applied so far: kept verdicts brought to the same moment again have nothing to do
    /// while this has not moved.
    events: u64,
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
            .enumerate()
            .map(|(si, s)| ServiceState {
                name: s.name.clone(),
                env: s.env.clone(),
                check: s.check.clone(),
                instances: s.instances.iter().map(|i| InstanceState::new(i.clone(), history, &s.check)).collect(),
                signals: Trend::new(history),
                scraped: None,
                external: external_of(fleet, si, s, stale_after_intervals),
                errors: memory::Debounced::default(),
                latency: memory::Debounced::default(),
                flapping: memory::Flapping::default(),
                action: None,
                changes: 0,
            })
            .collect();
        Self {
            deploys: deploys::Deploys::new(services.len(), Vec::new()),
            backups: jobs.iter().map(backups::BackupState::new).collect(),
            services,
            stale_after_intervals,
            at_once: false,
            silences: Default::default(),
            undelivered: None,
            events: 0,
            aws: fleet.aws.iter().map(aws::AwsAccountState::new).collect(),
        }
    }

    /// Folds one event into the state. Events for unknown instances are ignored.
    pub fn apply(&mut self, event: Event) {
        self.events += 1;
        if let Some(svc) = event.service().and_then(|si| self.services.get_mut(si)) {
            svc.changes += 1;
        }
        match event {
            Event::Health { id, sample, next_in } => {
                let at = sample.at;
                let at_once = self.at_once;
                let Some(svc) = self.services.get_mut(id.service) else { return };
                let check = &svc.check;
                let (unhealthy_after, healthy_after) =
                    if at_once { (1, 1) } else { (check.unhealthy_after, check.healthy_after) };
                if let Some(inst) = svc.instances.get_mut(id.instance) {
                    inst.record(sample);
                    inst.expected_every = next_in;
                    let newest: Vec<Status> = inst
                        .health
                        .iter()
                        .rev()
                        .take(unhealthy_after.max(healthy_after) as usize)
                        .map(|h| h.status(check.slow_after))
                        .collect();
                    inst.level = memory::settle(inst.level, &newest, unhealthy_after, healthy_after);
                    self.observe_rollout(id.service, at);
                    self.record_state(id.service, at);
                }
            }
            Event::Backup { job, sample } => {
                if let Some(b) = self.backups.get_mut(job) {
                    b.samples.push(sample);
                }
            }
            Event::Up { service, at, result } => self.apply_up(service, at, result),
            Event::Delivery { label, error, .. } => match error {
                Some(e) => self.undelivered = Some((label, e)),
                None => {
                    if self.undelivered.as_ref().is_some_and(|(l, _)| *l == label) {
                        self.undelivered = None;
                    }
                }
            },
            Event::Silenced(silence) => self.silences.add(silence),
            Event::Unsilenced { items } => {
                self.silences.lift(&items);
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
                fn ext(s: &mut State, service: usize) -> Option<&mut External> {
                    s.services.get_mut(service).and_then(|s| s.external.as_mut())
                }
                let Some(e) = ext(self, service) else { return };
                match result {
                    Ok(points) => {
                        e.error = None;
                        let mut newest = None;
                        for p in points {
                            let Some(e) = ext(self, service) else { return };
                            if e.latest.is_none_or(|last| p.at > last.at) {
                                e.latest = Some(p);
                                newest = Some(p.at);
                                // Each point of a backfill goes into the trend in turn.
                                self.update_signals(service, p.at);
                            }
                        }
                        if let Some(at) = newest {
                            self.record_state(service, at);
                        }
                    }
                    Err(err) => e.error = Some((SystemTime::now(), err)),
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

    /// Feeds the deploy tracker once every instance has been checked and every one that
    /// answered has told its version: a half-seen fleet is no baseline.
    fn observe_rollout(&mut self, service: usize, at: SystemTime) {
        let svc = &self.services[service];
        let complete = svc.instances.iter().all(|i| {
            let answered = i.last_answer().is_some();
            !i.health.is_empty() && (!answered || i.version().or(i.metrics.version.as_deref()).is_some())
        });
        if !complete {
            return;
        }
        let rollout = svc.rollout();
        self.deploys.observe(service, &svc.name, &rollout, at);
    }

    /// How long a window counts as current: the same grace as health results.
    pub fn signal_fresh_for(&self, check: &CheckSpec) -> Duration {
        check.interval * self.stale_after_intervals + check.timeout
    }

    /// Merges the fresh windows of a service's instances into one service point at `at`.
    fn merge_service_signals(&mut self, service: usize, at: SystemTime) {
        let Some(svc) = self.services.get(service) else { return };
        let fresh_for = self.signal_fresh_for(&svc.check);
        let merged = Window::merge(svc.instances.iter().filter_map(|i| i.metrics.fresh_window(at, fresh_for)));
        let Some(merged) = merged else { return };
        self.services[service].scraped = Some(SignalPoint::of(at, &merged));
        self.update_signals(service, at);
        self.record_state(service, at);
    }

    /// Adds the service's signals at `at` to its trend and moves its levels. Points closer
    /// together than half an interval replace each other, so a round of jittered scrapes makes one.
    fn update_signals(&mut self, service: usize, at: SystemTime) {
        let Some(point) = self.current_signals(service, at) else { return };
        let gap = self.signal_fresh_for(&self.services[service].check);
        let svc = &mut self.services[service];
        let half = svc.check.interval / 2;
        match svc.signals.latest() {
            // A point older than the trend's newest (a late CloudWatch datapoint) moves only the levels.
            Some(last) if at < last.at => {}
            Some(last) if at.duration_since(last.at).unwrap_or_default() < half => svc.signals.replace_latest(point),
            _ => svc.signals.push(point),
        }
        let mut t = svc.check.thresholds;
        if self.at_once {
            t.hold = Duration::ZERO;
            t.clear_for = Duration::ZERO;
        }
        let lowered = 1.0 - t.clear_margin;
        let gap = gap.max(svc.external.as_ref().map_or(Duration::ZERO, |e| e.fresh_for));
        let (up, down) = (point.error_level(&t, 1.0), point.error_level(&t, lowered));
        svc.errors.update(at, up.unwrap_or(Status::Ok), down.unwrap_or(Status::Ok), (t.hold, t.clear_for), gap);
        let (up, down) = (point.latency_level(&t, 1.0), point.latency_level(&t, lowered));
        svc.latency.update(at, up.unwrap_or(Status::Ok), down.unwrap_or(Status::Ok), (t.hold, t.clear_for), gap);
    }

    /// Records the service's state with memory (no staleness) for flapping.
    fn record_state(&mut self, service: usize, at: SystemTime) {
        let Some(svc) = self.services.get_mut(service) else { return };
        let instances = svc.instances.iter().filter_map(|i| i.level).max();
        let status = [instances, Some(svc.errors.level), Some(svc.latency.level)].into_iter().flatten().max();
        if let Some(status) = status {
            let gap = svc.check.interval / 2;
            svc.flapping.record(at, status, gap);
        }
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
        let value = p.error_ratio.map(|e| format!("errors {}", percent(e))).unwrap_or_default();
        let errors = describe(&svc.errors, p.error_level(t, 1.0), t.hold, value, |s| p.error_reason(t, s));
        let value = p.p95.map(|v| format!("p95 {}", crate::format::latency(Duration::from_secs_f64(v.max(0.0)))));
        let latency = describe(&svc.latency, p.latency_level(t, 1.0), t.hold, value.unwrap_or_default(), |s| {
            p.latency_reason(t, s)
        });
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
    /// Instance rows from an `up` query: a series seen for the first time adds its row; each
    /// row gets a check result (1 up, 0 down, absent or a failed query: down with why).
    fn apply_up(&mut self, service: usize, at: SystemTime, result: Result<Vec<UpSeries>, String>) {
        let Some(svc) = self.services.get_mut(service) else { return };
        let series = match &result {
            Ok(series) => series.clone(),
            Err(_) => Vec::new(),
        };
        for s in &series {
            if !svc.instances.iter().any(|i| i.spec.label == s.instance) {
                let history = svc.signals.capacity();
                let spec = crate::config::InstanceSpec {
                    label: s.instance.clone(),
                    base_url: String::new(),
                    health_url: String::new(),
                    metrics_url: String::new(),
                };
                svc.instances.push(InstanceState::new(spec, history, &svc.check));
            }
        }
        let ok = HealthOutcome::Response {
            code: 0,
            body: BodyVerdict::Healthy,
            version: None,
            truncated: false,
            cert: None,
            status_expected: None,
        };
        let next_in = svc.check.interval;
        let outcomes: Vec<HealthOutcome> = svc
            .instances
            .iter()
            .map(|inst| match (&result, series.iter().find(|s| s.instance == inst.spec.label)) {
                (Err(e), _) => HealthOutcome::Failed(ProbeError::Other(format!("Prometheus: {e}"))),
                (Ok(_), Some(s)) if s.value >= 1.0 => ok.clone(),
                (Ok(_), Some(s)) => {
                    HealthOutcome::Failed(ProbeError::Other(format!("{} is {} in Prometheus", s.metric, s.value)))
                }
                (Ok(_), None) => HealthOutcome::Failed(ProbeError::Other("gone from the up query".into())),
            })
            .collect();
        for (instance, outcome) in outcomes.into_iter().enumerate() {
            let sample = HealthSample { at, latency: Duration::ZERO, outcome };
            self.apply(Event::Health { id: InstanceId { service, instance }, sample, next_in });
        }
    }

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

    /// Whether the instances report more than one version while no deploy is rolling (a canary,
    /// a stuck node): "2.0.1 on 2, 2.0.0 on 1". A rolling deploy shows its own progress instead.
    pub fn mixed_versions(&self, service: usize) -> Option<String> {
        let svc = self.services.get(service)?;
        if !svc.versions_differ() || self.deploys.rolling(&svc.name) {
            return None;
        }
        let rollout = svc.rollout();
        Some(rollout.iter().map(|(v, n)| format!("{v} on {n}")).collect::<Vec<_>>().join(", "))
    }

    /// The version most instances report now, and how many of them.
    pub fn current_version(&self, service: usize) -> Option<(String, usize)> {
        self.rollout(service).into_iter().next()
    }

    /// Instances per version right now, most first: a rolling deploy shows as two entries.
    pub fn rollout(&self, service: usize) -> Vec<(String, usize)> {
        self.services.get(service).map(ServiceState::rollout).unwrap_or_default()
    }

    /// Versions the service is known to have run, newest sighting first: on its instances, and
    /// in its deploy history (what a deploy went to, and what it came from), so a rollback has
    /// somewhere to go from the board's first second.
    pub fn versions_seen(&self, service: usize) -> Vec<String> {
        let Some(svc) = self.services.get(service) else { return Vec::new() };
        let mut seen: Vec<(SystemTime, String)> = Vec::new();
        let mut saw = |at: SystemTime, v: &str| match seen.iter_mut().find(|(_, name)| name == v) {
            Some((t, _)) => *t = (*t).max(at),
            None => seen.push((at, v.to_string())),
        };
        for inst in &svc.instances {
            for s in inst.health.iter() {
                if let Some(v) = s.version() {
                    saw(s.at, v);
                }
            }
        }
        for d in self.deploys.list.iter().filter(|d| d.service == svc.name) {
            saw(d.ended.unwrap_or(d.started), &d.version);
            if let Some(from) = &d.from {
                saw(d.started, from);
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
    pub fn new(spec: InstanceSpec, history: usize, check: &CheckSpec) -> Self {
        Self {
            spec,
            health: Ring::new(history.min(HEALTH_SAMPLES_KEPT)),
            expected_every: check.interval,
            metrics: InstanceMetrics::new(check.window),
            level: None,
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

    /// Unknown before the first check, stale when results stop, else the latest check's verdict.
    pub fn verdict(&self, check: &CheckSpec, stale_after_intervals: u32, now: SystemTime) -> Verdict {
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

/// The worst verdict's index, the first of equals; among equals one with a reason (a pending change).
fn worst_index(verdicts: &[Verdict]) -> Option<usize> {
    verdicts.iter().enumerate().rev().max_by_key(|(_, v)| (v.status, !v.reason.is_empty())).map(|(i, _)| i)
}

/// A debounced level at this point: the level, with the latest value in the reason, and what is
/// pending.
fn describe(
    d: &memory::Debounced,
    now: Option<Status>,
    hold: Duration,
    value: String,
    reason: impl Fn(Status) -> String,
) -> Verdict {
    let level = d.level;
    let current = now.unwrap_or(Status::Ok);
    // The text names the hold time, not the seconds elapsed, so it stays still between frames.
    let text = match d.pending() {
        Some(p) if p.towards > level => {
            format!("{}: {} if it holds {}", reason(p.towards), p.towards.word(), crate::format::duration(hold))
        }
        _ if current >= level => reason(level),
        _ => format!("{value} ({} until it clears)", level.word()),
    };
    Verdict::new(level, text)
}

/// External sources of one service's signals, from the fleet.
fn external_of(fleet: &Fleet, service: usize, s: &crate::config::ServiceSpec, stale_after: u32) -> Option<External> {
    // A service with only an `up` query gets its instances from PromQL, not its signals.
    if let Some(q) = s.promql.as_ref().filter(|q| q.has_signals()) {
        let timeout = fleet.prometheus.as_ref().map_or(Duration::from_secs(5), |p| p.timeout);
        return Some(External {
            source: "PromQL",
            feeds: Feeds {
                traffic: q.rate.is_some() || q.error_ratio.is_some(),
                p50: q.p50.is_some(),
                p95: q.p95.is_some(),
                p99: q.p99.is_some(),
            },
            fresh_for: s.check.interval * stale_after + timeout,
            latest: None,
            error: None,
        });
    }
    let mut feeds = Feeds::default();
    let mut fresh_for = Duration::ZERO;
    for a in &fleet.aws {
        for q in &a.queries {
            let Some((si, role)) = q.feeds else { continue };
            if si != service {
                continue;
            }
            match role {
                crate::config::aws::Role::Requests | crate::config::aws::Role::Errors => feeds.traffic = true,
                crate::config::aws::Role::P95 => feeds.p95 = true,
            }
            fresh_for = fresh_for.max(q.period + a.interval + CLOUDWATCH_DELAY);
        }
    }
    feeds.any().then_some(External { source: "CloudWatch", feeds, fresh_for, latest: None, error: None })
}

/// How late CloudWatch publishes a datapoint, at worst, for the metrics the board reads.
pub const CLOUDWATCH_DELAY: Duration = Duration::from_secs(180);

/// The service's verdict: its worst instance's (named unless all is well), or its signals'
/// when those are worse.
pub fn named_worst(svc: &ServiceState, v: &ServiceVerdicts) -> Verdict {
    if let Some(f) = &v.flapping
        && v.status() == f.status
    {
        return f.clone();
    }
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
