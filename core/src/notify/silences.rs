//! Silencing from the board: a silence set or lifted is audited, then reaches the state as an
//! event (the data and its rules are `state::silences`).

use crate::actions::audit::{AuditLog, Operator, SilenceRecord, now_rfc3339};
use crate::state::Event;
use crate::state::silences::Silence;
use std::time::{Duration, SystemTime};

/// A silence set or lifted from the board's dialog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub item: String,
    /// How long; none for "until it is OK".
    pub length: Option<Duration>,
    pub reason: String,
    pub lift: bool,
    /// A maintenance window rather than a silence.
    pub maintenance: bool,
}

impl Change {
    /// Audits it; the event that makes it so in the state.
    pub fn audited(&self, audit: &AuditLog, who: &Operator) -> Event {
        let now = SystemTime::now();
        let rfc3339 =
            |t: SystemTime| chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let until = match (self.lift, self.length) {
            (true, _) => rfc3339(now),
            (false, Some(d)) => rfc3339(now + d),
            (false, None) => "until OK".into(),
        };
        let record = SilenceRecord {
            time: now_rfc3339(),
            phase: match (self.maintenance, self.lift) {
                (false, false) => "silence",
                (false, true) => "unsilence",
                (true, false) => "maintenance",
                (true, true) => "maintenance ended",
            },
            operator: who,
            item: &self.item,
            until,
            reason: &self.reason,
        };
        super::marks::audit(audit, &record);
        let mark = || Silence::new(&self.item, self.length, &self.reason, &who.user, &who.host, now);
        match (self.maintenance, self.lift) {
            (false, false) => Event::Silenced(mark()),
            (false, true) => Event::Unsilenced { items: vec![self.item.clone()] },
            (true, false) => Event::Maintenance(mark()),
            (true, true) => Event::MaintenanceOver { items: vec![self.item.clone()] },
        }
    }

    /// What happened, in words, once the event is applied to `state`.
    pub fn words(&self, state: &crate::state::State, utc_offset_secs: i32) -> String {
        if self.maintenance {
            let now = SystemTime::now();
            return match crate::state::maintenance::ad_hoc(state, &self.item, now) {
                Some(w) if !self.lift => format!("{}: {}", self.item, w.label(utc_offset_secs, false)),
                _ => format!("{}: maintenance ended", self.item),
            };
        }
        if self.lift {
            return format!("{}: notifications on again", self.item);
        }
        let label = state.silences.get(&self.item).map(|s| s.label(utc_offset_secs)).unwrap_or_default();
        format!("{}: notifications muted {label}", self.item)
    }
}
