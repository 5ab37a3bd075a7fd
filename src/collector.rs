//! The collector: sources → events → one [`State`], shared by every screen that shows it.
//!
//! The terminal board and the web server each own one collector and read its state between
//! events; neither keeps a second copy of the polling or of the deploy bookkeeping.

use crate::config::Loaded;
use crate::history::DeployHistory;
use crate::notify::Notifier;
use crate::notify::silences::Silences;
use crate::sources;
use crate::state::Verdicts;
use crate::state::deploys::Deploys;
use crate::state::{Event, State};
use std::time::SystemTime;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

/// Events waiting to be applied; sources wait when it is full.
const EVENT_QUEUE: usize = 4096;

pub struct Collector {
    pub state: State,
    rx: mpsc::Receiver<Event>,
    tx: mpsc::Sender<Event>,
    history: DeployHistory,
    pub notifier: Notifier,
    /// Every verdict, kept between ticks and made again where the state or time moved.
    verdicts: Verdicts,
    /// Every poller; dropped with the collector.
    _pollers: JoinSet<()>,
}

impl Collector {
    /// Starts every poller of the fleet; deploys on record are loaded from `history`.
    pub fn start(loaded: &Loaded, history: DeployHistory) -> Self {
        let polling = &loaded.config.polling;
        let mut state =
            State::with_backups(&loaded.fleet, &loaded.config.backups, polling.history, polling.stale_after_intervals);
        state.deploys = Deploys::new(state.services.len(), history.load());
        state.silences = Silences::load(Silences::default_path());
        let (tx, rx) = mpsc::channel(EVENT_QUEUE);
        let pollers =
            sources::spawn_all(&loaded.fleet, polling, &loaded.config.deploys, &loaded.config.backups, tx.clone());
        let notifier = Notifier::start(loaded, &tx);
        Self { state, rx, tx, history, notifier, verdicts: Verdicts::default(), _pollers: pollers }
    }

    /// Where actions send what they did, so it reaches the state like any other event.
    pub fn sender(&self) -> mpsc::Sender<Event> {
        self.tx.clone()
    }

    /// Once a second: the verdicts are brought to `now`, states are looked at for changes,
    /// silences end, webhooks are told.
    pub fn tick(&mut self, now: SystemTime) {
        self.verdicts.refresh(&self.state, now);
        self.notifier.tick(&mut self.state, &self.verdicts, now);
    }

    /// Brings the kept verdicts to `now` (for a frame); only what changed is made again.
    pub fn refresh_verdicts(&mut self, now: SystemTime) {
        self.verdicts.refresh(&self.state, now);
    }

    /// The verdicts as of the last tick or refresh.
    pub fn verdicts(&self) -> &Verdicts {
        &self.verdicts
    }

    /// Waits for the next event, then applies it and every one already waiting; deploys that
    /// changed are appended to the history file. Cancel-safe: nothing is lost if another branch of a
    /// `select!` wins first.
    pub async fn next_batch(&mut self) {
        let Some(event) = self.rx.recv().await else {
            // The collector holds a sender itself, so the channel never closes while it lives.
            return std::future::pending().await;
        };
        self.state.apply(event);
        while let Ok(more) = self.rx.try_recv() {
            self.state.apply(more);
        }
        let changed = std::mem::take(&mut self.state.deploys.changed);
        if let Err(e) = self.history.append(&changed) {
            tracing::error!(file = %self.history.path().display(), error = %e, "deploy history not written");
        }
    }
}
