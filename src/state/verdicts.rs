//! Every instance's verdict at one moment, computed once and shared by everything drawn in a frame.

use super::State;
use super::status::{Status, Tally, Verdict};
use std::time::SystemTime;

/// The verdicts of one service's instances.
#[derive(Debug, Clone)]
pub struct ServiceVerdicts {
    pub instances: Vec<Verdict>,
    /// Index of the worst instance (the first of equals), if there are instances.
    pub worst: Option<usize>,
    /// Error rate and latency against thresholds, when current signals exist.
    pub signals: Option<Verdict>,
    /// "flapping between OK and CRIT (…)", while the service's state changes too often.
    pub flapping: Option<Verdict>,
}

impl ServiceVerdicts {
    /// As bad as the worst instance or its signals; unknown without instances. A flapping
    /// service is one steady warning, unless nothing about it is current.
    pub fn status(&self) -> Status {
        let health = self.worst_verdict().map_or(Status::Unknown, |v| v.status);
        match &self.flapping {
            Some(f) if health != Status::Stale => f.status,
            _ => self.signals.as_ref().map_or(health, |s| health.max(s.status)),
        }
    }

    /// Health status alone.
    pub fn health_status(&self) -> Status {
        self.worst_verdict().map_or(Status::Unknown, |v| v.status)
    }

    pub fn worst_verdict(&self) -> Option<&Verdict> {
        self.worst.map(|i| &self.instances[i])
    }
}

/// The whole fleet's verdicts at one `now`.
#[derive(Debug, Clone)]
pub struct Verdicts {
    pub services: Vec<ServiceVerdicts>,
    /// Per AWS account, each Auto Scaling group's verdict.
    pub aws: Vec<Vec<Verdict>>,
    /// Each backup job's verdict.
    pub backups: Vec<Verdict>,
    /// Everything the header and the wall count, with names, worst first (ties in config order,
    /// services first): the tally below is these items' statuses, so counts and names agree.
    pub items: Vec<Item>,
    pub service_tally: Tally,
    pub instance_tally: Tally,
}

/// What a counted item is: the header and the wall count these together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Service,
    Asg,
    Backup,
    /// An AWS account the board cannot see.
    Account,
}

/// One counted item with its name as the wall and the header write it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub kind: Kind,
    /// `payments`, `asg web-asg`, `backup postgres base`, `aws prod`.
    pub name: String,
    pub verdict: Verdict,
}

impl Verdicts {
    /// Services, groups, backup jobs and accounts the board cannot see, worst first. Groups and
    /// backup jobs count like services; a blind account counts as unknown.
    fn items(state: &State, services: &[ServiceVerdicts], aws: &[Vec<Verdict>], backups: &[Verdict]) -> Vec<Item> {
        let mut out: Vec<Item> = Vec::new();
        for (svc, v) in state.services.iter().zip(services) {
            let verdict = super::named_worst(svc, v);
            out.push(Item { kind: Kind::Service, name: svc.name.clone(), verdict });
        }
        for (a, groups) in state.aws.iter().zip(aws) {
            for ((name, _), v) in a.asgs.iter().zip(groups) {
                out.push(Item { kind: Kind::Asg, name: format!("asg {name}"), verdict: v.clone() });
            }
        }
        for (b, v) in state.backups.iter().zip(backups) {
            out.push(Item { kind: Kind::Backup, name: format!("backup {}", b.job.name), verdict: v.clone() });
        }
        for a in state.aws.iter().filter(|a| a.error.is_some()) {
            let reason = a.error.as_ref().map(|(_, e)| e.clone()).unwrap_or_default();
            out.push(Item {
                kind: Kind::Account,
                name: format!("aws {}", a.spec.name),
                verdict: Verdict::new(Status::Unknown, reason),
            });
        }
        out.sort_by_key(|i| std::cmp::Reverse(i.verdict.status));
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

    pub fn of(state: &State, now: SystemTime) -> Self {
        let services: Vec<ServiceVerdicts> = state
            .services
            .iter()
            .enumerate()
            .map(|(si, svc)| {
                let instances: Vec<Verdict> =
                    svc.instances.iter().map(|i| i.verdict(&svc.check, state.stale_after_intervals, now)).collect();
                let signals = state.signal_verdict(si, now);
                let flapping = svc.flapping.flapping.then(|| Verdict::new(Status::Warn, svc.flapping.reason()));
                ServiceVerdicts { worst: super::worst_index(&instances), instances, signals, flapping }
            })
            .collect();
        let aws: Vec<Vec<Verdict>> =
            state.aws.iter().map(|a| a.asgs.iter().map(|(_, g)| g.verdict(a.spec.grace, now)).collect()).collect();
        let backups: Vec<Verdict> = state.backups.iter().map(|b| b.verdict(now)).collect();
        let items = Self::items(state, &services, &aws, &backups);
        let service_tally = items.iter().map(|i| i.verdict.status).collect();
        let instance_tally = services.iter().flat_map(|s| s.instances.iter().map(|v| v.status)).collect();
        Self { services, aws, backups, items, service_tally, instance_tally }
    }

    /// Service indices, worst first; ties keep config order.
    pub fn worst_first(&self) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..self.services.len()).collect();
        idx.sort_by_key(|&i| std::cmp::Reverse(self.services[i].status()));
        idx
    }
}
