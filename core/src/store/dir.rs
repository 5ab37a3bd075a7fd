//! Where the board keeps its files: the data dir, for history, the audit log, silences and logs.
//! Imports nothing of the board, so every store can ask it.

use std::path::PathBuf;

static DATA_DIR_OVERRIDE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// Points the data dir elsewhere for the rest of the run (the demo keeps its history,
/// audit log and logs out of the real ones).
pub fn override_data_dir(dir: PathBuf) {
    let _ = DATA_DIR_OVERRIDE.set(dir);
}

/// The directory for history, audit log and logs.
pub fn data_dir() -> Option<PathBuf> {
    if let Some(dir) = DATA_DIR_OVERRIDE.get() {
        return Some(dir.clone());
    }
    directories::ProjectDirs::from("", "", "opsboard").map(|d| d.data_dir().to_path_buf())
}
