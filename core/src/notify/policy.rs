//! When a change goes out to one destination: at or above its `min_state`, matching its filters,
//! not silenced, at most once per item per `cooldown` (a recovery, and the start of flapping,
//! always go out once), and changes that happen within `group_wait` of each other in one message.
//! With `repeat`, an item that stays WARN or CRIT is told again every `repeat` until someone
//! takes it. A failure blocked by a failing cause (`depends_on`) is not sent: its cause is; and
//! a new failure of a service with causes waits `dependency_wait` for one to be seen first.
//! Inside a maintenance window an item sends nothing.

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
    /// Remind this often while an item stays at or above `min_state`, not taken nor silenced.
    pub repeat: Option<Duration>,
    /// Error-budget alerts it takes (pages, tickets): a state that comes only from one left out
    /// is OK here.
    pub budget_alerts: Vec<crate::state::budget::Alert>,
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

    /// Whether the state last sent for `key` is a bad one: the people here were told it fails.
    pub fn told_failing(&self, key: &str) -> bool {
        self.sent.get(key).is_some_and(|(s, _, _)| *s != Status::Ok)
    }

    /// The changes to send now, if any; `silenced` says which item keys must not notify, `taken`
    /// which have someone on them (no reminders).
    pub fn due(
        &mut self,
        tracker: &Tracker,
        silenced: &dyn Fn(&str) -> bool,
        taken: &dyn Fn(&str) -> bool,
        now: SystemTime,
    ) -> Vec<Change> {
        let mut due = Vec::new();
        for (key, t) in tracker.items() {
            if !self.wants(t.now.kind, &t.now.name, t.now.env.as_deref()) {
                continue;
            }
            let level = self.level(self.status_of(t));
            // Inside a maintenance window nothing is sent; one that ends with the item failing
            // leaves a change that was never sent, which goes out at once.
            if t.now.maintenance || (level != Status::Ok && !t.now.blocked_by.is_empty()) {
                continue;
            }
            let told = self.sent.get(key).is_some_and(|(s, _, _)| *s != Status::Ok);
            let waiting = now.duration_since(t.since).unwrap_or_default() < t.now.wait;
            if level != Status::Ok && !told && waiting {
                continue;
            }
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
            } else if level == sent && level != Status::Ok && !silenced(key) && !taken(key) {
                let since_told = at.map(|at| now.duration_since(at).unwrap_or_default());
                if let (Some(repeat), Some(since_told)) = (self.policy.repeat, since_told)
                    && since_told >= repeat
                {
                    let held = now.duration_since(t.since).unwrap_or_default().as_secs();
                    due.push((key.to_string(), Change { reminder_after_s: Some(held), ..self.change(t, sent) }));
                }
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

    /// The item's state for this destination: without an error-budget alert it does not take.
    fn status_of(&self, t: &super::change::Tracked) -> Status {
        match t.now.budget {
            Some((alert, without)) if !self.policy.budget_alerts.contains(&alert) => without,
            _ => t.now.status,
        }
    }

    fn change(&self, t: &super::change::Tracked, previous: Status) -> Change {
        Change {
            kind: t.now.kind,
            name: t.now.name.clone(),
            env: t.now.env.clone(),
            state: self.level(self.status_of(t)),
            previous,
            reason: t.now.reason.clone(),
            previous_for_s: t.before.map(|(_, held)| held.as_secs()),
            behind: t.now.behind.clone(),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::change::Observed;
    use super::*;
    use crate::state::budget::Alert;

    fn obs(name: &str, status: Status) -> Observed {
        Observed::new("service", name.into(), Some("prod".into()), status, "why".into())
    }

    fn policy(min: Status) -> Policy {
        Policy {
            min_state: min,
            info: false,
            services: vec![],
            envs: vec![],
            cooldown: Duration::from_secs(300),
            group_wait: Duration::from_secs(2),
            repeat: None,
            budget_alerts: vec![Alert::Page, Alert::Ticket],
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
            sent.extend(out.due(&tracker, &none, &none, at(s)).into_iter().map(|c| (s, c.state)));
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
        assert!(out.due(&tracker, &|_| false, &|_| false, t0).is_empty());
        tracker.update(vec![obs("a", Status::Warn), obs("b", Status::Crit)], t0 + Duration::from_secs(1));
        let silenced = |k: &str| k == "service b";
        assert!(
            out.due(&tracker, &silenced, &|_| false, t0 + Duration::from_secs(1)).is_empty(),
            "WARN < crit, b silenced"
        );
        let got = out.due(&tracker, &|_| false, &|_| false, t0 + Duration::from_secs(2));
        assert_eq!(got.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["b"], "the silence ended");
    }

    #[test]
    fn a_cause_is_sent_once_its_blocked_dependents_wait_and_one_still_failing_after_it_is_sent_at_once() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let at = |s: u64| t0 + Duration::from_secs(s);
        let mut tracker = Tracker::default();
        let mut out = Outbox::new(Policy { group_wait: Duration::ZERO, ..policy(Status::Warn) });
        let none = |_: &str| false;
        let dependent = |name: &str, status: Status, blocked: bool| Observed {
            wait: Duration::from_secs(22),
            blocked_by: if blocked { vec!["db".to_string()] } else { vec![] },
            ..obs(name, status)
        };
        let cause = |status: Status, behind: &[&str]| Observed {
            behind: behind.iter().map(|s| s.to_string()).collect(),
            ..obs("db", status)
        };
        let mut sent: Vec<(u64, String)> = Vec::new();
        for s in 0..200 {
            let (db, a, b, c) = match s {
                0..5 => (cause(Status::Ok, &[]), Status::Ok, Status::Ok, false),
                // The dependents check every 2 s: they fail first, on their own for now.
                5..20 => (cause(Status::Ok, &[]), Status::Crit, Status::Crit, false),
                20..100 => (cause(Status::Crit, &["a", "b"]), Status::Crit, Status::Crit, true),
                // The cause is back; `a` is still failing, `b` is well again.
                _ => (cause(Status::Ok, &[]), Status::Crit, Status::Ok, false),
            };
            tracker.update(vec![db, dependent("a", a, c), dependent("b", b, c && b != Status::Ok)], at(s));
            for change in out.due(&tracker, &none, &none, at(s)) {
                sent.push((s, change.line()));
            }
        }
        assert_eq!(
            sent,
            vec![
                (20, "✖ db (prod) CRIT: why — 2 services behind it: a, b".to_string()),
                (100, "✔ db (prod) OK after 1m 20s (was CRIT)".to_string()),
                (100, "✖ a (prod) CRIT: why".to_string()),
            ],
            "nothing for the blocked ones, nothing for b that was never told, a at once"
        );

        // Without a cause failing, a dependent's failure goes out when its wait is over.
        let mut tracker = Tracker::default();
        let mut out = Outbox::new(Policy { group_wait: Duration::ZERO, ..policy(Status::Warn) });
        tracker.update(vec![dependent("c", Status::Ok, false)], at(0));
        tracker.update(vec![dependent("c", Status::Crit, false)], at(1));
        let times: Vec<u64> = (1..60).filter(|&s| !out.due(&tracker, &none, &none, at(s)).is_empty()).collect();
        assert_eq!(times, [23]);
    }

    #[test]
    fn destinations_take_budget_pages_tickets_or_both() {
        fn sent(o: &mut Outbox, tracker: &Tracker, at: SystemTime) -> Vec<Status> {
            o.due(tracker, &|_| false, &|_| false, at).into_iter().map(|c| c.state).collect()
        }
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let at = |s: u64| t0 + Duration::from_secs(s);
        let only = |alerts: Vec<Alert>| {
            Outbox::new(Policy { group_wait: Duration::ZERO, budget_alerts: alerts, ..policy(Status::Warn) })
        };
        let (mut pages, mut tickets, mut both) =
            (only(vec![Alert::Page]), only(vec![Alert::Ticket]), only(vec![Alert::Page, Alert::Ticket]));
        let none = |_: &str| false;
        let mut tracker = Tracker::default();
        tracker.update(vec![obs("api", Status::Ok)], at(0));
        for o in [&mut pages, &mut tickets, &mut both] {
            assert!(o.due(&tracker, &none, &none, at(0)).is_empty());
        }
        // The budget burns at the ticket rule's rate: the service is WARN for it alone.
        tracker
            .update(vec![Observed { budget: Some((Alert::Ticket, Status::Ok)), ..obs("api", Status::Warn) }], at(10));
        assert_eq!(sent(&mut pages, &tracker, at(10)), [], "pages only: a ticket is not for it");
        assert_eq!(sent(&mut tickets, &tracker, at(10)), [Status::Warn]);
        assert_eq!(sent(&mut both, &tracker, at(10)), [Status::Warn]);
        // Then at a page's rate.
        tracker.update(vec![Observed { budget: Some((Alert::Page, Status::Ok)), ..obs("api", Status::Crit) }], at(20));
        assert_eq!(sent(&mut pages, &tracker, at(400)), [Status::Crit]);
        assert_eq!(
            sent(&mut tickets, &tracker, at(400)),
            [Status::Ok],
            "tickets only: the page is not for it, so the ticket is over"
        );
        assert_eq!(sent(&mut both, &tracker, at(400)), [Status::Crit]);
    }

    #[test]
    fn repeat_reminds_while_failing_and_not_once_taken() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let at = |s: u64| t0 + Duration::from_secs(s);
        let mut tracker = Tracker::default();
        let repeat = Some(Duration::from_secs(1800));
        let mut out = Outbox::new(Policy { group_wait: Duration::ZERO, repeat, ..policy(Status::Warn) });
        let none = |_: &str| false;
        tracker.update(vec![obs("db", Status::Ok)], at(0));
        assert!(out.due(&tracker, &none, &none, at(0)).is_empty(), "OK at first is the baseline");
        tracker.update(vec![obs("db", Status::Crit)], at(10));
        let taken_at_5000 = |now: u64| move |_: &str| now >= 5000;
        let mut sent = Vec::new();
        for s in (10..7200).step_by(10) {
            let taken = taken_at_5000(s);
            for c in out.due(&tracker, &none, &taken, at(s)) {
                sent.push((s, c.reminder_after_s));
            }
        }
        // Told at 10; reminded every 30 minutes (with how long it has failed) until taken at 5000.
        assert_eq!(sent, vec![(10, None), (1810, Some(1800)), (3610, Some(3600))]);
        assert!(out.told_failing("service db"));
    }
}
