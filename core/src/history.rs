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
        crate::store::data_dir().map(|d| d.join("deploys.jsonl"))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every deploy on record, oldest first. Unreadable lines are skipped and named in the log.
    pub fn load(&self) -> Vec<Deploy> {
        fold_history(crate::store::log::read(&self.path))
    }

    /// Appends records, one line each, and flushes them to disk.
    pub fn append(&self, deploys: &[Deploy]) -> std::io::Result<()> {
        crate::store::log::append(&self.path, deploys)
    }
}
