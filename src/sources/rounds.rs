//! How many rounds each poller has finished: what a one-shot collector (`check`, `snapshot`)
//! waits on, so it ends as soon as every source has answered, however many there are.
//!
//! A poller sends its round's events, then marks the round done; the events are in the channel
//! before the mark, so whoever sees the mark and then drains the channel has them all.

use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::Notify;

#[derive(Default)]
struct Inner {
    /// Rounds finished, one entry per poller.
    done: Mutex<Vec<u32>>,
    changed: Notify,
}

/// The rounds of every poller of a collector.
#[derive(Clone, Default)]
pub struct Rounds {
    inner: Arc<Inner>,
}

/// One poller's counter.
pub struct Round {
    index: usize,
    /// Rounds that do not count yet: a scrape's first, which gives no rate.
    warm_up: u32,
    seen: u32,
    rounds: Rounds,
}

impl Round {
    /// The poller finished a round (its events are sent).
    pub fn done(&mut self) {
        self.seen = self.seen.saturating_add(1);
        if self.seen <= self.warm_up {
            return;
        }
        if let Some(n) = self.rounds.inner.done.lock().unwrap_or_else(PoisonError::into_inner).get_mut(self.index) {
            *n = n.saturating_add(1);
        }
        self.rounds.inner.changed.notify_one();
    }
}

impl Rounds {
    /// A counter for a new poller; its first `warm_up` rounds do not count.
    pub fn register(&self, warm_up: u32) -> Round {
        let mut done = self.inner.done.lock().unwrap_or_else(PoisonError::into_inner);
        done.push(0);
        Round { index: done.len() - 1, warm_up, seen: 0, rounds: self.clone() }
    }

    /// The fewest rounds any poller has finished (`u32::MAX` with no poller).
    pub fn fewest(&self) -> u32 {
        self.inner.done.lock().unwrap_or_else(PoisonError::into_inner).iter().copied().min().unwrap_or(u32::MAX)
    }

    /// Pollers that have finished fewer than `rounds`.
    pub fn behind(&self, rounds: u32) -> usize {
        self.inner.done.lock().unwrap_or_else(PoisonError::into_inner).iter().filter(|&&n| n < rounds).count()
    }

    /// Resolves after some poller marks a round done (at once if one did since the last call).
    pub async fn changed(&self) {
        self.inner.changed.notified().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slowest_poller_sets_the_count_and_warm_up_rounds_do_not_count() {
        let rounds = Rounds::default();
        assert_eq!(rounds.fewest(), u32::MAX);
        let mut health = rounds.register(0);
        let mut scrape = rounds.register(1);
        health.done();
        scrape.done();
        assert_eq!((rounds.fewest(), rounds.behind(1)), (0, 1), "a scrape's first round gives no rate");
        scrape.done();
        assert_eq!((rounds.fewest(), rounds.behind(1)), (1, 0));
        health.done();
        assert_eq!(rounds.fewest(), 1);
    }
}
