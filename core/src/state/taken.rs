//! Incidents taken: someone said, from a screen of the collector, that they are on an item.
//! Taking mutes nothing (a silence does): it says who is on it, on every screen and in the
//! notifications, and holds back reminders. It ends by itself when the item is OK again, or when
//! it is handed back. Plain data: it changes through `State::apply`, and the collector keeps it
//! on disk (`store::document`).

use super::marks::{Mark, Marks, clock};
use serde::{Deserialize, Serialize};
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Taking {
    /// The item: `service payments`, `asg web-asg`, `backup postgres base`.
    pub item: String,
    /// Who took it: the operator's name, or the local board's user.
    pub who: String,
    pub host: String,
    /// What they said: "looking at the DB"; may be empty.
    pub note: String,
    /// Unix seconds when it was taken.
    pub at: u64,
}

impl Mark for Taking {
    fn item(&self) -> &str {
        &self.item
    }
}

impl Taking {
    pub fn new(item: &str, who: &str, host: &str, note: &str, now: SystemTime) -> Self {
        Self {
            item: item.into(),
            who: who.into(),
            host: host.into(),
            note: note.trim().into(),
            at: now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs(),
        }
    }

    /// `taken by alice`: what a row has room for.
    pub fn short(&self) -> String {
        format!("taken by {}", self.who)
    }

    /// `taken by alice 03:12 — looking at the DB`.
    pub fn label(&self, utc_offset_secs: i32) -> String {
        let head = format!("taken by {} {}", self.who, clock(self.at, utc_offset_secs));
        if self.note.is_empty() { head } else { format!("{head} — {}", self.note) }
    }
}

/// The incidents taken now.
pub type Taken = Marks<Taking>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn one_taking_an_item_and_its_words() {
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000 + 3 * 3600 + 12 * 60 - 8 * 3600);
        let mut taken = Taken::default();
        taken.add(Taking::new("service db", "alice", "bastion", " looking at the DB ", now));
        taken.add(Taking::new("service db", "bob", "bastion", "", now));
        assert_eq!(taken.list.len(), 1, "one taking an item: the second replaces the first");
        assert_eq!(taken.get("service db").unwrap().label(0), "taken by bob 03:12");
        taken.add(Taking::new("service db", "alice", "bastion", " looking at the DB ", now));
        assert_eq!(taken.get("service db").unwrap().label(3600), "taken by alice 04:12 — looking at the DB");
        assert_eq!(taken.get("service db").unwrap().short(), "taken by alice");
        assert!(taken.lift(&["service db".into()]));
        assert!(taken.get("service db").is_none());
    }
}
