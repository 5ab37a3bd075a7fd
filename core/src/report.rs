//! The report: what `check --json`, `/api/state` and `/metrics` say, built from the state by one
//! function per part, each named for the kinds of source that feed it (see [`part`]).

use crate::sources::pollers::Source;
use crate::state::{InstanceId, State, Status, Verdicts};
use serde::Serialize;
use std::time::SystemTime;

#[derive(Debug, Serialize)]
pub struct Report {
    pub status: Status,
    /// Items by state as the board counts them: a service blocked by a failing cause is
    /// counted once, under its cause.
    pub counts: crate::state::Tally,
    /// Failing items with services blocked behind them, worst first.
    pub causes: Vec<CauseReport>,
    pub services: Vec<ServiceReport>,
    pub asgs: Vec<AsgReport>,
    pub cloudwatch: Vec<CloudWatchReport>,
    /// Each AWS account: the API calls made in the last minute, and why it could not be read.
    pub aws_accounts: Vec<AwsAccountReport>,
    /// Each SQS queue watched.
    pub queues: Vec<QueueReport>,
    /// Each RDS instance and Aurora cluster watched.
    pub databases: Vec<DatabaseReport>,
    /// Recent deploys across services, newest first.
    pub deploys: Vec<DeployReport>,
    pub backups: Vec<BackupReport>,
    /// Notifications muted now, by item.
    pub silences: Vec<crate::state::silences::Silence>,
    /// Incidents taken now, by item: who is on it.
    pub taken: Vec<crate::state::taken::Taking>,
    /// What became of the last reload of the config, if there was one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_reload: Option<ConfigReloadReport>,
}

/// A service's error budget.
#[derive(Debug, Serialize)]
pub struct BudgetReport {
    /// The share that must be good (0.999).
    pub objective: f64,
    pub window_s: u64,
    /// What it is judged on: `requests`, or `checks` without request metrics.
    pub basis: crate::state::budget::Basis,
    /// The share of the budget left (negative: overspent); none before any event.
    pub left: Option<f64>,
    /// The share of the window a board saw.
    pub coverage: f64,
    /// The events (requests or checks) counted over the window, and the seconds a board saw.
    pub events: u64,
    pub seen_s: u64,
    /// Burn rates by window (`5m`, `30m`, `1h`, `6h`, `3d`); 1 spends it in exactly the window.
    pub burn: std::collections::BTreeMap<String, Option<f64>>,
    /// `page` or `ticket`, when a rule is raised, with its words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert: Option<crate::state::budget::Alert>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert_reason: Option<String>,
    /// In words: "budget 62 % left, over 27 of 30 days seen".
    pub words: String,
}

/// A maintenance window in force on a service.
#[derive(Debug, Serialize)]
pub struct MaintenanceReport {
    /// Unix seconds when it ends.
    pub until: u64,
    pub reason: String,
    /// Who set it from the board; none for a planned window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// The planned window's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<String>,
}

/// A failing item that services depend on (`depends_on`).
#[derive(Debug, Serialize)]
pub struct CauseReport {
    /// As the board names it: `orders-db`, `asg web-asg`, `queue emails`.
    pub name: String,
    pub status: Status,
    pub reason: String,
    /// The services blocked by it.
    pub behind: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct ConfigReloadReport {
    /// Unix seconds.
    pub at: u64,
    /// Why the file was refused ("config.toml:4: key `services.api.interval`: …"); everything
    /// runs as it was.
    pub error: Option<String>,
    /// Tables changed that take effect on a restart only: their old values stand.
    pub needs_restart: Vec<String>,
    /// Read-only guards the reload removed or weakened.
    pub weakened: Vec<String>,
    /// The board's words for it.
    pub words: String,
}

#[derive(Debug, Serialize)]
pub struct BackupReport {
    pub name: String,
    /// Age of the newest backup in seconds; `None` when there is none.
    pub age_s: Option<u64>,
    pub max_age_s: u64,
    pub status: Status,
    pub reason: String,
    pub size_bytes: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct DeployReport {
    pub service: String,
    pub version: String,
    pub from: Option<String>,
    pub state: crate::state::deploys::DeployState,
    /// Unix seconds.
    pub started: u64,
    pub ended: Option<u64>,
    pub who: Option<String>,
    pub link: Option<String>,
    /// Error rate before and after, when it rose after the deploy.
    pub error_rise: Option<(f64, f64)>,
    /// Its records in ECS and CodeDeploy (`ecs:<deployment id>@<family:revision>`,
    /// `codedeploy:<id>`), and what they deployed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_revision: Option<String>,
    /// Tasks running of desired, or targets done of all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<(u32, u32)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct AsgReport {
    pub account: String,
    pub name: String,
    pub desired: u32,
    pub in_service: u32,
    pub pending: u32,
    pub terminating: u32,
    pub min: u32,
    pub max: u32,
    pub status: Status,
    pub reason: String,
    pub instances: Vec<AsgInstanceReport>,
}

#[derive(Debug, Serialize)]
pub struct AsgInstanceReport {
    pub id: String,
    pub health: String,
    pub lifecycle: String,
    pub zone: String,
}

#[derive(Debug, Serialize)]
pub struct CloudWatchReport {
    pub account: String,
    pub label: String,
    /// The newest value, if any.
    pub value: Option<f64>,
    /// Unix seconds of that value.
    pub at: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct AwsAccountReport {
    pub name: String,
    pub region: String,
    pub api_calls_last_minute: usize,
    pub error: Option<String>,
    /// The CloudWatch alarms it reads (none unless `[aws.NAME.alarms]` is set).
    pub alarms: Vec<AlarmReport>,
}

/// One RDS instance or Aurora cluster: its status, storage and DR copy, and its state.
#[derive(Debug, Serialize)]
pub struct DatabaseReport {
    pub account: String,
    pub id: String,
    pub cluster: bool,
    pub service: Option<String>,
    pub status: Status,
    pub reason: String,
    /// As RDS says it: `available`, `backing-up`, `modifying` …
    pub db_status: Option<String>,
    pub engine: Option<String>,
    pub multi_az: Option<bool>,
    pub allocated_gib: Option<u32>,
    pub free_storage_bytes: Option<u64>,
    pub dr_region: Option<String>,
    pub dr_snapshot: Option<String>,
    pub dr_snapshot_age_s: Option<u64>,
    /// Maintenance RDS has scheduled for it, in words.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pending_maintenance: Vec<String>,
}

/// One SQS queue: its messages, its oldest's age, its dead letters, and its state.
#[derive(Debug, Serialize)]
pub struct QueueReport {
    pub account: String,
    pub name: String,
    pub service: Option<String>,
    pub status: Status,
    pub reason: String,
    pub visible: Option<u64>,
    pub in_flight: Option<u64>,
    pub delayed: Option<u64>,
    pub oldest_age_s: Option<u64>,
    pub dead_letter: Option<String>,
    pub dead_letters: Option<u64>,
}

/// One CloudWatch alarm: `{"name": "web-5xx", "state": "ALARM", "status": "crit", "service":
/// "web", "reason": "1 out of the last 1 datapoints [140.0] was greater than the threshold (100.0)"}`.
#[derive(Debug, Serialize)]
pub struct AlarmReport {
    pub name: String,
    pub state: String,
    pub status: Status,
    pub service: Option<String>,
    pub reason: String,
    pub composite: bool,
}

#[derive(Debug, Serialize)]
pub struct ServiceReport {
    pub name: String,
    pub env: String,
    pub status: Status,
    pub reason: String,
    /// The failing causes it is blocked by (`depends_on`): it is counted under them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub blocked_by: Vec<String>,
    /// The maintenance window in force: it pages nobody and is not counted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maintenance: Option<MaintenanceReport>,
    /// Its error budget, when it has an objective (`slo`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget: Option<BudgetReport>,
    /// The share of its requests and of its checks that succeeded over 24h, 7d and 30d, each
    /// with the share of that time a board saw.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub availability: Vec<crate::state::budget::Availability>,
    /// Requests per second, summed over instances.
    pub request_rate: Option<f64>,
    /// 5xx share of requests, 0..1.
    pub error_rate: Option<f64>,
    pub p95_ms: Option<f64>,
    /// Why signals are missing or incomplete (a failing query or scrape, low traffic), if they are.
    pub signals_note: Option<String>,
    /// Seconds of traffic the rates and quantiles were taken over.
    pub window_s: Option<f64>,
    /// Requests counted in that window.
    pub requests_in_window: Option<f64>,
    /// Whether the window held at least `min_requests`, so that the error rate judged the service.
    pub enough_traffic: Option<bool>,
    /// Which source gives each signal (`scrape`, `PromQL`, `CloudWatch`).
    pub sources: std::collections::BTreeMap<String, String>,
    /// Instances per version, most first.
    pub versions: Vec<VersionCount>,
    /// "2.0.1 on 2, 2.0.0 on 1" when the instances do not agree.
    pub mixed_versions: Option<String>,
    pub instances: Vec<InstanceReport>,
    /// Where its instances come from besides the config (`instances_from`), if anywhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instances_from: Option<DiscoveryReport>,
    /// What ECS and CodeDeploy say of its deploys, in words, or why they could not be read.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deploy_sources: Vec<String>,
}

/// A service's sources of instances as they stand.
#[derive(Debug, Serialize)]
pub struct DiscoveryReport {
    pub sources: Vec<SourceReport>,
    /// "targets from Prometheus: HTTP 503, list from 2m ago", the cap reached.
    pub note: Option<String>,
    /// How many the sources listed, when more than `max_instances`.
    pub capped_from: Option<usize>,
}

#[derive(Debug, Serialize)]
pub struct SourceReport {
    pub source: String,
    pub instances: usize,
    /// Unix seconds of the list in force.
    pub listed_at: Option<u64>,
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct VersionCount {
    pub version: String,
    pub instances: usize,
}

#[derive(Debug, Serialize)]
pub struct InstanceReport {
    pub name: String,
    pub url: String,
    pub status: Status,
    pub code: Option<u16>,
    pub latency_ms: Option<u64>,
    pub reason: String,
    pub version: Option<String>,
    pub request_rate: Option<f64>,
    pub error_rate: Option<f64>,
    pub p95_ms: Option<f64>,
    /// Why the last scrape failed, if it did.
    pub metrics_error: Option<String>,
    /// `starting`, `draining` or `gone` while it does not count towards its service.
    pub life: Option<String>,
    /// What its target group's load balancer or its Auto Scaling group says of it.
    pub lb: Option<LbReport>,
    /// Its host, when a node exporter tells of it.
    pub host: Option<HostReport>,
}

/// A host's numbers: shares 0..1, load over one minute, the fullest real filesystem.
#[derive(Debug, Serialize)]
pub struct HostReport {
    pub cpu: Option<f64>,
    pub memory: Option<f64>,
    pub disk: Option<f64>,
    pub disk_mountpoint: Option<String>,
    pub disk_available_bytes: Option<f64>,
    pub load1: Option<f64>,
    pub cpus: u32,
    pub error: Option<String>,
}

/// A source's own view of an instance: `{"by": "load balancer", "state": "draining", "reason":
/// "Target.DeregistrationInProgress"}`.
#[derive(Debug, Serialize)]
pub struct LbReport {
    pub by: &'static str,
    pub state: String,
    pub reason: Option<String>,
}

/// A part of the report, each filled from the state by its own function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    /// A row per service and instance, with its verdict and versions.
    Rows,
    /// Request rate, error rate and latency on those rows.
    Signals,
    /// Auto Scaling groups, CloudWatch values and the accounts themselves.
    Aws,
    Backups,
    Deploys,
    /// Where the rows come from: each service's sources of instances.
    Fleet,
}

/// Which part of the report shows what a kind of source finds. A kind of source added to
/// [`Source`] does not compile until it is given one here.
fn part(source: Source) -> Part {
    match source {
        // Rows come from health checks, and for a service fed by Prometheus' `up`, from it.
        Source::Health | Source::Up => Part::Rows,
        // CloudWatch's service signals reach the rows through the state, as these do.
        Source::Scrape | Source::Promql => Part::Signals,
        Source::Aws => Part::Aws,
        Source::Backup => Part::Backups,
        Source::DeployLog => Part::Deploys,
        Source::Discovery => Part::Fleet,
    }
}

/// The report of a state at `now`: each part that some kind of source feeds, in order (rows
/// before the signals on them); silences, which no source feeds, always.
pub fn report(state: &State, now: SystemTime) -> Report {
    let verdicts = state.verdicts(now);
    let status = verdicts.service_tally.worst();
    let status = if verdicts.service_tally.total() == 0 { Status::Ok } else { status };
    let now_s = secs(now);
    let silences = state.silences.list.iter().filter(|s| s.until.is_none_or(|t| t > now_s)).cloned().collect();
    let causes = (verdicts.blocking.causes.iter())
        .map(|c| CauseReport {
            name: c.name.clone(),
            status: c.verdict.status,
            reason: c.verdict.reason.clone(),
            behind: c.behind.clone(),
        })
        .collect();
    let mut r = Report {
        status,
        counts: verdicts.service_tally,
        causes,
        services: Vec::new(),
        asgs: Vec::new(),
        cloudwatch: Vec::new(),
        aws_accounts: Vec::new(),
        queues: Vec::new(),
        databases: Vec::new(),
        deploys: Vec::new(),
        backups: Vec::new(),
        silences,
        taken: state.taken.list.clone(),
        config_reload: state.config_note.as_ref().map(|n| {
            let applied = n.outcome.as_ref().ok();
            ConfigReloadReport {
                at: secs(n.at),
                error: n.outcome.as_ref().err().cloned(),
                needs_restart: applied.map(|a| a.needs_restart.clone()).unwrap_or_default(),
                weakened: applied.map(|a| a.weakened.clone()).unwrap_or_default(),
                words: n.words(),
            }
        }),
    };
    let parts: std::collections::BTreeSet<Part> = Source::ALL.iter().copied().map(part).collect();
    for p in parts {
        match p {
            Part::Rows => {
                r.services = rows(state, now);
                for (row, by) in r.services.iter_mut().zip(&verdicts.blocking.by) {
                    row.blocked_by = by.clone();
                }
                for (row, svc) in r.services.iter_mut().zip(&state.services) {
                    row.budget = svc.slo.as_ref().map(|slo| budget(slo, &svc.outcomes, now));
                    row.availability = svc.outcomes.availability(now);
                }
                for (row, m) in r.services.iter_mut().zip(&verdicts.maintenance) {
                    row.maintenance = m.as_ref().map(|m| MaintenanceReport {
                        until: secs(m.until),
                        reason: m.reason.clone(),
                        by: m.by.clone(),
                        window: m.window.clone(),
                    });
                }
            }
            Part::Signals => add_signals(&mut r.services, state, now),
            Part::Aws => add_aws(&mut r, state, &verdicts, now),
            Part::Backups => r.backups = backups(state, &verdicts, now),
            Part::Deploys => r.deploys = deploys(state, now),
            Part::Fleet => add_fleet(&mut r.services, state, now),
        }
    }
    r
}

fn budget(slo: &crate::state::budget::Slo, outcomes: &crate::state::budget::Outcomes, now: SystemTime) -> BudgetReport {
    let (basis, s) = outcomes.standing(slo, now);
    BudgetReport {
        objective: slo.objective,
        window_s: slo.window.as_secs(),
        basis,
        left: s.left.map(|l| round(l, 4)),
        coverage: round(s.coverage, 6),
        events: s.events,
        seen_s: s.seen_s,
        burn: s.burn.iter().map(|(w, r)| (w.clone(), r.map(|r| round(r, 3)))).collect(),
        alert: s.alert.as_ref().map(|(a, _)| *a),
        alert_reason: s.alert.as_ref().map(|(_, w)| w.clone()),
        words: s.words(slo.window),
    }
}

fn secs(t: SystemTime) -> u64 {
    t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs()
}

fn rows(state: &State, now: SystemTime) -> Vec<ServiceReport> {
    (state.services.iter().enumerate())
        .map(|(si, svc)| {
            let v = state.service_verdict(si, now);
            ServiceReport {
                name: svc.name.to_string(),
                env: svc.env.name.clone(),
                status: v.status,
                reason: v.reason,
                blocked_by: Vec::new(),
                maintenance: None,
                budget: None,
                availability: Vec::new(),
                request_rate: None,
                error_rate: None,
                p95_ms: None,
                signals_note: None,
                window_s: None,
                requests_in_window: None,
                enough_traffic: None,
                sources: Default::default(),
                versions: state
                    .rollout(si)
                    .into_iter()
                    .map(|(v, n)| VersionCount { version: v, instances: n })
                    .collect(),
                mixed_versions: state.mixed_versions(si),
                instances: (svc.instances.iter().enumerate())
                    .map(|(ii, inst)| {
                        let iv = state.instance_verdict(InstanceId { service: si, instance: ii }, now);
                        let last = inst.health.latest();
                        InstanceReport {
                            name: inst.spec.label.clone(),
                            url: crate::redact::url(&inst.spec.health_url),
                            status: iv.status,
                            code: last.and_then(|s| s.code()),
                            latency_ms: last.map(|s| s.latency.as_millis() as u64),
                            reason: iv.reason,
                            version: inst.version().or(inst.metrics.version.as_deref()).map(str::to_string),
                            request_rate: None,
                            error_rate: None,
                            p95_ms: None,
                            metrics_error: None,
                            life: inst.life.word(now).map(str::to_ascii_lowercase),
                            lb: inst.lb.as_ref().map(|l| LbReport {
                                by: l.by.words(),
                                state: l.state.clone(),
                                reason: l.reason.clone(),
                            }),
                            host: (inst.host.has_data() || inst.host.error.is_some()).then(|| {
                                let p = &inst.host.point;
                                HostReport {
                                    cpu: p.cpu,
                                    memory: p.memory,
                                    disk: p.disk.as_ref().map(|d| d.used()),
                                    disk_mountpoint: p.disk.as_ref().map(|d| d.mountpoint.clone()),
                                    disk_available_bytes: p.disk.as_ref().map(|d| d.avail),
                                    load1: p.load1,
                                    cpus: p.cpus,
                                    error: inst.host.error.as_ref().map(|(_, e)| e.clone()),
                                }
                            }),
                        }
                    })
                    .collect(),
                instances_from: None,
                deploy_sources: svc.deploy_sources.lines(),
            }
        })
        .collect()
}

fn add_fleet(rows: &mut [ServiceReport], state: &State, now: SystemTime) {
    for ((si, svc), row) in state.services.iter().enumerate().zip(rows) {
        let Some(d) = &svc.discovery else { continue };
        row.instances_from = Some(DiscoveryReport {
            sources: (d.sources.iter())
                .map(|s| SourceReport {
                    source: s.what.clone(),
                    instances: s.count,
                    listed_at: s.listed_at.map(secs),
                    error: s.error.clone(),
                })
                .collect(),
            note: state.discovery_note(si, now),
            capped_from: d.capped.map(|(_, total)| total),
        });
    }
}

fn add_signals(rows: &mut [ServiceReport], state: &State, now: SystemTime) {
    for ((si, svc), row) in state.services.iter().enumerate().zip(rows) {
        let signals = state.current_signals(si, now);
        row.request_rate = signals.and_then(|p| p.rate).map(|r| round(r, 3));
        row.error_rate = signals.and_then(|p| p.error_ratio).map(|e| round(e, 5));
        row.p95_ms = signals.and_then(|p| p.p95).map(|s| round(s * 1000.0, 2));
        row.signals_note = state.signals_note(si, now);
        row.window_s = signals.map(|p| p.window.as_secs_f64());
        row.requests_in_window = signals.and_then(|p| p.requests).map(|r| round(r, 1));
        row.enough_traffic = signals.and_then(|p| p.requests.map(|_| !p.low_traffic(&svc.check.thresholds)));
        row.sources = svc.signal_sources().into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        for (inst, r) in svc.instances.iter().zip(&mut row.instances) {
            let point = inst.metrics.latest.as_ref();
            r.request_rate = point.and_then(|p| p.rate).map(|r| round(r, 3));
            r.error_rate = point.and_then(|p| p.error_ratio).map(|e| round(e, 5));
            r.p95_ms = point.and_then(|p| p.p95).map(|s| round(s * 1000.0, 2));
            r.metrics_error = inst.metrics.error.as_ref().map(|(_, e)| e.clone());
        }
    }
}

fn add_aws(r: &mut Report, state: &State, verdicts: &Verdicts, now: SystemTime) {
    for (ai, account) in state.aws.iter().enumerate() {
        for (gi, (name, g)) in account.asgs.iter().enumerate() {
            let Some(s) = g.latest() else { continue };
            let v = &verdicts.aws[ai][gi];
            r.asgs.push(AsgReport {
                account: account.spec.name.clone(),
                name: name.clone(),
                desired: s.desired,
                in_service: s.in_service(),
                pending: s.pending(),
                terminating: s.terminating(),
                min: s.min,
                max: s.max,
                status: v.status,
                reason: v.reason.clone(),
                instances: s
                    .instances
                    .iter()
                    .map(|i| AsgInstanceReport {
                        id: i.id.clone(),
                        health: i.health.clone(),
                        lifecycle: i.lifecycle.clone(),
                        zone: i.zone.clone(),
                    })
                    .collect(),
            });
        }
        for m in &account.metrics {
            let latest = m.points.latest();
            r.cloudwatch.push(CloudWatchReport {
                account: account.spec.name.clone(),
                label: m.label.clone(),
                value: latest.map(|(_, v)| *v),
                at: latest.map(|(t, _)| secs(*t)),
            });
        }
        for q in &account.queues {
            let v = q.verdict();
            let s = q.latest();
            r.queues.push(QueueReport {
                account: account.spec.name.clone(),
                name: q.spec.name.clone(),
                service: q.spec.service.clone(),
                status: v.status,
                reason: v.reason,
                visible: s.map(|s| s.visible),
                in_flight: s.map(|s| s.in_flight),
                delayed: s.map(|s| s.delayed),
                oldest_age_s: s.and_then(|s| s.oldest).map(|a| a.as_secs()),
                dead_letter: q.spec.dead_letter.clone(),
                dead_letters: s.and_then(|s| s.dead_letters.as_ref().map(|(_, n)| *n)),
            });
        }
        for d in &account.databases {
            let v = d.verdict(now);
            let s = d.latest.as_ref().map(|(_, s)| s);
            let newest = s.and_then(|s| s.dr.as_ref()).and_then(|(_, n)| n.as_ref());
            r.databases.push(DatabaseReport {
                account: account.spec.name.clone(),
                id: d.spec.id.clone(),
                cluster: d.spec.cluster,
                service: d.spec.service.clone(),
                status: v.status,
                reason: v.reason,
                db_status: s.map(|s| s.status.clone()),
                engine: s.map(|s| s.engine.clone()),
                multi_az: s.map(|s| s.multi_az),
                allocated_gib: s.and_then(|s| s.allocated_gib),
                free_storage_bytes: s.and_then(|s| s.free_bytes).map(|b| b.max(0.0) as u64),
                dr_region: d.spec.dr.as_ref().map(|(r, _)| r.clone()),
                dr_snapshot: newest.map(|(id, _)| id.clone()),
                dr_snapshot_age_s: newest.map(|(_, at)| now.duration_since(*at).unwrap_or_default().as_secs()),
                pending_maintenance: s
                    .map(|s| s.maintenance.iter().map(|m| m.words(now)).collect())
                    .unwrap_or_default(),
            });
        }
        r.aws_accounts.push(AwsAccountReport {
            name: account.spec.name.clone(),
            region: account.spec.region.clone(),
            api_calls_last_minute: account.calls_last_minute(now),
            error: account.error.as_ref().map(|(_, e)| e.clone()),
            alarms: (account.alarms.iter())
                .map(|a| AlarmReport {
                    name: a.name.clone(),
                    state: a.state.clone(),
                    status: account.alarm_status(a),
                    service: account.spec.alarms.as_ref().and_then(|s| s.service_of(&a.name)).map(str::to_string),
                    reason: a.reason.clone(),
                    composite: a.composite,
                })
                .collect(),
        });
    }
}

fn deploys(state: &State, now: SystemTime) -> Vec<DeployReport> {
    (state.deploys.recent().take(50))
        .map(|d| DeployReport {
            service: d.service.clone(),
            version: d.version.clone(),
            from: d.from.clone(),
            state: d.state,
            started: secs(d.started),
            ended: d.ended.map(secs),
            who: d.who.clone(),
            link: d.link.clone(),
            error_rise: crate::state::deploys::error_rise(state, d, now),
            sources: d.sources.clone(),
            revision: d.revision.clone(),
            from_revision: d.from_revision.clone(),
            progress: d.progress,
            detail: d.detail.clone(),
        })
        .collect()
}

fn backups(state: &State, verdicts: &Verdicts, now: SystemTime) -> Vec<BackupReport> {
    (state.backups.iter().zip(&verdicts.backups))
        .map(|(b, v)| BackupReport {
            name: b.job.name.clone(),
            age_s: b.age(now).map(|a| a.as_secs()),
            max_age_s: b.job.max_age.as_secs(),
            status: v.status,
            reason: v.reason.clone(),
            size_bytes: b.samples.latest().and_then(|s| s.size),
        })
        .collect()
}

fn round(v: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (v * f).round() / f
}
