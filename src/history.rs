//! The deploy history file in the data dir: append-only JSON lines that survive restarts.
//! A torn last line (a crash mid-write) is skipped with a warning, never fatal.

use crate::state::deploys::{Deploy, fold_history};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct DeployHistory {
    path: PathBuf,
}

impl DeployHistory {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// `<data dir>/deploys.jsonl`.
    pub fn default_path() -> Option<PathBuf> {
        crate::config::data_dir().map(|d| d.join("deploys.jsonl"))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every deploy on record, oldest first. Unreadable lines are skipped and named in the log.
    pub fn load(&self) -> Vec<Deploy> {
        let Ok(text) = std::fs::read_to_string(&self.path) else { return Vec::new() };
        let mut records = Vec::new();
        for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            match serde_json::from_str::<Deploy>(line) {
                Ok(d) => records.push(d),
                Err(e) => {
                    tracing::warn!(file = %self.path.display(), line = i + 1, error = %e, "skipped an unreadable deploy record")
                }
            }
        }
        fold_history(records)
    }

    /// Appends records, one line each, and flushes them to disk.
    pub fn append(&self, deploys: &[Deploy]) -> std::io::Result<()> {
        crate::jsonl::append(&self.path, deploys)
    }
}
