//! `opsboard check`: poll everything once, print a table or JSON, exit 0 / 1 / 2.

use crate::config::Loaded;
use crate::sources;
use crate::state::{InstanceId, State, Status};
use serde::Serialize;
use std::fmt::Write;
use std::time::SystemTime;

#[derive(Debug, Serialize)]
pub struct Report {
    pub status: Status,
    pub services: Vec<ServiceReport>,
}

#[derive(Debug, Serialize)]
pub struct ServiceReport {
    pub name: String,
    pub env: String,
    pub status: Status,
    pub reason: String,
    pub instances: Vec<InstanceReport>,
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
}

/// Polls every instance once and builds the state from the results.
pub async fn poll_state(loaded: &Loaded) -> State {
    let polling = &loaded.config.polling;
    let mut state = State::new(&loaded.fleet, polling.history, polling.stale_after_intervals);
    for event in sources::poll_once(&loaded.fleet, polling, &sources::http_client()).await {
        state.apply(event);
    }
    state
}

/// The report of a state at `now`.
pub fn report(state: &State, now: SystemTime) -> Report {
    let services: Vec<ServiceReport> = state
        .services
        .iter()
        .enumerate()
        .map(|(si, svc)| {
            let v = state.service_verdict(si, now);
            ServiceReport {
                name: svc.name.clone(),
                env: svc.env.name.clone(),
                status: v.status,
                reason: v.reason,
                instances: svc
                    .instances
                    .iter()
                    .enumerate()
                    .map(|(ii, inst)| {
                        let iv = state.instance_verdict(InstanceId { service: si, instance: ii }, now);
                        let last = inst.health.latest();
                        InstanceReport {
                            name: inst.spec.label.clone(),
                            url: inst.spec.health_url.clone(),
                            status: iv.status,
                            code: last.and_then(|s| s.code()),
                            latency_ms: last.map(|s| s.latency.as_millis() as u64),
                            reason: iv.reason,
                            version: inst.version().map(str::to_string),
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    let status = services.iter().map(|s| s.status).max().unwrap_or(Status::Ok);
    Report { status, services }
}

/// A plain table for people: one line per service, one more per instance that is not ok.
pub fn table(report: &Report) -> String {
    let name_w = report.services.iter().map(|s| s.name.len()).max().unwrap_or(7).max(7);
    let mut out = String::new();
    let _ = writeln!(out, "{:<8} {:<name_w$} {:<8} {:<9} REASON", "STATUS", "SERVICE", "ENV", "INSTANCES");
    for s in &report.services {
        let ok = s.instances.iter().filter(|i| i.status == Status::Ok).count();
        let _ = writeln!(
            out,
            "{:<8} {:<name_w$} {:<8} {:<9} {}",
            s.status.word(),
            s.name,
            s.env,
            format!("{ok}/{}", s.instances.len()),
            s.reason
        );
        for i in s.instances.iter().filter(|i| i.status != Status::Ok) {
            let latency = i.latency_ms.map(|l| format!("{l}ms")).unwrap_or_default();
            let _ = writeln!(out, "  {:<6} {} {latency} {}", i.status.word(), i.url, i.reason);
        }
    }
    let _ = writeln!(out, "overall: {}", report.status.word());
    out
}
