//! What the demo shows of incidents: checkout needs payments (`depends_on`), so payments'
//! failing node puts checkout behind it; the prod services keep error budgets (`slo`), with
//! four weeks of counts written into the demo's store as a board that had watched them would
//! have (a day and a half unseen, and a payments incident nine days ago); and recommendations
//! has a planned window, a reindex, each time the story degrades it.

use super::story;
use crate::store::budgets::{BudgetStore, Ledgers, Rows};
use std::fmt::Write;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Each prod service's objective; staging's keep no budget, and show their availability alone.
const OBJECTIVE: &str = "99.5%";
/// What checkout-api needs to work; it also had the incident nine days ago.
pub const PAYMENTS: &str = "payments";
/// The service the planned window covers, and when in the story: the reindex starts a little
/// before recommendations degrades (2:10) and ends a little after it recovers (3:10).
pub const REINDEXED: &str = "recommendations";
const REINDEX_AT: Duration = Duration::from_secs(125);
const REINDEX_FOR: Duration = Duration::from_secs(70);

/// The lines a service's table gets beyond its instances.
pub fn service_lines(service: &story::DemoService) -> String {
    let mut out = String::new();
    if service.env == "prod" {
        let _ = writeln!(out, "slo = {{ objective = \"{OBJECTIVE}\", window = \"30d\" }}");
    }
    if service.name == story::DEPLOYED {
        let _ = writeln!(out, "depends_on = [\"{PAYMENTS}\"]");
    }
    out
}

/// The planned reindex as a `[[maintenance]]` table: the story repeats every four minutes, and
/// an hour holds fifteen of them, so a cron time (in UTC, seconds first) on every fourth minute
/// starts it at the same moment of every cycle. `story_now` is where the story is at `now`.
pub fn maintenance(story_now: Duration, now: SystemTime) -> String {
    let cycle = story::CYCLE.as_secs();
    let into = story_now.as_secs() % cycle;
    let start = unix(now) + cycle - into + REINDEX_AT.as_secs();
    let minutes: Vec<String> = ((start / 60) % 4..60).step_by(4).map(|m| m.to_string()).collect();
    format!(
        "\n[[maintenance]]\nname = \"reindex\"\ncron = \"{} {} * * * *\"\ntz = \"UTC\"\nduration = \"{}s\"\n\
         services = [\"{REINDEXED}\"]\nreason = \"search index rebuild\"\n",
        start % 60,
        minutes.join(","),
        REINDEX_FOR.as_secs()
    )
}

/// Days of counts written before `now`, and the days within them no board watched.
const DAYS_KEPT: u64 = 28;
const UNSEEN_HOURS: std::ops::Range<u64> = (20 * 24)..(20 * 24 + 36);
/// Payments' incident: 10 % of its requests failed for six hours, nine days ago.
const INCIDENT_HOURS: std::ops::Range<u64> = (9 * 24)..(9 * 24 + 6);
const INCIDENT_ERRORS: f64 = 0.1;
/// Health checks an instance answers an hour at the demo's 2 s interval.
const CHECKS_AN_HOUR: u64 = 1800;

/// Writes the weeks before `now` into the store at `path`, as a board watching the story's
/// quiet hours would have counted them.
pub fn seed_store(path: &Path, now: SystemTime) -> Result<(), String> {
    let store = BudgetStore::open(path)?;
    let this_hour = unix(now) / 3600;
    let ledgers: Vec<(&str, Ledgers)> = story::SERVICES.iter().map(|s| (s.name, past(s, this_hour))).collect();
    store.save(ledgers.into_iter())
}

/// One service's hours from [`DAYS_KEPT`] days ago to the last full hour.
fn past(service: &story::DemoService, this_hour: u64) -> Ledgers {
    let (mut requests, mut checks) = (Rows::default(), Rows::default());
    for ago in (1..=DAYS_KEPT * 24).rev() {
        if UNSEEN_HOURS.contains(&ago) {
            continue;
        }
        let hour = this_hour - ago;
        let incident = service.name == PAYMENTS && INCIDENT_HOURS.contains(&ago);
        let total = (service.rps * 3600.0) as u64;
        let errors = if incident { INCIDENT_ERRORS } else { 0.002 };
        let failed = (total as f64 * errors) as u64;
        requests.hours.push((hour, (total - failed, total, 3600)));
        let all = CHECKS_AN_HOUR * service.instances as u64;
        let failed_checks = if incident { all / 3 } else { 0 };
        checks.hours.push((hour, (all - failed_checks, all, 3600)));
    }
    [requests, checks]
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reindex_starts_at_the_same_moment_of_every_cycle() {
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        // 100 s into the story: the reindex starts 25 s from now, and every four minutes after.
        let table = maintenance(Duration::from_secs(100), now);
        let start = 1_800_000_000 + 25;
        let (s, m) = (start % 60, (start / 60) % 60);
        let cron = table.lines().find_map(|l| l.strip_prefix("cron = ")).unwrap().trim_matches('"').to_string();
        let mut fields = cron.split(' ');
        assert_eq!(fields.next().unwrap(), s.to_string());
        let minutes: Vec<u64> = fields.next().unwrap().split(',').map(|m| m.parse().unwrap()).collect();
        assert!(minutes.contains(&m), "{cron}");
        assert_eq!(minutes.len(), 15, "{cron}");
        assert!(minutes.windows(2).all(|w| w[1] - w[0] == 4), "{cron}");
    }

    #[test]
    fn the_weeks_before_leave_a_day_and_a_half_unseen_and_payments_incident() {
        let this_hour = 500_000;
        let payments = story::SERVICES.iter().find(|s| s.name == PAYMENTS).unwrap();
        let [requests, checks] = past(payments, this_hour);
        assert_eq!(requests.hours.len() as u64, DAYS_KEPT * 24 - 36);
        assert!(requests.hours.windows(2).all(|w| w[0].0 < w[1].0), "oldest first");
        assert_eq!(requests.hours.last().unwrap().0, this_hour - 1);
        let failed: u64 = requests.hours.iter().map(|(_, (good, total, _))| total - good).sum();
        let total: u64 = requests.hours.iter().map(|(_, (_, total, _))| total).sum();
        // Six hours at 10 % in about four weeks at 0.2 %.
        let ratio = failed as f64 / total as f64;
        assert!((0.0028..0.0032).contains(&ratio), "{ratio}");
        assert_eq!(checks.hours.len(), requests.hours.len());
    }
}
