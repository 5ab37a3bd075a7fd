//! Taking an incident from the board: audited, then it reaches the state as an event (the data
//! and its rules are `state::taken`).

use crate::actions::audit::{AuditLog, MarkRecord, Operator, now_rfc3339};
use crate::state::Event;
use crate::state::taken::Taking;
use std::time::SystemTime;

/// An item taken or handed back from the board's dialog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub item: String,
    /// What the taker says: "looking at the DB".
    pub note: String,
    pub hand_back: bool,
}

impl Change {
    /// Audits it; the event that makes it so in the state.
    pub fn audited(&self, audit: &AuditLog, who: &Operator) -> Event {
        let record = MarkRecord {
            time: now_rfc3339(),
            phase: if self.hand_back { "hand back" } else { "take" },
            operator: who,
            item: &self.item,
            note: self.note.trim(),
        };
        super::marks::audit(audit, &record);
        if self.hand_back {
            Event::HandedBack { items: vec![self.item.clone()] }
        } else {
            Event::Taken(Taking::new(&self.item, &who.user, &who.host, &self.note, SystemTime::now()))
        }
    }

    /// What happened, in words, once the event is applied to `state`.
    pub fn words(&self, state: &crate::state::State, utc_offset_secs: i32) -> String {
        if self.hand_back {
            return format!("{}: handed back", self.item);
        }
        let label = state.taken.get(&self.item).map(|t| t.label(utc_offset_secs)).unwrap_or_default();
        format!("{}: {label}", self.item)
    }
}

/// Audits incidents that ended because their items are OK again, as the board's own doing.
pub fn audit_over(audit: &AuditLog, ended: &[Taking]) {
    let board = Operator::from_env();
    for t in ended {
        let note = format!("OK again; taken by {}", t.who);
        let record = MarkRecord { time: now_rfc3339(), phase: "over", operator: &board, item: &t.item, note: &note };
        super::marks::audit(audit, &record);
    }
}
