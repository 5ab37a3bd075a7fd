//! Every service's counts of requests and checks on disk (the data dir's `budgets.redb`): read
//! into the state when the collector starts, and for a service that comes with a reload before
//! its first write; written every few seconds by a thread of their own, so that a write of a
//! large fleet never holds up the collector; written once more when the collector goes, after
//! every write before it.

use crate::state::State;
use crate::store::budgets::{BudgetStore, Ledgers};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// The counts are written this often: a kill -9 loses at most this much of them.
pub const WRITE_EVERY: Duration = Duration::from_secs(5);

pub struct KeptCounts {
    path: PathBuf,
    store: Option<Arc<BudgetStore>>,
    /// Whether opening the store was tried: a store that does not open is not tried again.
    tried: bool,
    /// The services whose counts hold what the store had: one that came with a reload is read
    /// before its first write, so that no write loses what the store had.
    read: HashSet<String>,
    /// When the last write was handed to the writer.
    written: Option<SystemTime>,
    writer: Option<Writer>,
}

/// The thread that writes, one write after another in the order they were handed over.
struct Writer {
    rows: Option<std::sync::mpsc::SyncSender<Vec<(String, Ledgers)>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Writer {
    fn start(store: Arc<BudgetStore>) -> std::io::Result<Self> {
        // One write waiting beside the one being written: a slower disk skips ticks, it does not
        // pile them up.
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<(String, Ledgers)>>(1);
        let thread = std::thread::Builder::new().name("counts-writer".into()).spawn(move || {
            for rows in rx {
                save(&store, rows);
            }
        })?;
        Ok(Self { rows: Some(tx), thread: Some(thread) })
    }

    /// Hands `rows` over unless a write already waits; whether they were taken.
    fn offer(&self, rows: Vec<(String, Ledgers)>) -> bool {
        self.rows.as_ref().is_some_and(|tx| tx.try_send(rows).is_ok())
    }

    /// Writes `rows` after whatever was handed over before, and waits for all of it.
    fn finish(&mut self, rows: Vec<(String, Ledgers)>) {
        if let Some(tx) = self.rows.take() {
            let _ = tx.send(rows);
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl KeptCounts {
    pub fn in_dir(dir: &Path) -> Self {
        Self {
            path: dir.join("budgets.redb"),
            store: None,
            tried: false,
            read: HashSet::new(),
            written: None,
            writer: None,
        }
    }

    /// Opens the store (compacted: blocks rewritten leave free pages) and reads what it holds
    /// into every service; without it, the counts live in memory only and the log says why.
    pub fn open(&mut self, state: &mut State) {
        if state.services.is_empty() {
            return;
        }
        self.tried = true;
        match BudgetStore::open(&self.path) {
            Ok(mut store) => {
                if let Err(e) = store.compact() {
                    tracing::warn!(error = %e, "the counts' store not compacted");
                }
                let store = Arc::new(store);
                match Writer::start(store.clone()) {
                    Ok(w) => self.writer = Some(w),
                    Err(e) => tracing::error!(error = %e, "counts written on the collector's thread: no writer"),
                }
                self.store = Some(store);
                self.read_new(state);
            }
            Err(e) => tracing::error!(error = %e, "counts kept in memory only: the store did not open"),
        }
    }

    /// Fills each service not read yet with what the store holds for it.
    fn read_new(&mut self, state: &mut State) {
        let Some(store) = &self.store else { return };
        // A service gone is read again if it comes back.
        self.read.retain(|n| state.services.iter().any(|s| &*s.name == n));
        for svc in &mut state.services {
            if self.read.contains(&*svc.name) {
                continue;
            }
            match store.load(&svc.name) {
                Ok(rows) => svc.outcomes.fill(rows),
                Err(e) => tracing::error!(service = %svc.name, error = %e, "counts not read"),
            }
            self.read.insert(svc.name.to_string());
        }
    }

    /// Hands the newest counts to the writer, at most every [`WRITE_EVERY`]; while a write
    /// still waits, the next tick tries again rather than queue behind it.
    pub fn flush(&mut self, state: &mut State, now: SystemTime) {
        let due = self.written.is_none_or(|t| now.duration_since(t).unwrap_or_default() >= WRITE_EVERY);
        if !due {
            return;
        }
        // Services that came with a reload: the store opens then, and new ones are read.
        if self.store.is_none() && !self.tried {
            self.open(state);
        } else if state.services.iter().any(|s| !self.read.contains(&*s.name)) {
            self.read_new(state);
        }
        let handed = match (&self.writer, &self.store) {
            (Some(w), _) => w.offer(newest(state)),
            (None, Some(store)) => {
                save(store, newest(state));
                true
            }
            (None, None) => true,
        };
        if handed {
            self.written = Some(now);
        }
    }

    /// Writes the newest counts after every write handed over, and waits for them: the
    /// collector is going.
    pub fn flush_now(&mut self, state: &State) {
        match (&mut self.writer, &self.store) {
            (Some(w), _) => w.finish(newest(state)),
            (None, Some(store)) => save(store, newest(state)),
            (None, None) => {}
        }
        self.writer = None;
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Every service's rows that can have changed since the last write.
fn newest(state: &State) -> Vec<(String, Ledgers)> {
    state.services.iter().map(|s| (s.name.to_string(), s.outcomes.newest_rows())).collect()
}

fn save(store: &BudgetStore, rows: Vec<(String, Ledgers)>) {
    if let Err(e) = store.save(rows.into_iter()) {
        tracing::error!(error = %e, "counts not written");
    }
}

/// Reads this machine's store, while a board writes it or after a crash, into every service of
/// `state` (`check` and its gate, `snapshot`): the path it was read from, or why it was not;
/// `None` when there is none.
pub fn read_local(state: &mut State) -> Option<Result<PathBuf, String>> {
    let path = crate::store::data_dir()?.join("budgets.redb");
    if !path.exists() {
        return None;
    }
    let names: Vec<String> = state.services.iter().map(|s| s.name.to_string()).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    Some(BudgetStore::read(&path, &names).map(|all| {
        for (svc, rows) in state.services.iter_mut().zip(all) {
            svc.outcomes.fill(rows);
        }
        path
    }))
}
