//! `[[maintenance]]`: planned windows, weekly (`weekly = "sun 02:00"`) or by cron
//! (`cron = "0 2 * * 0"`), in a named time zone (`tz = "Europe/Tallinn"`, default the
//! machine's), for some services, environments or all. Start times are wall-clock times in that
//! zone, so a window keeps its hour across a daylight-saving change.

use super::schema::Config;
use chrono::TimeZone;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Where a window's times are read.
#[derive(Debug, Clone, PartialEq)]
pub enum Zone {
    Named(chrono_tz::Tz),
    /// The machine's own (`TZ`, `/etc/localtime`).
    Local,
}

/// One planned window, resolved.
#[derive(Debug, Clone)]
pub struct MaintenanceSpec {
    /// Its name, or what it was written as (`weekly sun 02:00`).
    pub name: String,
    pub reason: String,
    /// When windows start, as cron reads it.
    pub cron: croner::Cron,
    pub zone: Zone,
    pub duration: Duration,
    /// The services it covers, by name (resolved from `services`, `envs`, or all).
    pub services: Vec<String>,
}

impl PartialEq for MaintenanceSpec {
    fn eq(&self, other: &Self) -> bool {
        (self.name == other.name && self.reason == other.reason && self.zone == other.zone)
            && (self.duration == other.duration && self.services == other.services)
            && self.cron.pattern.to_string() == other.cron.pattern.to_string()
    }
}

/// A window in force: until when, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Active {
    pub until: SystemTime,
    pub reason: String,
}

impl MaintenanceSpec {
    /// The window in force at `now`, if one is; and when this answer can next change (the end
    /// of the window in force, or the next start).
    pub fn at(&self, now: SystemTime) -> (Option<Active>, SystemTime) {
        match &self.zone {
            Zone::Named(tz) => self.at_in(tz, now),
            Zone::Local => self.at_in(&chrono::Local, now),
        }
    }

    fn at_in<Z: TimeZone>(&self, zone: &Z, now: SystemTime) -> (Option<Active>, SystemTime) {
        let far = now + Duration::from_secs(86_400);
        let Some(now_z) = to_zone(zone, now) else { return (None, far) };
        // The last start at or before now: whether its window still runs.
        if let Ok(start) = self.cron.find_previous_occurrence(&now_z, true) {
            let end = system(&start) + self.duration;
            if end > now {
                return (Some(Active { until: end, reason: self.reason.clone() }), end);
            }
        }
        let next = self.cron.find_next_occurrence(&now_z, false).map(|t| system(&t)).unwrap_or(far);
        (None, next.min(far))
    }
}

fn to_zone<Z: TimeZone>(zone: &Z, t: SystemTime) -> Option<chrono::DateTime<Z>> {
    let d = t.duration_since(UNIX_EPOCH).ok()?;
    zone.timestamp_opt(d.as_secs() as i64, d.subsec_nanos()).single()
}

fn system<Z: TimeZone>(t: &chrono::DateTime<Z>) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(t.timestamp().max(0) as u64)
}

/// `sun 02:00`, `mon-fri 22:30`, `sat,sunday 03:00`, `daily 04:00` as cron (`0 2 * * SUN`).
fn weekly_as_cron(text: &str) -> Result<String, String> {
    let form =
        || format!("`{text}` is not a weekly time: write days and a time, e.g. \"sun 02:00\" or \"mon-fri 22:30\"");
    let (days, time) = text.trim().rsplit_once(' ').ok_or_else(form)?;
    let (h, m) = time.split_once(':').ok_or_else(form)?;
    let (h, m): (u8, u8) = (h.parse().map_err(|_| form())?, m.parse().map_err(|_| form())?);
    if h > 23 || m > 59 {
        return Err(form());
    }
    const DAYS: [&str; 7] = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];
    // A day as cron names it: its first three letters, written so or in full.
    let day = |d: &str| -> Option<String> {
        let d = d.trim().to_ascii_lowercase();
        DAYS.iter()
            .find(|full| d.len() >= 3 && full.starts_with(&d) && (d.len() == 3 || **full == d))
            .map(|full| full[..3].to_ascii_uppercase())
    };
    let days = days.trim();
    let cron_days = if days.eq_ignore_ascii_case("daily") {
        "*".to_string()
    } else {
        let parts: Option<Vec<String>> = days
            .split(',')
            .map(|part| part.split('-').map(day).collect::<Option<Vec<_>>>().map(|r| r.join("-")))
            .collect();
        parts.ok_or_else(form)?.join(",")
    };
    Ok(format!("{m} {h} * * {cron_days}"))
}

/// Reads a cron line: five fields (minute to weekday), or six with seconds first.
fn parse_cron(text: &str) -> Result<croner::Cron, String> {
    use croner::parser::{CronParser, Seconds};
    (CronParser::builder().seconds(Seconds::Optional).build().parse(text))
        .map_err(|e| format!("`{text}` is not a cron time ({e}); e.g. \"0 2 * * 0\" is Sundays at 02:00"))
}

/// Reads a zone name as the tz database has it.
fn parse_zone(name: &str) -> Result<Zone, String> {
    name.parse::<chrono_tz::Tz>()
        .map(Zone::Named)
        .map_err(|_| format!("`{name}` is not a time zone of the tz database, e.g. \"Europe/Tallinn\" or \"UTC\""))
}

/// Every `[[maintenance]]` entry resolved: `Err((index, key, message))` names what is wrong.
pub fn resolve(config: &Config) -> Result<Vec<MaintenanceSpec>, (usize, &'static str, String)> {
    let mut out = Vec::with_capacity(config.maintenance.len());
    for (i, w) in config.maintenance.iter().enumerate() {
        let cron_text = match (&w.weekly, &w.cron) {
            (Some(weekly), None) => weekly_as_cron(weekly).map_err(|m| (i, "weekly", m))?,
            (None, Some(cron)) => cron.clone(),
            _ => {
                return Err((
                    i,
                    "duration",
                    "a window needs one of weekly = \"sun 02:00\" or cron = \"0 2 * * 0\"".into(),
                ));
            }
        };
        let key = if w.weekly.is_some() { "weekly" } else { "cron" };
        let cron = parse_cron(&cron_text).map_err(|m| (i, key, m))?;
        let zone = match &w.tz {
            Some(name) => parse_zone(name).map_err(|m| (i, "tz", m))?,
            None => Zone::Local,
        };
        if w.duration.is_zero() {
            return Err((i, "duration", "a window must last: e.g. duration = \"1h\"".into()));
        }
        if let Some(s) = w.services.iter().find(|s| !config.services.contains_key(s.as_str())) {
            return Err((i, "services", format!("`{s}` is not in [services]")));
        }
        if let Some(e) = w.envs.iter().find(|e| !config.environments.contains_key(e.as_str())) {
            return Err((i, "envs", format!("`{e}` is not in [environments]")));
        }
        let services = (config.services.iter())
            .filter(|(name, svc)| {
                let env = svc.env.as_deref().unwrap_or("default");
                (w.services.is_empty() && w.envs.is_empty())
                    || w.services.iter().any(|s| s == *name)
                    || w.envs.iter().any(|e| e == env)
            })
            .map(|(name, _)| name.clone())
            .collect();
        let written = w.weekly.as_ref().map(|t| format!("weekly {t}")).unwrap_or_else(|| format!("cron {cron_text}"));
        let name = if w.name.is_empty() { written } else { w.name.clone() };
        out.push(MaintenanceSpec { name, reason: w.reason.clone(), cron, zone, duration: w.duration, services });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(cron: &str, tz: &str, duration: Duration) -> MaintenanceSpec {
        MaintenanceSpec {
            name: "w".into(),
            reason: "patching".into(),
            cron: parse_cron(cron).unwrap(),
            zone: parse_zone(tz).unwrap(),
            duration,
            services: vec![],
        }
    }

    fn utc(text: &str) -> SystemTime {
        let t = chrono::DateTime::parse_from_rfc3339(text).unwrap();
        UNIX_EPOCH + Duration::from_secs(t.timestamp() as u64)
    }

    #[test]
    fn weekly_times_read_as_cron() {
        assert_eq!(weekly_as_cron("sun 02:00").unwrap(), "0 2 * * SUN");
        assert_eq!(weekly_as_cron("Mon-Fri 22:30").unwrap(), "30 22 * * MON-FRI");
        assert_eq!(weekly_as_cron("sat,sunday 03:05").unwrap(), "5 3 * * SAT,SUN");
        assert_eq!(weekly_as_cron("daily 04:00").unwrap(), "0 4 * * *");
        assert!(weekly_as_cron("someday 02:00").is_err());
        assert!(weekly_as_cron("sun 25:00").is_err());
        assert!(parse_zone("Europe/Atlantis").is_err());
        assert!(parse_cron("0 2 * *").is_err());
    }

    #[test]
    fn a_window_keeps_its_wall_clock_hour_across_daylight_saving_changes() {
        // Sundays 02:00 to 03:30 in Tallinn: UTC+2 in winter, UTC+3 in summer (from 29 March 2026).
        let w = spec("0 2 * * SUN", "Europe/Tallinn", Duration::from_secs(90 * 60));
        let (winter, _) = w.at(utc("2026-03-22T00:30:00Z"));
        assert_eq!(winter.unwrap().until, utc("2026-03-22T01:30:00Z"), "03:30 at UTC+2");
        let (summer, _) = w.at(utc("2026-04-05T00:00:00Z"));
        assert_eq!(summer.unwrap().until, utc("2026-04-05T00:30:00Z"), "03:30 at UTC+3");
        // Before and after: not in force; the answer holds until the next start.
        let (before, next) = w.at(utc("2026-04-04T12:00:00Z"));
        assert_eq!((before, next), (None, utc("2026-04-04T23:00:00Z")));
        let (after, _) = w.at(utc("2026-04-05T00:31:00Z"));
        assert_eq!(after, None);
        // The day the clocks go forward (03:00 → 04:00): 02:00 exists, 90 minutes of real time.
        let (change_day, _) = w.at(utc("2026-03-29T00:10:00Z"));
        assert_eq!(change_day.unwrap().until, utc("2026-03-29T01:30:00Z"));
    }
}
