//! What the board knows about AWS: per account its Auto Scaling groups, CloudWatch values,
//! API calls made, and the error that keeps it from seeing more.

use super::series::Ring;
use super::status::{Status, Verdict};
use crate::config::aws::{AwsSpec, DatabaseSpec, QueueSpec};
use std::time::{Duration, SystemTime};

/// One instance of a group, as DescribeAutoScalingGroups reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsgInstance {
    pub id: String,
    /// `Healthy` or `Unhealthy`.
    pub health: String,
    /// `InService`, `Pending`, `Terminating`, …
    pub lifecycle: String,
    pub zone: String,
}

/// One group at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsgSnapshot {
    pub name: String,
    pub desired: u32,
    pub min: u32,
    pub max: u32,
    pub instances: Vec<AsgInstance>,
}

impl AsgSnapshot {
    fn count(&self, pred: impl Fn(&AsgInstance) -> bool) -> u32 {
        self.instances.iter().filter(|i| pred(i)).count() as u32
    }

    /// Healthy instances in service.
    pub fn in_service(&self) -> u32 {
        self.count(|i| i.lifecycle == "InService" && i.health == "Healthy")
    }

    pub fn pending(&self) -> u32 {
        self.count(|i| i.lifecycle.starts_with("Pending"))
    }

    pub fn terminating(&self) -> u32 {
        self.count(|i| i.lifecycle.starts_with("Terminating"))
    }

    pub fn unhealthy(&self) -> u32 {
        self.count(|i| i.health != "Healthy")
    }
}

/// A group and its history of snapshots.
#[derive(Debug, Clone)]
pub struct AsgState {
    pub history: Ring<(SystemTime, AsgSnapshot)>,
}

impl AsgState {
    pub fn latest(&self) -> Option<&AsgSnapshot> {
        self.history.latest().map(|(_, s)| s)
    }

    /// Since when in-service has been below desired without a break, if it is now.
    pub fn below_desired_since(&self) -> Option<SystemTime> {
        let mut since = None;
        for (at, s) in self.history.iter().rev() {
            if s.in_service() >= s.desired {
                break;
            }
            since = Some(*at);
        }
        since
    }

    /// Crit below min; warn below desired for longer than `grace`.
    pub fn verdict(&self, grace: Duration, now: SystemTime) -> Verdict {
        let Some(s) = self.latest() else { return Verdict::new(Status::Unknown, "not read yet") };
        let (in_service, desired) = (s.in_service(), s.desired);
        if in_service < s.min {
            return Verdict::new(Status::Crit, format!("{in_service} in service < min {}", s.min));
        }
        if let Some(since) = self.below_desired_since() {
            let for_how_long = now.duration_since(since).unwrap_or_default();
            if for_how_long > grace {
                return Verdict::new(
                    Status::Warn,
                    format!("{in_service}/{desired} in service for {}", crate::format::age(for_how_long)),
                );
            }
            return Verdict::new(Status::Ok, format!("scaling: {in_service}/{desired} in service"));
        }
        Verdict::ok()
    }
}

/// One CloudWatch series.
#[derive(Debug, Clone)]
pub struct MetricSeries {
    pub label: String,
    pub points: Ring<(SystemTime, f64)>,
}

/// One CloudWatch alarm, metric or composite, as `DescribeAlarms` gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alarm {
    pub name: String,
    /// `OK`, `ALARM` or `INSUFFICIENT_DATA`.
    pub state: String,
    /// CloudWatch's own reason, in fewer words ([`alarm_words`]).
    pub reason: String,
    /// When it entered its state.
    pub since: Option<SystemTime>,
    pub composite: bool,
}

impl Alarm {
    pub fn firing(&self) -> bool {
        self.state == "ALARM"
    }

    pub fn insufficient(&self) -> bool {
        self.state == "INSUFFICIENT_DATA"
    }
}

/// CloudWatch's state reason without what a person at 3 a.m. does not need: "Threshold
/// Crossed: 1 out of the last 1 datapoints [140.0 (02/12/26 10:00:00)] was greater than the
/// threshold (100.0) (minimum 1 datapoint for OK -> ALARM transition)." reads "1 out of the
/// last 1 datapoints [140.0] was greater than the threshold (100.0)".
pub fn alarm_words(reason: &str) -> String {
    if let Some(words) = composite_words(reason) {
        return words;
    }
    let text = reason.trim().strip_prefix("Threshold Crossed: ").unwrap_or(reason.trim());
    let text = match text.find(" (minimum ") {
        Some(i) => &text[..i],
        None => text,
    };
    let text = text.trim_end_matches('.');
    // Each datapoint's timestamp, in parentheses inside the brackets.
    let mut out = String::with_capacity(text.len());
    let (mut in_brackets, mut skipping) = (false, 0usize);
    for c in text.chars() {
        match c {
            '[' => in_brackets = true,
            ']' => in_brackets = false,
            '(' if in_brackets => {
                skipping += 1;
                continue;
            }
            ')' if skipping > 0 => {
                skipping -= 1;
                continue;
            }
            _ => {}
        }
        if skipping == 0 {
            out.push(c);
        }
    }
    out.replace(" ]", "]").replace(" ,", ",")
}

/// A composite alarm's reason names the child that moved it by ARN, with the time:
/// `arn:aws:cloudwatch:…:alarm:shop-web-5xx transitioned to ALARM at Wednesday 02 December, 2026
/// 10:00:00 UTC` reads `shop-web-5xx transitioned to ALARM`.
fn composite_words(reason: &str) -> Option<String> {
    let (who, rest) = reason.trim().split_once(" transitioned to ")?;
    let name = who.rsplit_once(":alarm:").map(|(_, n)| n)?;
    let state = rest.split_whitespace().next()?;
    Some(format!("{name} transitioned to {state}"))
}

/// One SQS queue as read: `GetQueueAttributes`, and CloudWatch's age of its oldest message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSnapshot {
    pub name: String,
    /// Messages waiting (`ApproximateNumberOfMessages`).
    pub visible: u64,
    /// Received, not yet deleted (`ApproximateNumberOfMessagesNotVisible`).
    pub in_flight: u64,
    /// Sent with a delay not yet over (`ApproximateNumberOfMessagesDelayed`).
    pub delayed: u64,
    /// `ApproximateAgeOfOldestMessage`, when CloudWatch has a datapoint.
    pub oldest: Option<Duration>,
    /// The dead-letter queue's name and its waiting messages.
    pub dead_letters: Option<(String, u64)>,
}

impl QueueSnapshot {
    /// The queue against its limits: deeper than `max_depth` or older than `max_age` is
    /// critical; a message in its dead-letter queue a warning.
    pub fn verdict(&self, spec: &QueueSpec) -> Verdict {
        let count = |n: u64| crate::format::count(n);
        if let Some(max) = spec.max_depth.filter(|m| self.visible > *m) {
            return Verdict::new(
                Status::Crit,
                format!("{}: {} messages > {}", self.name, count(self.visible), count(max)),
            );
        }
        if let (Some(max), Some(age)) = (spec.max_age, self.oldest)
            && age > max
        {
            let (age, max) = (crate::format::age(age), crate::format::age(max));
            return Verdict::new(Status::Crit, format!("{}: oldest message {age} old > {max}", self.name));
        }
        if let Some((dlq, n)) = self.dead_letters.as_ref().filter(|(_, n)| *n > 0) {
            let s = if *n == 1 { "" } else { "s" };
            return Verdict::new(Status::Warn, format!("{}: {} dead letter{s} in {dlq}", self.name, count(*n)));
        }
        Verdict::ok()
    }
}

/// A queue's reads over time.
#[derive(Debug, Clone)]
pub struct QueueState {
    pub spec: QueueSpec,
    pub history: Ring<(SystemTime, QueueSnapshot)>,
}

impl QueueState {
    pub fn latest(&self) -> Option<&QueueSnapshot> {
        self.history.latest().map(|(_, q)| q)
    }

    /// Its verdict now: unknown before its first read.
    pub fn verdict(&self) -> Verdict {
        self.latest().map_or_else(|| Verdict::new(Status::Unknown, "not read yet"), |q| q.verdict(&self.spec))
    }
}

/// One RDS instance or Aurora cluster as read, with its newest snapshot in its DR region.
#[derive(Debug, Clone, PartialEq)]
pub struct DatabaseSnapshot {
    pub id: String,
    /// `available`, `backing-up`, `modifying`, `failing-over`, `storage-full` …
    pub status: String,
    pub engine: String,
    pub multi_az: bool,
    /// Allocated storage, GiB (an Aurora cluster's grows by itself: none).
    pub allocated_gib: Option<u32>,
    /// CloudWatch's FreeStorageSpace, bytes (RDS instances).
    pub free_bytes: Option<f64>,
    /// The DR region, and its newest copy's name and time, if it has one: a snapshot, or
    /// automated backups replicated there (their latest restorable time).
    pub dr: Option<(String, Option<(String, SystemTime)>)>,
    /// Maintenance RDS has scheduled for it (`DescribePendingMaintenanceActions`).
    pub maintenance: Vec<Maintenance>,
}

/// One pending maintenance action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Maintenance {
    /// `system-update`, `db-upgrade`, `os-upgrade` …
    pub action: String,
    pub description: Option<String>,
    /// Applied in the next maintenance window after this date.
    pub auto_applied_after: Option<SystemTime>,
    /// Applied on this date whatever the window.
    pub forced_apply: Option<SystemTime>,
}

/// Maintenance applied within this long is a warning: the database restarts soon.
pub const MAINTENANCE_SOON: Duration = Duration::from_secs(48 * 3600);

impl Maintenance {
    /// The date it applies by itself, the earlier of the two.
    pub fn applies(&self) -> Option<SystemTime> {
        match (self.auto_applied_after, self.forced_apply) {
            (Some(a), Some(f)) => Some(a.min(f)),
            (a, f) => a.or(f),
        }
    }

    /// `system-update (applies in 1d 4h): New Operating System update is available`.
    pub fn words(&self, now: SystemTime) -> String {
        let when = match self.applies() {
            Some(at) if at > now => {
                format!(" (applies in {})", crate::format::age(at.duration_since(now).unwrap_or_default()))
            }
            Some(_) => " (applies in the next window)".to_string(),
            None => String::new(),
        };
        match &self.description {
            Some(d) => format!("{}{when}: {d}", self.action),
            None => format!("{}{when}", self.action),
        }
    }
}

/// What an RDS or Aurora status means for the board: a database that cannot serve is
/// critical, one changing (modifying, failing over, rebooting …) a warning.
fn database_status(status: &str) -> Status {
    match status {
        "available" | "backing-up" | "storage-optimization" | "configuring-enhanced-monitoring" => Status::Ok,
        "failed"
        | "storage-full"
        | "stopped"
        | "deleting"
        | "restore-error"
        | "insufficient-capacity"
        | "inaccessible"
        | "not-found" => Status::Crit,
        s if s.starts_with("inaccessible-") || s.starts_with("incompatible-") => Status::Crit,
        _ => Status::Warn,
    }
}

impl DatabaseSnapshot {
    /// The database against what it must be at `now`: its status, its free storage against
    /// `min_free_storage_pct` (below half of it: critical) and its DR copy's age.
    pub fn verdict(&self, spec: &DatabaseSpec, now: SystemTime) -> Verdict {
        let mut found = vec![Verdict::new(database_status(&self.status), format!("{}: {}", self.id, self.status))];
        if let (Some(gib), Some(free)) = (self.allocated_gib.filter(|g| *g > 0), self.free_bytes) {
            let total = f64::from(gib) * (1u64 << 30) as f64;
            let pct = free / total * 100.0;
            let min = f64::from(spec.min_free_storage_pct);
            let status = if pct < min / 2.0 {
                Status::Crit
            } else if pct < min {
                Status::Warn
            } else {
                Status::Ok
            };
            let words = format!(
                "{}: {pct:.0}% storage free ({} of {gib}G)",
                self.id,
                crate::format::bytes(free.max(0.0) as u64)
            );
            found.push(Verdict::new(status, words));
        }
        if let (Some((region, max)), Some((_, newest))) = (&spec.dr, &self.dr) {
            found.push(match newest {
                None => Verdict::new(Status::Crit, format!("{}: no snapshot in {region}", self.id)),
                Some((name, at)) => {
                    let age = now.duration_since(*at).unwrap_or_default();
                    let status = if age > *max { Status::Crit } else { Status::Ok };
                    let (age, max) = (crate::format::age(age), crate::format::age(*max));
                    let words = if name.starts_with("automated backups") {
                        format!("{}: {name} to {region} restore to {age} ago > {max}", self.id)
                    } else {
                        format!("{}: newest snapshot in {region} is {age} old > {max}", self.id)
                    };
                    Verdict::new(status, words)
                }
            });
        }
        if let Some(m) = self.maintenance.iter().min_by_key(|m| m.applies()) {
            let soon = m.applies().is_some_and(|at| at <= now + MAINTENANCE_SOON);
            let status = if soon { Status::Warn } else { Status::Ok };
            found.push(Verdict::new(status, format!("{}: maintenance {}", self.id, m.words(now))));
        }
        let worst = found.iter().map(|v| v.status).max().unwrap_or(Status::Ok);
        let maintenance = found.iter().find(|v| v.reason.contains(": maintenance ")).cloned();
        match found.into_iter().find(|v| v.status == worst) {
            Some(v) if worst != Status::Ok => v,
            _ if self.status == "backing-up" => Verdict::new(Status::Ok, "backing up"),
            _ if let Some(m) = maintenance => m,
            _ => Verdict::ok(),
        }
    }
}

/// A database's latest read.
#[derive(Debug, Clone)]
pub struct DatabaseState {
    pub spec: DatabaseSpec,
    pub latest: Option<(SystemTime, DatabaseSnapshot)>,
}

impl DatabaseState {
    pub fn verdict(&self, now: SystemTime) -> Verdict {
        match &self.latest {
            Some((_, d)) => d.verdict(&self.spec, now),
            None => Verdict::new(Status::Unknown, "not read yet"),
        }
    }
}

/// Everything about one account.
#[derive(Debug, Clone)]
pub struct AwsAccountState {
    pub spec: AwsSpec,
    pub asgs: Vec<(String, AsgState)>,
    pub metrics: Vec<MetricSeries>,
    /// The latest failure in words, cleared by a success.
    pub error: Option<(SystemTime, String)>,
    pub last_success: Option<SystemTime>,
    /// API calls made, by when: for calls per minute (GetMetricData is billed).
    pub calls: Ring<SystemTime>,
    /// The alarms it reads, as last read, in CloudWatch's order (by name).
    pub alarms: Vec<Alarm>,
    /// Its SQS queues, in config order.
    pub queues: Vec<QueueState>,
    /// Its databases, in config order.
    pub databases: Vec<DatabaseState>,
}

/// What an AWS source can report.
#[derive(Debug, Clone)]
pub enum AwsEvent {
    Asgs {
        at: SystemTime,
        groups: Vec<AsgSnapshot>,
    },
    /// Values per query index, oldest first.
    Metrics {
        at: SystemTime,
        values: Vec<(usize, Vec<(SystemTime, f64)>)>,
    },
    Failed {
        at: SystemTime,
        error: String,
    },
    Alarms {
        at: SystemTime,
        alarms: Vec<Alarm>,
    },
    Queues {
        at: SystemTime,
        queues: Vec<QueueSnapshot>,
    },
    Databases {
        at: SystemTime,
        databases: Vec<DatabaseSnapshot>,
    },
    Calls {
        at: SystemTime,
        count: u32,
    },
}

const HISTORY: usize = 120;
const CALL_LOG: usize = 4096;

impl AwsAccountState {
    pub fn new(spec: &AwsSpec) -> Self {
        Self {
            spec: spec.clone(),
            asgs: Vec::new(),
            metrics: spec
                .queries
                .iter()
                .map(|q| MetricSeries { label: q.label.clone(), points: Ring::new(HISTORY) })
                .collect(),
            error: None,
            last_success: None,
            calls: Ring::new(CALL_LOG),
            alarms: Vec::new(),
            queues: spec.queues.iter().map(|q| QueueState { spec: q.clone(), history: Ring::new(HISTORY) }).collect(),
            databases: spec.databases.iter().map(|d| DatabaseState { spec: d.clone(), latest: None }).collect(),
        }
    }

    pub fn apply(&mut self, event: AwsEvent) {
        match event {
            AwsEvent::Asgs { at, groups } => {
                self.ok_at(at);
                for g in groups {
                    match self.asgs.iter_mut().find(|(n, _)| *n == g.name) {
                        Some((_, state)) => state.history.push((at, g)),
                        None => {
                            let mut history = Ring::new(HISTORY);
                            let name = g.name.clone();
                            history.push((at, g));
                            self.asgs.push((name, AsgState { history }));
                        }
                    }
                }
            }
            AwsEvent::Metrics { at, values } => {
                self.ok_at(at);
                for (i, points) in values {
                    let Some(series) = self.metrics.get_mut(i) else { continue };
                    for p in points {
                        if series.points.latest().is_none_or(|(t, _)| p.0 > *t) {
                            series.points.push(p);
                        }
                    }
                }
            }
            AwsEvent::Alarms { at, alarms } => {
                self.ok_at(at);
                self.alarms = alarms;
            }
            AwsEvent::Databases { at, databases } => {
                self.ok_at(at);
                for d in databases {
                    if let Some(state) = self.databases.iter_mut().find(|s| s.spec.id == d.id) {
                        state.latest = Some((at, d));
                    }
                }
            }
            AwsEvent::Queues { at, queues } => {
                self.ok_at(at);
                for q in queues {
                    if let Some(state) = self.queues.iter_mut().find(|s| s.spec.name == q.name) {
                        state.history.push((at, q));
                    }
                }
            }
            AwsEvent::Failed { at, error } => self.error = Some((at, error)),
            AwsEvent::Calls { at, count } => {
                for _ in 0..count {
                    self.calls.push(at);
                }
            }
        }
    }

    fn ok_at(&mut self, at: SystemTime) {
        self.error = None;
        self.last_success = Some(at);
    }

    /// The verdict this account's alarms give `service`: the worst firing alarm's (CRIT, or
    /// WARN for those in `warn`), with its reason; `None` when none of its alarms fires.
    pub fn alarm_verdict(&self, service: &str) -> Option<Verdict> {
        let spec = self.spec.alarms.as_ref()?;
        let firing: Vec<(&Alarm, Status)> = self
            .alarms
            .iter()
            .filter(|a| a.firing() && spec.service_of(&a.name) == Some(service))
            .map(|a| (a, if spec.warns(&a.name) { Status::Warn } else { Status::Crit }))
            .collect();
        let (worst, status) = firing.iter().max_by_key(|(_, s)| *s)?;
        let more = match firing.len() {
            1 => String::new(),
            n => format!(" (+{} more alarms)", n - 1),
        };
        Some(Verdict::new(*status, format!("alarm {}: {}{more}", worst.name, worst.reason)))
    }

    /// The verdict this account's queues give `service`: the worst of those it owns, if any is
    /// not OK.
    pub fn queue_verdict(&self, service: &str) -> Option<Verdict> {
        self.queues
            .iter()
            .filter(|q| q.spec.service.as_deref() == Some(service))
            .filter_map(|q| q.latest().map(|s| s.verdict(&q.spec)))
            .filter(|v| v.status != Status::Ok)
            .max_by_key(|v| v.status)
    }

    /// The verdict this account's databases give `service` at `now`, if one is not OK.
    pub fn database_verdict(&self, service: &str, now: SystemTime) -> Option<Verdict> {
        self.databases
            .iter()
            .filter(|d| d.spec.service.as_deref() == Some(service) && d.latest.is_some())
            .map(|d| d.verdict(now))
            .filter(|v| v.status != Status::Ok)
            .max_by_key(|v| v.status)
    }

    /// An alarm's verdict for the AWS panel: ALARM as it counts, INSUFFICIENT_DATA unknown.
    pub fn alarm_status(&self, alarm: &Alarm) -> Status {
        let warns = self.spec.alarms.as_ref().is_some_and(|s| s.warns(&alarm.name));
        match alarm.state.as_str() {
            "ALARM" if warns => Status::Warn,
            "ALARM" => Status::Crit,
            "OK" => Status::Ok,
            _ => Status::Unknown,
        }
    }

    /// API calls in the minute before `now`.
    pub fn calls_last_minute(&self, now: SystemTime) -> usize {
        self.calls
            .iter()
            .rev()
            .take_while(|t| now.duration_since(**t).unwrap_or_default() <= Duration::from_secs(60))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(desired: u32, in_service: u32, min: u32) -> AsgSnapshot {
        let instance = |i: u32| AsgInstance {
            id: format!("i-{i}"),
            health: "Healthy".into(),
            lifecycle: if i < in_service { "InService".into() } else { "Pending".into() },
            zone: "eu-west-1a".into(),
        };
        AsgSnapshot { name: "web".into(), desired, min, max: 10, instances: (0..desired).map(instance).collect() }
    }

    fn group(history: &[(u64, AsgSnapshot)]) -> AsgState {
        let mut ring = Ring::new(10);
        for (s, snap) in history {
            ring.push((SystemTime::UNIX_EPOCH + Duration::from_secs(*s), snap.clone()));
        }
        AsgState { history: ring }
    }

    const GRACE: Duration = Duration::from_secs(300);

    #[test]
    fn below_desired_is_fine_within_the_grace_period_then_a_warning() {
        let g = group(&[(0, snapshot(4, 4, 2)), (60, snapshot(6, 4, 2)), (120, snapshot(6, 5, 2))]);
        let at = |s: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(s);
        assert_eq!(g.below_desired_since(), Some(at(60)));
        assert_eq!(g.verdict(GRACE, at(200)).status, Status::Ok);
        let v = g.verdict(GRACE, at(400));
        assert_eq!((v.status, v.reason.as_str()), (Status::Warn, "5/6 in service for 5m"));
    }

    #[test]
    fn below_min_is_critical_at_once() {
        let g = group(&[(0, snapshot(3, 1, 2))]);
        let v = g.verdict(GRACE, SystemTime::UNIX_EPOCH);
        assert_eq!((v.status, v.reason.as_str()), (Status::Crit, "1 in service < min 2"));
    }

    #[test]
    fn a_database_is_judged_by_its_status_its_storage_and_its_dr_copy() {
        let spec = DatabaseSpec {
            id: "orders-db".into(),
            cluster: false,
            service: None,
            dr: Some(("eu-central-1".into(), Duration::from_secs(26 * 3600))),
            min_free_storage_pct: 10,
        };
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let hours = |h: u64| now - Duration::from_secs(h * 3600);
        let db = DatabaseSnapshot {
            id: "orders-db".into(),
            status: "available".into(),
            engine: "postgres".into(),
            multi_az: true,
            allocated_gib: Some(100),
            free_bytes: Some(50.0 * (1u64 << 30) as f64),
            dr: Some(("eu-central-1".into(), Some(("rds:orders-db-nightly".into(), hours(3))))),
            maintenance: vec![],
        };
        let v = |d: &DatabaseSnapshot| {
            let v = d.verdict(&spec, now);
            (v.status, v.reason)
        };
        assert_eq!(v(&db), (Status::Ok, String::new()));
        assert_eq!(
            v(&DatabaseSnapshot { status: "backing-up".into(), ..db.clone() }),
            (Status::Ok, "backing up".into())
        );
        let failing_over = DatabaseSnapshot { status: "failing-over".into(), ..db.clone() };
        assert_eq!(v(&failing_over), (Status::Warn, "orders-db: failing-over".into()));
        let full = DatabaseSnapshot { status: "storage-full".into(), free_bytes: Some(0.0), ..db.clone() };
        assert_eq!(v(&full), (Status::Crit, "orders-db: storage-full".into()));
        let low = DatabaseSnapshot { free_bytes: Some(8.0 * (1u64 << 30) as f64), ..db.clone() };
        assert_eq!(v(&low), (Status::Warn, "orders-db: 8% storage free (8.0G of 100G)".into()));
        let lower = DatabaseSnapshot { free_bytes: Some(4.0 * (1u64 << 30) as f64), ..db.clone() };
        assert_eq!(v(&lower).0, Status::Crit);
        let stale = DatabaseSnapshot { dr: Some(("eu-central-1".into(), Some(("s".into(), hours(30))))), ..db.clone() };
        assert_eq!(v(&stale), (Status::Crit, "orders-db: newest snapshot in eu-central-1 is 30h old > 26h".into()));
        let none = DatabaseSnapshot { dr: Some(("eu-central-1".into(), None)), ..db.clone() };
        assert_eq!(v(&none), (Status::Crit, "orders-db: no snapshot in eu-central-1".into()));
        let replicated = DatabaseSnapshot {
            dr: Some(("eu-central-1".into(), Some(("automated backups replicated from eu-west-1".into(), hours(30))))),
            ..db.clone()
        };
        assert_eq!(
            v(&replicated),
            (
                Status::Crit,
                "orders-db: automated backups replicated from eu-west-1 to eu-central-1 restore to 30h ago > 26h"
                    .into()
            )
        );
        // Maintenance: a note while it is days away, a warning within 48 hours (the database restarts).
        let update = |in_hours: u64| Maintenance {
            action: "system-update".into(),
            description: Some("New Operating System update is available".into()),
            auto_applied_after: Some(now + Duration::from_secs(in_hours * 3600)),
            forced_apply: None,
        };
        let later = DatabaseSnapshot { maintenance: vec![update(24 * 9)], ..db.clone() };
        assert_eq!(
            v(&later),
            (
                Status::Ok,
                "orders-db: maintenance system-update (applies in 9d): New Operating System update is available".into()
            )
        );
        let soon = DatabaseSnapshot { maintenance: vec![update(24 * 9), update(20)], ..db.clone() };
        assert_eq!(
            v(&soon),
            (
                Status::Warn,
                "orders-db: maintenance system-update (applies in 20h): New Operating System update is available"
                    .into()
            )
        );
    }

    #[test]
    fn an_alarm_s_reason_loses_its_timestamps_and_boilerplate() {
        let real = "Threshold Crossed: 1 out of the last 1 datapoints [140.0 (02/12/26 10:00:00)] was greater than the threshold (100.0) (minimum 1 datapoint for OK -> ALARM transition).";
        assert_eq!(alarm_words(real), "1 out of the last 1 datapoints [140.0] was greater than the threshold (100.0)");
        let two = "Threshold Crossed: 2 out of the last 3 datapoints [5.0 (02/12/26 10:02:00), 7.5 (02/12/26 10:01:00)] were greater than or equal to the threshold (5.0) (minimum 2 datapoints for OK -> ALARM transition).";
        assert_eq!(
            alarm_words(two),
            "2 out of the last 3 datapoints [5.0, 7.5] were greater than or equal to the threshold (5.0)"
        );
        assert_eq!(alarm_words("set by the on-call"), "set by the on-call");
    }

    #[test]
    fn calls_per_minute_count_only_the_last_minute() {
        let spec = AwsSpec {
            name: "a".into(),
            region: "r".into(),
            profile: None,
            endpoint_url: None,
            interval: Duration::from_secs(60),
            asgs: vec![],
            asg_prefix: None,
            grace: GRACE,
            queries: vec![],
            alarms: None,
            queues: vec![],
            databases: vec![],
            ecs: vec![],
            codedeploy: vec![],
            static_credentials: false,
        };
        let mut a = AwsAccountState::new(&spec);
        let at = |s: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(s);
        a.apply(AwsEvent::Calls { at: at(0), count: 5 });
        a.apply(AwsEvent::Calls { at: at(90), count: 2 });
        assert_eq!(a.calls_last_minute(at(100)), 2);
    }
}
