//! How many rounds each poller has finished: what a one-shot collector (`check`, `snapshot`)
//! waits on, so it ends as soon as every source has answered, however many there are.
//!
//! A poller sends its round's events, then marks the round done; the events are in the channel
//! before the mark, so whoever sees the mark and then drains the channel has them all.

use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::Notify;

#[derive(Default)]
struct Inner {
    /// Rounds finished, and whether the poller's rounds are repeated for `--rounds` (health
    /// checks and scrapes) or one is enough (AWS, backups, PromQL, the deploy log): one entry
    /// per poller.
    done: Mutex<Vec<(u32, bool)>>,
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
        if let Some((n, _)) = self.rounds.inner.done.lock().unwrap_or_else(PoisonError::into_inner).get_mut(self.index)
        {
            *n = n.saturating_add(1);
        }
        self.rounds.inner.changed.notify_one();
    }
}

impl Drop for Round {
    /// A poller stopped (its job left the fleet, or its settings changed) holds no run back.
    fn drop(&mut self) {
        if let Some((n, _)) = self.rounds.inner.done.lock().unwrap_or_else(PoisonError::into_inner).get_mut(self.index)
        {
            *n = u32::MAX;
        }
        self.rounds.inner.changed.notify_one();
    }
}

impl Rounds {
    /// A counter for a new poller whose rounds are repeated for `--rounds` (health checks,
    /// scrapes); its first `warm_up` rounds do not count.
    pub fn register(&self, warm_up: u32) -> Round {
        self.add(warm_up, true)
    }

    /// A counter for a poller of which one answer is enough (AWS, backups, PromQL, deploy log).
    pub fn register_once(&self) -> Round {
        self.add(0, false)
    }

    fn add(&self, warm_up: u32, repeats: bool) -> Round {
        let mut done = self.inner.done.lock().unwrap_or_else(PoisonError::into_inner);
        done.push((0, repeats));
        Round { index: done.len() - 1, warm_up, seen: 0, rounds: self.clone() }
    }

    /// Pollers that have not finished `rounds` (or, if one answer is enough for them, one).
    pub fn behind(&self, rounds: u32) -> usize {
        let done = self.inner.done.lock().unwrap_or_else(PoisonError::into_inner);
        done.iter().filter(|&&(n, repeats)| n < if repeats { rounds } else { rounds.min(1) }).count()
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
        assert_eq!(rounds.behind(3), 0, "no poller, none behind");
        let mut health = rounds.register(0);
        let mut scrape = rounds.register(1);
        let mut aws = rounds.register_once();
        health.done();
        scrape.done();
        assert_eq!(rounds.behind(1), 2, "a scrape's first round gives no rate; AWS has not answered");
        scrape.done();
        aws.done();
        assert_eq!(rounds.behind(1), 0);
        assert_eq!(rounds.behind(2), 2, "health and scrape repeat; one AWS answer is enough");
        health.done();
        scrape.done();
        assert_eq!(rounds.behind(2), 0);
        let late = rounds.register(0);
        assert_eq!(rounds.behind(2), 1, "a poller started later counts");
        drop(late);
        assert_eq!(rounds.behind(2), 0, "a poller stopped holds nothing back");
    }
}
