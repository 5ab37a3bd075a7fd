//! Notes for the public status page, written on the board (`n` on a service): what the team
//! tells its customers about a component ("We are looking into slow checkouts"). Plain data:
//! they change through `State::apply`, and the collector keeps them on disk.

use serde::{Deserialize, Serialize};

/// Notes kept: the page shows the recent ones.
pub const KEEP_NOTES: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusNote {
    /// The component's public name.
    pub component: String,
    pub text: String,
    /// Who wrote it (the audit log's name; never on the public page).
    pub who: String,
    /// Unix seconds.
    pub at: u64,
}

/// The notes, oldest first.
#[derive(Debug, Clone, Default)]
pub struct StatusNotes {
    pub list: Vec<StatusNote>,
}

impl StatusNotes {
    pub fn add(&mut self, note: StatusNote) {
        self.list.push(note);
        if self.list.len() > KEEP_NOTES {
            self.list.remove(0);
        }
    }

    /// The newest note of `component`, if any.
    pub fn latest(&self, component: &str) -> Option<&StatusNote> {
        self.list.iter().rev().find(|n| n.component == component)
    }
}
