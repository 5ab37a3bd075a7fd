//! What the collector keeps in the data dir beside the state: what people put on the board
//! (silences, maintenance, incidents taken, status notes), each a document rewritten whole; the
//! status page's days; and every service's counts of requests and checks.

use super::counts::KeptCounts;
use crate::state::silences::Silences;
use crate::state::taken::Taken;
use crate::state::{Event, State, Verdicts};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// What a change of the state has people put on the board, to be kept on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marked {
    Silences,
    Maintenance,
    Taken,
    StatusNotes,
}

impl Marked {
    pub fn by(event: &Event) -> Option<Self> {
        match event {
            Event::Silenced(_) | Event::Unsilenced { .. } => Some(Self::Silences),
            Event::Maintenance(_) | Event::MaintenanceOver { .. } => Some(Self::Maintenance),
            Event::Taken(_) | Event::HandedBack { .. } => Some(Self::Taken),
            Event::StatusNote(_) => Some(Self::StatusNotes),
            _ => None,
        }
    }
}

/// The status page's days are written at most this often (a kill -9 loses at most this much).
const DAYS_WRITE_EVERY: Duration = Duration::from_secs(60);
/// A gap between ticks longer than this (the machine slept, the process was stopped) is time
/// not seen, not time in the state before it.
const LONGEST_TICK: Duration = Duration::from_secs(10);

/// The documents of the data dir the collector keeps, and the counts.
pub struct Kept {
    pub silences: PathBuf,
    maintenance: PathBuf,
    taken: PathBuf,
    status_notes: PathBuf,
    days: PathBuf,
    /// The last tick counted into the days and the counts, and when the days were last written.
    counted: Option<SystemTime>,
    days_written: Option<SystemTime>,
    /// Every service's counts (in a live board only: one process writes them).
    pub counts: KeptCounts,
}

impl Kept {
    pub fn in_dir(dir: &Path) -> Self {
        Self {
            silences: dir.join("silences.json"),
            maintenance: dir.join("maintenance.json"),
            taken: dir.join("taken.json"),
            status_notes: dir.join("status-notes.json"),
            days: dir.join("status-days.json"),
            counted: None,
            days_written: None,
            counts: KeptCounts::in_dir(dir),
        }
    }

    pub fn read_into(&self, state: &mut State) {
        use crate::store::document::read;
        state.silences = Silences { list: read(&self.silences).unwrap_or_default() };
        state.maintenance.list = read(&self.maintenance).unwrap_or_default();
        state.taken = Taken { list: read(&self.taken).unwrap_or_default() };
        state.status_notes.list = read(&self.status_notes).unwrap_or_default();
        state.days = read(&self.days).unwrap_or_default();
    }

    pub fn write(&self, what: Marked, state: &State) -> std::io::Result<()> {
        match what {
            Marked::Silences => keep(&self.silences, &state.silences.list),
            Marked::Maintenance => keep(&self.maintenance, &state.maintenance.list),
            Marked::Taken => keep(&self.taken, &state.taken.list),
            Marked::StatusNotes => keep(&self.status_notes, &state.status_notes.list),
        }
    }

    /// Counts the time since the last tick into the status page's days (written once a minute)
    /// and into every service's time seen (written every few seconds).
    pub fn tally(&mut self, state: &mut State, verdicts: &Verdicts, now: SystemTime) {
        if state.components.is_empty() && state.services.is_empty() {
            return;
        }
        let Some(last) = self.counted else {
            self.counted = Some(now);
            return;
        };
        let gap = now.duration_since(last).unwrap_or_default();
        if gap < Duration::from_secs(1) {
            return;
        }
        // Whole seconds are counted; the rest waits for the next tick.
        let whole = Duration::from_secs(gap.as_secs());
        self.counted = Some(last + whole);
        if gap <= LONGEST_TICK {
            let date = chrono::DateTime::<chrono::Local>::from(now).format("%Y-%m-%d").to_string();
            if !state.components.is_empty() {
                state.tally_days(verdicts, &date, whole);
            }
            let secs = whole.as_secs() as u32;
            for svc in &mut state.services {
                svc.outcomes.seen(now, secs);
            }
        } else {
            self.counted = Some(now);
        }
        self.counts.flush(state, now);
        if state.components.is_empty() {
            return;
        }
        let due = self.days_written.is_none_or(|t| now.duration_since(t).unwrap_or_default() >= DAYS_WRITE_EVERY);
        if due {
            self.days_written = Some(now);
            let _ = keep(&self.days, &state.days);
        }
    }
}

/// Writes a kept document (silences, incidents taken, notes, days) to its file.
fn keep<T: serde::Serialize + ?Sized>(path: &Path, value: &T) -> std::io::Result<()> {
    crate::store::document::write(path, value).inspect_err(|e| {
        tracing::error!(file = %path.display(), error = %e, "file not written");
    })
}
