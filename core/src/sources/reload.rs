//! The config loaded again while the board runs: on SIGHUP, when the config file or the override
//! file changes (looked at every second; a file replaced by rename is a new inode, and a change
//! must hold still for a moment before it is read), and when the board asks (a key).
//!
//! A file that does not load leaves everything running as it was, and says why.

use crate::config::review::{ConfigNote, review};
use crate::config::{Loaded, Sources};
use crate::state::Event;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::sync::mpsc;

/// How often the files are looked at.
const LOOK_EVERY: Duration = Duration::from_secs(1);
/// A change must hold this long before the file is read: editors write in steps.
const SETTLE: Duration = Duration::from_millis(300);

use crate::store::print::of as print;

/// Watches the files of `sources` and SIGHUP, and hears `asks`; sends [`Event::Reload`] with
/// the config as it takes effect, and an [`Event::Config`] note either way. Ends with the board.
/// Without files (the demo) it still takes SIGHUP, which then reloads nothing: a board must not
/// die of the signal's default action with its terminal in raw mode.
pub async fn watch(sources: Sources, mut current: Arc<Loaded>, tx: mpsc::Sender<Event>, mut asks: mpsc::Receiver<()>) {
    let paths: Vec<PathBuf> = sources.user.iter().chain(&sources.override_file).cloned().collect();
    let mut seen = print(&paths);
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    loop {
        let why = tokio::select! {
            Some(()) = async { match hangup.as_mut() { Some(h) => h.recv().await, None => std::future::pending().await } } => "SIGHUP",
            asked = asks.recv() => match asked {
                Some(()) => "asked",
                None => return,
            },
            () = tokio::time::sleep(LOOK_EVERY) => {
                if print(&paths) == seen {
                    continue;
                }
                // Until it holds still.
                let mut last = print(&paths);
                loop {
                    tokio::time::sleep(SETTLE).await;
                    let now = print(&paths);
                    if now == last {
                        break;
                    }
                    last = now;
                }
                "file changed"
            }
        };
        seen = print(&paths);
        if paths.is_empty() {
            // The demo's config is made, not read: there is nothing to load again.
            tracing::info!(why, "no config file to reload");
            continue;
        }
        let env = |k: &str| std::env::var(k).ok();
        let note = match crate::config::load(&sources, &env) {
            Ok(loaded) => {
                let (loaded, applied) = review(&current, loaded);
                tracing::info!(why, needs_restart = ?applied.needs_restart, weakened = ?applied.weakened, "config reloaded");
                current = Arc::new(loaded);
                if tx.send(Event::Reload(current.clone())).await.is_err() {
                    return;
                }
                ConfigNote { at: SystemTime::now(), outcome: Ok(applied) }
            }
            Err(e) => {
                tracing::warn!(why, error = %e, "config not reloaded");
                ConfigNote { at: SystemTime::now(), outcome: Err(e.to_string().replace("\n  hint: ", " · hint: ")) }
            }
        };
        if tx.send(Event::Config(note)).await.is_err() {
            return;
        }
    }
}
