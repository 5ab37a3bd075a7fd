//! `check`'s table for people: one line per service, one more per instance that is not ok.

use crate::report::Report;
use crate::state::Status;
use std::fmt::Write;
use std::time::Duration;

/// The reason after what qualifies it: maintenance, blocked by.
fn qualified(s: &crate::report::ServiceReport) -> String {
    let mut words: Vec<String> = Vec::new();
    if let Some(m) = &s.maintenance {
        let until = chrono::DateTime::<chrono::Local>::from(std::time::UNIX_EPOCH + Duration::from_secs(m.until));
        words.push(format!("maintenance until {}", until.format("%H:%M")));
    }
    if !s.blocked_by.is_empty() {
        words.push(format!("blocked by {}", s.blocked_by.join(", ")));
    }
    words.push(s.reason.clone());
    words.retain(|w| !w.is_empty());
    words.join(" · ")
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
            qualified(s)
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
    for c in &report.causes {
        let n = c.behind.len();
        let what = if n == 1 { "service" } else { "services" };
        let _ = writeln!(out, "cause: {} {} — {n} {what} behind it: {}", c.name, c.status.word(), c.behind.join(", "));
    }
    let _ = writeln!(out, "overall: {}", report.status.word());
    out
}
