//! Signals from a Prometheus HTTP API (`/api/v1/query`, `/api/v1/query_range`): the path for
//! fleets too large to scrape from one process. Works with Prometheus, Thanos, Mimir, VictoriaMetrics.

use super::http::{classify, read_capped, short_error};
use crate::config::schema::{PrometheusServer, PromqlQueries};
use crate::state::SignalPoint;
use reqwest::header::HeaderMap;
use serde_json::Value;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Query responses larger than this are refused.
const MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;

pub use crate::state::UpSeries;

/// A client for one Prometheus-compatible server.
#[derive(Clone)]
pub struct Promql {
    client: reqwest::Client,
    base: reqwest::Url,
    headers: HeaderMap,
    timeout: Duration,
}

impl Promql {
    pub fn new(server: &PrometheusServer, headers: HeaderMap) -> Result<Self, String> {
        let mut base = reqwest::Url::parse(&server.url).map_err(|e| format!("prometheus url: {e}"))?;
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let client = crate::sources::http::client_builder().build().map_err(|e| e.to_string())?;
        Ok(Self { client, base, headers, timeout: server.timeout })
    }

    /// One number: the value of a one-element vector or a scalar; `None` for an empty vector.
    pub async fn instant(&self, query: &str, at: SystemTime) -> Result<Option<f64>, String> {
        let data = self.get("api/v1/query", &[("query", query.to_string()), ("time", unix(at))]).await?;
        match data.get("resultType").and_then(Value::as_str) {
            Some("scalar") => Ok(sample_value(&data["result"])),
            Some("vector") => match data["result"].as_array().map(Vec::as_slice) {
                Some([]) | None => Ok(None),
                Some([one]) => Ok(sample_value(&one["value"])),
                Some(many) => Err(format!("query returned {} series; aggregate it to one (e.g. sum(...))", many.len())),
            },
            other => Err(format!("query returned {}, not a number", other.unwrap_or("nothing"))),
        }
    }

    /// Each series of an instant vector, named by its `label` (else all its labels), with its
    /// value and its metric's name.
    pub async fn series(&self, query: &str, label: &str, at: SystemTime) -> Result<Vec<UpSeries>, String> {
        let data = self.get("api/v1/query", &[("query", query.to_string()), ("time", unix(at))]).await?;
        if data.get("resultType").and_then(Value::as_str) != Some("vector") {
            return Err("the up query must return a vector, one series per instance".into());
        }
        Ok(data["result"]
            .as_array()
            .map(|all| {
                all.iter()
                    .filter_map(|s| {
                        let metric = s["metric"].as_object()?;
                        let name = match metric.get(label).and_then(Value::as_str) {
                            Some(n) => n.to_string(),
                            None => metric
                                .iter()
                                .filter(|(k, _)| *k != "__name__")
                                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                                .collect::<Vec<_>>()
                                .join(","),
                        };
                        let metric_name = metric.get("__name__").and_then(Value::as_str).unwrap_or("up").to_string();
                        Some(UpSeries { instance: name, value: sample_value(&s["value"])?, metric: metric_name })
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    /// `(time, value)` points of a one-series range query.
    pub async fn range(
        &self,
        query: &str,
        start: SystemTime,
        end: SystemTime,
        step: Duration,
    ) -> Result<Vec<(SystemTime, f64)>, String> {
        let params = [
            ("query", query.to_string()),
            ("start", unix(start)),
            ("end", unix(end)),
            ("step", format!("{}", step.as_secs_f64().max(1.0))),
        ];
        let data = self.get("api/v1/query_range", &params).await?;
        let series = data["result"].as_array().cloned().unwrap_or_default();
        let Some(first) = series.first() else { return Ok(Vec::new()) };
        if series.len() > 1 {
            return Err(format!("query returned {} series; aggregate it to one (e.g. sum(...))", series.len()));
        }
        Ok(first["values"]
            .as_array()
            .map(|vals| {
                vals.iter()
                    .filter_map(|v| Some((UNIX_EPOCH + Duration::from_secs_f64(v[0].as_f64()?), sample_value(v)?)))
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn get(&self, path: &str, params: &[(&str, String)]) -> Result<Value, String> {
        let (code, body) = self.fetch(path, params, MAX_RESPONSE_BYTES).await?;
        let json: Value =
            serde_json::from_slice(&body).map_err(|_| format!("HTTP {code}: not a Prometheus API response"))?;
        if json["status"] != "success" {
            let kind = json["errorType"].as_str().unwrap_or("error");
            let msg = json["error"].as_str().unwrap_or("no message");
            return Err(format!("{kind}: {msg}"));
        }
        Ok(json["data"].clone())
    }

    /// A GET of `path` with `params`: its status and body (at most `cap` bytes), within the
    /// server's timeout.
    pub async fn fetch(&self, path: &str, params: &[(&str, String)], cap: usize) -> Result<(u16, Vec<u8>), String> {
        let mut url = self.base.join(path).map_err(|e| e.to_string())?;
        url.query_pairs_mut().extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())));
        let request = self.client.get(url).headers(self.headers.clone());
        let fetch = async {
            let mut resp = request.send().await.map_err(|e| classify(&e).to_string())?;
            let code = resp.status().as_u16();
            let (body, truncated) =
                read_capped(&mut resp, cap).await.map_err(|e| format!("reading response: {}", short_error(&e)))?;
            if truncated {
                return Err(format!("response over {}", crate::format::bytes(cap as u64)));
            }
            Ok::<(u16, Vec<u8>), String>((code, body))
        };
        tokio::time::timeout(self.timeout, fetch)
            .await
            .map_err(|_| format!("timeout after {}", crate::format::duration(self.timeout)))?
    }

    /// Runs every configured query at `at` and makes one signal point.
    pub async fn point(&self, q: &PromqlQueries, at: SystemTime) -> Result<SignalPoint, String> {
        let run = |name: &'static str, query: &Option<String>| {
            let query = query.clone();
            async move {
                match query {
                    Some(query) => self.instant(&query, at).await.map_err(|e| format!("promql {name}: {e}")),
                    None => Ok(None),
                }
            }
        };
        let (rate, err, p50, p95, p99) = tokio::join!(
            run("rate", &q.rate),
            run("error_ratio", &q.error_ratio),
            run("p50", &q.p50),
            run("p95", &q.p95),
            run("p99", &q.p99)
        );
        // The query's own range is not known here, so no request count: min_requests does not apply.
        Ok(SignalPoint {
            rate: rate?.filter(|v| v.is_finite()),
            error_ratio: err?.filter(|v| v.is_finite()),
            p50: p50?.filter(|v| v.is_finite()),
            p95: p95?.filter(|v| v.is_finite()),
            p99: p99?.filter(|v| v.is_finite()),
            ..SignalPoint::empty(at, Duration::ZERO)
        })
    }

    /// Points for the last `count` steps, so trends are full from the first frame.
    pub async fn backfill(
        &self,
        q: &PromqlQueries,
        end: SystemTime,
        step: Duration,
        count: u32,
    ) -> Result<Vec<SignalPoint>, String> {
        let start = end - step * count;
        let run = |query: &Option<String>| {
            let query = query.clone();
            async move {
                match query {
                    Some(query) => self.range(&query, start, end, step).await,
                    None => Ok(Vec::new()),
                }
            }
        };
        let (rate, err, p50, p95, p99) =
            tokio::join!(run(&q.rate), run(&q.error_ratio), run(&q.p50), run(&q.p95), run(&q.p99));
        let (rate, err, p50, p95, p99) = (rate?, err?, p50?, p95?, p99?);
        let at = |series: &[(SystemTime, f64)], t: SystemTime| series.iter().find(|(s, _)| *s == t).map(|(_, v)| *v);
        let times: Vec<SystemTime> = if rate.is_empty() {
            err.iter().map(|(t, _)| *t).collect()
        } else {
            rate.iter().map(|(t, _)| *t).collect()
        };
        Ok(times
            .into_iter()
            .map(|t| SignalPoint {
                rate: at(&rate, t).filter(|v| v.is_finite()),
                error_ratio: at(&err, t).filter(|v| v.is_finite()),
                p50: at(&p50, t).filter(|v| v.is_finite()),
                p95: at(&p95, t).filter(|v| v.is_finite()),
                p99: at(&p99, t).filter(|v| v.is_finite()),
                ..SignalPoint::empty(t, Duration::ZERO)
            })
            .collect())
    }
}

/// The number in a `[time, "value"]` pair.
fn sample_value(pair: &Value) -> Option<f64> {
    let text = pair.get(1)?.as_str()?;
    match text {
        "NaN" => Some(f64::NAN),
        "+Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ => text.parse().ok(),
    }
}

fn unix(t: SystemTime) -> String {
    format!("{:.3}", t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64())
}
