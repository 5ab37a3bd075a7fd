//! Webhooks: a body per format, and a delivery task per destination that never blocks the board
//! (a bounded queue; timeouts; retries with backoff on errors, 5xx and 429).
//!
//! The `json` body:
//! ```json
//! {"board": "production", "title": "✖ 2 services CRIT: payments, auth", "at": "2026-11-26T14:30:00Z",
//!  "changes": [{"kind": "service", "name": "payments", "env": "prod", "state": "crit",
//!               "previous": "ok", "reason": "2/3 instances refusing connections", "previous_for_s": 3600}]}
//! ```
//! `slack` sends `{"text": …}`, which Slack and Mattermost incoming webhooks take.

use super::change::{Change, title};
use super::policy::Policy;
use crate::state::Event;
use serde_json::{Value, json};
use std::time::{Duration, SystemTime};
use tokio::sync::mpsc;

pub use crate::config::schema::WebhookFormat as Format;

/// One destination.
#[derive(Debug, Clone)]
pub struct Target {
    /// What the board and the log call it: its `name`, else the URL's host (never the whole URL,
    /// which often holds a token).
    pub label: String,
    pub url: String,
    pub format: Format,
    pub timeout: Duration,
    /// Tries after the first.
    pub retries: u32,
    pub policy: Policy,
}

/// Messages waiting for one destination; more are dropped (and the drop shown), never queued
/// without bound.
const QUEUE: usize = 32;
/// The first retry waits this long, each next one twice as long (a `Retry-After` is honoured up
/// to [`MAX_WAIT`]).
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_WAIT: Duration = Duration::from_secs(60);

pub fn body(format: Format, board: &str, changes: &[Change], now: SystemTime) -> Value {
    let head = title(changes);
    match format {
        Format::Slack => {
            let mut text = head.clone();
            if changes.len() > 1 {
                for c in changes {
                    text.push('\n');
                    text.push_str(&c.line());
                }
            }
            json!({ "text": text })
        }
        Format::Json => json!({
            "board": board,
            "title": head,
            "at": chrono::DateTime::<chrono::Utc>::from(now).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "changes": changes,
        }),
    }
}

/// Starts the delivery task of destination `index`; what happens to each message comes back as
/// [`Event::Delivery`].
pub fn spawn(
    index: usize,
    target: Target,
    client: reqwest::Client,
    events: mpsc::Sender<Event>,
) -> mpsc::Sender<Value> {
    let (tx, mut rx) = mpsc::channel::<Value>(QUEUE);
    tokio::spawn(async move {
        while let Some(body) = rx.recv().await {
            let result = deliver(&client, &target, &body).await;
            match &result {
                Ok(()) => tracing::info!(to = %target.label, "notification delivered"),
                Err(e) => tracing::warn!(to = %target.label, error = %e, "notification not delivered"),
            }
            let _ =
                events.send(Event::Delivery { target: index, label: target.label.clone(), error: result.err() }).await;
        }
    });
    tx
}

async fn deliver(client: &reqwest::Client, target: &Target, body: &Value) -> Result<(), String> {
    let mut wait = FIRST_BACKOFF;
    let mut last = String::new();
    for attempt in 0..=target.retries {
        if attempt > 0 {
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(MAX_WAIT);
        }
        let sent = tokio::time::timeout(target.timeout, client.post(&target.url).json(body).send()).await;
        match sent {
            Err(_) => last = format!("no answer within {}", crate::format::duration(target.timeout)),
            Ok(Err(e)) => last = crate::sources::http::classify(&e).to_string(),
            Ok(Ok(resp)) => {
                let code = resp.status();
                if code.is_success() {
                    return Ok(());
                }
                last = format!("HTTP {}", code.as_u16());
                if !(code.is_server_error() || code.as_u16() == 429) {
                    return Err(last);
                }
                let after = resp.headers().get("retry-after").and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
                if let Some(secs) = after {
                    wait = Duration::from_secs(secs).min(MAX_WAIT);
                }
            }
        }
    }
    Err(format!("{last} after {} tries", target.retries + 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Status;

    #[test]
    fn slack_text_lists_each_change_under_the_title() {
        let c = |name: &str| Change {
            kind: "service",
            name: name.into(),
            env: None,
            state: Status::Crit,
            previous: Status::Ok,
            reason: "HTTP 503".into(),
            previous_for_s: None,
            ..Default::default()
        };
        let b = body(Format::Slack, "prod", &[c("a"), c("b")], SystemTime::UNIX_EPOCH);
        assert_eq!(b["text"], "✖ 2 services CRIT: a, b\n✖ a CRIT: HTTP 503\n✖ b CRIT: HTTP 503");
        let j = body(Format::Json, "prod", &[c("a")], SystemTime::UNIX_EPOCH);
        assert_eq!(j["at"], "1970-01-01T00:00:00Z");
        assert_eq!(j["changes"][0]["state"], "crit");
    }
}
