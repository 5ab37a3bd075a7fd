//! Instances that come and go: a new one is "starting" for its grace, one that leaves is "gone"
//! for a while, dimmed, and then dropped. Neither counts against its service: churn is not an
//! outage. A service whose sources list no instance at all is one.

use super::{InstanceState, ServiceState, State, Status, Verdict};
use crate::config::InstanceSpec;
use std::collections::HashMap;
use std::time::{Duration, SystemTime};

/// How long a departed instance stays on the board, dimmed, before its row goes.
pub const GONE_SHOWN: Duration = Duration::from_secs(300);

/// Where an instance is in its life on the board.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Life {
    /// Checked and counted.
    #[default]
    Serving,
    /// New: failed checks do not count until it first answers, or until `until`.
    Starting { since: SystemTime, until: SystemTime },
    /// Its load balancer drains it: checked and shown, not counted.
    Draining,
    /// Left its source at `since`: no longer polled, shown dimmed, then dropped.
    Gone { since: SystemTime },
}

impl Life {
    /// The word a row shows instead of its state, when it is not serving.
    pub fn word(&self, now: SystemTime) -> Option<&'static str> {
        match self {
            Life::Serving => None,
            Life::Starting { until, .. } if now >= *until => None,
            Life::Starting { .. } => Some("STARTING"),
            Life::Draining => Some("DRAINING"),
            Life::Gone { .. } => Some("GONE"),
        }
    }
}

/// What an instance's own source says of it, beside the board's check: a target group's
/// load balancer (`healthy`, `unhealthy`, `initial`, `draining`, `unused`, `unavailable`, with
/// its reason code), or an Auto Scaling group (`Pending`, `InService`, `Terminating`, …, with
/// its health when that is not `Healthy`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LbView {
    pub by: ViewBy,
    pub state: String,
    pub reason: Option<String>,
}

/// Who gave an [`LbView`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewBy {
    LoadBalancer,
    AutoScaling,
}

impl ViewBy {
    pub fn words(self) -> &'static str {
        match self {
            ViewBy::LoadBalancer => "load balancer",
            ViewBy::AutoScaling => "Auto Scaling",
        }
    }
}

impl LbView {
    /// Leaving: the load balancer drains it, or its group is taking it out.
    pub fn draining(&self) -> bool {
        match self.by {
            ViewBy::LoadBalancer => self.state == "draining",
            ViewBy::AutoScaling => {
                let s = self.state.as_str();
                ["Terminating", "Terminated", "Detaching", "Detached", "EnteringStandby", "Standby"]
                    .iter()
                    .any(|w| s.starts_with(w))
            }
        }
    }

    /// Arriving: the load balancer's first checks, or the group's launch.
    pub fn initial(&self) -> bool {
        match self.by {
            ViewBy::LoadBalancer => self.state == "initial",
            ViewBy::AutoScaling => self.state.starts_with("Pending"),
        }
    }

    /// "draining (Target.DeregistrationInProgress)", "Pending", "InService (Unhealthy)".
    pub fn words(&self) -> String {
        match &self.reason {
            Some(r) => format!("{} ({r})", self.state),
            None => self.state.clone(),
        }
    }
}

/// One instance a service's sources list.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundInstance {
    pub spec: InstanceSpec,
    /// How long it is "starting" when new.
    pub grace: Duration,
    /// The load balancer's view, for a target group's targets.
    pub lb: Option<LbView>,
}

impl FoundInstance {
    fn draining(&self) -> bool {
        self.lb.as_ref().is_some_and(LbView::draining)
    }

    fn initial(&self) -> bool {
        self.lb.as_ref().is_some_and(LbView::initial)
    }
}

/// One source of a service's instances as it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceView {
    /// "targets from Prometheus", "file_sd /etc/…/api-*.json".
    pub what: String,
    /// Instances in the list it gave last.
    pub count: usize,
    /// When that list came, if it ever answered.
    pub listed_at: Option<SystemTime>,
    /// Why its latest answer failed; the list from `listed_at` stands meanwhile.
    pub error: Option<String>,
    /// What an empty list means, in words ("the target group is empty").
    pub empty: String,
}

/// Everything a service's sources gave, merged: what [`super::Event::Discovered`] carries.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub instances: Vec<FoundInstance>,
    pub sources: Vec<SourceView>,
    /// The sources listed this many, more than `max_instances`: the rest were left out.
    pub capped: Option<usize>,
}

/// What a service's sources say now, as the board keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovery {
    pub sources: Vec<SourceView>,
    pub capped: Option<(usize, usize)>,
    /// Whether any source has answered yet.
    pub answered: bool,
}

impl InstanceState {
    /// Whether the instance counts towards its service's state at `now`.
    pub fn counts(&self, now: SystemTime) -> bool {
        match self.life {
            Life::Serving => true,
            Life::Starting { until, .. } => now >= until,
            Life::Draining | Life::Gone { .. } => false,
        }
    }

    /// Whether the instance is still listed by its sources.
    pub fn present(&self) -> bool {
        !matches!(self.life, Life::Gone { .. })
    }

    /// What the instance's life says in place of its check's verdict, if anything.
    pub(super) fn life_verdict(&self, checked: Verdict, now: SystemTime) -> Verdict {
        match self.life {
            Life::Serving => checked,
            Life::Starting { until, .. } if now >= until => checked,
            Life::Starting { since, until } => {
                let grace = crate::format::duration(until.duration_since(since).unwrap_or_default());
                let latest = if checked.reason.is_empty() { "no answer yet".into() } else { checked.reason };
                Verdict::new(Status::Unknown, format!("starting ({grace} grace): {latest}"))
            }
            Life::Draining => {
                let why = self.lb.as_ref().map_or_else(
                    || "load balancer".into(),
                    |l| match (l.by, &l.reason) {
                        // Its reason code says more than the state the row already shows.
                        (ViewBy::LoadBalancer, Some(code)) => format!("load balancer: {code}"),
                        _ => format!("{}: {}", l.by.words(), l.words()),
                    },
                );
                Verdict::new(checked.status.min(Status::Unknown), format!("draining ({why})"))
            }
            Life::Gone { since } => {
                let ago = crate::format::age(now.duration_since(since).unwrap_or_default());
                Verdict::new(Status::Unknown, format!("gone {ago} ago"))
            }
        }
    }
}

impl ServiceState {
    /// The instances the sources list now, merged with what the board knows: instances that
    /// stay keep everything; new ones start ("starting", unless this is the first list, whose
    /// instances were there before the board); the rest are "gone" from `at`, kept dimmed.
    pub(super) fn follow_found(&mut self, found: Found, at: SystemTime) {
        let first =
            self.discovery.as_ref().is_none_or(|d| !d.answered) && self.instances.iter().all(|i| i.health.is_empty());
        let history = self.signals.capacity();
        let mut was: HashMap<String, InstanceState> =
            self.instances.drain(..).map(|i| (i.spec.key().to_string(), i)).collect();
        let mut order: Vec<String> = Vec::new();
        let mut departed: Vec<InstanceState> = Vec::new();
        let listed = found.instances.len();
        for f in found.instances {
            let key = f.spec.key().to_string();
            let starting = |grace: Duration| Life::Starting { since: at, until: at + grace };
            let inst = match was.remove(&key) {
                Some(mut kept) => {
                    kept.life = match kept.life {
                        _ if f.draining() => Life::Draining,
                        // Back after leaving: as new.
                        Life::Gone { .. } => starting(f.grace),
                        Life::Draining => Life::Serving,
                        life => life,
                    };
                    kept.spec = f.spec.clone();
                    kept.lb = f.lb.clone();
                    kept
                }
                None => {
                    let mut inst = InstanceState::new(f.spec.clone(), history, &self.check);
                    inst.life = if f.draining() {
                        Life::Draining
                    } else if first && !f.initial() {
                        Life::Serving
                    } else {
                        starting(f.grace)
                    };
                    inst.lb = f.lb.clone();
                    inst
                }
            };
            if order.contains(&key) {
                continue;
            }
            order.push(key);
            self.instances.push(inst);
        }
        // Those that left keep their place after the listed ones, in the order they had.
        for (_, mut inst) in was.drain() {
            if inst.present() {
                inst.life = Life::Gone { since: at };
            }
            departed.push(inst);
        }
        // In a stable order (the map's is not): by when they left, then by name.
        departed.sort_by(|a, b| {
            let since = |i: &InstanceState| match i.life {
                Life::Gone { since } => since,
                _ => at,
            };
            (since(a), &a.spec.label).cmp(&(since(b), &b.spec.label))
        });
        self.instances.extend(departed);
        let sources = found.sources;
        self.discovery = Some(Discovery {
            answered: sources.iter().any(|s| s.listed_at.is_some()),
            capped: found.capped.map(|total| (listed, total)),
            sources,
        });
        self.changes += 1;
    }

    /// The service's verdict about its fleet itself: critical when its sources answered and
    /// list no instance at all.
    pub fn fleet_verdict(&self) -> Option<Verdict> {
        let d = self.discovery.as_ref()?;
        if self.instances.iter().any(InstanceState::present) {
            return None;
        }
        if !d.answered {
            let why: Vec<String> = d
                .sources
                .iter()
                .map(|s| format!("{}: {}", s.what, s.error.as_deref().unwrap_or("not read yet")))
                .collect();
            return Some(Verdict::new(Status::Unknown, format!("no instances yet ({})", why.join("; "))));
        }
        let empty: Vec<&str> = d.sources.iter().map(|s| s.empty.as_str()).collect();
        Some(Verdict::new(Status::Crit, format!("no instances: {}", empty.join("; "))))
    }
}

impl State {
    /// Drops the rows of instances gone longer than [`GONE_SHOWN`]; whether any went.
    pub fn drop_departed(&mut self, now: SystemTime) -> bool {
        let mut dropped = false;
        for svc in &mut self.services {
            let before = svc.instances.len();
            svc.instances.retain(|i| match i.life {
                Life::Gone { since } => now.duration_since(since).unwrap_or_default() < GONE_SHOWN,
                _ => true,
            });
            if svc.instances.len() != before {
                svc.changes += 1;
                dropped = true;
            }
        }
        if dropped {
            self.reshaped();
        }
        dropped
    }

    /// What the service's sources say that a person should know: a source failing (its list
    /// stands, with its age), or the cap reached. `None` when all is well.
    pub fn discovery_note(&self, service: usize, now: SystemTime) -> Option<String> {
        let d = self.services.get(service)?.discovery.as_ref()?;
        let mut notes: Vec<String> = d
            .sources
            .iter()
            .filter_map(|s| {
                let e = s.error.as_ref()?;
                Some(match s.listed_at {
                    Some(at) => {
                        let age = crate::format::age(now.duration_since(at).unwrap_or_default());
                        format!("{}: {e}, list from {age} ago", s.what)
                    }
                    None => format!("{}: {e}", s.what),
                })
            })
            .collect();
        if let Some((kept, total)) = d.capped {
            notes.push(format!("{kept} of {total} instances shown (max_instances)"));
        }
        (!notes.is_empty()).then(|| notes.join("; "))
    }
}
