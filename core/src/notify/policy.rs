//! When a change goes out to one destination: at or above its `min_state`, matching its filters,
//! not silenced, at most once per item per `cooldown` (a recovery, and the start of flapping,
//! always go out once), and changes that happen within `group_wait` of each other in one message.

use super::change::{Change, Tracker};
use crate::state::Status;
use std::collections::HashMap;
use std::time::{Duration, SystemTime};

#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub min_state: Status,
    /// Also notices below warnings (`min_state = "info"`): counts of instances changing.
    pub info: bool,
    /// Only these services (by name); empty for all. Other kinds always pass.
    pub services: Vec<String>,
    /// Only services in these environments; empty for all.
    pub envs: Vec<String>,
    pub cooldown: Duration,
    pub group_wait: Duration,
}

/// How bad a state is for notifying: the board going stale counts as a warning.
fn severity(s: Status) -> u8 {
    match s {
        Status::Ok | Status::Unknown => 0,
        Status::Stale | Status::Warn => 1,
        Status::Crit => 2,
    }
}

/// What one destination last sent for each item, and what it is waiting to send.
#[derive(Debug)]
pub struct Outbox {
    pub policy: Policy,
    /// Per item: the state last sent, when (none for the baseline, which was not sent), and
    /// whether it was flapping.
    sent: HashMap<String, (Status, Option<SystemTime>, bool)>,
    waiting_since: Option<SystemTime>,
}

impl Outbox {
    pub fn new(policy: Policy) -> Self {
        Self { policy, sent: HashMap::new(), waiting_since: None }
    }

    /// The state as this destination sees it: below `min_state` is OK.
    fn level(&self, s: Status) -> Status {
        if severity(s) >= severity(self.policy.min_state).max(1) { s } else { Status::Ok }
    }

    pub fn wants(&self, kind: &str, name: &str, env: Option<&str>) -> bool {
        kind != "service"
            || ((self.policy.services.is_empty() || self.policy.services.iter().any(|s| s == name))
                && (self.policy.envs.is_empty() || env.is_some_and(|e| self.policy.envs.iter().any(|x| x == e))))
    }

    /// The changes to send now, if any; `silenced` says which item keys must not notify.
    pub fn due(&mut self, tracker: &Tracker, silenced: &dyn Fn(&str) -> bool, now: SystemTime) -> Vec<Change> {
        let mut due = Vec::new();
        for (key, t) in tracker.items() {
            if !self.wants(t.now.kind, &t.now.name, t.now.env.as_deref()) {
                continue;
            }
            let level = self.level(t.now.status);
            let Some(&(sent, at, was_flapping)) = self.sent.get(key) else {
                // First sight: an item that starts OK is the baseline, one that starts bad is news.
                if level == Status::Ok {
                    // Nothing was sent: the cooldown does not hold the first change back.
                    self.sent.insert(key.to_string(), (Status::Ok, None, false));
                    continue;
                }
                if !silenced(key) {
                    due.push((key.to_string(), self.change(t, Status::Ok)));
                }
                continue;
            };
            let cooled = at.is_none_or(|at| now.duration_since(at).unwrap_or_default() >= self.policy.cooldown);
            let starts_flapping = t.now.reason.starts_with("flapping") && !was_flapping;
            if level != sent && (cooled || level == Status::Ok || starts_flapping) && !silenced(key) {
                due.push((key.to_string(), self.change(t, sent)));
            }
        }
        if due.is_empty() {
            self.waiting_since = None;
            return Vec::new();
        }
        let since = *self.waiting_since.get_or_insert(now);
        if now.duration_since(since).unwrap_or_default() < self.policy.group_wait {
            return Vec::new();
        }
        self.waiting_since = None;
        due.into_iter()
            .map(|(key, c)| {
                self.sent.insert(key, (c.state, Some(now), c.flapping()));
                c
            })
            .collect()
    }

    fn change(&self, t: &super::change::Tracked, previous: Status) -> Change {
        Change {
            kind: t.now.kind,
            name: t.now.name.clone(),
            env: t.now.env.clone(),
            state: self.level(t.now.status),
            previous,
            reason: t.now.reason.clone(),
            previous_for_s: t.before.map(|(_, held)| held.as_secs()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::change::Observed;
    use super::*;

    fn obs(name: &str, status: Status) -> Observed {
        Observed { kind: "service", name: name.into(), env: Some("prod".into()), status, reason: "why".into() }
    }

    fn policy(min: Status) -> Policy {
        Policy {
            min_state: min,
            info: false,
            services: vec![],
            envs: vec![],
            cooldown: Duration::from_secs(300),
            group_wait: Duration::from_secs(2),
        }
    }

    #[test]
    fn down_and_back_is_one_crit_and_one_resolved_and_a_storm_is_held_by_the_cooldown() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let at = |s: u64| t0 + Duration::from_secs(s);
        let mut tracker = Tracker::default();
        let mut out = Outbox::new(policy(Status::Warn));
        let none = |_: &str| false;
        let mut sent = Vec::new();
        let script = [(0, Status::Ok), (10, Status::Crit), (60, Status::Ok), (70, Status::Crit), (80, Status::Ok)];
        let mut step = 0;
        for s in 0..120 {
            if step < script.len() && script[step].0 == s {
                tracker.update(vec![obs("payments", script[step].1)], at(s));
                step += 1;
            }
            sent.extend(out.due(&tracker, &none, at(s)).into_iter().map(|c| (s, c.state)));
        }
        // CRIT after the group wait, OK at once; the second CRIT is within the cooldown and is
        // over before it ends, so nothing more.
        assert_eq!(sent, vec![(12, Status::Crit), (62, Status::Ok)]);
    }

    #[test]
    fn min_state_filters_and_silences_hold() {
        let t0 = SystemTime::UNIX_EPOCH;
        let mut tracker = Tracker::default();
        let mut out = Outbox::new(Policy { group_wait: Duration::ZERO, ..policy(Status::Crit) });
        tracker.update(vec![obs("a", Status::Ok), obs("b", Status::Ok)], t0);
        assert!(out.due(&tracker, &|_| false, t0).is_empty());
        tracker.update(vec![obs("a", Status::Warn), obs("b", Status::Crit)], t0 + Duration::from_secs(1));
        let silenced = |k: &str| k == "service b";
        assert!(out.due(&tracker, &silenced, t0 + Duration::from_secs(1)).is_empty(), "WARN < crit, b silenced");
        let got = out.due(&tracker, &|_| false, t0 + Duration::from_secs(2));
        assert_eq!(got.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["b"], "the silence ended");
    }
}
