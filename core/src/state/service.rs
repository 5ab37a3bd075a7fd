//! One service as the board knows it, and where its signals come from.

use super::{ActionRun, InstanceState, ServiceKey, ServiceVerdicts, SignalPoint, Status, Trend, Verdict, memory};
use crate::config::{CheckSpec, EnvSpec, Fleet, ServiceSpec};
use std::time::{Duration, SystemTime};

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
    /// A source with a period (CloudWatch): its recent complete periods, which its signals are
    /// judged on instead of `for`.
    pub periods: Option<super::Periods>,
}

#[derive(Debug, Clone)]
pub struct ServiceState {
    /// Its name, which is also its key in events.
    pub name: ServiceKey,
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
    /// What its sources of instances say, when it has any (`instances_from`).
    pub discovery: Option<super::Discovery>,
    /// What ECS and CodeDeploy say of its deploys, when it deploys through them.
    pub deploy_sources: super::rollouts::DeploySources,
    /// What it needs to work, and how long its failure waits for a cause before notifying.
    pub depends_on: Vec<crate::config::dependencies::Dependency>,
    pub dependency_wait: Duration,
    /// The planned windows that cover it.
    pub maintenance: Vec<std::sync::Arc<crate::config::maintenance::MaintenanceSpec>>,
    /// Its objective (`slo`), when it has one: an error budget on `outcomes`.
    pub slo: Option<super::budget::Slo>,
    /// What its requests and checks came to, kept for its availability and its budget.
    pub outcomes: super::budget::Outcomes,
    /// Events applied to this service: kept verdicts are made again when it moves.
    pub(super) changes: u64,
}

impl ServiceState {
    /// A service the board has not heard from yet.
    pub fn new(fleet: &Fleet, spec: &ServiceSpec, history: usize, stale_after_intervals: u32) -> Self {
        Self {
            name: spec.name.as_str().into(),
            env: spec.env.clone(),
            check: spec.check.clone(),
            instances: spec.instances.iter().map(|i| InstanceState::new(i.clone(), history, &spec.check)).collect(),
            signals: Trend::new(history),
            scraped: None,
            external: external_of(fleet, spec, stale_after_intervals),
            errors: memory::Debounced::default(),
            latency: memory::Debounced::default(),
            flapping: memory::Flapping::default(),
            action: None,
            discovery: (!spec.discovery.is_empty()).then(super::Discovery::default),
            deploy_sources: Default::default(),
            depends_on: spec.depends_on.clone(),
            dependency_wait: spec.dependency_wait,
            maintenance: spec.maintenance.clone(),
            slo: spec.slo,
            outcomes: super::budget::Outcomes::new(spec.slo.as_ref()),
            changes: 0,
        }
    }

    /// Where its error budget stands at `now`, when it has an objective.
    pub fn standing(&self, now: SystemTime) -> Option<(super::budget::Basis, super::budget::Standing)> {
        self.slo.as_ref().map(|slo| self.outcomes.standing(slo, now))
    }

    /// Whether the instances report more than one version right now.
    pub fn versions_differ(&self) -> bool {
        let mut versions =
            self.instances.iter().filter(|i| i.present()).filter_map(|i| i.version().or(i.metrics.version.as_deref()));
        let first = versions.next();
        versions.any(|v| Some(v) != first)
    }

    /// Instances per version right now, most first: a rolling deploy shows as two entries.
    pub fn rollout(&self) -> Vec<(String, usize)> {
        let mut counts: Vec<(String, usize)> = Vec::new();
        for inst in self.instances.iter().filter(|i| i.present()) {
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

/// External sources of one service's signals, from the fleet.
pub(super) fn external_of(fleet: &Fleet, s: &ServiceSpec, stale_after: u32) -> Option<External> {
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
            periods: None,
        });
    }
    let mut feeds = Feeds::default();
    let mut fresh_for = Duration::ZERO;
    let mut period = Duration::ZERO;
    for a in &fleet.aws {
        for q in &a.queries {
            let Some((service, role)) = &q.feeds else { continue };
            if *service != s.name {
                continue;
            }
            match *role {
                crate::config::aws::Role::Requests | crate::config::aws::Role::Errors => feeds.traffic = true,
                crate::config::aws::Role::P95 => feeds.p95 = true,
            }
            fresh_for = fresh_for.max(q.period + a.interval + CLOUDWATCH_DELAY);
            period = period.max(q.period);
        }
    }
    let periods = Some(super::Periods::new(period));
    feeds.any().then_some(External { source: "CloudWatch", feeds, fresh_for, latest: None, error: None, periods })
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
        _ if let Some(f) = &v.fleet => f.clone(),
        (Some(_), Some(w)) if w.status == Status::Ok => w.clone(),
        (Some(i), Some(w)) => Verdict::new(w.status, format!("{}: {}", svc.instances[i].spec.label, w.reason)),
        _ => Verdict::new(Status::Unknown, "no instances"),
    };
    // An alarm or a queue names itself: it wins ties with the signals, which the errors panel
    // shows anyway.
    [&v.aws, &v.signals, &v.budget]
        .into_iter()
        .flatten()
        .fold(health, |worst, s| if s.status > worst.status { s.clone() } else { worst })
}
