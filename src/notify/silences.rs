//! Silences, as Alertmanager has them: an item's notifications muted for a while or until it is
//! OK again. Kept in the data dir across restarts; gone when they end. A silence never hides a
//! state on the board, only the notification.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Silence {
    /// The item: `service payments`, `asg web-asg`, `backup postgres base`.
    pub item: String,
    /// Unix seconds when it ends; none for "until it is OK".
    pub until: Option<u64>,
    pub reason: String,
    pub who: String,
    pub host: String,
    /// Unix seconds when it was made.
    pub at: u64,
}

fn secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

impl Silence {
    pub fn new(item: &str, length: Option<Duration>, reason: &str, who: &str, host: &str, now: SystemTime) -> Self {
        Self {
            item: item.into(),
            until: length.map(|d| secs(now + d)),
            reason: reason.trim().into(),
            who: who.into(),
            host: host.into(),
            at: secs(now),
        }
    }

    /// `🔇 until 14:30 — deploy in progress`, `🔇 until OK`.
    pub fn label(&self, utc_offset_secs: i32) -> String {
        let until = match self.until {
            Some(t) => {
                let local = t as i64 + i64::from(utc_offset_secs);
                format!("until {:02}:{:02}", local.rem_euclid(86400) / 3600, local.rem_euclid(3600) / 60)
            }
            None => "until OK".into(),
        };
        if self.reason.is_empty() { format!("🔇 {until}") } else { format!("🔇 {until} — {}", self.reason) }
    }
}

/// The silences in force, and the file that keeps them.
#[derive(Debug, Clone, Default)]
pub struct Silences {
    path: Option<PathBuf>,
    pub list: Vec<Silence>,
}

impl Silences {
    /// `<data dir>/silences.json`.
    pub fn default_path() -> Option<PathBuf> {
        crate::config::data_dir().map(|d| d.join("silences.json"))
    }

    /// The silences on file; an unreadable file is named in the log and starts empty.
    pub fn load(path: Option<PathBuf>) -> Self {
        let list = path.as_deref().and_then(crate::store::document::read).unwrap_or_default();
        Self { path, list }
    }

    pub fn get(&self, item: &str) -> Option<&Silence> {
        self.list.iter().find(|s| s.item == item)
    }

    /// Adds (or replaces) the item's silence and writes the file.
    pub fn add(&mut self, s: Silence) -> std::io::Result<()> {
        self.list.retain(|x| x.item != s.item);
        self.list.push(s);
        self.save()
    }

    /// Lifts the item's silence and writes the file.
    pub fn lift(&mut self, item: &str) -> std::io::Result<()> {
        self.list.retain(|x| x.item != item);
        self.save()
    }

    /// Drops silences that have run out, and "until OK" ones whose item is OK; writes the file if
    /// any went. `is_ok` says whether an item is OK now.
    pub fn expire(&mut self, now: SystemTime, is_ok: &dyn Fn(&str) -> bool) {
        let before = self.list.len();
        let now = secs(now);
        self.list.retain(|s| match s.until {
            Some(t) => t > now,
            None => !is_ok(&s.item),
        });
        if self.list.len() != before
            && let Err(e) = self.save()
        {
            tracing::error!(error = %e, "silences file not written");
        }
    }

    fn save(&self) -> std::io::Result<()> {
        let Some(path) = &self.path else { return Ok(()) };
        crate::store::document::write(path, &self.list)
    }
}

/// A silence set or lifted from the board's dialog.
pub struct Change<'a> {
    pub item: &'a str,
    /// How long; none for "until it is OK".
    pub length: Option<Duration>,
    pub reason: &'a str,
    pub lift: bool,
}

impl Change<'_> {
    /// Audits it, keeps it in `silences` (and on disk), and says what happened in words.
    pub fn apply(
        &self,
        silences: &mut Silences,
        audit: &crate::actions::audit::AuditLog,
        who: &crate::actions::audit::Operator,
        utc_offset_secs: i32,
    ) -> String {
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
        let kept = if self.lift {
            silences.lift(self.item)
        } else {
            silences.add(Silence::new(self.item, self.length, self.reason, &who.user, &who.host, now))
        };
        match kept {
            Err(e) => {
                tracing::error!(error = %e, "silences file not written");
                format!("{}: silence not kept on disk: {e}", self.item)
            }
            Ok(()) if self.lift => format!("{}: notifications on again", self.item),
            Ok(()) => format!(
                "{}: notifications muted {}",
                self.item,
                silences.get(self.item).map(|s| s.label(utc_offset_secs)).unwrap_or_default()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silences_survive_a_restart_and_end_by_time_or_by_ok() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("silences.json");
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let mut s = Silences::load(Some(path.clone()));
        s.add(Silence::new("service a", Some(Duration::from_secs(1800)), "deploy", "ana", "bastion", now)).unwrap();
        s.add(Silence::new("service b", None, "", "ana", "bastion", now)).unwrap();
        let mut again = Silences::load(Some(path.clone()));
        assert_eq!(again.list.len(), 2);
        assert_eq!(again.get("service a").unwrap().label(0), "🔇 until 08:30 — deploy");
        again.expire(now + Duration::from_secs(60), &|item| item == "service b");
        assert_eq!(again.list.iter().map(|s| s.item.as_str()).collect::<Vec<_>>(), ["service a"]);
        again.expire(now + Duration::from_secs(1800), &|_| false);
        assert!(Silences::load(Some(path)).list.is_empty());
    }
}
