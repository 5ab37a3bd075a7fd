//! The health probe: one GET of an instance's health URL, turned into a [`HealthSample`].

use super::answer::AnswerSpec;
use super::http::{classify, read_capped, short_error};
use super::plain_http;
use crate::config::TlsSpec;
use crate::state::{BodyVerdict, HealthOutcome, HealthSample, ProbeError};
use reqwest::Url;
use reqwest::header::HeaderMap;
use std::time::{Duration, Instant, SystemTime};

/// Health bodies longer than this are not read further.
pub const MAX_HEALTH_BODY_BYTES: usize = 64 * 1024;

/// Redirects followed before a check gives up, as a load balancer would.
pub const MAX_REDIRECTS: usize = 3;

/// What a health check asks, prepared once per instance: the URL, its headers, and for plain
/// http the request bytes themselves.
#[derive(Debug, Clone)]
pub struct Target {
    url: Url,
    headers: HeaderMap,
    request: Option<Vec<u8>>,
}

impl Target {
    pub fn new(url: Url, headers: HeaderMap) -> Self {
        let request = (url.scheme() == "http").then(|| plain_http::request(&url, &headers));
        Self { url, headers, request }
    }
}

/// GETs `url` within `timeout` (headers and capped body included); an https answer carries its
/// certificate, judged by `tls`.
pub async fn probe(
    client: &reqwest::Client,
    url: &str,
    headers: &HeaderMap,
    timeout: Duration,
    tls: &TlsSpec,
    answer: &AnswerSpec,
) -> HealthSample {
    match Url::parse(url) {
        Ok(url) => probe_target(client, &Target::new(url, headers.clone()), timeout, tls, answer).await,
        Err(e) => HealthSample {
            at: SystemTime::now(),
            latency: Duration::ZERO,
            outcome: HealthOutcome::Failed(ProbeError::Other(format!("not a URL: {e}"))),
        },
    }
}

/// [`probe`] of a prepared [`Target`]: the pollers' path.
pub async fn probe_target(
    client: &reqwest::Client,
    target: &Target,
    timeout: Duration,
    tls: &TlsSpec,
    answer: &AnswerSpec,
) -> HealthSample {
    let at = SystemTime::now();
    let started = Instant::now();
    let outcome = match tokio::time::timeout(timeout, fetch(client, target, tls, answer)).await {
        Ok(outcome) => outcome,
        Err(_) => HealthOutcome::Failed(ProbeError::Timeout(timeout)),
    };
    HealthSample { at, latency: started.elapsed(), outcome }
}

async fn fetch(client: &reqwest::Client, target: &Target, tls: &TlsSpec, answer: &AnswerSpec) -> HealthOutcome {
    let Some(first) = &target.request else {
        return fetch_reqwest(client, target.url.clone(), &target.headers, tls, answer).await;
    };
    // Plain http: the lean path, redirects followed here; one to https goes on through reqwest.
    let mut url = std::borrow::Cow::Borrowed(&target.url);
    let mut request = std::borrow::Cow::Borrowed(first);
    for _ in 0..=MAX_REDIRECTS {
        match plain_http::get(&url, &request, MAX_HEALTH_BODY_BYTES).await {
            Ok(plain_http::Answer::Done { code, body, truncated }) => {
                return judge(code, &body, truncated, None, answer);
            }
            Ok(plain_http::Answer::Redirect(next)) => {
                // Credentials stay with the origin they were configured for.
                let same_origin = next.origin() == target.url.origin();
                let headers = if same_origin { target.headers.clone() } else { without_credentials(&target.headers) };
                if next.scheme() != "http" {
                    return fetch_reqwest(client, next, &headers, tls, answer).await;
                }
                request = std::borrow::Cow::Owned(plain_http::request(&next, &headers));
                url = std::borrow::Cow::Owned(next);
            }
            Err(e) => return HealthOutcome::Failed(e),
        }
    }
    HealthOutcome::Failed(ProbeError::Other(format!(
        "more than {MAX_REDIRECTS} redirects; last to {}",
        crate::redact::url(url.as_str())
    )))
}

fn without_credentials(headers: &HeaderMap) -> HeaderMap {
    let mut kept = headers.clone();
    for name in [reqwest::header::AUTHORIZATION, reqwest::header::COOKIE, reqwest::header::PROXY_AUTHORIZATION] {
        kept.remove(name);
    }
    kept
}

async fn fetch_reqwest(
    client: &reqwest::Client,
    url: Url,
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
        Err(e) => return HealthOutcome::Failed(classify(&e)),
    };
    let cert = super::tls::cert_seen(&resp, tls, SystemTime::now()).map(std::sync::Arc::new);
    let code = resp.status().as_u16();
    let (body, truncated) = match read_capped(&mut resp, MAX_HEALTH_BODY_BYTES).await {
        Ok(read) => read,
        Err(e) => return HealthOutcome::Failed(ProbeError::Body(short_error(&e))),
    };
    judge(code, &body, truncated, cert, answer)
}

/// The answer judged: the body's verdict and version, the configured conditions.
fn judge(
    code: u16,
    body: &[u8],
    truncated: bool,
    cert: Option<std::sync::Arc<crate::state::CertSeen>>,
    answer: &AnswerSpec,
) -> HealthOutcome {
    let (mut verdict, version) = super::health_body::parse(body);
    if let Some(why) = answer.body_failure(body) {
        verdict = BodyVerdict::Failing(why);
    }
    let status_expected = answer.status_expected(code);
    let version = version.map(|v| std::sync::Arc::from(v.as_ref()));
    HealthOutcome::Response { code, body: verdict, version, truncated, cert, status_expected }
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
