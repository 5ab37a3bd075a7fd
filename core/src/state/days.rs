//! Each day's time in each state, per service on the status page: the strip of past days. Time
//! when no board was running, or when the service's state was unknown, is not counted at all: a
//! day with little seen says so, it is not a good day. The collector keeps it on disk.

use super::Status;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Days kept per service: the longest strip a status page may ask for.
pub const KEEP_DAYS: usize = 90;

/// One service's day: seconds seen, and of those, seconds WARN and CRIT.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Day {
    /// `2026-12-04`, in the board's time zone.
    pub date: String,
    pub seen_s: u32,
    pub warn_s: u32,
    pub crit_s: u32,
}

/// Every tracked service's days, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Days {
    pub services: BTreeMap<String, Vec<Day>>,
}

impl Days {
    /// Counts `secs` of `service` in `status` on `date`.
    pub fn add(&mut self, service: &str, date: &str, status: Status, secs: u32) {
        let counts = match status {
            Status::Ok => (secs, 0, 0),
            Status::Warn => (secs, secs, 0),
            Status::Crit => (secs, 0, secs),
            Status::Stale | Status::Unknown => return,
        };
        let days = self.services.entry(service.to_string()).or_default();
        if days.last().is_none_or(|d| d.date != date) {
            days.push(Day { date: date.to_string(), ..Day::default() });
            if days.len() > KEEP_DAYS {
                days.remove(0);
            }
        }
        let day = days.last_mut().expect("pushed above");
        day.seen_s = day.seen_s.saturating_add(counts.0);
        day.warn_s = day.warn_s.saturating_add(counts.1);
        day.crit_s = day.crit_s.saturating_add(counts.2);
    }

    pub fn get(&self, service: &str, date: &str) -> Option<&Day> {
        self.services.get(service)?.iter().rev().find(|d| d.date == date)
    }

    /// Forgets services no longer on the status page.
    pub fn keep_only(&mut self, services: &[&str]) {
        self.services.retain(|s, _| services.contains(&s.as_str()));
    }
}

impl super::State {
    /// Counts `gap` of every service on the status page into `date`, in its state now.
    pub fn tally_days(&mut self, verdicts: &super::Verdicts, date: &str, gap: std::time::Duration) {
        let secs = u32::try_from(gap.as_secs()).unwrap_or(u32::MAX);
        let on_page: Vec<&str> = self.components.iter().flat_map(|c| c.services.iter().map(String::as_str)).collect();
        for (si, svc) in self.services.iter().enumerate() {
            if on_page.contains(&&*svc.name)
                && let Some(v) = verdicts.services.get(si)
            {
                // Time in a maintenance window is seen, and no outage.
                let in_window = verdicts.maintenance.get(si).is_some_and(Option::is_some);
                let status = if in_window { super::Status::Ok } else { v.status() };
                self.days.add(&svc.name, date, status, secs);
            }
        }
        self.days.keep_only(&on_page);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_is_counted_by_state_per_day_and_unknown_time_not_at_all() {
        let mut d = Days::default();
        d.add("web", "2026-12-03", Status::Ok, 60);
        d.add("web", "2026-12-03", Status::Crit, 30);
        d.add("web", "2026-12-03", Status::Unknown, 3000);
        d.add("web", "2026-12-04", Status::Warn, 10);
        let day = d.get("web", "2026-12-03").unwrap();
        assert_eq!((day.seen_s, day.warn_s, day.crit_s), (90, 0, 30));
        assert_eq!(d.get("web", "2026-12-04").unwrap().warn_s, 10);
        for n in 0..100 {
            d.add("web", &format!("2027-{:02}-{:02}", n / 28 + 1, n % 28 + 1), Status::Ok, 1);
        }
        assert_eq!(d.services["web"].len(), KEEP_DAYS, "the oldest days go");
        d.keep_only(&["api"]);
        assert!(d.services.is_empty());
    }
}
