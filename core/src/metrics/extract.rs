//! What one scrape says about golden signals: cumulative request and error counts, latency
//! buckets or quantiles, and the running version.

use super::exposition::{ParseError, parse};

/// Which metric names and labels carry the signals. The first candidate present wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricNames {
    /// Counters of requests served.
    pub requests: Vec<String>,
    /// Labels that hold the HTTP status code of a request.
    pub status_labels: Vec<String>,
    /// Base names of latency histograms or summaries, in seconds.
    pub durations: Vec<String>,
}

impl Default for MetricNames {
    fn default() -> Self {
        let v = |names: &[&str]| names.iter().map(|s| s.to_string()).collect();
        Self {
            // Prometheus client libraries, Spring Boot (Micrometer), OpenTelemetry's Prometheus exporter.
            requests: v(&[
                "http_requests_total",
                "http_server_requests_seconds_count",
                "http_server_requests_total",
                "http_server_request_duration_seconds_count",
                "requests_total",
            ]),
            status_labels: v(&["code", "status", "status_code", "http_status_code", "http_response_status_code"]),
            durations: v(&[
                "http_request_duration_seconds",
                "http_server_requests_seconds",
                "http_server_request_duration_seconds",
                "request_duration_seconds",
            ]),
        }
    }
}

/// Cumulative counts from one scrape.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Counts {
    /// All requests; `None` when no request counter was found.
    pub requests: Option<f64>,
    /// Requests answered with a 5xx.
    pub errors: f64,
    /// Latency histogram `(le, cumulative count)`, summed over series, sorted, `+Inf` last.
    pub buckets: Vec<(f64, f64)>,
    /// Latency summary `(quantile, seconds)`, the largest over series.
    pub summary: Vec<(f64, f64)>,
    /// From a `*_build_info{version="…"}` metric.
    pub version: Option<String>,
    /// A node exporter's numbers of its host, when the exposition has them.
    pub host: Option<super::host::HostSample>,
    pub samples: usize,
}

/// Reads the signals out of an exposition.
pub fn extract(text: &str, names: &MetricNames) -> Result<Counts, ParseError> {
    let mut requests: Vec<Option<(f64, f64)>> = vec![None; names.requests.len()];
    let mut buckets: Vec<Vec<(f64, f64)>> = vec![Vec::new(); names.durations.len()];
    let mut summary: Vec<Vec<(f64, f64)>> = vec![Vec::new(); names.durations.len()];
    let mut version = None;
    let mut host = super::host::HostReader::default();
    let stats = parse(text, |s| {
        if let Some(i) = names.requests.iter().position(|n| n == s.name) {
            let is_error =
                names.status_labels.iter().find_map(|l| s.labels.get(l)).is_some_and(|code| code.starts_with('5'));
            let (total, errors) = requests[i].get_or_insert((0.0, 0.0));
            *total += s.value;
            if is_error {
                *errors += s.value;
            }
            return;
        }
        if let Some(base) = s.name.strip_suffix("_bucket")
            && let Some(i) = names.durations.iter().position(|n| n == base)
        {
            if let Some(le) = s.labels.get("le").and_then(|v| parse_bound(&v)) {
                add_at(&mut buckets[i], le, s.value);
            }
            return;
        }
        if let Some(i) = names.durations.iter().position(|n| n == s.name)
            && let Some(q) = s.labels.get("quantile").and_then(|v| v.parse::<f64>().ok())
        {
            match summary[i].iter_mut().find(|(k, _)| *k == q) {
                Some((_, v)) => *v = v.max(s.value),
                None => summary[i].push((q, s.value)),
            }
            return;
        }
        if host.read(&s) {
            return;
        }
        if version.is_none() && s.name.ends_with("_build_info") {
            version = s.labels.get("version").map(|v| v.into_owned());
        }
    })?;
    let mut counts = Counts {
        requests: None,
        errors: 0.0,
        buckets: buckets.into_iter().find(|b| !b.is_empty()).unwrap_or_default(),
        summary: summary.into_iter().find(|s| !s.is_empty()).unwrap_or_default(),
        version,
        host: host.finish(),
        samples: stats.samples,
    };
    if let Some((total, errors)) = requests.into_iter().flatten().next() {
        counts.requests = Some(total);
        counts.errors = errors;
    }
    counts.buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    counts.summary.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(counts)
}

fn parse_bound(v: &str) -> Option<f64> {
    match v {
        "+Inf" | "Inf" | "inf" => Some(f64::INFINITY),
        _ => v.parse().ok(),
    }
}

fn add_at(buckets: &mut Vec<(f64, f64)>, le: f64, count: f64) {
    match buckets.iter_mut().find(|(b, _)| *b == le) {
        Some((_, c)) => *c += count,
        None => buckets.push((le, count)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_errors_buckets_and_version() {
        let text = "\
# TYPE http_requests_total counter
http_requests_total{code=\"200\",path=\"/\"} 90
http_requests_total{code=\"503\",path=\"/\"} 7
http_requests_total{code=\"500\",path=\"/x\"} 3
http_request_duration_seconds_bucket{path=\"/\",le=\"0.1\"} 40
http_request_duration_seconds_bucket{path=\"/\",le=\"+Inf\"} 60
http_request_duration_seconds_bucket{path=\"/x\",le=\"0.1\"} 10
http_request_duration_seconds_bucket{path=\"/x\",le=\"+Inf\"} 40
myapp_build_info{version=\"1.4.2\",goversion=\"go1.22\"} 1
";
        let c = extract(text, &MetricNames::default()).unwrap();
        assert_eq!(c.requests, Some(100.0));
        assert_eq!(c.errors, 10.0);
        assert_eq!(c.buckets, vec![(0.1, 50.0), (f64::INFINITY, 100.0)]);
        assert_eq!(c.version.as_deref(), Some("1.4.2"));
    }

    #[test]
    fn spring_boot_micrometer_names() {
        let text = "\
http_server_requests_seconds_count{method=\"GET\",status=\"200\",uri=\"/a\"} 40
http_server_requests_seconds_count{method=\"GET\",status=\"500\",uri=\"/a\"} 2
http_server_requests_seconds_sum{method=\"GET\",status=\"200\",uri=\"/a\"} 4.2
http_server_requests_seconds{method=\"GET\",status=\"200\",uri=\"/a\",quantile=\"0.95\"} 0.25
http_server_requests_seconds{method=\"GET\",status=\"500\",uri=\"/a\",quantile=\"0.95\"} 0.75
";
        let c = extract(text, &MetricNames::default()).unwrap();
        assert_eq!((c.requests, c.errors), (Some(42.0), 2.0));
        assert_eq!(c.summary, vec![(0.95, 0.75)]);
    }

    #[test]
    fn no_request_counter_is_none_not_zero() {
        let c = extract("node_load1 0.5\n", &MetricNames::default()).unwrap();
        assert_eq!(c.requests, None);
        assert_eq!(c.samples, 1);
    }
}
