//! The five states every signal reduces to, ordered by how much they need attention.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Ordered so that `max()` is the worst: a service is as bad as its worst instance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    #[default]
    Ok,
    Unknown,
    Stale,
    Warn,
    Crit,
}

impl Status {
    pub const ALL: [Status; 5] = [Status::Crit, Status::Warn, Status::Stale, Status::Unknown, Status::Ok];

    /// Upper-case word, so state never depends on colour alone.
    pub fn word(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Unknown => "UNKNOWN",
            Status::Stale => "STALE",
            Status::Warn => "WARN",
            Status::Crit => "CRIT",
        }
    }

    /// Process exit code for `opsboard check`: 0 ok, 1 warn, 2 crit.
    pub fn exit_code(self) -> i32 {
        match self {
            Status::Ok => 0,
            Status::Unknown | Status::Stale | Status::Warn => 1,
            Status::Crit => 2,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.word())
    }
}

/// A status with the reason for it in words ("HTTP 503", "timeout after 2s").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub status: Status,
    pub reason: String,
}

impl Verdict {
    pub fn new(status: Status, reason: impl Into<String>) -> Self {
        Self { status, reason: reason.into() }
    }

    pub fn ok() -> Self {
        Self::new(Status::Ok, "")
    }
}

/// Counts of each status, worst first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Tally {
    pub ok: usize,
    pub unknown: usize,
    pub stale: usize,
    pub warn: usize,
    pub crit: usize,
}

impl Tally {
    pub fn add(&mut self, s: Status) {
        *self.slot(s) += 1;
    }

    pub fn get(&self, s: Status) -> usize {
        match s {
            Status::Ok => self.ok,
            Status::Unknown => self.unknown,
            Status::Stale => self.stale,
            Status::Warn => self.warn,
            Status::Crit => self.crit,
        }
    }

    pub fn total(&self) -> usize {
        self.ok + self.unknown + self.stale + self.warn + self.crit
    }

    /// The worst status present, `Unknown` when empty.
    pub fn worst(&self) -> Status {
        Status::ALL.into_iter().find(|s| self.get(*s) > 0).unwrap_or(Status::Unknown)
    }

    fn slot(&mut self, s: Status) -> &mut usize {
        match s {
            Status::Ok => &mut self.ok,
            Status::Unknown => &mut self.unknown,
            Status::Stale => &mut self.stale,
            Status::Warn => &mut self.warn,
            Status::Crit => &mut self.crit,
        }
    }
}

impl FromIterator<Status> for Tally {
    fn from_iter<I: IntoIterator<Item = Status>>(iter: I) -> Self {
        let mut t = Tally::default();
        for s in iter {
            t.add(s);
        }
        t
    }
}

impl From<crate::config::schema::MinState> for Status {
    fn from(m: crate::config::schema::MinState) -> Self {
        match m {
            crate::config::schema::MinState::Info | crate::config::schema::MinState::Warn => Status::Warn,
            crate::config::schema::MinState::Crit => Status::Crit,
        }
    }
}
