//! `opsboard check --gate`: may a deploy go out? No while a selected service is CRIT, burns its
//! error budget faster than `--max-burn` over the last hour, or has spent all of it. A CI runner
//! has no 30-day store: budgets come from the team's running board (`--server`, or `[attach]
//! url`), else from this machine's store, else they are unknown, and the gate says so.

use crate::report::Report;
use crate::state::Status;
use serde::Serialize;

/// Where the budgets the gate judged came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "from", content = "at")]
pub enum Budgets {
    /// The running board at this URL answered.
    Server(String),
    /// This machine's store (the data dir's `budgets.redb`).
    LocalStore(String),
    /// Neither: only what is seen now was judged.
    Unknown,
}

/// One service as the gate saw it.
#[derive(Debug, Clone, Serialize)]
pub struct Seen {
    pub name: String,
    pub status: Status,
    pub reason: String,
    /// The burn rate over the last hour, when its budget is known.
    pub burn_1h: Option<f64>,
    /// The share of its budget left, when known.
    pub left: Option<f64>,
}

/// The gate's answer.
#[derive(Debug, Serialize)]
pub struct Verdict {
    pub pass: bool,
    /// Why not, one line each.
    pub reasons: Vec<String>,
    pub budgets: Budgets,
    /// Said when budgets were not judged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub services: Vec<Seen>,
}

/// The services of a report, as the gate reads them.
pub fn seen_in_report(report: &Report) -> Vec<Seen> {
    (report.services.iter())
        .map(|s| Seen {
            name: s.name.clone(),
            status: s.status,
            reason: s.reason.clone(),
            burn_1h: s.budget.as_ref().and_then(|b| b.burn.get("1h").copied().flatten()),
            left: s.budget.as_ref().and_then(|b| b.left),
        })
        .collect()
}

/// The services of a running board's `/api/state`.
pub fn seen_in_state(state: &serde_json::Value) -> Vec<Seen> {
    let services = state["services"].as_array().cloned().unwrap_or_default();
    (services.iter())
        .map(|s| Seen {
            name: s["name"].as_str().unwrap_or_default().to_string(),
            status: serde_json::from_value(s["status"].clone()).unwrap_or_default(),
            reason: s["reason"].as_str().unwrap_or_default().to_string(),
            burn_1h: s["budget"]["burn"]["1h"].as_f64(),
            left: s["budget"]["left"].as_f64(),
        })
        .collect()
}

/// Judges `services` (those named in `only`, or all): CRIT fails; with budgets known, a burn
/// over `max_burn` in the last hour fails, and so does a budget spent.
pub fn judge(services: Vec<Seen>, only: &[String], max_burn: f64, budgets: Budgets) -> Verdict {
    let services: Vec<Seen> = services.into_iter().filter(|s| only.is_empty() || only.contains(&s.name)).collect();
    let mut reasons = Vec::new();
    for s in &services {
        if s.status == Status::Crit {
            reasons.push(format!("{} is CRIT: {}", s.name, s.reason));
        }
        if budgets == Budgets::Unknown {
            continue;
        }
        if let Some(b) = s.burn_1h.filter(|b| *b > max_burn) {
            reasons.push(format!(
                "{} burns its error budget {b:.1}× too fast over 1h (the gate allows {max_burn}×)",
                s.name
            ));
        }
        if let Some(l) = s.left.filter(|l| *l <= 0.0) {
            reasons.push(format!("{} has spent its error budget ({:.0} % left)", s.name, l * 100.0));
        }
    }
    let note = (budgets == Budgets::Unknown).then(|| {
        "budgets are unknown: no running board answered (--server, or [attach] url) and this machine has no store; \
         judged on what is seen now"
            .to_string()
    });
    Verdict { pass: reasons.is_empty(), reasons, budgets, note, services }
}

impl Verdict {
    /// For people: the verdict, then why.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let from = match &self.budgets {
            Budgets::Server(url) => format!("budgets from {url}"),
            Budgets::LocalStore(path) => format!("budgets from {path}"),
            Budgets::Unknown => "budgets unknown".to_string(),
        };
        let head = if self.pass { "gate: pass" } else { "gate: FAIL" };
        out.push_str(&format!("{head} ({} services, {from})\n", self.services.len()));
        for r in &self.reasons {
            out.push_str(&format!("  {r}\n"));
        }
        if let Some(n) = &self.note {
            out.push_str(&format!("  {n}\n"));
        }
        out
    }
}

/// Runs the gate: the running board at `server` if it answers, else this machine's store,
/// else what one round of polling sees now.
pub async fn run(
    loaded: &std::sync::Arc<crate::config::Loaded>,
    server: Option<&str>,
    only: &[String],
    max_burn: f64,
    window: std::time::Duration,
) -> Verdict {
    let mut missed = None;
    if let Some(url) = server {
        match state_of(url, loaded.config.attach.token.as_deref()).await {
            Ok(state) => return judge(seen_in_state(&state), only, max_burn, Budgets::Server(url.to_string())),
            Err(e) => missed = Some(format!("the board at {url} did not answer ({e})")),
        }
    }
    let mut collector = super::gather(loaded, window, 1).await;
    let budgets = match collector.read_local_counts() {
        Some(Ok(path)) => Budgets::LocalStore(path.display().to_string()),
        Some(Err(e)) => {
            missed = Some(format!("{missed}; the store did not open: {e}", missed = missed.unwrap_or_default()));
            Budgets::Unknown
        }
        None => Budgets::Unknown,
    };
    let report = crate::report::report(&collector.state, std::time::SystemTime::now());
    let mut verdict = judge(seen_in_report(&report), only, max_burn, budgets);
    if let (Some(m), Some(note)) = (missed, verdict.note.as_mut()) {
        *note = format!("{note} ({})", m.trim_start_matches("; "));
    }
    verdict
}

/// A running board's `/api/state`, with the `[attach]` token when there is one.
async fn state_of(url: &str, token: Option<&str>) -> Result<serde_json::Value, String> {
    let client = crate::sources::http::client();
    let mut req =
        client.get(format!("{}/api/state", url.trim_end_matches('/'))).timeout(std::time::Duration::from_secs(10));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let answer = req.send().await.map_err(|e| e.to_string())?;
    if !answer.status().is_success() {
        return Err(format!("HTTP {}", answer.status().as_u16()));
    }
    answer.json().await.map_err(|e| format!("not the board's state: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(name: &str, status: Status, burn: Option<f64>, left: Option<f64>) -> Seen {
        Seen { name: name.into(), status, reason: "why".into(), burn_1h: burn, left }
    }

    #[test]
    fn crit_a_fast_burn_or_a_spent_budget_fail_and_unknown_budgets_are_said() {
        let fleet = || {
            vec![
                seen("web", Status::Ok, Some(0.4), Some(0.6)),
                seen("api", Status::Warn, Some(3.2), Some(0.2)),
                seen("db", Status::Ok, Some(0.0), Some(-0.1)),
            ]
        };
        let server = Budgets::Server("http://board:8080".into());
        let v = judge(fleet(), &[], 2.0, server.clone());
        assert!(!v.pass);
        assert_eq!(v.reasons.len(), 2, "{:?}", v.reasons);
        assert!(v.reasons[0].starts_with("api burns its error budget 3.2× too fast"), "{:?}", v.reasons);
        assert!(v.reasons[1].contains("db has spent its error budget"));
        assert!(judge(fleet(), &["web".into()], 2.0, server).pass);
        let v = judge(fleet(), &[], 2.0, Budgets::Unknown);
        assert!(v.pass && v.text().contains("budgets are unknown"), "{}", v.text());
        let v = judge(vec![seen("web", Status::Crit, None, None)], &[], 2.0, Budgets::Unknown);
        assert!(!v.pass && v.text().contains("web is CRIT: why"), "{}", v.text());
    }
}
