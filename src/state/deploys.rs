//! Deploys: versions changing across a service's instances (a rolling deploy and its
//! progress), merged with what CI writes to a deploy log, kept across restarts.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeployState {
    Rolling,
    Done,
    Failed,
    RolledBack,
}

impl DeployState {
    pub fn word(self) -> &'static str {
        match self {
            DeployState::Rolling => "rolling",
            DeployState::Done => "done",
            DeployState::Failed => "failed",
            DeployState::RolledBack => "rolled back",
        }
    }
}

/// One deploy of one version of one service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deploy {
    /// Stable across updates of the same deploy: `service@version@started-unix-ms`.
    pub id: String,
    pub service: String,
    pub version: String,
    pub from: Option<String>,
    #[serde(with = "unix_ms")]
    pub started: SystemTime,
    #[serde(with = "unix_ms_opt", default)]
    pub ended: Option<SystemTime>,
    pub state: DeployState,
    #[serde(default)]
    pub who: Option<String>,
    #[serde(default)]
    pub link: Option<String>,
    /// Seen on the instances (`true`) or only in the deploy log.
    #[serde(default)]
    pub seen: bool,
}

/// A line of the deploy log CI appends to.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LogEntry {
    pub service: String,
    pub version: String,
    #[serde(default)]
    pub who: Option<String>,
    /// RFC 3339 or unix seconds.
    #[serde(deserialize_with = "when")]
    pub when: SystemTime,
    /// `started`, `success`/`succeeded`/`done`, `failed`, `rolled_back`.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub link: Option<String>,
}

/// Recent deploys, newest last, and the changes not yet written to the history file.
#[derive(Debug, Clone, Default)]
pub struct Deploys {
    pub list: VecDeque<Deploy>,
    /// The version each service settled on last (all instances agreeing), by service index.
    pub settled: Vec<Option<String>>,
    /// Deploys created or changed since the last drain, for the history file.
    pub changed: Vec<Deploy>,
}

/// Deploys kept in memory.
const KEEP: usize = 500;
/// A log entry and a seen rollout of the same version this close together are one deploy.
const SAME_DEPLOY: Duration = Duration::from_secs(30 * 60);

impl Deploys {
    pub fn new(services: usize, history: Vec<Deploy>) -> Self {
        let mut list: VecDeque<Deploy> = history.into_iter().collect();
        while list.len() > KEEP {
            list.pop_front();
        }
        Self { list, settled: vec![None; services], changed: Vec::new() }
    }

    /// Follows a service's rollout: `rollout` is instances per version, most first.
    pub fn observe(&mut self, service: usize, name: &str, rollout: &[(String, usize)], now: SystemTime) {
        let Some(settled) = self.settled.get(service).cloned() else { return };
        let total: usize = rollout.iter().map(|(_, n)| n).sum();
        if total == 0 {
            return;
        }
        let open = self.list.iter().rposition(|d| d.service == name && d.seen && d.state == DeployState::Rolling);
        if let Some(i) = open {
            let target = self.list[i].version.clone();
            let on_target = rollout.iter().find(|(v, _)| *v == target).map_or(0, |(_, n)| *n);
            let state = if on_target == total {
                Some(DeployState::Done)
            } else if on_target == 0 {
                Some(DeployState::RolledBack)
            } else {
                None
            };
            if let Some(state) = state {
                let d = &mut self.list[i];
                d.state = state;
                d.ended = Some(now);
                self.changed.push(d.clone());
            }
        } else if let Some(new) = rollout.iter().map(|(v, _)| v).find(|v| settled.as_ref().is_some_and(|s| s != *v)) {
            let complete = rollout.len() == 1;
            // The log may have announced this deploy first: it becomes the seen one.
            let announced = self
                .list
                .iter()
                .rposition(|d| !d.seen && d.service == name && d.version == *new && gap(d.started, now) < SAME_DEPLOY);
            if let Some(i) = announced {
                let d = &mut self.list[i];
                d.seen = true;
                d.from = settled.clone();
                d.state = if complete { DeployState::Done } else { DeployState::Rolling };
                d.ended = complete.then_some(now);
                self.changed.push(d.clone());
                if complete {
                    self.settled[service] = Some(new.clone());
                }
                return;
            }
            let d = Deploy {
                id: format!("{name}@{new}@{}", unix_ms::millis(now)),
                service: name.to_string(),
                version: new.clone(),
                from: settled.clone(),
                started: now,
                ended: complete.then_some(now),
                state: if complete { DeployState::Done } else { DeployState::Rolling },
                who: None,
                link: None,
                seen: true,
            };
            self.push(d);
        }
        if rollout.len() == 1 {
            self.settled[service] = Some(rollout[0].0.clone());
        }
    }

    /// Merges one deploy-log entry: it names a seen deploy of the same version, or is a deploy of its own.
    pub fn log(&mut self, e: LogEntry) {
        let state = match e.status.as_deref().map(str::to_ascii_lowercase).as_deref() {
            Some("failed" | "failure" | "error") => DeployState::Failed,
            Some("rolled_back" | "rollback" | "rolled back") => DeployState::RolledBack,
            Some("started" | "running" | "in_progress") => DeployState::Rolling,
            _ => DeployState::Done,
        };
        let near =
            |d: &Deploy| d.service == e.service && d.version == e.version && gap(d.started, e.when) < SAME_DEPLOY;
        if let Some(d) = self.list.iter_mut().rev().find(|d| near(d)) {
            let before = d.clone();
            d.who = d.who.take().or(e.who);
            d.link = d.link.take().or(e.link);
            if !d.seen || state == DeployState::Failed {
                d.state = state;
            }
            if *d != before {
                self.changed.push(d.clone());
            }
            return;
        }
        let d = Deploy {
            id: format!("{}@{}@{}", e.service, e.version, unix_ms::millis(e.when)),
            service: e.service,
            version: e.version,
            from: None,
            started: e.when,
            ended: (state != DeployState::Rolling).then_some(e.when),
            state,
            who: e.who,
            link: e.link,
            seen: false,
        };
        self.push(d);
    }

    fn push(&mut self, d: Deploy) {
        self.changed.push(d.clone());
        // Keep the list in start order; log entries may arrive late.
        let at = self.list.iter().rposition(|x| x.started <= d.started).map_or(0, |i| i + 1);
        self.list.insert(at, d);
        while self.list.len() > KEEP {
            self.list.pop_front();
        }
    }

    /// Newest first.
    pub fn recent(&self) -> impl Iterator<Item = &Deploy> {
        self.list.iter().rev()
    }
}

fn gap(a: SystemTime, b: SystemTime) -> Duration {
    a.duration_since(b).unwrap_or_else(|e| e.duration())
}

/// Folds history lines (last record of an id wins).
pub fn fold_history(records: Vec<Deploy>) -> Vec<Deploy> {
    let mut out: Vec<Deploy> = Vec::new();
    for r in records {
        match out.iter_mut().find(|d| d.id == r.id) {
            Some(d) => *d = r,
            None => out.push(r),
        }
    }
    out.sort_by_key(|d| d.started);
    out
}

fn when<'de, D: serde::Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
    use serde::de::Error;
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Number(n) => n
            .as_f64()
            .map(|s| SystemTime::UNIX_EPOCH + Duration::from_secs_f64(s.max(0.0)))
            .ok_or_else(|| D::Error::custom("`when` is not a number of seconds")),
        serde_json::Value::String(s) => chrono::DateTime::parse_from_rfc3339(&s)
            .map(SystemTime::from)
            .map_err(|e| D::Error::custom(format!("`when` {s:?} is not RFC 3339: {e}"))),
        _ => Err(D::Error::custom("`when` must be RFC 3339 text or unix seconds")),
    }
}

pub mod unix_ms {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    pub fn millis(t: SystemTime) -> u64 {
        t.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as u64
    }

    pub fn serialize<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(millis(*t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
        Ok(UNIX_EPOCH + Duration::from_millis(u64::deserialize(d)?))
    }
}

mod unix_ms_opt {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    pub fn serialize<S: Serializer>(t: &Option<SystemTime>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_some(&super::unix_ms::millis(*t)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SystemTime>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(|ms| UNIX_EPOCH + Duration::from_millis(ms)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + s)
    }

    fn r(pairs: &[(&str, usize)]) -> Vec<(String, usize)> {
        pairs.iter().map(|(v, n)| (v.to_string(), *n)).collect()
    }

    #[test]
    fn a_rolling_deploy_starts_progresses_and_ends() {
        let mut d = Deploys::new(1, vec![]);
        d.observe(0, "api", &r(&[("1.0", 5)]), at(0));
        assert!(d.list.is_empty(), "the first version seen is not a deploy");
        d.observe(0, "api", &r(&[("1.0", 4), ("1.1", 1)]), at(10));
        let dep = d.list.back().unwrap();
        assert_eq!((dep.state, dep.from.as_deref(), dep.version.as_str()), (DeployState::Rolling, Some("1.0"), "1.1"));
        d.observe(0, "api", &r(&[("1.1", 3), ("1.0", 2)]), at(20));
        assert_eq!(d.list.back().unwrap().state, DeployState::Rolling);
        d.observe(0, "api", &r(&[("1.1", 5)]), at(30));
        let dep = d.list.back().unwrap();
        assert_eq!((dep.state, dep.ended), (DeployState::Done, Some(at(30))));
        assert_eq!(d.list.len(), 1);
    }

    #[test]
    fn going_back_mid_rollout_is_a_rollback() {
        let mut d = Deploys::new(1, vec![]);
        d.observe(0, "api", &r(&[("1.0", 3)]), at(0));
        d.observe(0, "api", &r(&[("1.0", 2), ("1.1", 1)]), at(10));
        d.observe(0, "api", &r(&[("1.0", 3)]), at(20));
        assert_eq!(d.list.back().unwrap().state, DeployState::RolledBack);
    }

    #[test]
    fn log_entries_name_seen_deploys_or_stand_alone() {
        let mut d = Deploys::new(1, vec![]);
        d.observe(0, "api", &r(&[("1.0", 2)]), at(0));
        d.observe(0, "api", &r(&[("1.1", 2)]), at(100));
        let line =
            r#"{"service":"api","version":"1.1","who":"ci-bot","when":"2023-11-14T22:14:30Z","link":"https://ci/1"}"#;
        d.log(serde_json::from_str(line).unwrap());
        assert_eq!(d.list.len(), 1);
        assert_eq!(d.list[0].who.as_deref(), Some("ci-bot"));
        d.log(serde_json::from_str(r#"{"service":"web","version":"9","when":1700000050,"status":"failed"}"#).unwrap());
        assert_eq!(d.list.len(), 2);
        assert_eq!(d.list[0].service, "web", "kept in start order");
        assert_eq!(d.list[0].state, DeployState::Failed);
    }

    #[test]
    fn a_deploy_announced_in_the_log_is_the_one_then_seen() {
        let mut d = Deploys::new(1, vec![]);
        d.observe(0, "api", &r(&[("1.0", 2)]), at(0));
        d.log(
            serde_json::from_str(
                r#"{"service":"api","version":"1.1","when":1700000005,"status":"started","who":"ci"}"#,
            )
            .unwrap(),
        );
        d.observe(0, "api", &r(&[("1.0", 1), ("1.1", 1)]), at(10));
        d.observe(0, "api", &r(&[("1.1", 2)]), at(20));
        assert_eq!(d.list.len(), 1, "{:?}", d.list);
        let dep = &d.list[0];
        assert_eq!((dep.state, dep.who.as_deref(), dep.from.as_deref()), (DeployState::Done, Some("ci"), Some("1.0")));
    }

    #[test]
    fn history_folds_updates_of_the_same_deploy() {
        let mut d = Deploys::new(1, vec![]);
        d.observe(0, "api", &r(&[("1.0", 2)]), at(0));
        d.observe(0, "api", &r(&[("1.0", 1), ("1.1", 1)]), at(10));
        d.observe(0, "api", &r(&[("1.1", 2)]), at(20));
        let folded = fold_history(d.changed.clone());
        assert_eq!(folded.len(), 1);
        assert_eq!(folded[0].state, DeployState::Done);
    }
}
