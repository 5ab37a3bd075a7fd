//! Telling people when a state changes: webhooks (here, driven by the collector, so one process
//! sends them whichever screens it draws), and the terminal's bell and desktop notifications
//! (driven by the terminal board). Never from `check` or `snapshot`.

pub mod change;
pub mod policy;
pub mod silences;
pub mod terminal;
pub mod webhook;

use crate::config::Loaded;
use crate::state::Verdicts;
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
                services: n.services.clone(),
                envs: n.envs.clone(),
                cooldown: n.cooldown,
                group_wait: n.group_wait,
            },
        })
        .collect()
}

impl Notifier {
    /// A notifier with no destination: it keeps states with memory and sends nothing (`check`,
    /// `snapshot`).
    pub fn silent(loaded: &Loaded) -> Self {
        Self {
            tracker: Tracker::default(),
            hooks: Vec::new(),
            board: loaded.config.board.title.clone(),
            started: SystemTime::now(),
            looked_at: None,
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
        let ended = state.silences.ending(now, &|item| tracker.get(item).is_some_and(|t| t.now.status == Status::Ok));
        let silences = &state.silences;
        let silenced = |item: &str| silences.get(item).is_some() && !ended.iter().any(|e| e == item);
        let mut found = Vec::new();
        for (target, hook) in self.hooks.iter_mut().enumerate() {
            let due = hook.outbox.due(&self.tracker, &silenced, now);
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
        if !ended.is_empty() {
            found.push(Event::Unsilenced { items: ended });
        }
        found
    }
}
