//! The metrics scraper: one GET of an instance's `/metrics`, parsed into signal counts.

use super::http::{classify, read_capped, short_error};
use super::plain_http;
use crate::metrics::{MetricNames, extract};
use crate::state::{ProbeError, ScrapeResult};
use reqwest::header::HeaderMap;
use std::time::{Duration, SystemTime};

/// Metrics bodies longer than this (after gzip) are refused: the instance shows an error.
pub const MAX_METRICS_BODY_BYTES: usize = 10 * 1024 * 1024;
/// Bodies above this are parsed off the event loop's thread.
const PARSE_INLINE_BYTES: usize = 256 * 1024;

/// The HTTP client for scrapes: keep-alive and gzip, as Prometheus scrapes.
pub fn metrics_client() -> reqwest::Client {
    crate::sources::http::client_builder().pool_max_idle_per_host(1).build().unwrap_or_default()
}

/// One instance's scraper: for plain http, the request bytes made once and the connection kept
/// between scrapes (a kept connection holds no buffers: they live only while a scrape runs);
/// https goes through reqwest.
pub struct Scraper {
    url: reqwest::Url,
    headers: HeaderMap,
    request: Option<Vec<u8>>,
    kept: Option<tokio::net::TcpStream>,
}

impl Scraper {
    pub fn new(url: reqwest::Url, headers: HeaderMap) -> Self {
        let request = (url.scheme() == "http").then(|| plain_http::scrape_request(&url, &headers));
        Self { url, headers, request, kept: None }
    }

    /// Scrapes within `timeout` and extracts the signals named by `names`. A connection that ran
    /// out of time is dropped, never reused.
    pub async fn scrape(&mut self, client: &reqwest::Client, timeout: Duration, names: &MetricNames) -> ScrapeResult {
        let at = SystemTime::now();
        let fetched = match &self.request {
            Some(request) => {
                let kept = self.kept.take();
                let plain = async {
                    let (answer, kept) =
                        plain_http::get_keep_alive(kept, &self.url, request, MAX_METRICS_BODY_BYTES).await;
                    (plain_answer(client, answer, &self.headers).await, kept)
                };
                match tokio::time::timeout(timeout, plain).await {
                    Ok((body, kept)) => {
                        self.kept = kept;
                        body
                    }
                    Err(_) => Err(ProbeError::Timeout(timeout).to_string()),
                }
            }
            None => match tokio::time::timeout(timeout, fetch(client, self.url.clone(), &self.headers)).await {
                Ok(body) => body,
                Err(_) => Err(ProbeError::Timeout(timeout).to_string()),
            },
        };
        let body = match fetched {
            Ok(body) => body,
            Err(e) => return ScrapeResult { at, outcome: Err(e) },
        };
        let outcome = if body.len() <= PARSE_INLINE_BYTES {
            parse(&body, names)
        } else {
            let names = names.clone();
            tokio::task::spawn_blocking(move || parse(&body, &names))
                .await
                .unwrap_or_else(|e| Err(format!("parser stopped: {e}")))
        };
        ScrapeResult { at, outcome }
    }
}

/// A plain-http answer as a metrics body, or the words for why not; a redirect is followed
/// through reqwest.
async fn plain_answer(
    client: &reqwest::Client,
    answer: Result<plain_http::Answer, ProbeError>,
    headers: &HeaderMap,
) -> Result<Vec<u8>, String> {
    match answer {
        Err(ProbeError::Body(e)) => Err(format!("reading metrics: {e}")),
        Err(e) => Err(e.to_string()),
        Ok(plain_http::Answer::Redirect(next)) => fetch(client, next, headers).await,
        Ok(plain_http::Answer::Done { code, .. }) if !(200..300).contains(&code) => {
            Err(format!("metrics: HTTP {code}"))
        }
        Ok(plain_http::Answer::Done { truncated: true, .. }) => {
            Err(format!("metrics body over {}", crate::format::bytes(MAX_METRICS_BODY_BYTES as u64)))
        }
        Ok(plain_http::Answer::Done { body, .. }) => Ok(body),
    }
}

/// Scrapes `url` once, on a fresh connection.
pub async fn scrape(
    client: &reqwest::Client,
    url: reqwest::Url,
    headers: &HeaderMap,
    timeout: Duration,
    names: &MetricNames,
) -> ScrapeResult {
    Scraper::new(url, headers.clone()).scrape(client, timeout, names).await
}

fn parse(body: &[u8], names: &MetricNames) -> Result<crate::metrics::Counts, String> {
    let text = std::str::from_utf8(body).map_err(|e| format!("metrics are not UTF-8 text: {e}"))?;
    extract(text, names).map_err(|e| format!("metrics {e}"))
}

async fn fetch(client: &reqwest::Client, url: reqwest::Url, headers: &HeaderMap) -> Result<Vec<u8>, String> {
    let mut request = client.get(url).header(reqwest::header::ACCEPT, "text/plain;version=0.0.4;q=1,*/*;q=0.1");
    if !headers.is_empty() {
        request = request.headers(headers.clone());
    }
    let mut resp = request.send().await.map_err(|e| classify(&e).to_string())?;
    let status = resp.status();
    if !status.is_success() {
        return Err(format!("metrics: HTTP {}", status.as_u16()));
    }
    let (body, truncated) = read_capped(&mut resp, MAX_METRICS_BODY_BYTES + 1)
        .await
        .map_err(|e| format!("reading metrics: {}", short_error(&e)))?;
    if truncated || body.len() > MAX_METRICS_BODY_BYTES {
        return Err(format!("metrics body over {}", crate::format::bytes(MAX_METRICS_BODY_BYTES as u64)));
    }
    Ok(body)
}
