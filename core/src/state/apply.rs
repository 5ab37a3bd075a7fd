//! [`State::apply`]: how each event changes what the board knows.

use super::{
    ActionRun, BodyVerdict, Event, External, HealthOutcome, HealthSample, InstanceKey, ProbeError, SignalPoint, State,
    Status, UpSeries, memory,
};
use crate::config::schema::Thresholds;
use crate::metrics::Window;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

impl State {
    /// Folds one event into the state. Events for unknown services or instances are ignored.
    pub fn apply(&mut self, event: Event) {
        self.events += 1;
        if let Some(si) = event.service().and_then(|name| self.service_position(name)) {
            self.services[si].changes += 1;
        }
        match event {
            Event::Health { key, sample, next_in } => {
                let Some(id) = self.position(&key) else { return };
                let at = sample.at;
                let at_once = self.at_once;
                let in_window = self.in_maintenance_at(id.service, at);
                let Some(svc) = self.services.get_mut(id.service) else { return };
                let check = &svc.check;
                let (unhealthy_after, healthy_after) =
                    if at_once { (1, 1) } else { (check.unhealthy_after, check.healthy_after) };
                if let Some(inst) = svc.instances.get_mut(id.instance) {
                    // A late answer of a poller stopped when its instance left.
                    if !inst.present() {
                        return;
                    }
                    if let super::Life::Starting { until, .. } = inst.life
                        && at < until
                    {
                        // Failed checks within the grace do not count; the first answer ends it.
                        let passed = !sample.is_failure();
                        inst.record(sample);
                        inst.expected_every = next_in;
                        if passed {
                            inst.life = super::Life::Serving;
                            inst.level = inst.health.latest().map(|h| h.status(check.slow_after));
                        }
                        return;
                    }
                    let passed = !sample.is_failure();
                    inst.record(sample);
                    inst.expected_every = next_in;
                    // Time in a maintenance window counts against neither budget nor availability.
                    if !in_window {
                        let good = u64::from(passed);
                        svc.outcomes.checks.add(at, super::budget::Counts { good, total: 1, seen_s: 0 });
                    }
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
                if let Some(b) = self.backups.iter_mut().find(|b| *b.job.name == *job) {
                    b.samples.push(sample);
                }
            }
            Event::Up { service, at, result } => {
                if let Some(si) = self.service_position(&service) {
                    self.apply_up(si, at, result);
                }
            }
            Event::Delivery { label, error, .. } => match error {
                Some(e) => self.undelivered = Some((label, e)),
                None => {
                    if self.undelivered.as_ref().is_some_and(|(l, _)| *l == label) {
                        self.undelivered = None;
                    }
                }
            },
            Event::CountsKept(trouble) => self.counts_trouble = trouble,
            Event::Silenced(silence) => self.silences.add(silence),
            Event::Unsilenced { items } => {
                self.silences.lift(&items);
            }
            Event::Maintenance(window) => self.maintenance.add(window),
            Event::MaintenanceOver { items } => {
                self.maintenance.lift(&items);
            }
            Event::Taken(taking) => self.taken.add(taking),
            Event::HandedBack { items } => {
                self.taken.lift(&items);
            }
            Event::StatusNote(note) => self.status_notes.add(note),
            Event::DeployLog { entries } => {
                for e in entries {
                    self.deploys.log(e);
                }
            }
            Event::HostPoints { service, at, fresh_for, result } => {
                let Some(si) = self.service_position(&service) else { return };
                let at_once = self.at_once;
                let svc = &mut self.services[si];
                let points = match result {
                    Ok(points) => points,
                    Err(e) => {
                        for inst in &mut svc.instances {
                            inst.host.error = Some((at, format!("CloudWatch: {e}")));
                        }
                        return;
                    }
                };
                for inst in &mut svc.instances {
                    let key = inst.spec.key();
                    match points.iter().find(|(k, _)| *k.instance == *key) {
                        Some((_, point)) => {
                            inst.host.fresh_for = Some(fresh_for);
                            inst.host.apply_point(point.clone(), &svc.check.hosts, &svc.check.thresholds, at_once);
                        }
                        // Those without a point say why.
                        None => {
                            let why = match super::host::instance_id(&inst.spec.label) {
                                Some(id) => format!("CloudWatch has no numbers for {id} from the last 10 minutes"),
                                None => "CloudWatch finds hosts by EC2 instance ID: name the instance `i-…`".into(),
                            };
                            inst.host.error = Some((at, why));
                        }
                    }
                }
            }
            Event::DeploySource { service, source, result } => {
                let Some(si) = self.service_position(&service) else { return };
                let sources = &mut self.services[si].deploy_sources;
                match result {
                    Ok(read) => {
                        self.deploys.follow(&service, &read.rollouts());
                        sources.keep(read);
                    }
                    Err(e) => sources.failed(source, e),
                }
            }
            Event::Action { service, event } => {
                if let Some(si) = self.service_position(&service) {
                    ActionRun::apply(&mut self.services[si].action, event);
                }
            }
            Event::Aws { account, event } => {
                if let Some(a) = self.aws.iter_mut().find(|a| *a.spec.name == *account) {
                    a.apply(event);
                }
            }
            Event::Signals { service, result } => {
                let Some(service) = self.service_position(&service) else { return };
                fn ext(s: &mut State, service: usize) -> Option<&mut External> {
                    s.services.get_mut(service).and_then(|s| s.external.as_mut())
                }
                let Some(e) = ext(self, service) else { return };
                match result {
                    Ok(points) => {
                        e.error = None;
                        let mut newest = None;
                        let mut revised = false;
                        for p in points {
                            let Some(e) = ext(self, service) else { return };
                            // CloudWatch revises a period as late data arrives.
                            let changed = e.periods.as_mut().is_some_and(|periods| periods.insert(p));
                            if e.latest.is_none_or(|last| p.at > last.at) {
                                e.latest = Some(p);
                                newest = Some(p.at);
                                // Each point of a backfill goes into the trend in turn.
                                self.update_signals(service, p.at);
                            } else if changed {
                                if e.latest.is_some_and(|last| p.at == last.at) {
                                    e.latest = Some(p);
                                }
                                revised = true;
                            }
                        }
                        if let (None, true) = (newest, revised)
                            && let Some(at) = ext(self, service).and_then(|e| e.latest).map(|p| p.at)
                        {
                            self.update_signals(service, at);
                        }
                        if let Some(at) = newest {
                            self.record_state(service, at);
                        }
                    }
                    Err(err) => e.error = Some((SystemTime::now(), err)),
                }
            }
            Event::HostScrape { key, result } => {
                let Some(id) = self.position(&key) else { return };
                let at_once = self.at_once;
                let check = self.services[id.service].check.clone();
                let Some(inst) = self.instance_mut(id) else { return };
                match result.outcome {
                    Ok(counts) => match counts.host {
                        Some(host) => inst.host.apply(result.at, host, &check.hosts, &check.thresholds, at_once),
                        None => inst.host.error = Some((result.at, "no node exporter metrics in the answer".into())),
                    },
                    Err(e) => inst.host.error = Some((result.at, e)),
                }
            }
            Event::Scrape { key, result } => {
                let Some(id) = self.position(&key) else { return };
                let at = result.at;
                // A node exporter's own exposition (a service of hosts) tells of its host.
                if let Ok(Some(host)) = result.outcome.as_ref().map(|c| c.host.clone()) {
                    let (at_once, check) = (self.at_once, &self.services[id.service].check);
                    let (hosts, thresholds) = (check.hosts.clone(), check.thresholds);
                    if let Some(inst) = self.instance_mut(id) {
                        inst.host.apply(at, host, &hosts, &thresholds, at_once);
                    }
                }
                let formed = self.instance_mut(id).is_some_and(|inst| inst.metrics.apply(result));
                let step = (self.instance_mut(id).and_then(|inst| inst.metrics.last_step()))
                    .map(|w| (w.requests.round() as u64, w.errors.round() as u64));
                if let (true, Some((total, errors))) = (formed, step)
                    && !self.in_maintenance_at(id.service, at)
                {
                    let good = total.saturating_sub(errors);
                    self.services[id.service]
                        .outcomes
                        .requests
                        .add(at, super::budget::Counts { good, total, seen_s: 0 });
                }
                if formed {
                    self.merge_service_signals(id.service, at);
                }
            }
            Event::Instances { service, instances } => {
                if let Some(si) = self.service_position(&service) {
                    self.set_instances(si, instances);
                }
            }
            Event::Discovered { service, at, found } => {
                if let Some(si) = self.service_position(&service) {
                    self.services[si].follow_found(found, at);
                    self.reshaped();
                }
            }
            Event::Reload(loaded) => self.reshape(&loaded),
            Event::Config(note) => self.config_note = Some(note),
        }
    }

    /// Feeds the deploy tracker once every instance has been checked and every one that
    /// answered has told its version: a half-seen fleet is no baseline.
    fn observe_rollout(&mut self, service: usize, at: SystemTime) {
        let svc = &self.services[service];
        let complete = svc.instances.iter().filter(|i| i.present()).all(|i| {
            let answered = i.last_answer().is_some();
            !i.health.is_empty() && (!answered || i.version().or(i.metrics.version.as_deref()).is_some())
        });
        if !complete {
            return;
        }
        let rollout = svc.rollout();
        self.deploys.observe(&svc.name, &rollout, at);
    }

    /// Merges the fresh windows of a service's instances into one service point at `at`.
    fn merge_service_signals(&mut self, service: usize, at: SystemTime) {
        let Some(svc) = self.services.get(service) else { return };
        let fresh_for = self.signal_fresh_for(&svc.check);
        let present = svc.instances.iter().filter(|i| i.present());
        let merged = Window::merge(present.filter_map(|i| i.metrics.fresh_window(at, fresh_for)));
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
        if self.at_once {
            (t.datapoints_to_alarm, t.evaluation_periods) = (1, 1);
        }
        let lowered = 1.0 - t.clear_margin;
        let gap = gap.max(svc.external.as_ref().map_or(Duration::ZERO, |e| e.fresh_for));
        let periodic = svc.external.as_ref().and_then(|e| e.periods.as_ref().map(|p| (p, e.feeds)));
        let fresh_for = svc.external.as_ref().map_or(Duration::ZERO, |e| e.fresh_for);
        let holds = (t.hold, t.clear_for);
        // A signal its periodic source feeds is judged on periods, M of N, at once; the others
        // on the merged point with `for`.
        let judged = |fed: bool, level: PointLevel| {
            let (periods, _) = periodic.filter(|_| fed)?;
            // Periods too old to be current judge nothing, as their point shows nothing.
            periods.newest().filter(|p| p.at.checked_add(fresh_for).is_some_and(|end| at <= end))?;
            let up = periods.judge(&t, |p| level(p, &t, 1.0))?.level;
            let down = periods.judge(&t, |p| level(p, &t, lowered))?.level;
            Some((up, down.max(up), (Duration::ZERO, Duration::ZERO)))
        };
        let on_point = |level: PointLevel| {
            (level(&point, &t, 1.0).unwrap_or(Status::Ok), level(&point, &t, lowered).unwrap_or(Status::Ok), holds)
        };
        let errors = judged(periodic.is_some_and(|(_, f)| f.traffic), period_error_level)
            .unwrap_or_else(|| on_point(period_error_level));
        let latency = judged(periodic.is_some_and(|(_, f)| f.p95), period_latency_level)
            .unwrap_or_else(|| on_point(period_latency_level));
        svc.errors.update(at, errors.0, errors.1, errors.2, gap);
        svc.latency.update(at, latency.0, latency.1, latency.2, gap);
    }

    /// Records the service's state with memory (no staleness) for flapping.
    fn record_state(&mut self, service: usize, at: SystemTime) {
        let Some(svc) = self.services.get_mut(service) else { return };
        let instances = svc.instances.iter().filter(|i| i.counts(at)).filter_map(|i| i.level).max();
        let status = [instances, Some(svc.errors.level), Some(svc.latency.level)].into_iter().flatten().max();
        if let Some(status) = status {
            let gap = svc.check.interval / 2;
            svc.flapping.record(at, status, gap);
        }
    }

    /// Instance rows from an `up` query: a series seen for the first time adds its row; each
    /// row gets a check result (1 up, 0 down, absent or a failed query: down with why).
    fn apply_up(&mut self, service: usize, at: SystemTime, result: Result<Vec<UpSeries>, String>) {
        let Some(svc) = self.services.get_mut(service) else { return };
        if let Ok(series) = &result {
            // The query is the service's source of instances: a new series is a new instance
            // ("starting"), one that goes away is gone, as for every other source.
            let instances = series
                .iter()
                .map(|s| super::FoundInstance {
                    spec: crate::config::InstanceSpec {
                        label: s.instance.clone(),
                        base_url: String::new(),
                        health_url: String::new(),
                        metrics_url: String::new(),
                    },
                    grace: crate::config::discovery::DEFAULT_GRACE,
                    lb: None,
                })
                .collect();
            let view = super::SourceView {
                what: "the up query".into(),
                count: series.len(),
                listed_at: Some(at),
                error: None,
                empty: "the up query returns no series".into(),
            };
            svc.follow_found(super::Found { instances, sources: vec![view], capped: None }, at);
            self.reshaped();
        }
        let svc = &self.services[service];
        let series = result.as_ref().map(Vec::as_slice).unwrap_or_default();
        let ok = HealthOutcome::Response {
            code: 0,
            body: BodyVerdict::Healthy,
            version: None,
            truncated: false,
            cert: None,
            status_expected: None,
        };
        let next_in = svc.check.interval;
        let outcomes: Vec<(Arc<str>, HealthOutcome)> = (svc.instances.iter().filter(|i| i.present()))
            .filter_map(|inst| {
                let outcome = match (&result, series.iter().find(|s| s.instance == inst.spec.label)) {
                    (Err(e), _) => HealthOutcome::Failed(ProbeError::Other(format!("Prometheus: {e}"))),
                    (Ok(_), Some(s)) if s.value >= 1.0 => ok.clone(),
                    (Ok(_), Some(s)) => {
                        HealthOutcome::Failed(ProbeError::Other(format!("{} is {} in Prometheus", s.metric, s.value)))
                    }
                    (Ok(_), None) => return None,
                };
                Some((Arc::from(inst.spec.key()), outcome))
            })
            .collect();
        let key = svc.name.clone();
        for (instance, outcome) in outcomes {
            let sample = HealthSample { at, latency: Duration::ZERO, outcome };
            self.apply(Event::Health { key: InstanceKey { service: key.clone(), instance }, sample, next_in });
        }
    }
}

/// A signal's level at one point against thresholds scaled by the factor.
pub(super) type PointLevel = fn(&SignalPoint, &Thresholds, f64) -> Option<Status>;

/// A point's error level; `None` without an error ratio (a period with no value), OK at low traffic.
pub(super) fn period_error_level(p: &SignalPoint, t: &Thresholds, scale: f64) -> Option<Status> {
    p.error_ratio.map(|_| p.error_level(t, scale).unwrap_or(Status::Ok))
}

/// A point's p95 level; `None` without a p95.
pub(super) fn period_latency_level(p: &SignalPoint, t: &Thresholds, scale: f64) -> Option<Status> {
    p.latency_level(t, scale)
}
