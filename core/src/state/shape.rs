//! A fleet that changes shape: instances that come and go, a config loaded again. Whatever stays
//! (by key) keeps what the board knows of it; the rest starts empty or is gone.

use super::{InstanceState, ServiceKey, ServiceState, State, aws, backups, external_of};
use crate::config::{Fleet, InstanceSpec, Loaded, ServiceSpec};
use std::collections::{HashMap, HashSet};

impl State {
    /// The service at `si` now has `specs` for instances.
    pub(super) fn set_instances(&mut self, si: usize, specs: Vec<InstanceSpec>) {
        self.services[si].set_instances(specs);
        self.reshaped();
    }

    /// The fleet of a config loaded again.
    pub(super) fn reshape(&mut self, loaded: &Loaded) {
        let (fleet, polling) = (&loaded.fleet, &loaded.config.polling);
        self.components = loaded.config.status.components.clone();
        self.stale_after_intervals = polling.stale_after_intervals;
        let stale = self.stale_after_intervals;
        let mut was: HashMap<ServiceKey, ServiceState> = self.services.drain(..).map(|s| (s.name.clone(), s)).collect();
        self.services = fleet
            .services
            .iter()
            .map(|spec| match was.remove(spec.name.as_str()) {
                Some(kept) => kept.follow(fleet, spec, stale),
                None => ServiceState::new(fleet, spec, polling.history, stale),
            })
            .collect();
        let mut was: HashMap<String, backups::BackupState> =
            self.backups.drain(..).map(|b| (b.job.name.clone(), b)).collect();
        self.backups = (loaded.config.backups.iter())
            .map(|job| match was.remove(&job.name) {
                Some(mut kept) => {
                    kept.job = job.clone();
                    kept
                }
                None => backups::BackupState::new(job),
            })
            .collect();
        // An account whose settings changed starts again: its series are its queries'.
        let mut was: HashMap<String, aws::AwsAccountState> =
            self.aws.drain(..).map(|a| (a.spec.name.clone(), a)).collect();
        self.aws = (fleet.aws.iter())
            .map(|spec| match was.remove(&spec.name) {
                Some(kept) if kept.spec == *spec => kept,
                _ => aws::AwsAccountState::new(spec),
            })
            .collect();
        let names: HashSet<&str> = fleet.services.iter().map(|s| s.name.as_str()).collect();
        self.deploys.keep_services(|name| names.contains(name));
        self.reshaped();
    }

    /// Positions moved: keys are looked up again, and every kept verdict is made again.
    pub(super) fn reshaped(&mut self) {
        self.shape += 1;
        self.positions = super::Positions::of(&self.services);
    }
}

impl ServiceState {
    /// The service's instances are now `specs`, in that order; a key listed twice counts once.
    pub(super) fn set_instances(&mut self, specs: Vec<InstanceSpec>) {
        let history = self.signals.capacity();
        let mut was: HashMap<String, InstanceState> =
            self.instances.drain(..).map(|i| (i.spec.key().to_string(), i)).collect();
        let mut seen = HashSet::new();
        for spec in specs {
            if !seen.insert(spec.key().to_string()) {
                continue;
            }
            let inst = match was.remove(spec.key()) {
                Some(mut kept) => {
                    kept.spec = spec;
                    kept
                }
                None => InstanceState::new(spec, history, &self.check),
            };
            self.instances.push(inst);
        }
        self.changes += 1;
    }

    /// This service under a config loaded again: what it knows stays where it means the same.
    fn follow(mut self, fleet: &Fleet, spec: &ServiceSpec, stale_after_intervals: u32) -> Self {
        let window_changed = self.check.window != spec.check.window;
        self.env = spec.env.clone();
        self.check = spec.check.clone();
        self.depends_on = spec.depends_on.clone();
        self.dependency_wait = spec.dependency_wait;
        self.maintenance = spec.maintenance.clone();
        // The counts stay through a change of objective; a new window keeps what fits.
        self.slo = spec.slo;
        self.outcomes.follow(spec.slo.as_ref());
        self.external = match (self.external.take(), external_of(fleet, spec, stale_after_intervals)) {
            (Some(was), Some(now)) if was.source == now.source => {
                Some(super::External { latest: was.latest, error: was.error, ..now })
            }
            (_, now) => now,
        };
        // The rows of a service fed by Prometheus' `up` come from the query, and those of one
        // with sources of instances from its sources (which send a new list when they change).
        if spec.discovery.is_empty() {
            self.discovery = None;
            if spec.promql.as_ref().is_none_or(|q| q.up.is_none()) {
                self.set_instances(spec.instances.clone());
            }
        } else if self.discovery.is_none() {
            self.discovery = Some(super::Discovery::default());
        }
        if window_changed {
            // Windows of another length would merge into wrong rates.
            for inst in &mut self.instances {
                inst.metrics = super::InstanceMetrics::new(spec.check.window);
            }
            self.scraped = None;
        }
        self.changes += 1;
        self
    }
}
