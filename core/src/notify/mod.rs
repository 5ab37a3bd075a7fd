//! Telling people when a state changes: webhooks (here, driven by the collector, so one process
//! sends them whichever screens it draws), and the terminal's bell and desktop notifications
//! (driven by the terminal board). Never from `check` or `snapshot`.

pub mod change;
pub mod marks;
pub mod policy;
pub mod silences;
pub mod taking;
pub mod terminal;
pub mod webhook;

use crate::config::Loaded;
use crate::state::Verdicts;
use crate::state::taken::Taking;
use crate::state::{Event, State, Status};
use change::{Tracker, observe_board, observe_items};
use policy::{Outbox, Policy};
use serde_json::Value;
use std::time::SystemTime;
use tokio::sync::mpsc;
use webhook::Target;

struct Hook {
    outbox: Outbox,
    target: Target,
    queue: mpsc::Sender<Value>,
}

/// Every item's state with memory, and the webhooks it feeds.
pub struct Notifier {
    pub tracker: Tracker,
    hooks: Vec<Hook>,
    board: String,
    started: SystemTime,
    /// The revision of the verdicts last looked at: the same again has no change to find.
    looked_at: Option<u64>,
    /// Each service's count of instances as last told, and the count since it changed, from when.
    counts: std::collections::HashMap<String, Count>,
    /// The incidents taken as last looked at (none before the first look: those are the baseline).
    takings: Option<Vec<Taking>>,
}

/// A service's count of instances: as last told (`told`), and now (`now`, since `since`).
#[derive(Debug, Clone, Copy)]
struct Count {
    told: usize,
    now: usize,
    since: SystemTime,
}

/// The webhooks of a config, as destinations with their policies.
pub fn targets(loaded: &Loaded) -> Vec<Target> {
    loaded
        .config
        .notify
        .iter()
        .map(|n| Target {
            label: n.name.clone().unwrap_or_else(|| {
                reqwest::Url::parse(&n.url).ok().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_default()
            }),
            url: n.url.clone(),
            format: n.format,
            timeout: n.timeout,
            retries: n.retries,
            policy: Policy {
                min_state: n.min_state.into(),
                info: n.min_state == crate::config::schema::MinState::Info,
                services: n.services.clone(),
                envs: n.envs.clone(),
                cooldown: n.cooldown,
                group_wait: n.group_wait,
                repeat: n.repeat,
                budget_alerts: n.budget_alerts.clone(),
            },
        })
        .collect()
}

impl Notifier {
    /// "search: 5 → 7 instances", for each service whose count of instances changed and has held
    /// for the longest `group_wait` of the destinations that want notices (a scale-out of five
    /// arrives as one); the first count seen is the baseline.
    fn count_notices(&mut self, state: &State, now: SystemTime) -> Vec<change::Change> {
        let settle = self.hooks.iter().filter(|h| h.outbox.policy.info).map(|h| h.outbox.policy.group_wait).max();
        let mut out = Vec::new();
        for svc in &state.services {
            let n = svc.instances.iter().filter(|i| i.present()).count();
            let env = (svc.env.name != "default").then(|| svc.env.name.clone());
            let c = self.counts.entry(svc.name.to_string()).or_insert(Count { told: n, now: n, since: now });
            if c.now != n {
                (c.now, c.since) = (n, now);
            }
            let settled = settle.is_some_and(|s| now.duration_since(c.since).unwrap_or_default() >= s);
            if c.told != c.now && settled {
                out.push(change::Change {
                    kind: "instances",
                    name: svc.name.to_string(),
                    env,
                    state: Status::Ok,
                    previous: Status::Ok,
                    reason: format!("{} → {} instances", c.told, c.now),
                    previous_for_s: None,
                    ..Default::default()
                });
                c.told = c.now;
            }
        }
        out
    }

    /// "☝ db CRIT taken by alice — looking at it", for each item taken since the last look, and
    /// "handed back" for each given back while it still fails (`over` are those OK again), by
    /// item key; the takings of the first look are the baseline.
    fn taking_notices(&mut self, state: &State, over: &[String]) -> Vec<(String, change::Change)> {
        let now_taken = state.taken.list.iter().filter(|t| !over.contains(&t.item)).cloned().collect();
        let was = self.takings.replace(now_taken);
        let Some(was) = was else { return Vec::new() };
        let tracked = |item: &str| self.tracker.get(item).map(|t| t.now.clone());
        let notice = |kind: &'static str, t: &Taking| {
            let now = tracked(&t.item)?;
            let name = if now.kind == "service" { now.name.clone() } else { now.key() };
            let change = change::Change {
                kind,
                name,
                env: now.env.clone(),
                state: now.status,
                previous: now.status,
                reason: if kind == change::HANDED_BACK {
                    format!("handed back by {}; nobody is on it", t.who)
                } else {
                    now.reason
                },
                taken: Some(t.clone()),
                ..Default::default()
            };
            Some((t.item.clone(), change))
        };
        let mut out: Vec<_> =
            state.taken.list.iter().filter(|t| !was.contains(t)).filter_map(|t| notice(change::TAKEN, t)).collect();
        let back = was.iter().filter(|t| state.taken.get(&t.item).is_none() && !over.contains(&t.item));
        out.extend(back.filter_map(|t| notice(change::HANDED_BACK, t)));
        out
    }

    /// A notifier with no destination: it keeps states with memory and sends nothing (`check`,
    /// `snapshot`).
    pub fn silent(loaded: &Loaded) -> Self {
        Self {
            tracker: Tracker::default(),
            hooks: Vec::new(),
            board: loaded.config.board.title.clone(),
            started: SystemTime::now(),
            looked_at: None,
            counts: std::collections::HashMap::new(),
            takings: None,
        }
    }

    /// Starts a delivery task per webhook; their results come back through `events`.
    pub fn start(loaded: &Loaded, events: &mpsc::Sender<Event>) -> Self {
        let client = crate::sources::http::client_builder()
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()
            .unwrap_or_default();
        let hooks = targets(loaded)
            .into_iter()
            .enumerate()
            .map(|(i, target)| Hook {
                outbox: Outbox::new(target.policy.clone()),
                queue: webhook::spawn(i, target.clone(), client.clone(), events.clone()),
                target,
            })
            .collect();
        Self { hooks, ..Self::silent(loaded) }
    }

    /// Looks at every item's state now (`verdicts` are the state's at `now`); sends what is due.
    /// What it finds for the state (silences that are over, a webhook not keeping up) it returns
    /// as events.
    pub fn tick(&mut self, state: &State, verdicts: &Verdicts, now: SystemTime) -> Vec<Event> {
        if self.looked_at != Some(verdicts.revision) {
            self.tracker.update(observe_items(state, verdicts), now);
            self.looked_at = Some(verdicts.revision);
        }
        self.tracker.update(vec![observe_board(state, now, self.started)], now);
        let tracker = &self.tracker;
        let is_ok = |item: &str| tracker.get(item).is_some_and(|t| t.now.status == Status::Ok);
        let ended = state.silences.ending(now, &is_ok);
        let over: Vec<String> = state.taken.list.iter().filter(|t| is_ok(&t.item)).map(|t| t.item.clone()).collect();
        let silences = &state.silences;
        let silenced = |item: &str| silences.get(item).is_some() && !ended.iter().any(|e| e == item);
        let taken = |item: &str| state.taken.get(item).is_some();
        let notices = self.count_notices(state, now);
        let takings = self.taking_notices(state, &over);
        let mut found = Vec::new();
        for (target, hook) in self.hooks.iter_mut().enumerate() {
            let mut due = hook.outbox.due(&self.tracker, &silenced, &taken, now);
            for c in &mut due {
                c.taken = state.taken.get(&format!("{} {}", c.kind, c.name)).cloned();
            }
            let outbox = &hook.outbox;
            let wanted = |c: &&change::Change| outbox.policy.info && outbox.wants("service", &c.name, c.env.as_deref());
            due.extend(notices.iter().filter(wanted).filter(|c| !silenced(&format!("service {}", c.name))).cloned());
            // Whoever was told an item fails is told who took it, and that it was handed back.
            let told = |(key, _): &&(String, change::Change)| outbox.told_failing(key) && !silenced(key);
            due.extend(takings.iter().filter(told).map(|(_, c)| c.clone()));
            if due.is_empty() {
                continue;
            }
            let body = webhook::body(hook.target.format, &self.board, &due, now);
            if hook.queue.try_send(body).is_err() {
                tracing::warn!(to = %hook.target.label, "notification dropped: the webhook is not keeping up");
                let error = Some("not keeping up; messages dropped".to_string());
                found.push(Event::Delivery { target, label: hook.target.label.clone(), error });
            }
        }
        if !over.is_empty() {
            found.push(Event::HandedBack { items: over });
        }
        if !ended.is_empty() {
            found.push(Event::Unsilenced { items: ended });
        }
        // Windows set from the board that ran out: their records go.
        let over = state.maintenance.ending(now, &|_| false);
        if !over.is_empty() {
            found.push(Event::MaintenanceOver { items: over });
        }
        found
    }
}
