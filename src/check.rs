//! `opsboard check`: poll everything once, print a table or JSON, exit 0 / 1 / 2.

use crate::collector::{Collector, Mode};
use crate::config::Loaded;
use crate::history::DeployHistory;
use crate::state::{InstanceId, State, Status};
use serde::Serialize;
use std::fmt::Write;
use std::time::{Duration, SystemTime};

#[derive(Debug, Serialize)]
pub struct Report {
    pub status: Status,
    pub services: Vec<ServiceReport>,
    pub asgs: Vec<AsgReport>,
    pub cloudwatch: Vec<CloudWatchReport>,
    /// Each AWS account: the API calls made in the last minute, and why it could not be read.
    pub aws_accounts: Vec<AwsAccountReport>,
    /// Recent deploys across services, newest first.
    pub deploys: Vec<DeployReport>,
    pub backups: Vec<BackupReport>,
    /// Notifications muted now, by item.
    pub silences: Vec<crate::state::silences::Silence>,
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
}

#[derive(Debug, Serialize)]
pub struct ServiceReport {
    pub name: String,
    pub env: String,
    pub status: Status,
    pub reason: String,
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
}

/// Time between the two scrapes that make one rate window in `check` and `snapshot`.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(2);

/// How long a one-shot run waits for its slowest source beyond the rounds themselves; a source
/// that has not answered by then is reported as not seen.
const ONE_SHOT_GRACE: Duration = Duration::from_secs(30);

/// Runs the collector once: every source polled at once and concurrently, until each has
/// answered `rounds` times (a scrape twice `window` apart for its first rate), or time is up.
/// No webhook is sent and no deploy history written.
pub async fn gather(loaded: &Loaded, window: Duration, rounds: u32) -> Collector {
    let history = DeployHistory::new(DeployHistory::default_path().unwrap_or_default());
    let mut collector = Collector::with_mode(loaded, history, Mode::OneShot { scrape_every: window });
    let slowest = loaded.fleet.services.iter().map(|s| s.check.interval.max(s.check.timeout)).max().unwrap_or_default();
    let rounds = rounds.max(1);
    let within = window.saturating_mul(rounds + 1) + slowest.saturating_mul(rounds - 1) + ONE_SHOT_GRACE;
    let behind = collector.until_rounds(rounds, within).await;
    if behind > 0 {
        tracing::warn!(behind, "sources that had not answered in {within:?}");
    }
    collector
}

/// The report of a state at `now`.
pub fn report(state: &State, now: SystemTime) -> Report {
    let services: Vec<ServiceReport> = state
        .services
        .iter()
        .enumerate()
        .map(|(si, svc)| {
            let v = state.service_verdict(si, now);
            let signals = state.current_signals(si, now);
            ServiceReport {
                name: svc.name.clone(),
                env: svc.env.name.clone(),
                status: v.status,
                reason: v.reason,
                request_rate: signals.and_then(|p| p.rate).map(|r| round(r, 3)),
                error_rate: signals.and_then(|p| p.error_ratio).map(|e| round(e, 5)),
                p95_ms: signals.and_then(|p| p.p95).map(|s| round(s * 1000.0, 2)),
                signals_note: state.signals_note(si, now),
                window_s: signals.map(|p| p.window.as_secs_f64()),
                requests_in_window: signals.and_then(|p| p.requests).map(|r| round(r, 1)),
                enough_traffic: signals.and_then(|p| p.requests.map(|_| !p.low_traffic(&svc.check.thresholds))),
                sources: svc.signal_sources().into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
                versions: state
                    .rollout(si)
                    .into_iter()
                    .map(|(v, n)| VersionCount { version: v, instances: n })
                    .collect(),
                mixed_versions: state.mixed_versions(si),
                instances: svc
                    .instances
                    .iter()
                    .enumerate()
                    .map(|(ii, inst)| {
                        let iv = state.instance_verdict(InstanceId { service: si, instance: ii }, now);
                        let last = inst.health.latest();
                        let point = inst.metrics.latest.as_ref();
                        InstanceReport {
                            name: inst.spec.label.clone(),
                            url: crate::redact::url(&inst.spec.health_url),
                            status: iv.status,
                            code: last.and_then(|s| s.code()),
                            latency_ms: last.map(|s| s.latency.as_millis() as u64),
                            reason: iv.reason,
                            version: inst.version().or(inst.metrics.version.as_deref()).map(str::to_string),
                            request_rate: point.and_then(|p| p.rate).map(|r| round(r, 3)),
                            error_rate: point.and_then(|p| p.error_ratio).map(|e| round(e, 5)),
                            p95_ms: point.and_then(|p| p.p95).map(|s| round(s * 1000.0, 2)),
                            metrics_error: inst.metrics.error.as_ref().map(|(_, e)| e.clone()),
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    let verdicts = state.verdicts(now);
    let mut asgs = Vec::new();
    let mut cloudwatch = Vec::new();
    let mut aws_accounts = Vec::new();
    for (ai, account) in state.aws.iter().enumerate() {
        for (gi, (name, g)) in account.asgs.iter().enumerate() {
            let Some(s) = g.latest() else { continue };
            let v = &verdicts.aws[ai][gi];
            asgs.push(AsgReport {
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
            cloudwatch.push(CloudWatchReport {
                account: account.spec.name.clone(),
                label: m.label.clone(),
                value: latest.map(|(_, v)| *v),
                at: latest.map(|(t, _)| t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs()),
            });
        }
        aws_accounts.push(AwsAccountReport {
            name: account.spec.name.clone(),
            region: account.spec.region.clone(),
            api_calls_last_minute: account.calls_last_minute(now),
            error: account.error.as_ref().map(|(_, e)| e.clone()),
        });
    }
    let status = verdicts.service_tally.worst();
    let status = if verdicts.service_tally.total() == 0 { Status::Ok } else { status };
    let secs = |t: SystemTime| t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs();
    let deploys = state
        .deploys
        .recent()
        .take(50)
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
        })
        .collect();
    let backups = state
        .backups
        .iter()
        .zip(&verdicts.backups)
        .map(|(b, v)| BackupReport {
            name: b.job.name.clone(),
            age_s: b.age(now).map(|a| a.as_secs()),
            max_age_s: b.job.max_age.as_secs(),
            status: v.status,
            reason: v.reason.clone(),
            size_bytes: b.samples.latest().and_then(|s| s.size),
        })
        .collect();
    let now_s = secs(now);
    let silences = state.silences.list.iter().filter(|s| s.until.is_none_or(|t| t > now_s)).cloned().collect();
    Report { status, services, asgs, cloudwatch, aws_accounts, deploys, backups, silences }
}

fn round(v: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (v * f).round() / f
}

/// A plain table for people: one line per service, one more per instance that is not ok.
pub fn table(report: &Report) -> String {
    let name_w = report.services.iter().map(|s| s.name.len()).max().unwrap_or(7).max(7);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<8} {:<name_w$} {:<8} {:<9} {:>8} {:>7} {:>8}  REASON",
        "STATUS", "SERVICE", "ENV", "INSTANCES", "REQ/S", "ERR", "P95"
    );
    for s in &report.services {
        let ok = s.instances.iter().filter(|i| i.status == Status::Ok).count();
        let _ = writeln!(
            out,
            "{:<8} {:<name_w$} {:<8} {:<9} {:>8} {:>7} {:>8}  {}",
            s.status.word(),
            s.name,
            s.env,
            format!("{ok}/{}", s.instances.len()),
            s.request_rate.map(|r| format!("{r:.1}")).unwrap_or_else(|| "—".into()),
            s.error_rate.map(crate::state::percent).unwrap_or_else(|| "—".into()),
            s.p95_ms
                .map(|p| crate::format::duration(Duration::from_secs_f64(p / 1000.0)))
                .unwrap_or_else(|| "—".into()),
            s.reason
        );
        for i in s.instances.iter().filter(|i| i.status != Status::Ok) {
            let latency = i.latency_ms.map(|l| format!("{l}ms")).unwrap_or_default();
            let _ = writeln!(out, "  {:<6} {} {latency} {}", i.status.word(), i.url, i.reason);
        }
    }
    for a in &report.asgs {
        let _ = writeln!(
            out,
            "{:<8} asg {} ({}): {}/{} in service, {} pending, min {} max {} {}",
            a.status.word(),
            a.name,
            a.account,
            a.in_service,
            a.desired,
            a.pending,
            a.min,
            a.max,
            a.reason
        );
    }
    for b in &report.backups {
        let age = b.age_s.map(|s| format!("{} old", crate::format::age(Duration::from_secs(s))));
        let age = age.unwrap_or_else(|| "age unknown".into());
        let _ = writeln!(
            out,
            "{:<8} backup {}: {age} (allowed {}) {}",
            b.status.word(),
            b.name,
            crate::format::age(Duration::from_secs(b.max_age_s)),
            b.reason
        );
    }
    for a in &report.aws_accounts {
        if let Some(e) = &a.error {
            let _ = writeln!(out, "UNKNOWN  aws {} ({}): {e}", a.name, a.region);
        }
    }
    let _ = writeln!(out, "overall: {}", report.status.word());
    out
}
