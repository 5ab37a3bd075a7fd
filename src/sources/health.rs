//! The health probe: one GET of an instance's health URL, turned into a [`HealthSample`].

use super::http::{classify, read_capped, short_error};
use crate::state::{BodyVerdict, HealthOutcome, HealthSample, ProbeError};
use reqwest::IntoUrl;
use reqwest::header::HeaderMap;
use std::time::{Duration, Instant, SystemTime};

/// Health bodies longer than this are not read further.
pub const MAX_HEALTH_BODY_BYTES: usize = 64 * 1024;

/// GETs `url` within `timeout` (headers and capped body included).
pub async fn probe(
    client: &reqwest::Client,
    url: impl IntoUrl,
    headers: &HeaderMap,
    timeout: Duration,
) -> HealthSample {
    let at = SystemTime::now();
    let started = Instant::now();
    let outcome = match tokio::time::timeout(timeout, fetch(client, url, headers)).await {
        Ok(outcome) => outcome,
        Err(_) => HealthOutcome::Failed(ProbeError::Timeout(timeout)),
    };
    HealthSample { at, latency: started.elapsed(), outcome }
}

async fn fetch(client: &reqwest::Client, url: impl IntoUrl, headers: &HeaderMap) -> HealthOutcome {
    let mut request = client.get(url);
    if !headers.is_empty() {
        request = request.headers(headers.clone());
    }
    let mut resp = match request.send().await {
        Ok(r) => r,
        Err(e) => return HealthOutcome::Failed(classify(&e)),
    };
    let code = resp.status().as_u16();
    let (body, truncated) = match read_capped(&mut resp, MAX_HEALTH_BODY_BYTES).await {
        Ok(read) => read,
        Err(e) => return HealthOutcome::Failed(ProbeError::Body(short_error(&e))),
    };
    let (verdict, version) = parse_body(&body);
    HealthOutcome::Response { code, body: verdict, version: version.map(Into::into), truncated }
}

const HEALTHY: &[&str] = &["up", "ok", "pass", "healthy", "green", "serving", "alive"];
const DEGRADED: &[&str] = &["warn", "degraded", "yellow", "unknown", "partial"];
const FAILING: &[&str] = &["down", "fail", "error", "unhealthy", "red", "out_of_service", "critical", "not_serving"];

/// Reads the verdict and version from a health body: JSON `status` fields or plain text.
pub fn parse_body(body: &[u8]) -> (BodyVerdict, Option<String>) {
    let trimmed = body.trim_ascii();
    if trimmed.first() == Some(&b'{') {
        if let Ok(json) = serde_json::from_slice::<serde_json::Value>(trimmed) {
            return (json_verdict(&json), json_version(&json));
        }
        return (BodyVerdict::Unrecognised, None);
    }
    let text = String::from_utf8_lossy(trimmed);
    (word_verdict(text.trim(), "body"), None)
}

fn json_verdict(json: &serde_json::Value) -> BodyVerdict {
    match json.get("status") {
        Some(serde_json::Value::String(s)) => word_verdict(s, "status"),
        Some(serde_json::Value::Object(o)) => {
            o.get("code").and_then(|c| c.as_str()).map_or(BodyVerdict::Unrecognised, |s| word_verdict(s, "status"))
        }
        _ => match json.get("healthy").and_then(serde_json::Value::as_bool) {
            Some(true) => BodyVerdict::Healthy,
            Some(false) => BodyVerdict::Failing("healthy=false".into()),
            None => BodyVerdict::Unrecognised,
        },
    }
}

fn word_verdict(word: &str, field: &str) -> BodyVerdict {
    let lower = word.to_ascii_lowercase();
    if HEALTHY.contains(&lower.as_str()) {
        BodyVerdict::Healthy
    } else if FAILING.contains(&lower.as_str()) {
        BodyVerdict::Failing(format!("{field}={word}"))
    } else if DEGRADED.contains(&lower.as_str()) {
        BodyVerdict::Degraded(format!("{field}={word}"))
    } else {
        BodyVerdict::Unrecognised
    }
}

/// `build.version` (Spring info), `releaseId` (IETF draft), `version`, `app.version`.
fn json_version(json: &serde_json::Value) -> Option<String> {
    let pointers = ["/build/version", "/releaseId", "/version", "/app/version", "/info/version"];
    pointers.iter().find_map(|p| match json.pointer(p)? {
        serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(body: &str) -> BodyVerdict {
        parse_body(body.as_bytes()).0
    }

    #[test]
    fn plain_text_bodies() {
        assert_eq!(verdict("OK\n"), BodyVerdict::Healthy);
        assert_eq!(verdict("ok"), BodyVerdict::Healthy);
        assert_eq!(verdict("DOWN"), BodyVerdict::Failing("body=DOWN".into()));
        assert_eq!(verdict("<html>hi</html>"), BodyVerdict::Unrecognised);
    }

    #[test]
    fn spring_boot_status() {
        assert_eq!(verdict(r#"{"status":"UP","components":{}}"#), BodyVerdict::Healthy);
        assert_eq!(verdict(r#"{"status":"DOWN"}"#), BodyVerdict::Failing("status=DOWN".into()));
        assert_eq!(verdict(r#"{"status":"OUT_OF_SERVICE"}"#), BodyVerdict::Failing("status=OUT_OF_SERVICE".into()));
    }

    #[test]
    fn ietf_draft_status_and_release() {
        let (v, ver) = parse_body(br#"{"status":"warn","version":"1","releaseId":"1.4.2"}"#);
        assert_eq!(v, BodyVerdict::Degraded("status=warn".into()));
        assert_eq!(ver.as_deref(), Some("1.4.2"));
        assert_eq!(verdict(r#"{"status":"fail"}"#), BodyVerdict::Failing("status=fail".into()));
        assert_eq!(verdict(r#"{"status":"pass"}"#), BodyVerdict::Healthy);
    }

    #[test]
    fn ok_degraded_and_versions() {
        let (v, ver) = parse_body(br#"{"status":"degraded","version":"v2.0.1"}"#);
        assert_eq!(v, BodyVerdict::Degraded("status=degraded".into()));
        assert_eq!(ver.as_deref(), Some("v2.0.1"));
        let (_, ver) = parse_body(br#"{"status":"UP","build":{"version":"3.1.0"}}"#);
        assert_eq!(ver.as_deref(), Some("3.1.0"));
    }

    #[test]
    fn broken_json_is_unrecognised() {
        assert_eq!(verdict(r#"{"status": "UP""#), BodyVerdict::Unrecognised);
    }
}
