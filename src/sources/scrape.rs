//! The metrics scraper: one GET of an instance's `/metrics`, parsed into signal counts.

use super::http::{classify, read_capped, short_error};
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
    reqwest::Client::builder()
        .user_agent(concat!("opsboard/", env!("CARGO_PKG_VERSION")))
        .pool_max_idle_per_host(1)
        .build()
        .unwrap_or_default()
}

/// Scrapes `url` within `timeout` and extracts the signals named by `names`.
pub async fn scrape(
    client: &reqwest::Client,
    url: reqwest::Url,
    headers: &HeaderMap,
    timeout: Duration,
    names: &MetricNames,
) -> ScrapeResult {
    let at = SystemTime::now();
    let body = match tokio::time::timeout(timeout, fetch(client, url, headers)).await {
        Ok(Ok(body)) => body,
        Ok(Err(e)) => return ScrapeResult { at, outcome: Err(e) },
        Err(_) => return ScrapeResult { at, outcome: Err(ProbeError::Timeout(timeout).to_string()) },
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
