//! What a person puts on an item from any screen of the collector, other than an action: a
//! silence, an incident taken. Each is audited, then applied as an event.

use crate::actions::audit::{AuditLog, Operator};
use crate::state::Event;

/// A silence or an incident, set or lifted from a board's dialog; a note for the status page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Marking {
    Silence(super::silences::Change),
    Take(super::taking::Change),
    Note(NoteChange),
}

/// A note posted to the public status page, on one component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteChange {
    /// The component's public name.
    pub component: String,
    pub text: String,
}

impl NoteChange {
    fn audited(&self, log: &AuditLog, who: &Operator) -> Event {
        let item = format!("component {}", self.component);
        let text = self.text.trim();
        let record = crate::actions::audit::MarkRecord {
            time: crate::actions::audit::now_rfc3339(),
            phase: "status note",
            operator: who,
            item: &item,
            note: text,
        };
        audit(log, &record);
        let at = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs();
        Event::StatusNote(crate::state::status_notes::StatusNote {
            component: self.component.clone(),
            text: text.to_string(),
            who: who.user.clone(),
            at,
        })
    }
}

impl Marking {
    /// Audits it; the event that makes it so in the state.
    pub fn audited(&self, audit: &AuditLog, who: &Operator) -> Event {
        match self {
            Marking::Silence(c) => c.audited(audit, who),
            Marking::Take(c) => c.audited(audit, who),
            Marking::Note(c) => c.audited(audit, who),
        }
    }

    /// What happened, in words, once applied; `kept` says whether it reached the disk.
    pub fn words(&self, state: &crate::state::State, kept: std::io::Result<()>, utc_offset_secs: i32) -> String {
        match (kept, self) {
            (Err(e), Marking::Silence(c)) => format!("{}: silence not kept on disk: {e}", c.item),
            (Err(e), Marking::Take(c)) => format!("{}: not kept on disk: {e}", c.item),
            (Err(e), Marking::Note(c)) => format!("{}: note not kept on disk: {e}", c.component),
            (Ok(()), Marking::Note(c)) => format!("{}: note on the status page", c.component),
            (Ok(()), Marking::Silence(c)) => c.words(state, utc_offset_secs),
            (Ok(()), Marking::Take(c)) => c.words(state, utc_offset_secs),
        }
    }
}

/// Appends `record` to the audit log; a failure is logged, and the mark still applies.
pub(super) fn audit<T: serde::Serialize>(audit: &AuditLog, record: &T) {
    if let Err(e) = audit.mark(record) {
        tracing::error!(file = %audit.path().display(), error = %e, "audit record not written");
    }
}
