//! Deploys: versions changing across a service's instances (a rolling deploy and its
//! progress), merged with what CI writes to a deploy log, kept across restarts.

use super::rollouts::{Rollout, source_of};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, SystemTime};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeployState {
    Rolling,
    Done,
    Failed,
    RolledBack,
    /// Replaced by a newer deploy before it finished.
    Superseded,
    /// Stopped by hand before it finished.
    Stopped,
}

impl DeployState {
    pub fn word(self) -> &'static str {
        match self {
            DeployState::Rolling => "rolling",
            DeployState::Done => "done",
            DeployState::Failed => "failed",
            DeployState::RolledBack => "rolled back",
            DeployState::Superseded => "superseded",
            DeployState::Stopped => "stopped",
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
    /// The records of it in ECS and CodeDeploy ([`super::rollouts::Rollout::key`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    /// What ECS or CodeDeploy deployed: `web:42`, `s3://builds/web-1.4.2.zip`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// The revision it replaced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_revision: Option<String>,
    /// Tasks running of desired, or targets done of all, as the source said last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<(u32, u32)>,
    /// The source's own words on it (a rollout state's reason, failed tasks, an error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
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
    /// Instances per version at the last complete look, by service name: deploys are the
    /// changes from it, never the state the board found at start.
    pub baseline: HashMap<String, Vec<(String, usize)>>,
    /// Deploys created or changed since the last drain, for the history file.
    pub changed: Vec<Deploy>,
}

/// Deploys kept in memory.
const KEEP: usize = 500;
/// A log entry and a seen rollout of the same version this close together are one deploy.
const SAME_DEPLOY: Duration = Duration::from_secs(30 * 60);

fn count(rollout: &[(String, usize)], version: &str) -> usize {
    rollout.iter().find(|(v, _)| v == version).map_or(0, |(_, n)| *n)
}

impl Deploys {
    pub fn new(history: Vec<Deploy>) -> Self {
        let mut list: VecDeque<Deploy> = history.into_iter().collect();
        while list.len() > KEEP {
            list.pop_front();
        }
        Self { list, baseline: HashMap::new(), changed: Vec::new() }
    }

    /// Forgets the last look at services that are gone from the fleet.
    pub fn keep_services(&mut self, keep: impl Fn(&str) -> bool) {
        self.baseline.retain(|name, _| keep(name));
    }

    /// Follows a service's rollout: `rollout` is instances per version, most first, from a
    /// complete look (every instance that answered has told its version). A deploy is a version
    /// whose count rises while the board watches; a fleet found mixed stays mixed, recorded as
    /// nothing.
    pub fn observe(&mut self, name: &str, rollout: &[(String, usize)], now: SystemTime) {
        let total: usize = rollout.iter().map(|(_, n)| n).sum();
        if total == 0 {
            return;
        }
        let slot = self.baseline.get(name);
        if slot.map(Vec::as_slice) == Some(rollout) {
            // Nothing moved since the last look: an open deploy was already weighed against this.
            return;
        }
        let Some(before) = slot.cloned() else {
            self.reconcile(name, rollout, now);
            self.baseline.insert(name.to_string(), rollout.to_vec());
            return;
        };
        let risen: Vec<&String> = rollout.iter().filter(|(v, n)| *n > count(&before, v)).map(|(v, _)| v).collect();
        let open = self.list.iter().rposition(|d| d.service == name && d.seen && d.state == DeployState::Rolling);
        let same_instances = before.iter().map(|(_, n)| n).sum::<usize>() == total;
        if let Some(i) = open {
            self.progress(i, rollout, now);
        } else if !same_instances {
            // An instance told its version for the first time: that is no deploy.
        } else if let Some(target) = risen.into_iter().max_by(|a, b| version_order(a, b)) {
            let from = before.iter().filter(|(v, _)| v != target).max_by_key(|(_, n)| *n).map(|(v, _)| v.clone());
            let complete = count(rollout, target) == total;
            self.start(name, target.clone(), from, complete, now);
        }
        self.baseline.insert(name.to_string(), rollout.to_vec());
    }

    /// Ends an open deploy when every instance is on its version (done) or none is (rolled back).
    fn progress(&mut self, i: usize, rollout: &[(String, usize)], now: SystemTime) {
        let total: usize = rollout.iter().map(|(_, n)| n).sum();
        let on_target = count(rollout, &self.list[i].version);
        let state = if on_target == total {
            DeployState::Done
        } else if on_target == 0 {
            DeployState::RolledBack
        } else {
            return;
        };
        let d = &mut self.list[i];
        d.state = state;
        d.ended = Some(now);
        self.changed.push(d.clone());
    }

    /// The board started (again): deploys left rolling in the history end if the fleet now says
    /// how they ended; nothing new is recorded from what the fleet looks like at start.
    fn reconcile(&mut self, name: &str, rollout: &[(String, usize)], now: SystemTime) {
        let open: Vec<usize> = (0..self.list.len())
            .filter(|&i| {
                let d = &self.list[i];
                d.service == name && d.seen && d.state == DeployState::Rolling
            })
            .collect();
        for i in open {
            self.progress(i, rollout, now);
        }
    }

    fn start(&mut self, name: &str, version: String, from: Option<String>, complete: bool, now: SystemTime) {
        let state = if complete { DeployState::Done } else { DeployState::Rolling };
        // The log may have announced this deploy first: it becomes the seen one.
        let announced = self.list.iter().rposition(|d| {
            !d.seen && d.service == name && names_version(d, &version) && gap(d.started, now) < SAME_DEPLOY
        });
        if let Some(i) = announced {
            let d = &mut self.list[i];
            d.seen = true;
            d.from = from;
            d.state = state;
            d.ended = complete.then_some(now);
            self.changed.push(d.clone());
            return;
        }
        self.push(Deploy {
            id: format!("{name}@{version}@{}", unix_ms::millis(now)),
            service: name.to_string(),
            version,
            from,
            started: now,
            ended: complete.then_some(now),
            state,
            who: None,
            link: None,
            seen: true,
            sources: Vec::new(),
            revision: None,
            from_revision: None,
            progress: None,
            detail: None,
        });
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
        // The log names only where a deploy went; where it came from is the deploy before it.
        let from = self
            .list
            .iter()
            .filter(|d| d.service == e.service && d.started < e.when && d.state == DeployState::Done)
            .max_by_key(|d| d.started)
            .map(|d| d.version.clone())
            .filter(|v| *v != e.version);
        let d = Deploy {
            id: format!("{}@{}@{}", e.service, e.version, unix_ms::millis(e.when)),
            service: e.service,
            version: e.version,
            from,
            started: e.when,
            ended: (state != DeployState::Rolling).then_some(e.when),
            state,
            who: e.who,
            link: e.link,
            seen: false,
            sources: Vec::new(),
            revision: None,
            from_revision: None,
            progress: None,
            detail: None,
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

    /// Whether a deploy of this service is rolling out now (on its instances, or in ECS or
    /// CodeDeploy).
    pub fn rolling(&self, service: &str) -> bool {
        self.list
            .iter()
            .any(|d| d.service == service && (d.seen || !d.sources.is_empty()) && d.state == DeployState::Rolling)
    }

    /// Merges what ECS or CodeDeploy says of one deploy: the record that already has its key,
    /// else the one the instances or the log saw of the same version at about that time, else a
    /// deploy of its own. One rollout is one record, whichever sources see it.
    pub fn rollout(&mut self, service: &str, r: &Rollout) {
        let source = source_of(&r.key);
        let by_key = self.list.iter().rposition(|d| d.service == service && d.sources.contains(&r.key));
        let by_version = || {
            self.list.iter().rposition(|d| {
                d.service == service
                    && !d.sources.iter().any(|k| source_of(k) == source)
                    && (names_version(d, &r.version)
                        || revision_names(&r.revision, &d.version)
                        || d.revision.as_deref() == Some(r.revision.as_str()))
                    && gap(d.started, r.started) < SAME_DEPLOY
            })
        };
        // It came from the deploy of this source before it.
        let previous = (self.list.iter())
            .filter(|d| d.service == service && d.started < r.started && !d.sources.contains(&r.key))
            .filter(|d| d.sources.iter().any(|k| source_of(k) == source))
            .max_by_key(|d| d.started);
        let (from, from_revision) = match previous {
            Some(p) => (Some(p.version.clone()), p.revision.clone().filter(|v| *v != r.revision)),
            None => (None, None),
        };
        if let Some(i) = by_key.or_else(by_version) {
            let d = &mut self.list[i];
            let before = d.clone();
            if d.from_revision.is_none() {
                d.from_revision = from_revision;
            }
            if d.from.is_none() {
                d.from = from.filter(|v| *v != d.version);
            }
            if !d.sources.contains(&r.key) {
                d.sources.push(r.key.clone());
            }
            d.revision.get_or_insert_with(|| r.revision.clone());
            d.who = d.who.take().or_else(|| r.who.clone());
            // Progress while it rolls: a service scaling long after its deploy is no news of it.
            if d.state == DeployState::Rolling || r.state == DeployState::Rolling {
                d.progress = r.progress.or(d.progress);
                d.detail = r.detail.clone().or(d.detail.take());
            }
            // The source's own end stands, unless the instances already saw it end.
            let instances_ended = d.seen && d.state != DeployState::Rolling;
            if !instances_ended || matches!(r.state, DeployState::Failed | DeployState::RolledBack) {
                d.state = r.state;
                d.ended = r.ended;
            }
            if *d != before {
                self.changed.push(d.clone());
            }
            return;
        }
        self.push(Deploy {
            id: format!("{service}@{}@{}", r.version, unix_ms::millis(r.started)),
            service: service.to_string(),
            version: r.version.clone(),
            from: from.filter(|v| *v != r.version),
            started: r.started,
            ended: r.ended,
            state: r.state,
            who: r.who.clone(),
            link: None,
            seen: false,
            sources: vec![r.key.clone()],
            revision: Some(r.revision.clone()),
            from_revision,
            progress: r.progress,
            detail: r.detail.clone(),
        });
    }

    /// Merges a source's current deployments of a service (any order): each one as
    /// [`Deploys::rollout`] does, then a deploy of this source still rolling that the source
    /// no longer lists, or lists as replaced, ended: rolled back when the newest went back to
    /// what it came from, else superseded.
    pub fn follow(&mut self, service: &str, rollouts: &[Rollout]) {
        let mut sorted: Vec<&Rollout> = rollouts.iter().collect();
        sorted.sort_by_key(|r| r.started);
        for r in &sorted {
            self.rollout(service, r);
        }
        let Some(newest) = sorted.last() else { return };
        let source = source_of(&newest.key);
        let mut ended = Vec::new();
        for (i, d) in self.list.iter().enumerate() {
            let ours = d.service == service && d.sources.iter().any(|k| source_of(k) == source);
            let open = matches!(d.state, DeployState::Rolling | DeployState::Superseded);
            if ours && open && d.started < newest.started && !d.sources.contains(&newest.key) {
                let listed_rolling =
                    rollouts.iter().any(|r| d.sources.contains(&r.key) && r.state == DeployState::Rolling);
                if !listed_rolling {
                    ended.push(i);
                }
            }
        }
        for i in ended {
            let d = &mut self.list[i];
            let back = d.from_revision.as_deref() == Some(newest.revision.as_str());
            let state = if back { DeployState::RolledBack } else { DeployState::Superseded };
            if d.state != state || d.ended.is_none() {
                d.state = state;
                d.ended = Some(d.ended.unwrap_or(newest.started));
                self.changed.push(d.clone());
            }
        }
    }

    /// The deploy on record that has this source key.
    pub fn by_source(&self, key: &str) -> Option<&Deploy> {
        self.list.iter().rev().find(|d| d.sources.iter().any(|k| k == key))
    }

    /// Newest first.
    pub fn recent(&self) -> impl Iterator<Item = &Deploy> {
        self.list.iter().rev()
    }
}

/// Orders versions: semantic versions by their numbers (`1.10.0` after `1.9.2`, a pre-release
/// before its release), anything else by text.
pub fn version_order(a: &str, b: &str) -> std::cmp::Ordering {
    fn parse(v: &str) -> Option<(Vec<u64>, Option<&str>)> {
        let v = v.strip_prefix('v').unwrap_or(v);
        let v = v.split('+').next().unwrap_or(v);
        let (core, pre) = match v.split_once('-') {
            Some((c, p)) => (c, Some(p)),
            None => (v, None),
        };
        let nums: Option<Vec<u64>> = core.split('.').map(|n| n.parse().ok()).collect();
        nums.filter(|n| !n.is_empty()).map(|n| (n, pre))
    }
    match (parse(a), parse(b)) {
        (Some((na, pa)), Some((nb, pb))) => na.cmp(&nb).then_with(|| match (pa, pb) {
            (None, None) => std::cmp::Ordering::Equal,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some(_), None) => std::cmp::Ordering::Less,
            (Some(x), Some(y)) => x.cmp(y),
        }),
        _ => a.cmp(b),
    }
}

/// Whether a deploy is of `version`: by its version, or by a revision whose name holds it
/// (`s3://builds/web-1.4.2.zip` is of 1.4.2).
fn names_version(d: &Deploy, version: &str) -> bool {
    d.version == version || d.revision.as_deref().is_some_and(|r| revision_names(r, version))
}

/// A bundle's file name without its archive extension: `web-1.4.2.zip` is `web-1.4.2`.
pub fn bundle_stem(file: &str) -> &str {
    [".tar.gz", ".tgz", ".zip", ".tar"].iter().find_map(|e| file.strip_suffix(e)).unwrap_or(file)
}

fn revision_names(revision: &str, version: &str) -> bool {
    let strip = |t: &str| {
        let t = bundle_stem(t);
        t.strip_prefix('v').unwrap_or(t).to_string()
    };
    let version = version.strip_prefix('v').unwrap_or(version);
    version.len() >= 3 && revision.split(['/', '-', '_', ':', '@', '#', ' ']).any(|t| strip(t) == version)
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

/// Error rate is compared over this long before and after a deploy starts.
const AROUND: Duration = Duration::from_secs(300);

/// The service's mean error rate before and after the deploy started, when it rose
/// to at least twice as much and by at least a percentage point.
pub fn error_rise(state: &super::State, d: &Deploy, now: SystemTime) -> Option<(f64, f64)> {
    let svc = state.services.iter().find(|s| *s.name == *d.service)?;
    let mean = |from: SystemTime, to: SystemTime| {
        let v: Vec<f64> =
            svc.signals.iter().filter(|p| p.at >= from && p.at < to).filter_map(|p| p.error_ratio).collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    };
    let before = mean(d.started - AROUND, d.started)?;
    let after = mean(d.started, (d.started + AROUND).min(now + Duration::from_secs(1)))?;
    (after >= before * 2.0 && after - before >= 0.01).then_some((before, after))
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
        let mut d = Deploys::new(vec![]);
        d.observe("api", &r(&[("1.0", 5)]), at(0));
        assert!(d.list.is_empty(), "the first version seen is not a deploy");
        d.observe("api", &r(&[("1.0", 4), ("1.1", 1)]), at(10));
        let dep = d.list.back().unwrap();
        assert_eq!((dep.state, dep.from.as_deref(), dep.version.as_str()), (DeployState::Rolling, Some("1.0"), "1.1"));
        d.observe("api", &r(&[("1.1", 3), ("1.0", 2)]), at(20));
        assert_eq!(d.list.back().unwrap().state, DeployState::Rolling);
        d.observe("api", &r(&[("1.1", 5)]), at(30));
        let dep = d.list.back().unwrap();
        assert_eq!((dep.state, dep.ended), (DeployState::Done, Some(at(30))));
        assert_eq!(d.list.len(), 1);
    }

    #[test]
    fn going_back_mid_rollout_is_a_rollback() {
        let mut d = Deploys::new(vec![]);
        d.observe("api", &r(&[("1.0", 3)]), at(0));
        d.observe("api", &r(&[("1.0", 2), ("1.1", 1)]), at(10));
        d.observe("api", &r(&[("1.0", 3)]), at(20));
        assert_eq!(d.list.back().unwrap().state, DeployState::RolledBack);
    }

    #[test]
    fn log_entries_name_seen_deploys_or_stand_alone() {
        let mut d = Deploys::new(vec![]);
        d.observe("api", &r(&[("1.0", 2)]), at(0));
        d.observe("api", &r(&[("1.1", 2)]), at(100));
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
        let mut d = Deploys::new(vec![]);
        d.observe("api", &r(&[("1.0", 2)]), at(0));
        d.log(
            serde_json::from_str(
                r#"{"service":"api","version":"1.1","when":1700000005,"status":"started","who":"ci"}"#,
            )
            .unwrap(),
        );
        d.observe("api", &r(&[("1.0", 1), ("1.1", 1)]), at(10));
        d.observe("api", &r(&[("1.1", 2)]), at(20));
        assert_eq!(d.list.len(), 1, "{:?}", d.list);
        let dep = &d.list[0];
        assert_eq!((dep.state, dep.who.as_deref(), dep.from.as_deref()), (DeployState::Done, Some("ci"), Some("1.0")));
    }

    #[test]
    fn a_fleet_found_mixed_records_nothing_until_a_count_changes() {
        let mut d = Deploys::new(vec![]);
        d.observe("api", &r(&[("2.0.1", 2), ("2.0.0", 1)]), at(0));
        d.observe("api", &r(&[("2.0.1", 2), ("2.0.0", 1)]), at(10));
        assert!(d.list.is_empty(), "{:?}", d.list);
        // A restart with the same mixed fleet: still nothing.
        let mut again = Deploys::new(d.list.iter().cloned().collect());
        again.observe("api", &r(&[("2.0.0", 1), ("2.0.1", 2)]), at(20));
        assert!(again.list.is_empty());
        // The laggard moves to 2.0.1: that is a deploy of 2.0.1, and it is done.
        again.observe("api", &r(&[("2.0.1", 3)]), at(30));
        let dep = again.list.back().unwrap();
        assert_eq!((dep.version.as_str(), dep.from.as_deref(), dep.state), ("2.0.1", Some("2.0.0"), DeployState::Done));
    }

    #[test]
    fn a_restart_mid_rollout_continues_the_deploy_on_record() {
        let mut d = Deploys::new(vec![]);
        d.observe("api", &r(&[("1.0", 3)]), at(0));
        d.observe("api", &r(&[("1.0", 2), ("1.1", 1)]), at(10));
        let history = fold_history(d.changed.clone());
        let mut after = Deploys::new(history);
        after.observe("api", &r(&[("1.0", 1), ("1.1", 2)]), at(20));
        assert_eq!(after.list.len(), 1);
        assert_eq!(after.list[0].state, DeployState::Rolling);
        after.observe("api", &r(&[("1.1", 3)]), at(30));
        assert_eq!((after.list.len(), after.list[0].state), (1, DeployState::Done));
    }

    #[test]
    fn a_logged_deploy_comes_from_the_version_deployed_before_it() {
        let mut d = Deploys::new(vec![]);
        d.log(serde_json::from_str(r#"{"service":"api","version":"1.0","when":1700000000}"#).unwrap());
        d.log(serde_json::from_str(r#"{"service":"api","version":"1.1","when":1700086400}"#).unwrap());
        let dep = d.list.back().unwrap();
        assert_eq!((dep.version.as_str(), dep.from.as_deref()), ("1.1", Some("1.0")));
    }

    #[test]
    fn versions_order_by_number_not_by_text() {
        use std::cmp::Ordering::*;
        assert_eq!(version_order("1.10.0", "1.9.2"), Greater);
        assert_eq!(version_order("v2.0.0", "2.0.0-rc.1"), Greater);
        assert_eq!(version_order("abc", "abd"), Less);
    }

    #[test]
    fn history_folds_updates_of_the_same_deploy() {
        let mut d = Deploys::new(vec![]);
        d.observe("api", &r(&[("1.0", 2)]), at(0));
        d.observe("api", &r(&[("1.0", 1), ("1.1", 1)]), at(10));
        d.observe("api", &r(&[("1.1", 2)]), at(20));
        let folded = fold_history(d.changed.clone());
        assert_eq!(folded.len(), 1);
        assert_eq!(folded[0].state, DeployState::Done);
    }
}
