//! Logs go to a file, never to the terminal the board draws on.

use std::path::{Path, PathBuf};
use tracing_appender::non_blocking::WorkerGuard;

/// Log lines waiting for the writer thread at most.
const LOG_QUEUE_LINES: usize = 2_048;

/// The default log file: `<data dir>/opsboard.log`.
pub fn default_log_file() -> Option<PathBuf> {
    crate::store::data_dir().map(|d| d.join("opsboard.log"))
}

/// Starts logging to `path` at the level in `OPSBOARD_LOG` (default `info`).
/// Keep the guard alive for as long as logs should be written.
pub fn init(path: &Path) -> std::io::Result<WorkerGuard> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    // The default queue holds 128,000 lines and takes 4 MiB up front; a board logs a few lines a
    // minute, and a burst past this is dropped (and counted) rather than held.
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(LOG_QUEUE_LINES)
        .finish(file);
    let filter = tracing_subscriber::EnvFilter::try_from_env("OPSBOARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_writer(writer).with_ansi(false).with_env_filter(filter).try_init();
    Ok(guard)
}
