//! Instances from a Prometheus server's active targets (`/api/v1/targets?state=active`),
//! filtered by label matchers: whatever discovery Prometheus runs (EC2, Consul, Kubernetes,
//! file_sd, DNS), the board follows it.

use super::Target;
use crate::config::discovery::{LabelMatcher, MatchOp};
use crate::sources::promql::Promql;
use serde::Deserialize;
use std::collections::HashMap;

/// A targets answer larger than this is refused: 10,000 targets take about 10 MB.
const MAX_ANSWER_BYTES: usize = 64 * 1024 * 1024;

#[derive(Deserialize)]
struct Answer {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(default, rename = "activeTargets")]
    active_targets: Vec<ActiveTarget>,
}

#[derive(Deserialize)]
struct ActiveTarget {
    #[serde(default)]
    labels: HashMap<String, String>,
    #[serde(default, rename = "scrapeUrl")]
    scrape_url: String,
}

/// Label matchers compiled once.
pub struct Selector(Vec<(LabelMatcher, Option<regex::Regex>)>);

impl Selector {
    pub fn new(matchers: &[LabelMatcher]) -> Self {
        Self(
            matchers
                .iter()
                .map(|m| {
                    // Anchored, as PromQL's are; checked when the config was read.
                    let re = matches!(m.op, MatchOp::Re | MatchOp::NotRe)
                        .then(|| regex::Regex::new(&format!("^(?:{})$", m.value)).ok())
                        .flatten();
                    (m.clone(), re)
                })
                .collect(),
        )
    }

    /// Whether `labels` match every matcher (a missing label is the empty string, as in PromQL).
    pub fn matches(&self, labels: &HashMap<String, String>) -> bool {
        self.0.iter().all(|(m, re)| {
            let v = labels.get(&m.label).map_or("", String::as_str);
            match m.op {
                MatchOp::Eq => v == m.value,
                MatchOp::Ne => v != m.value,
                MatchOp::Re => re.as_ref().is_some_and(|r| r.is_match(v)),
                MatchOp::NotRe => re.as_ref().is_none_or(|r| !r.is_match(v)),
            }
        })
    }
}

/// The matching targets of one answer of `/api/v1/targets`, named by `name_label`.
pub fn parse(body: &[u8], code: u16, selector: &Selector, name_label: &str) -> Result<Vec<Target>, String> {
    let answer: Answer =
        serde_json::from_slice(body).map_err(|_| format!("HTTP {code}: not a Prometheus targets answer"))?;
    if answer.status != "success" {
        let kind = answer.error_type.as_deref().unwrap_or("error");
        return Err(format!("{kind}: {}", answer.error.as_deref().unwrap_or("no message")));
    }
    let targets = answer.data.map(|d| d.active_targets).unwrap_or_default();
    Ok(targets
        .into_iter()
        .filter(|t| selector.matches(&t.labels))
        .filter_map(|t| {
            let url = url::Url::parse(&t.scrape_url).ok()?;
            let host = url.host_str()?;
            let port = url.port_or_known_default()?;
            Some(Target {
                host_port: format!("{host}:{port}"),
                scheme: Some(url.scheme().to_string()),
                name: t.labels.get(name_label).cloned(),
                lb: None,
            })
        })
        .collect())
}

/// One read of the server's active targets.
pub async fn list(client: &Promql, selector: &Selector, name_label: &str) -> Result<Vec<Target>, String> {
    let params = [("state", "active".to_string())];
    let (code, body) = client.fetch("api/v1/targets", &params, MAX_ANSWER_BYTES).await?;
    parse(&body, code, selector, name_label)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::discovery::parse_matchers;

    #[test]
    fn targets_are_filtered_by_label_and_named_by_theirs() {
        let body = br#"{"status":"success","data":{"activeTargets":[
            {"labels":{"job":"api","instance":"api-1"},"scrapeUrl":"https://10.0.0.1:8443/metrics","health":"up"},
            {"labels":{"job":"api","instance":"api-2"},"scrapeUrl":"http://[::1]:9100/metrics"},
            {"labels":{"job":"db","instance":"db-1"},"scrapeUrl":"http://10.0.0.9:9187/metrics"},
            {"labels":{"job":"api"},"scrapeUrl":"not a url"}
        ],"droppedTargets":[]}}"#;
        let selector = Selector::new(&parse_matchers(r#"job=~"ap.""#).unwrap());
        let got = parse(body, 200, &selector, "instance").unwrap();
        let seen: Vec<(&str, Option<&str>, Option<&str>)> =
            got.iter().map(|t| (t.host_port.as_str(), t.scheme.as_deref(), t.name.as_deref())).collect();
        assert_eq!(
            seen,
            [("10.0.0.1:8443", Some("https"), Some("api-1")), ("[::1]:9100", Some("http"), Some("api-2"))]
        );
        let refused = parse(br#"{"status":"error","errorType":"bad_data","error":"nope"}"#, 400, &selector, "instance");
        assert_eq!(refused.unwrap_err(), "bad_data: nope");
        assert!(parse(b"<html>", 503, &selector, "instance").unwrap_err().contains("HTTP 503"));
    }
}
