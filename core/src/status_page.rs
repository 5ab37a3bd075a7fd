//! The public status page's content: each `[status]` component under its public name, its state
//! in customers' words, a strip of past days, and the notes written on the board. Built from the
//! state alone, and only from what the page may say: never a service's own name, a reason, a URL,
//! an instance, a version or who wrote a note.

use crate::state::{State, Status, Verdicts};
use serde::Serialize;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Notes older than this are off the page.
const NOTES_FOR: Duration = Duration::from_secs(7 * 86400);

#[derive(Debug, Serialize)]
pub struct StatusReport {
    pub title: String,
    /// The worst of the components, in the page's words.
    pub status: Public,
    pub words: &'static str,
    /// RFC 3339, UTC.
    pub updated: String,
    pub components: Vec<ComponentReport>,
    /// Newest first, the last seven days.
    pub notes: Vec<NoteReport>,
}

#[derive(Debug, Serialize)]
pub struct ComponentReport {
    pub name: String,
    pub status: Public,
    pub words: &'static str,
    /// Oldest first, today last.
    pub days: Vec<DayReport>,
}

#[derive(Debug, Serialize)]
pub struct DayReport {
    pub date: String,
    pub status: Public,
    /// Minutes of outage and of degraded service (the worst service behind the component's).
    pub outage_min: u32,
    pub degraded_min: u32,
    /// Share of the day seen, 0 to 1: what the board was not running for is not counted as good.
    pub seen: f64,
}

#[derive(Debug, Serialize)]
pub struct NoteReport {
    pub component: String,
    pub text: String,
    /// RFC 3339, UTC.
    pub at: String,
}

/// A state as customers read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Public {
    Operational,
    /// A window in force on one of its services, and nothing worse on the others.
    #[serde(rename = "under_maintenance")]
    Maintenance,
    NoData,
    Degraded,
    PartialOutage,
    MajorOutage,
}

impl Public {
    pub fn words(self) -> &'static str {
        match self {
            Public::Operational => "Operational",
            Public::Maintenance => "Under maintenance",
            Public::NoData => "No data",
            Public::Degraded => "Degraded performance",
            Public::PartialOutage => "Partial outage",
            Public::MajorOutage => "Major outage",
        }
    }

    /// A component of services in these states: all failing is a major outage, some a partial.
    fn of(states: &[Status]) -> Self {
        let crit = states.iter().filter(|s| **s == Status::Crit).count();
        if crit > 0 {
            return if crit == states.len() { Public::MajorOutage } else { Public::PartialOutage };
        }
        if states.contains(&Status::Warn) {
            Public::Degraded
        } else if states.iter().any(|s| matches!(s, Status::Stale | Status::Unknown)) {
            Public::NoData
        } else {
            Public::Operational
        }
    }
}

fn rfc3339(unix: u64) -> String {
    chrono::DateTime::<chrono::Utc>::from(UNIX_EPOCH + Duration::from_secs(unix))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The page at `now`, with `days` past days (today the last).
pub fn report(state: &State, verdicts: &Verdicts, title: &str, days: u16, now: SystemTime) -> StatusReport {
    let dates: Vec<String> = (0..i64::from(days))
        .rev()
        .map(|back| {
            let day = chrono::DateTime::<chrono::Local>::from(now) - chrono::Duration::days(back);
            day.format("%Y-%m-%d").to_string()
        })
        .collect();
    let components: Vec<ComponentReport> = state
        .components
        .iter()
        .map(|c| {
            let positions: Vec<usize> =
                (c.services.iter()).filter_map(|name| state.services.iter().position(|s| *s.name == **name)).collect();
            let in_maintenance = |si: &usize| verdicts.maintenance.get(*si).is_some_and(Option::is_some);
            // A service in its window is not failing the customers by surprise: "Under
            // maintenance", unless the others are worse.
            let states: Vec<Status> = (positions.iter())
                .filter(|si| !in_maintenance(si))
                .filter_map(|&si| verdicts.services.get(si).map(|v| v.status()))
                .collect();
            let status = match Public::of(&states) {
                Public::Operational if positions.iter().any(in_maintenance) => Public::Maintenance,
                other => other,
            };
            let days = dates
                .iter()
                .map(|date| {
                    let seen: Vec<_> = c.services.iter().filter_map(|s| state.days.get(s, date)).collect();
                    let outage = seen.iter().map(|d| d.crit_s).max().unwrap_or(0);
                    let degraded = seen.iter().map(|d| d.warn_s).max().unwrap_or(0);
                    let seen_s = seen.iter().map(|d| d.seen_s).max().unwrap_or(0);
                    let status = match (outage, degraded, seen_s) {
                        (0, 0, 0) => Public::NoData,
                        (0, 0, _) => Public::Operational,
                        (0, _, _) => Public::Degraded,
                        _ if seen.iter().all(|d| d.crit_s > 0) && seen.len() == c.services.len() => Public::MajorOutage,
                        _ => Public::PartialOutage,
                    };
                    DayReport {
                        date: date.clone(),
                        status,
                        outage_min: outage.div_ceil(60),
                        degraded_min: degraded.div_ceil(60),
                        seen: (f64::from(seen_s) / 86.4).round().min(1000.0) / 1000.0,
                    }
                })
                .collect();
            ComponentReport { name: c.name.clone(), status, words: status.words(), days }
        })
        .collect();
    let worst = components.iter().map(|c| c.status).max().unwrap_or(Public::NoData);
    let now_s = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let notes = state
        .status_notes
        .list
        .iter()
        .rev()
        .filter(|n| now_s.saturating_sub(n.at) <= NOTES_FOR.as_secs())
        .filter(|n| components.iter().any(|c| c.name == n.component))
        .map(|n| NoteReport { component: n.component.clone(), text: n.text.clone(), at: rfc3339(n.at) })
        .collect();
    StatusReport {
        title: title.to_string(),
        status: worst,
        words: worst.words(),
        updated: rfc3339(now_s),
        components,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_component_is_as_bad_as_its_services_in_customers_words() {
        use Status::*;
        assert_eq!(Public::of(&[Ok, Ok]), Public::Operational);
        assert_eq!(Public::of(&[Ok, Warn]), Public::Degraded);
        assert_eq!(Public::of(&[Ok, Crit]), Public::PartialOutage);
        assert_eq!(Public::of(&[Crit, Crit]), Public::MajorOutage);
        assert_eq!(Public::of(&[Ok, Unknown]), Public::NoData);
        assert_eq!(Public::of(&[Warn, Stale]), Public::Degraded);
    }
}
