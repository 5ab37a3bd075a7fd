//! Silences, as Alertmanager has them: an item's notifications muted for a while or until it is
//! OK again; gone when they end. A silence never hides a state on the board, only the
//! notification. Plain data: they change through `State::apply`, and the collector keeps them on
//! disk (`store::document`).

use super::marks::{Mark, Marks, clock};
use serde::{Deserialize, Serialize};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Silence {
    /// The item: `service payments`, `asg web-asg`, `backup postgres base`.
    pub item: String,
    /// Unix seconds when it ends; none for "until it is OK".
    pub until: Option<u64>,
    pub reason: String,
    pub who: String,
    pub host: String,
    /// Unix seconds when it was made.
    pub at: u64,
}

fn secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

impl Mark for Silence {
    fn item(&self) -> &str {
        &self.item
    }
}

impl Silence {
    pub fn new(item: &str, length: Option<Duration>, reason: &str, who: &str, host: &str, now: SystemTime) -> Self {
        Self {
            item: item.into(),
            until: length.map(|d| secs(now + d)),
            reason: reason.trim().into(),
            who: who.into(),
            host: host.into(),
            at: secs(now),
        }
    }

    /// `🔇 until 14:30 — deploy in progress`, `🔇 until OK`.
    pub fn label(&self, utc_offset_secs: i32) -> String {
        let until = match self.until {
            Some(t) => format!("until {}", clock(t, utc_offset_secs)),
            None => "until OK".into(),
        };
        if self.reason.is_empty() { format!("🔇 {until}") } else { format!("🔇 {until} — {}", self.reason) }
    }
}

/// The silences in force.
pub type Silences = Marks<Silence>;

impl Silences {
    /// The items whose silences are over at `now`: run out, or "until OK" and OK (`is_ok`).
    pub fn ending(&self, now: SystemTime, is_ok: &dyn Fn(&str) -> bool) -> Vec<String> {
        let now = secs(now);
        self.list
            .iter()
            .filter(|s| match s.until {
                Some(t) => t <= now,
                None => is_ok(&s.item),
            })
            .map(|s| s.item.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silences_end_by_time_or_by_ok() {
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let mut s = Silences::default();
        s.add(Silence::new("service a", Some(Duration::from_secs(1800)), "deploy", "ana", "bastion", now));
        s.add(Silence::new("service b", None, "", "ana", "bastion", now));
        assert_eq!(s.get("service a").unwrap().label(0), "🔇 until 08:30 — deploy");
        let b_ok = |item: &str| item == "service b";
        assert_eq!(s.ending(now + Duration::from_secs(60), &b_ok), ["service b"]);
        assert_eq!(s.ending(now + Duration::from_secs(1800), &|_| false), ["service a"]);
        assert!(s.lift(&["service b".to_string()]));
        assert!(!s.lift(&["service b".to_string()]), "lifted once");
        assert_eq!(s.list.len(), 1);
    }
}
