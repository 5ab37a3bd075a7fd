//! The collector: sources → events → one [`State`], shared by every screen that shows it.
//!
//! The terminal board and the web server each own one collector and read its state between
//! events; neither keeps a second copy of the polling or of the deploy bookkeeping.

use crate::config::Loaded;
use crate::history::DeployHistory;
use crate::notify::Notifier;
use crate::sources::Start;
use crate::sources::pollers::Pollers;
use crate::sources::rounds::Rounds;
use crate::state::Verdicts;
use crate::state::deploys::Deploys;
use crate::state::silences::Silences;
use crate::state::{Event, State};
use kept::{Kept, Marked};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::sync::mpsc;

pub mod counts;
mod kept;

/// Events waiting to be applied; sources wait when it is full.
const EVENT_QUEUE: usize = 4096;

/// How a collector runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The board and `serve`: polls spread over their intervals, webhooks sent, deploys recorded.
    Live,
    /// `check` and `snapshot`: every source polled at once and concurrently, scrapes
    /// `scrape_every` apart; judged at once (no `for`, no N failures in a row); no webhook sent
    /// and no deploy history written.
    OneShot { scrape_every: Duration },
}

pub struct Collector {
    pub state: State,
    rx: mpsc::Receiver<Event>,
    tx: mpsc::Sender<Event>,
    /// Where changed deploys are appended; `None` in one-shot mode.
    history: Option<DeployHistory>,
    /// Where what people put on the board and the status page's days are kept; `None` in
    /// one-shot mode (read, never written).
    kept: Option<Kept>,
    /// Where incidents that end by themselves are recorded; `None` in one-shot mode.
    audit: Option<crate::actions::audit::AuditLog>,
    pub notifier: Notifier,
    /// Every verdict, kept between ticks and made again where the state or time moved.
    verdicts: Verdicts,
    /// How many rounds each poller has finished.
    rounds: Rounds,
    /// The config as it stands, with every change of shape applied: what the pollers follow.
    loaded: Arc<Loaded>,
    /// Every poller; dropped with the collector.
    pollers: Pollers,
    /// Asks the config watcher to load the config again; the watcher ends with the collector.
    reload: Option<(mpsc::Sender<()>, tokio::task::JoinHandle<()>)>,
    /// Whether the watched config has files to load again.
    reloads_files: bool,
    /// Where the counts of a one-shot run came from, when it read this machine's store.
    local_counts: Option<Result<PathBuf, String>>,
}

impl Drop for Collector {
    fn drop(&mut self) {
        if let Some((_, task)) = &self.reload {
            task.abort();
        }
        // A board that quits loses none of its counts.
        if let Some(k) = &mut self.kept {
            k.counts.flush_now(&self.state);
        }
    }
}

impl Collector {
    /// Starts every poller of the fleet; deploys on record are loaded from `history`.
    pub fn start(loaded: &Arc<Loaded>, history: DeployHistory) -> Self {
        Self::with_mode(loaded, history, Mode::Live)
    }

    /// Starts every poller of the fleet in `mode`; deploys on record are loaded from `history`.
    pub fn with_mode(loaded: &Arc<Loaded>, history: DeployHistory, mode: Mode) -> Self {
        let polling = &loaded.config.polling;
        let mut state =
            State::with_backups(&loaded.fleet, &loaded.config.backups, polling.history, polling.stale_after_intervals);
        state.deploys = Deploys::new(history.load());
        let kept = crate::store::data_dir().map(|d| Kept::in_dir(&d));
        if let Some(k) = &kept {
            k.read_into(&mut state);
        }
        state.components = loaded.config.status.components.clone();
        let (tx, rx) = mpsc::channel(EVENT_QUEUE);
        let rounds = Rounds::default();
        let start = match mode {
            Mode::Live => Start::Spread,
            Mode::OneShot { scrape_every } => Start::AtOnce { scrape_every },
        };
        let pollers = Pollers::start(loaded, tx.clone(), start, &rounds);
        let audit = crate::actions::audit::AuditLog::default_path().map(crate::actions::audit::AuditLog::new);
        let (notifier, history, kept, audit) = match mode {
            Mode::Live => {
                let mut kept = kept;
                if let Some(k) = &mut kept {
                    k.counts.open(&mut state);
                }
                (Notifier::start(loaded, &tx), Some(history), kept, audit)
            }
            Mode::OneShot { .. } => {
                state.at_once = true;
                (Notifier::silent(loaded), None, None, None)
            }
        };
        let verdicts = Verdicts::default();
        let loaded = loaded.clone();
        Self {
            state,
            rx,
            tx,
            history,
            kept,
            audit,
            notifier,
            verdicts,
            rounds,
            loaded,
            pollers,
            reload: None,
            reloads_files: false,
            local_counts: None,
        }
    }

    /// Fills every service's counts from this machine's store, when there is one (`check`, its
    /// gate and `snapshot`, beside a running board or after it): where they came from, or why
    /// they did not.
    pub fn read_local_counts(&mut self) -> Option<&Result<PathBuf, String>> {
        if self.local_counts.is_none() {
            self.local_counts = counts::read_local(&mut self.state);
            if let Some(Err(e)) = &self.local_counts {
                tracing::warn!(error = %e, "this machine's counts not read");
            }
        }
        self.local_counts.as_ref()
    }

    /// Keeps silences in `path` instead of the data dir's file (tests), starting from what it holds.
    pub fn keep_silences_in(&mut self, path: PathBuf) {
        self.state.silences = Silences { list: crate::store::document::read(&path).unwrap_or_default() };
        if let Some(k) = &mut self.kept {
            k.silences = path;
        }
    }

    /// Starts `request` on a task of its own (its command, or its native AWS call), audited as
    /// `operator`. The service is marked running first, so a second press, from any screen of
    /// this collector, is refused at once.
    pub fn start_action(
        &mut self,
        request: crate::actions::runner::ActionRequest,
        audit: &crate::actions::audit::AuditLog,
        operator: &crate::actions::audit::Operator,
    ) {
        use crate::actions::runner;
        use crate::state::ActionEvent;
        let started = ActionEvent::Started {
            action: request.action.clone(),
            to_version: request.to_version.clone(),
            command: request.command.clone(),
            at: SystemTime::now(),
        };
        let _ = self.apply(Event::Action { service: request.service_name.as_str().into(), event: started });
        tracing::info!(action = %request.action, service = %request.service_name, command = %request.command, user = %operator.user, "action started");
        let (audit, operator, tx) = (audit.clone(), operator.clone(), self.tx.clone());
        match request.native.clone() {
            Some(call) => {
                let spec = self.loaded.fleet.aws.iter().find(|a| a.name == call.account()).cloned();
                let native = async move {
                    match spec {
                        Some(spec) => crate::sources::aws::native(&spec, &call).await,
                        None => Err(format!("AWS account `{}` is not in the config", call.account())),
                    }
                };
                tokio::spawn(runner::run_native(request, audit, operator, tx, native));
            }
            None => {
                tokio::spawn(runner::run(request, audit, operator, tx));
            }
        }
    }

    /// Sets or lifts a silence, takes or hands back an incident, audited as `operator`; the
    /// words that say what happened.
    pub fn mark(
        &mut self,
        marking: &crate::notify::marks::Marking,
        audit: &crate::actions::audit::AuditLog,
        operator: &crate::actions::audit::Operator,
        utc_offset_secs: i32,
    ) -> String {
        let kept = self.apply(marking.audited(audit, operator));
        marking.words(&self.state, kept, utc_offset_secs)
    }

    /// Applies one event; a change of silences or incidents is written to its file, a change of
    /// shape starts and stops pollers. The result of the write (always `Ok` for other events).
    pub fn apply(&mut self, event: Event) -> std::io::Result<()> {
        let marked = Marked::by(&event);
        let reshaped = self.follow(&event);
        self.state.apply(event);
        if reshaped {
            self.pollers.follow(&self.loaded);
        }
        match (&self.kept, marked) {
            (Some(k), Some(m)) => k.write(m, &self.state),
            _ => Ok(()),
        }
    }

    /// Applies events until every poller has finished `rounds` rounds, or `within` has passed;
    /// how many pollers had not by then.
    pub async fn until_rounds(&mut self, rounds_wanted: u32, within: Duration) -> usize {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            self.apply_waiting();
            if self.rounds.behind(rounds_wanted) == 0 {
                // Every round's events were sent before it was marked done: take them all.
                self.apply_waiting();
                // Unless they started pollers (instances found): then those are waited for too.
                if self.rounds.behind(rounds_wanted) == 0 {
                    return 0;
                }
            }
            let rounds = self.rounds.clone();
            tokio::select! {
                () = rounds.changed() => {}
                () = self.next_batch() => {}
                () = tokio::time::sleep_until(deadline) => {
                    self.apply_waiting();
                    return self.rounds.behind(rounds_wanted);
                }
            }
        }
    }

    /// The config after a change of shape, if `event` is one.
    fn follow(&mut self, event: &Event) -> bool {
        match event {
            Event::Instances { service, instances } => {
                let Some(si) = self.loaded.fleet.services.iter().position(|s| *s.name == **service) else {
                    return false;
                };
                // The first change of shape copies the config the caller shares; later ones do not.
                Arc::make_mut(&mut self.loaded).fleet.services[si].instances = instances.clone();
                true
            }
            Event::Discovered { service, found, .. } => {
                let Some(si) = self.loaded.fleet.services.iter().position(|s| *s.name == **service) else {
                    return false;
                };
                let instances = found.instances.iter().map(|f| f.spec.clone()).collect();
                Arc::make_mut(&mut self.loaded).fleet.services[si].instances = instances;
                true
            }
            Event::Reload(loaded) => {
                let mut next = loaded.clone();
                // A service whose sources stay keeps the instances they gave until they give more.
                for (si, svc) in loaded.fleet.services.iter().enumerate() {
                    let was = self.loaded.fleet.services.iter().find(|s| s.name == svc.name);
                    if let Some(was) = was.filter(|w| !svc.discovery.is_empty() && w.discovery == svc.discovery) {
                        Arc::make_mut(&mut next).fleet.services[si].instances = was.instances.clone();
                    }
                }
                self.loaded = next;
                true
            }
            _ => false,
        }
    }

    /// Loads the config of `sources` again on SIGHUP, when its files change, and on
    /// [`Self::reload_config`]: what loads takes effect, what does not is said.
    pub fn watch_config(&mut self, sources: crate::config::Sources) {
        self.reloads_files = sources.user.is_some() || sources.override_file.is_some();
        let (ask, asks) = mpsc::channel(1);
        let task = tokio::spawn(crate::sources::reload::watch(sources, self.loaded.clone(), self.tx.clone(), asks));
        self.reload = Some((ask, task));
    }

    /// Asks for the config to be loaded again; false when there is no config file to load.
    pub fn reload_config(&self) -> bool {
        self.reload.as_ref().filter(|_| self.reloads_files).is_some_and(|(ask, _)| {
            // A reload already asked for and not yet done is as good as a second.
            !matches!(ask.try_send(()), Err(mpsc::error::TrySendError::Closed(_)))
        })
    }

    /// The config as it stands now, every change of shape and reload applied.
    pub fn loaded(&self) -> &Arc<Loaded> {
        &self.loaded
    }

    /// What is polled now.
    pub fn jobs(&self) -> impl Iterator<Item = &crate::sources::pollers::Job> {
        self.pollers.jobs()
    }

    /// Applies every event already waiting.
    fn apply_waiting(&mut self) {
        while let Ok(event) = self.rx.try_recv() {
            let _ = self.apply(event);
        }
        self.record_deploys();
    }

    /// Appends the deploys that changed to the history (in live mode).
    fn record_deploys(&mut self) {
        let changed = std::mem::take(&mut self.state.deploys.changed);
        if let Some(history) = &self.history
            && let Err(e) = history.append(&changed)
        {
            tracing::error!(file = %history.path().display(), error = %e, "deploy history not written");
        }
    }

    /// Where actions send what they did, so it reaches the state like any other event.
    pub fn sender(&self) -> mpsc::Sender<Event> {
        self.tx.clone()
    }

    /// Once a second: the verdicts are brought to `now`, states are looked at for changes,
    /// silences end, webhooks are told.
    pub fn tick(&mut self, now: SystemTime) {
        self.state.drop_departed(now);
        self.verdicts.refresh(&self.state, now);
        if let Some(k) = &mut self.kept {
            k.tally(&mut self.state, &self.verdicts, now);
            let trouble = k.counts.trouble();
            if trouble != self.state.counts_trouble {
                let _ = self.apply(Event::CountsKept(trouble));
            }
        }
        for event in self.notifier.tick(&self.state, &self.verdicts, now) {
            if let (Event::HandedBack { items }, Some(audit)) = (&event, &self.audit) {
                let over: Vec<_> = items.iter().filter_map(|i| self.state.taken.get(i)).cloned().collect();
                crate::notify::taking::audit_over(audit, &over);
            }
            let _ = self.apply(event);
        }
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
        let _ = self.apply(event);
        self.apply_waiting();
    }
}
