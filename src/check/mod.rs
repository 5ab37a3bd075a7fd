//! `opsboard check`: poll everything once, print a table (`table.rs`) or JSON, exit 0 / 1 / 2.

use crate::collector::{Collector, Mode};
use crate::config::Loaded;
use crate::history::DeployHistory;
use std::time::Duration;

pub mod gate;
mod table;

pub use table::table;

/// Time between the two scrapes that make one rate window in `check` and `snapshot`.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(2);

/// How long a one-shot run waits for its slowest source beyond the rounds themselves; a source
/// that has not answered by then is reported as not seen.
const ONE_SHOT_GRACE: Duration = Duration::from_secs(30);

/// Runs the collector once: every source polled at once and concurrently, until each has
/// answered `rounds` times (a scrape twice `window` apart for its first rate), or time is up.
/// No webhook is sent and no deploy history written. Budgets and availability come from this
/// machine's store when there is one.
pub async fn gather(loaded: &std::sync::Arc<Loaded>, window: Duration, rounds: u32) -> Collector {
    let history = DeployHistory::new(DeployHistory::default_path().unwrap_or_default());
    let mut collector = Collector::with_mode(loaded, history, Mode::OneShot { scrape_every: window });
    let slowest = loaded.fleet.services.iter().map(|s| s.check.interval.max(s.check.timeout)).max().unwrap_or_default();
    let rounds = rounds.max(1);
    let within = window.saturating_mul(rounds + 1) + slowest.saturating_mul(rounds - 1) + ONE_SHOT_GRACE;
    let behind = collector.until_rounds(rounds, within).await;
    if behind > 0 {
        tracing::warn!(behind, "sources that had not answered in {within:?}");
    }
    collector.read_local_counts();
    collector
}
