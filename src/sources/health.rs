//! The health probe: one GET of an instance's health URL, turned into a [`HealthSample`].

use super::answer::AnswerSpec;
use super::http::{classify, read_capped, short_error};
use crate::config::TlsSpec;
use crate::state::{BodyVerdict, HealthOutcome, HealthSample, ProbeError};
use reqwest::IntoUrl;
use reqwest::header::HeaderMap;
use std::time::{Duration, Instant, SystemTime};

/// Health bodies longer than this are not read further.
pub const MAX_HEALTH_BODY_BYTES: usize = 64 * 1024;

/// GETs `url` within `timeout` (headers and capped body included); an https answer carries its
/// certificate, judged by `tls`.
pub async fn probe(
    client: &reqwest::Client,
    url: impl IntoUrl,
    headers: &HeaderMap,
    timeout: Duration,
    tls: &TlsSpec,
    answer: &AnswerSpec,
) -> HealthSample {
    let at = SystemTime::now();
    let started = Instant::now();
    let outcome = match tokio::time::timeout(timeout, fetch(client, url, headers, tls, answer)).await {
        Ok(outcome) => outcome,
        Err(_) => HealthOutcome::Failed(ProbeError::Timeout(timeout)),
    };
    HealthSample { at, latency: started.elapsed(), outcome }
}

async fn fetch(
    client: &reqwest::Client,
    url: impl IntoUrl,
    headers: &HeaderMap,
    tls: &TlsSpec,
    answer: &AnswerSpec,
) -> HealthOutcome {
    let mut request = client.get(url);
    if !headers.is_empty() {
        request = request.headers(headers.clone());
    }
    let mut resp = match request.send().await {
        Ok(r) => r,
        Err(e) => {
            return HealthOutcome::Failed(match super::tls::failure(&e) {
                Some(words) => ProbeError::Tls(words),
                None => classify(&e),
            });
        }
    };
    let cert = super::tls::cert_seen(&resp, tls, SystemTime::now()).map(std::sync::Arc::new);
    let code = resp.status().as_u16();
    let (body, truncated) = match read_capped(&mut resp, MAX_HEALTH_BODY_BYTES).await {
        Ok(read) => read,
        Err(e) => return HealthOutcome::Failed(ProbeError::Body(short_error(&e))),
    };
    let (mut verdict, version) = parse_body(&body);
    if let Some(why) = answer.body_failure(&body) {
        verdict = BodyVerdict::Failing(why);
    }
    let status_expected = answer.status_expected(code);
    HealthOutcome::Response { code, body: verdict, version: version.map(Into::into), truncated, cert, status_expected }
}

/// After the first bytes of a TCP answer, a pause this long ends it.
const ANSWER_PAUSE: Duration = Duration::from_millis(200);

/// Connects to `target` (`host:port`) within `timeout`; writes `send`, then reads until the
/// answer contains `expect` (at most [`MAX_HEALTH_BODY_BYTES`]). A TCP answer has code 0.
pub async fn probe_tcp(target: &str, send: Option<&str>, expect: Option<&str>, timeout: Duration) -> HealthSample {
    let at = SystemTime::now();
    let started = Instant::now();
    let outcome = match tokio::time::timeout(timeout, talk(target, send, expect)).await {
        Ok(outcome) => outcome,
        Err(_) => match expect {
            Some(e) => HealthOutcome::Failed(ProbeError::Other(format!(
                "no answer within {}; expected {e:?}",
                crate::format::duration(timeout)
            ))),
            None => HealthOutcome::Failed(ProbeError::Timeout(timeout)),
        },
    };
    HealthSample { at, latency: started.elapsed(), outcome }
}

async fn talk(target: &str, send: Option<&str>, expect: Option<&str>) -> HealthOutcome {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = match tokio::net::TcpStream::connect(target).await {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            return HealthOutcome::Failed(ProbeError::Refused);
        }
        Err(e) => return HealthOutcome::Failed(ProbeError::Connect(e.to_string())),
    };
    let answer = |body| HealthOutcome::Response {
        code: 0,
        body,
        version: None,
        truncated: false,
        cert: None,
        status_expected: None,
    };
    if let Some(s) = send
        && let Err(e) = stream.write_all(s.as_bytes()).await
    {
        return HealthOutcome::Failed(ProbeError::Connect(format!("sending: {e}")));
    }
    let Some(expect) = expect else { return answer(BodyVerdict::Healthy) };
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        // Once something came, a pause means the answer is complete: judge it rather than wait
        // for the timeout (servers like Redis keep the connection open).
        let read = if got.is_empty() {
            stream.read(&mut buf).await
        } else {
            match tokio::time::timeout(ANSWER_PAUSE, stream.read(&mut buf)).await {
                Ok(r) => r,
                Err(_) => break,
            }
        };
        match read {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
        if String::from_utf8_lossy(&got).contains(expect) {
            return answer(BodyVerdict::Healthy);
        }
        if got.len() >= MAX_HEALTH_BODY_BYTES {
            break;
        }
    }
    let text = String::from_utf8_lossy(&got);
    let shown: String = text.trim().chars().take(60).collect();
    let why = if got.is_empty() {
        format!("closed without answering; expected {expect:?}")
    } else {
        format!("expected {expect:?}, got {shown:?}")
    };
    answer(BodyVerdict::Failing(why))
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
