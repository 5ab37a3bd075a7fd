//! Which versions a service runs, ran, and is rolling to.

use super::{ServiceState, State};
use std::time::SystemTime;

impl State {
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
        for d in self.deploys.list.iter().filter(|d| *d.service == *svc.name) {
            saw(d.ended.unwrap_or(d.started), &d.version);
            if let Some(from) = &d.from {
                saw(d.started, from);
            }
        }
        seen.sort_by_key(|s| std::cmp::Reverse(s.0));
        seen.into_iter().map(|(_, v)| v).collect()
    }
}
