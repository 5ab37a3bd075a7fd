//! Silencing from the board: a silence set or lifted is audited, then reaches the state as an
//! event (the data and its rules are `state::silences`).

use crate::state::Event;
use crate::state::silences::{Silence, Silences};
use std::time::{Duration, SystemTime};

/// A silence set or lifted from the board's dialog.
pub struct Change<'a> {
    pub item: &'a str,
    /// How long; none for "until it is OK".
    pub length: Option<Duration>,
    pub reason: &'a str,
    pub lift: bool,
}

impl Change<'_> {
    /// Audits it; the event that makes it so in the state.
    pub fn audited(&self, audit: &crate::actions::audit::AuditLog, who: &crate::actions::audit::Operator) -> Event {
        use crate::actions::audit::{SilenceRecord, now_rfc3339};
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
            phase: if self.lift { "unsilence" } else { "silence" },
            operator: who,
            item: self.item,
            until,
            reason: self.reason,
        };
        if let Err(e) = audit.silence(&record) {
            tracing::error!(file = %audit.path().display(), error = %e, "audit record not written");
        }
        if self.lift {
            Event::Unsilenced { items: vec![self.item.to_string()] }
        } else {
            Event::Silenced(Silence::new(self.item, self.length, self.reason, &who.user, &who.host, now))
        }
    }

    /// What happened, in words, once the event is applied and `kept` says whether it reached the disk.
    pub fn words(&self, silences: &Silences, kept: std::io::Result<()>, utc_offset_secs: i32) -> String {
        match kept {
            Err(e) => format!("{}: silence not kept on disk: {e}", self.item),
            Ok(()) if self.lift => format!("{}: notifications on again", self.item),
            Ok(()) => format!(
                "{}: notifications muted {}",
                self.item,
                silences.get(self.item).map(|s| s.label(utc_offset_secs)).unwrap_or_default()
            ),
        }
    }
}
