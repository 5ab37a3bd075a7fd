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
    /// The store, read on the collector's thread, and its writer; both or neither.
    store: Option<(Arc<BudgetStore>, Writer)>,
    /// Whether opening the store was tried: a store that does not open is not tried again.
    tried: bool,
    /// The services whose counts hold what the store had: one that came with a reload is read
    /// before its first write, so that no write loses what the store had.
    read: HashSet<String>,
    /// When the last write was handed to the writer.
    written: Option<SystemTime>,
    /// Why the store did not open, or why the last write failed: none while all is well.
    trouble: Arc<std::sync::Mutex<Option<String>>>,
}

/// The thread that writes, one write after another in the order they were handed over.
struct Writer {
    rows: Option<std::sync::mpsc::SyncSender<Vec<(String, Ledgers)>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Writer {
    fn start(store: Arc<BudgetStore>, trouble: Arc<std::sync::Mutex<Option<String>>>) -> std::io::Result<Self> {
        // One write waiting beside the one being written: a slower disk skips ticks, it does not
        // pile them up.
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<(String, Ledgers)>>(1);
        let thread = std::thread::Builder::new().name("counts-writer".into()).spawn(move || {
            for rows in rx {
                save(&store, rows, &trouble);
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
            trouble: Arc::default(),
        }
    }

    /// Opens the store (compacted: blocks rewritten leave free pages) and reads what it holds
    /// into every service; without it, the counts live in memory only and the log and the
    /// footer say why.
    pub fn open(&mut self, state: &mut State) {
        if state.services.is_empty() {
            return;
        }
        self.tried = true;
        let opened = BudgetStore::open(&self.path).and_then(|mut store| {
            if let Err(e) = store.compact() {
                tracing::warn!(error = %e, "the counts' store not compacted");
            }
            let store = Arc::new(store);
            let writer = Writer::start(store.clone(), self.trouble.clone())
                .map_err(|e| format!("{}: no thread to write it: {e}", self.path.display()))?;
            Ok((store, writer))
        });
        match opened {
            Ok(both) => {
                self.store = Some(both);
                self.read_new(state);
            }
            Err(e) => {
                tracing::error!(error = %e, "counts kept in memory only: the store did not open");
                *lock(&self.trouble) = Some(e);
            }
        }
    }

    /// Why the counts are not being written, while they are not.
    pub fn trouble(&self) -> Option<String> {
        lock(&self.trouble).clone()
    }

    /// Fills each service not read yet with what the store holds for it.
    fn read_new(&mut self, state: &mut State) {
        let Some((store, _)) = &self.store else { return };
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
        if self.store.as_ref().is_none_or(|(_, writer)| writer.offer(newest(state))) {
            self.written = Some(now);
        }
    }

    /// Writes the newest counts after every write handed over, and waits for them: the
    /// collector is going.
    pub fn flush_now(&mut self, state: &State) {
        if let Some((_, mut writer)) = self.store.take() {
            writer.finish(newest(state));
        }
    }
}

/// Every service's rows that can have changed since the last write.
fn newest(state: &State) -> Vec<(String, Ledgers)> {
    state.services.iter().map(|s| (s.name.to_string(), s.outcomes.newest_rows())).collect()
}

/// Writes `rows`; a failure is logged and kept as the trouble, a success clears it.
fn save(store: &BudgetStore, rows: Vec<(String, Ledgers)>, trouble: &std::sync::Mutex<Option<String>>) {
    let saved = store.save(rows.into_iter());
    if let Err(e) = &saved {
        tracing::error!(error = %e, "counts not written");
    }
    *lock(trouble) = saved.err();
}

fn lock(m: &std::sync::Mutex<Option<String>>) -> std::sync::MutexGuard<'_, Option<String>> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> State {
        let text = "[services.api]\ninstances = [\"http://127.0.0.1:1\"]\n";
        let loaded = crate::config::load_str("t.toml", text).unwrap();
        State::new(&loaded.fleet, 10, 3)
    }

    #[test]
    fn a_store_that_does_not_open_is_said_and_the_counts_stay_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("budgets.redb"), b"not a database at all").unwrap();
        let mut kept = KeptCounts::in_dir(dir.path());
        let mut state = state();
        kept.open(&mut state);
        let trouble = kept.trouble().expect("the trouble is said");
        assert!(trouble.contains("budgets.redb"), "{trouble}");
        // Counting goes on; nothing is written, and nothing fails for it.
        let now = SystemTime::now();
        state.services[0].outcomes.seen(now, 5);
        kept.flush(&mut state, now);
        kept.flush_now(&state);
        assert_eq!(state.services[0].outcomes.checks.sum(now, Duration::from_secs(3600)).seen_s, 5);
        assert_eq!(std::fs::read(dir.path().join("budgets.redb")).unwrap(), b"not a database at all");
    }

    #[test]
    fn writes_keep_their_order_and_the_last_one_waits_for_those_before() {
        let dir = tempfile::tempdir().unwrap();
        let mut kept = KeptCounts::in_dir(dir.path());
        let mut state = state();
        kept.open(&mut state);
        let t0 = SystemTime::now();
        for s in 0..20 {
            let now = t0 + Duration::from_secs(s);
            state.services[0].outcomes.seen(now, 1);
            kept.flush(&mut state, now);
        }
        kept.flush_now(&state);
        assert_eq!(kept.trouble(), None);
        drop(kept);
        let [_, checks] = BudgetStore::read(&dir.path().join("budgets.redb"), &["api"]).unwrap().remove(0);
        assert_eq!(
            checks.hours.iter().map(|(_, r)| r.2).sum::<u32>(),
            20,
            "the newest, whatever the writer had queued"
        );
    }
}
