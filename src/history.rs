//! The deploy history file in the data dir: append-only JSON lines that survive restarts.
//! A torn last line (a crash mid-write) is skipped with a warning, never fatal.

use crate::state::deploys::{Deploy, fold_history};
use std::io::{Read, Seek, SeekFrom, Write};
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
        if deploys.is_empty() {
            return Ok(());
        }
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut buf = Vec::new();
        for d in deploys {
            serde_json::to_writer(&mut buf, d).map_err(std::io::Error::other)?;
            buf.push(b'\n');
        }
        // A torn previous line must not swallow this one: start on a fresh line.
        let mut f = std::fs::OpenOptions::new().create(true).read(true).append(true).open(&self.path)?;
        let needs_newline = last_byte(&mut f)?.is_some_and(|c| c != b'\n');
        if needs_newline {
            f.write_all(b"\n")?;
        }
        f.write_all(&buf)?;
        f.sync_data()
    }
}

fn last_byte(f: &mut std::fs::File) -> std::io::Result<Option<u8>> {
    if f.metadata()?.len() == 0 {
        return Ok(None);
    }
    f.seek(SeekFrom::End(-1))?;
    let mut b = [0u8; 1];
    f.read_exact(&mut b)?;
    Ok(Some(b[0]))
}
