//! Maintenance: planned time in which a service's failures page nobody. Windows come from the
//! config (`[[maintenance]]`, on each service they cover) or from the board (`M`: a duration and
//! a reason, kept as a silence's record is: item, until, reason, who). The state stays on the
//! board; the row says "maintenance until 03:30".

use super::marks::{Marks, clock};
use super::silences::Silence;
use super::{ServiceState, State};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Windows set from the board, one per item, each with its end.
pub type AdHoc = Marks<Silence>;

/// A window in force on a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InForce {
    pub until: SystemTime,
    pub reason: String,
    /// Who set it from the board; none for a planned one.
    pub by: Option<String>,
    /// The planned window's name.
    pub window: Option<String>,
}

impl InForce {
    /// `maintenance until 03:30`; in full, with what it is for and whose it is.
    pub fn label(&self, utc_offset_secs: i32, full: bool) -> String {
        let secs = self.until.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let short = format!("maintenance until {}", clock(secs, utc_offset_secs));
        if !full {
            return short;
        }
        let whose = match (&self.by, &self.window) {
            (Some(by), _) => format!(" (set by {by})"),
            (None, Some(w)) => format!(" ({w})"),
            (None, None) => String::new(),
        };
        if self.reason.is_empty() { format!("{short}{whose}") } else { format!("{short} — {}{whose}", self.reason) }
    }
}

/// The planned window in force on `svc` at `now`, the longest if several are, and when that
/// answer can next change.
pub fn planned(svc: &ServiceState, now: SystemTime) -> (Option<InForce>, SystemTime) {
    let mut found: Option<InForce> = None;
    let mut next = now + Duration::from_secs(86_400);
    for w in &svc.maintenance {
        let (active, changes) = w.at(now);
        next = next.min(changes);
        if let Some(a) = active
            && found.as_ref().is_none_or(|f| a.until > f.until)
        {
            found = Some(InForce { until: a.until, reason: a.reason, by: None, window: Some(w.name.clone()) });
        }
    }
    (found, next)
}

/// The window set from the board on `item` in force at `now`.
pub fn ad_hoc(state: &State, item: &str, now: SystemTime) -> Option<InForce> {
    let w = state.maintenance.get(item)?;
    let until = UNIX_EPOCH + Duration::from_secs(w.until?);
    (until > now).then(|| InForce { until, reason: w.reason.clone(), by: Some(w.who.clone()), window: None })
}

impl State {
    /// Whether service `si` is in a maintenance window at `at`: then what happens counts against
    /// neither its budget nor its availability.
    pub(super) fn in_maintenance_at(&self, si: usize, at: SystemTime) -> bool {
        let Some(svc) = self.services.get(si) else { return false };
        if svc.maintenance.is_empty() && self.maintenance.list.is_empty() {
            return false;
        }
        planned(svc, at).0.is_some() || ad_hoc(self, &format!("service {}", svc.name), at).is_some()
    }
}

/// Whichever of the two lasts longer.
pub fn longer(a: Option<InForce>, b: Option<InForce>) -> Option<InForce> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if b.until > a.until { b } else { a }),
        (a, b) => a.or(b),
    }
}
