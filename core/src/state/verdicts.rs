//! Every instance's verdict at one moment, computed once and shared by everything drawn in a frame.
//!
//! Kept from one moment to the next, they are made again only where something changed: a
//! service an event touched, or one whose verdict time alone can change (a result going stale,
//! signals ageing out). At a thousand services, a second brings a fifth of them new results
//! and most verdicts stay as they were.

use super::status::{Status, Tally, Verdict};
use super::{ServiceState, State};
use crate::config::dependencies::Dependency;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// The verdicts of one service's instances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceVerdicts {
    pub instances: Vec<Verdict>,
    /// Index of the worst instance (the first of equals), if there are instances.
    pub worst: Option<usize>,
    /// Error rate and latency against thresholds, when current signals exist.
    pub signals: Option<Verdict>,
    /// "flapping between OK and CRIT (…)", while the service's state changes too often.
    pub flapping: Option<Verdict>,
    /// About the fleet itself: "no instances: the target group is empty".
    pub fleet: Option<Verdict>,
    /// Whether each instance counts (not starting within its grace, draining or gone).
    pub counted: Vec<bool>,
    /// What its AWS resources say, when one is not OK: a CloudWatch alarm that fires ("alarm
    /// web-5xx: 1 out of the last 1 datapoints …"), a queue backed up ("emails: 1,500 messages > 1,000").
    pub aws: Option<Verdict>,
    /// Its error budget's burn, when a rule is raised: CRIT for a page, WARN for a ticket.
    pub budget: Option<Verdict>,
}

impl ServiceVerdicts {
    /// As bad as the worst instance or its signals; unknown without instances. A flapping
    /// service is one steady warning, unless nothing about it is current.
    pub fn status(&self) -> Status {
        let health = self.health_status();
        match &self.flapping {
            Some(f) if health != Status::Stale => f.status,
            _ => [&self.signals, &self.aws, &self.budget]
                .into_iter()
                .flatten()
                .fold(health, |worst, v| worst.max(v.status)),
        }
    }

    /// When the state comes from the error budget's alert alone: the alert, and the state
    /// without it.
    pub fn budget_alert(&self) -> Option<(super::budget::Alert, Status)> {
        let b = self.budget.as_ref()?;
        let without = Self { budget: None, ..self.clone() }.status();
        let alert = if b.status == Status::Crit { super::budget::Alert::Page } else { super::budget::Alert::Ticket };
        (self.status() == b.status && without < b.status).then_some((alert, without))
    }

    /// Health status alone: the worst instance's, or the fleet's own (no instances at all).
    pub fn health_status(&self) -> Status {
        match &self.fleet {
            Some(f) => f.status,
            None => self.worst_verdict().map_or(Status::Unknown, |v| v.status),
        }
    }

    /// The verdict the health panel shows: the fleet's own, else the worst instance's.
    pub fn health_verdict(&self) -> Option<&Verdict> {
        self.fleet.as_ref().or_else(|| self.worst_verdict())
    }

    pub fn worst_verdict(&self) -> Option<&Verdict> {
        self.worst.map(|i| &self.instances[i])
    }
}

/// The whole fleet's verdicts at one `now`.
#[derive(Debug, Clone, Default)]
pub struct Verdicts {
    pub services: Vec<ServiceVerdicts>,
    /// Per AWS account, each Auto Scaling group's verdict.
    pub aws: Vec<Vec<Verdict>>,
    /// Each backup job's verdict.
    pub backups: Vec<Verdict>,
    /// Everything the header and the wall count, with names, worst first (ties in config order,
    /// services first): the tally below is these items' statuses, so counts and names agree.
    pub items: Vec<Item>,
    /// Items by status, a blocked service counted once, under its cause.
    pub service_tally: Tally,
    pub instance_tally: Tally,
    /// Which failing services are blocked by a failing cause, and the causes.
    pub blocking: super::blocked::Blocking,
    /// Per service, the maintenance window in force, if one is.
    pub maintenance: Vec<Option<super::maintenance::InForce>>,
    /// Per service with an objective, where its error budget stands and on what: made with its
    /// verdicts, so that screens read it rather than sum its windows again. Not part of what
    /// changes a revision: its counts move with every check, its verdict only with a rule.
    pub standings: Vec<Option<(super::budget::Basis, super::budget::Standing)>>,
    /// Per service, the planned window in force and until when that answer holds.
    planned: Vec<(Option<super::maintenance::InForce>, SystemTime)>,
    /// Service indices, worst first; ties keep config order.
    order: Vec<usize>,
    /// Names what the items say: two verdicts with the same revision have the same items, in
    /// any process-wide comparison (a change takes a new number).
    pub revision: u64,
    /// Per service: what its verdicts were made from.
    made: Vec<Made>,
    /// Groups, backup jobs and blind accounts as items, in config order.
    others: Vec<Item>,
    /// The `now` of the last refresh, the staleness rule it used, and the state's counts of
    /// events and of changes of shape then.
    at: Option<(SystemTime, u32, u64, u64)>,
}

/// What one service's verdicts were made from: its count of changes, and until when time alone
/// leaves them as they are (`None`: for ever).
#[derive(Debug, Clone, Copy)]
struct Made {
    changes: u64,
    until: Option<SystemTime>,
}

static REVISIONS: AtomicU64 = AtomicU64::new(1);

/// What a counted item is: the header and the wall count these together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Service,
    Asg,
    Backup,
    /// An AWS account the board cannot see.
    Account,
    /// A queue or database some service depends on (`depends_on`).
    Queue,
    Database,
}

/// One counted item with its name as the wall and the header write it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub kind: Kind,
    /// `payments`, `asg web-asg`, `backup postgres base`, `aws prod`.
    pub name: String,
    pub verdict: Verdict,
    /// `blocked by orders-db` names: a failing service whose cause fails too.
    pub blocked_by: Vec<String>,
    /// Inside a maintenance window: it pages nobody and is not counted.
    pub maintenance: bool,
    /// When its state comes from its error budget's alert alone: which alert, and its state
    /// without it.
    pub budget: Option<(super::budget::Alert, Status)>,
}

impl Item {
    fn new(kind: Kind, name: String, verdict: Verdict) -> Self {
        Self { kind, name, verdict, blocked_by: Vec::new(), maintenance: false, budget: None }
    }

    /// Whether the counts count it: not when blocked (its cause is counted) or in maintenance.
    pub fn counted(&self) -> bool {
        self.blocked_by.is_empty() && !self.maintenance
    }
}

impl Verdicts {
    /// Groups, backup jobs, and accounts the board cannot see (counted as unknown), as items.
    fn others(state: &State, aws: &[Vec<Verdict>], backups: &[Verdict], now: SystemTime) -> Vec<Item> {
        let mut out: Vec<Item> = Vec::new();
        for (a, groups) in state.aws.iter().zip(aws) {
            for ((name, _), v) in a.asgs.iter().zip(groups) {
                out.push(Item::new(Kind::Asg, format!("asg {name}"), v.clone()));
            }
        }
        for (b, v) in state.backups.iter().zip(backups) {
            out.push(Item::new(Kind::Backup, format!("backup {}", b.job.name), v.clone()));
        }
        // A queue or database is part of its service's verdict; one that services depend on is
        // an item of its own, so that as a cause it is counted, and notifies, once.
        let mut named: Vec<&Dependency> = Vec::new();
        for dep in state.services.iter().flat_map(|s| &s.depends_on) {
            if matches!(dep, Dependency::Queue(_) | Dependency::Database(_)) && !named.contains(&dep) {
                named.push(dep);
            }
        }
        for dep in named {
            let kind = if matches!(dep, Dependency::Queue(_)) { Kind::Queue } else { Kind::Database };
            out.push(Item::new(kind, dep.to_string(), super::blocked::verdict_of(state, &[], dep, now)));
        }
        for a in state.aws.iter().filter(|a| a.error.is_some()) {
            let reason = a.error.as_ref().map(|(_, e)| e.clone()).unwrap_or_default();
            out.push(Item::new(Kind::Account, format!("aws {}", a.spec.name), Verdict::new(Status::Unknown, reason)));
        }
        out
    }

    /// Services, then the others, worst first (ties in that order; a blocked service after
    /// those judged on their own).
    fn items(&self, state: &State) -> Vec<Item> {
        let mut out: Vec<Item> = Vec::with_capacity(self.services.len() + self.others.len());
        for (si, (svc, v)) in state.services.iter().zip(&self.services).enumerate() {
            let mut item = Item::new(Kind::Service, svc.name.to_string(), super::named_worst(svc, v));
            item.blocked_by = self.blocking.by.get(si).cloned().unwrap_or_default();
            item.maintenance = self.maintenance.get(si).is_some_and(Option::is_some);
            item.budget = v.budget_alert();
            out.push(item);
        }
        out.extend(self.others.iter().cloned());
        out.sort_by_key(|i| (std::cmp::Reverse(i.verdict.status), !i.counted()));
        out
    }

    /// "7 services · 22 instances · 2 ASGs · 3 backups": what is counted, by kind.
    pub fn kinds_text(&self) -> String {
        let plural = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let asgs: usize = self.aws.iter().map(Vec::len).sum();
        let mut parts = vec![
            plural(self.services.len(), "service", "services"),
            plural(self.instance_tally.total(), "instance", "instances"),
        ];
        if asgs > 0 {
            parts.push(plural(asgs, "ASG", "ASGs"));
        }
        if !self.backups.is_empty() {
            parts.push(plural(self.backups.len(), "backup", "backups"));
        }
        parts.join(" · ")
    }

    /// Every verdict at `now`, made from nothing.
    pub fn of(state: &State, now: SystemTime) -> Self {
        let mut verdicts = Self::default();
        verdicts.refresh(state, now);
        verdicts
    }

    /// Brings the verdicts to `now`, making again only those of services that changed since the
    /// last refresh or that time can have changed; all of them when the clock went back. The
    /// result is what [`Verdicts::of`] gives for the same state and `now`.
    pub fn refresh(&mut self, state: &State, now: SystemTime) {
        let rule = state.stale_after_intervals;
        if self.at == Some((now, rule, state.events, state.shape)) {
            return;
        }
        let all = self.services.len() != state.services.len()
            || self.at.is_none_or(|(at, r, _, shape)| now < at || r != rule || shape != state.shape);
        if all {
            self.services.clear();
            self.made.clear();
            self.standings.clear();
        }
        let mut changed = all;
        for (si, svc) in state.services.iter().enumerate() {
            let holds = self.made.get(si).is_some_and(|m| m.changes == svc.changes && m.until.is_none_or(|u| now <= u));
            if holds {
                continue;
            }
            let made = Made { changes: svc.changes, until: holds_until(state, svc, now) };
            let standing = svc.standing(now);
            let v = service_verdicts(state, si, svc, standing.as_ref(), now);
            match self.standings.get_mut(si) {
                Some(slot) => *slot = standing,
                None => self.standings.push(standing),
            }
            match self.services.get_mut(si) {
                Some(old) => {
                    if *old != v {
                        *old = v;
                        changed = true;
                    }
                    self.made[si] = made;
                }
                None => {
                    self.services.push(v);
                    self.made.push(made);
                }
            }
        }
        let aws: Vec<Vec<Verdict>> =
            state.aws.iter().map(|a| a.asgs.iter().map(|(_, g)| g.verdict(a.spec.grace, now)).collect()).collect();
        let backups: Vec<Verdict> = state.backups.iter().map(|b| b.verdict(now)).collect();
        let others = Self::others(state, &aws, &backups, now);
        if others != self.others {
            (self.aws, self.backups, self.others) = (aws, backups, others);
            changed = true;
        }
        // Windows start and end with time: planned ones are looked at again when their answer
        // can change, the board's at every refresh.
        if all {
            self.planned.clear();
        }
        // Most fleets have no window at all: then nothing is made.
        let windows = !state.maintenance.list.is_empty() || state.services.iter().any(|s| !s.maintenance.is_empty());
        let was = self.maintenance.len() != state.services.len() || self.maintenance.iter().any(Option::is_some);
        let mut maintenance = Vec::with_capacity(if windows || was { state.services.len() } else { 0 });
        for (si, svc) in state.services.iter().enumerate().filter(|_| windows || was) {
            if self.planned.get(si).is_none_or(|(_, until)| now >= *until) {
                let p = super::maintenance::planned(svc, now);
                match self.planned.get_mut(si) {
                    Some(slot) => *slot = p,
                    None => self.planned.push(p),
                }
            }
            let ad_hoc = (!state.maintenance.list.is_empty())
                .then(|| super::maintenance::ad_hoc(state, &format!("service {}", svc.name), now))
                .flatten();
            maintenance.push(super::maintenance::longer(self.planned[si].0.clone(), ad_hoc));
        }
        if (windows || was) && maintenance != self.maintenance {
            self.maintenance = maintenance;
            changed = true;
        }
        // Who blocks whom follows the verdicts: services' own, and the items they need.
        if changed {
            let statuses: Vec<Verdict> =
                (state.services.iter().zip(&self.services)).map(|(svc, v)| super::named_worst(svc, v)).collect();
            let blocking = super::blocked::blocking(state, &statuses, now);
            if blocking != self.blocking {
                self.blocking = blocking;
                changed = true;
            }
        }
        if changed {
            self.items = self.items(state);
            self.service_tally = self.items.iter().filter(|i| i.counted()).map(|i| i.verdict.status).collect();
            self.instance_tally = (self.services.iter().zip(&state.services))
                .flat_map(|(v, s)| {
                    v.instances.iter().zip(&s.instances).filter(|(_, i)| i.present()).map(|(v, _)| v.status)
                })
                .collect();
            let mut order: Vec<usize> = (0..self.services.len()).collect();
            order.sort_by_key(|&i| (std::cmp::Reverse(self.services[i].status()), self.quiet(i)));
            self.order = order;
            self.revision = REVISIONS.fetch_add(1, Ordering::Relaxed);
        }
        self.at = Some((now, rule, state.events, state.shape));
    }

    /// Whether service `si` is blocked by a cause or in maintenance: its state is shown quiet.
    pub fn quiet(&self, si: usize) -> bool {
        self.blocking.is_blocked(si) || self.maintenance.get(si).is_some_and(Option::is_some)
    }

    /// Service indices, worst first; ties keep config order.
    pub fn worst_first(&self) -> &[usize] {
        &self.order
    }
}

/// One service's verdicts at `now`.
fn service_verdicts(
    state: &State,
    si: usize,
    svc: &ServiceState,
    standing: Option<&(super::budget::Basis, super::budget::Standing)>,
    now: SystemTime,
) -> ServiceVerdicts {
    let instances: Vec<Verdict> =
        svc.instances.iter().map(|i| i.verdict(&svc.check, state.stale_after_intervals, now)).collect();
    let signals = state.signal_verdict(si, now);
    let flapping = svc.flapping.flapping.then(|| Verdict::new(Status::Warn, svc.flapping.reason()));
    let counted: Vec<bool> = svc.instances.iter().map(|i| i.counts(now)).collect();
    // The worst instance among those that count; among all when none does (all starting).
    let any_counts = counted.iter().any(|c| *c);
    let worst = (instances.iter().enumerate())
        .filter(|(i, _)| !any_counts || counted[*i])
        .rev()
        .max_by_key(|(_, v)| (v.status, !v.reason.is_empty()))
        .map(|(i, _)| i);
    let aws = (state.aws.iter())
        .flat_map(|a| [a.alarm_verdict(&svc.name), a.queue_verdict(&svc.name), a.database_verdict(&svc.name, now)])
        .flatten()
        .max_by_key(|v| v.status);
    let budget = (standing.and_then(|(_, s)| s.alert.as_ref()))
        .map(|(alert, words)| Verdict::new(super::budget::alert_status(*alert), words.clone()));
    let fleet = svc.fleet_verdict();
    ServiceVerdicts { worst, instances, signals, flapping, fleet, counted, aws, budget }
}

/// Until when a service's verdicts made at `now` stay the same if nothing happens to it: the
/// first moment a result goes stale or a signal point stops being current. `None`: for ever. A
/// stale result's reason counts its age, so it holds only for this `now`.
fn holds_until(state: &State, svc: &ServiceState, now: SystemTime) -> Option<SystemTime> {
    let mut until: Option<SystemTime> = None;
    let mut ends = |at: SystemTime, lasts: Duration| {
        let Some(end) = at.checked_add(lasts) else { return };
        let end = if now > end { now } else { end };
        until = Some(until.map_or(end, |u| u.min(end)));
    };
    for inst in &svc.instances {
        match inst.life {
            // "gone 40s ago" counts its age.
            super::Life::Gone { .. } => ends(now, Duration::ZERO),
            super::Life::Starting { until, .. } if now < until => ends(until, Duration::ZERO),
            _ => {}
        }
        if let Some(last) = inst.health.latest() {
            ends(last.at, inst.stale_after(&svc.check, state.stale_after_intervals));
        }
    }
    // A budget's windows move on at each minute.
    if svc.slo.is_some() {
        let secs = now.duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs();
        ends(std::time::UNIX_EPOCH + Duration::from_secs((secs / 60 + 1) * 60), Duration::ZERO);
    }
    // A point no longer current stays so: only a current one has an end ahead.
    let current = |at: SystemTime, lasts: Duration| at.checked_add(lasts).is_some_and(|end| now <= end);
    if let Some(p) = svc.scraped {
        let lasts = state.signal_fresh_for(&svc.check);
        if current(p.at, lasts) {
            ends(p.at, lasts);
        }
    }
    if let Some((p, lasts)) = svc.external.as_ref().and_then(|e| e.latest.map(|p| (p, e.fresh_for)))
        && current(p.at, lasts)
    {
        ends(p.at, lasts);
    }
    until
}
