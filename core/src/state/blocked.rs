//! Causes before symptoms: a failing service whose `depends_on` names something failing too is
//! blocked by it. Its row says so, it is counted once, under its cause, and it does not page.

use super::{State, Status, Verdict};
use crate::config::dependencies::Dependency;
use std::time::SystemTime;

/// A cause with what is behind it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    /// As the board names it: `orders-db`, `asg web-asg`, `queue emails`.
    pub name: String,
    pub verdict: Verdict,
    /// The services blocked by it, in config order.
    pub behind: Vec<String>,
}

impl Cause {
    /// `orders-db CRIT — 4 services behind it`.
    pub fn headline(&self) -> String {
        let n = self.behind.len();
        let what = if n == 1 { "service" } else { "services" };
        format!("{} {} — {n} {what} behind it", self.name, self.verdict.status.word())
    }
}

/// Who blocks whom at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Blocking {
    /// Per service, the causes it is blocked by (empty: judged on its own), by name.
    pub by: Vec<Vec<String>>,
    /// Every cause with something behind it, worst first, then most behind.
    pub causes: Vec<Cause>,
}

impl Blocking {
    /// `blocked by orders-db`, `blocked by orders-db, asg web-asg`.
    pub fn label(&self, service: usize) -> Option<String> {
        let by = self.by.get(service).filter(|b| !b.is_empty())?;
        Some(format!("blocked by {}", by.join(", ")))
    }

    /// Whether the service is blocked now: then it is counted once, under its cause.
    pub fn is_blocked(&self, service: usize) -> bool {
        self.by.get(service).is_some_and(|b| !b.is_empty())
    }
}

/// A cause fails when it is WARN or CRIT; a dependent is blocked when it fails too.
fn failing(s: Status) -> bool {
    s >= Status::Warn
}

/// Who blocks whom, from each service's own verdict (`services`, in state order) and the
/// state's other items. A blocked service's causes are its failing dependencies, or where such a
/// dependency is blocked itself, what blocks it: the first failure in the chain is named.
pub fn blocking(state: &State, services: &[Verdict], now: SystemTime) -> Blocking {
    let n = state.services.len();
    let mut roots: Vec<Option<Vec<Dependency>>> = vec![None; n];
    let mut out = Blocking { by: vec![Vec::new(); n], causes: Vec::new() };
    for si in 0..n {
        if !services.get(si).is_some_and(|v| failing(v.status)) || state.services[si].depends_on.is_empty() {
            continue;
        }
        let causes = root_causes(state, services, si, &mut roots, now);
        for dep in &causes {
            let name = dep.to_string();
            match out.causes.iter_mut().find(|c| c.name == name) {
                Some(c) => c.behind.push(state.services[si].name.to_string()),
                None => out.causes.push(Cause {
                    verdict: verdict_of(state, services, dep, now),
                    behind: vec![state.services[si].name.to_string()],
                    name,
                }),
            }
        }
        out.by[si] = causes.iter().map(Dependency::to_string).collect();
    }
    out.causes.sort_by_key(|c| (std::cmp::Reverse(c.verdict.status), std::cmp::Reverse(c.behind.len())));
    out
}

/// The first failures along `si`'s failing dependencies (memoised in `roots`; a service being
/// walked has none, so a cycle, which the config refuses, would end there).
fn root_causes(
    state: &State,
    services: &[Verdict],
    si: usize,
    roots: &mut Vec<Option<Vec<Dependency>>>,
    now: SystemTime,
) -> Vec<Dependency> {
    if let Some(known) = &roots[si] {
        return known.clone();
    }
    roots[si] = Some(Vec::new());
    let mut found: Vec<Dependency> = Vec::new();
    for dep in &state.services[si].depends_on {
        if !failing(verdict_of(state, services, dep, now).status) {
            continue;
        }
        let further = match dep {
            Dependency::Service(name) => match state.service_position(name) {
                Some(di) => root_causes(state, services, di, roots, now),
                None => Vec::new(),
            },
            _ => Vec::new(),
        };
        let add = if further.is_empty() { vec![dep.clone()] } else { further };
        for d in add {
            if !found.contains(&d) {
                found.push(d);
            }
        }
    }
    roots[si] = Some(found.clone());
    found
}

/// A dependency's verdict now; unknown when the board has not read it (or no longer has it).
pub fn verdict_of(state: &State, services: &[Verdict], dep: &Dependency, now: SystemTime) -> Verdict {
    let unknown = || Verdict::new(Status::Unknown, "not read yet");
    let found = match dep {
        Dependency::Service(name) => state.service_position(name).and_then(|i| services.get(i).cloned()),
        Dependency::Asg(name) => (state.aws.iter())
            .find_map(|a| a.asgs.iter().find(|(n, _)| n == name).map(|(_, g)| g.verdict(a.spec.grace, now))),
        Dependency::Queue(name) => {
            (state.aws.iter()).find_map(|a| a.queues.iter().find(|q| &q.spec.name == name).map(|q| q.verdict()))
        }
        Dependency::Database(id) => (state.aws.iter())
            .find_map(|a| a.databases.iter().find(|d| &d.spec.id == id && d.latest.is_some()).map(|d| d.verdict(now))),
        Dependency::Backup(name) => state.backups.iter().find(|b| &b.job.name == name).map(|b| b.verdict(now)),
    };
    found.unwrap_or_else(unknown)
}
