//! Sources: async tasks that poll the fleet on their own schedules and send [`Event`]s.
//! A source knows its config, a client and a sender; it knows nothing of the board.

/// What a health answer must hold: configured in `config::answer`, where it is parsed.
pub use crate::config::answer;
pub mod aws;
pub mod backups;
pub mod deploy_log;
pub mod discovery;
pub mod health;
pub mod health_body;
pub mod http;
pub mod plain_http;
pub mod pollers;
pub mod promql;
pub mod reload;
pub mod rounds;
pub mod schedule;
pub mod scrape;
pub mod tls;

use crate::config::CheckSpec;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use std::time::Duration;

/// The HTTP client for health checks. Each check opens a fresh connection, as a load balancer's
/// does: a server that stopped accepting is caught, no idle socket is held per instance
/// (measured: 1,000 pooled connections cost ~20 MiB of RSS), and no server's idle timeout
/// turns into a spurious reset.
pub fn http_client() -> reqwest::Client {
    http_client_builder().build().unwrap_or_default()
}

/// The health client's settings: fresh connections, three redirects, certificates kept for
/// their expiry.
pub fn http_client_builder() -> reqwest::ClientBuilder {
    crate::sources::http::client_builder()
        .pool_max_idle_per_host(0)
        .redirect(reqwest::redirect::Policy::limited(3))
        .tls_info(true)
}

/// The configured extra headers; names or values that HTTP cannot carry are skipped with a log line.
pub fn header_map(check: &CheckSpec) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (k, v) in &check.headers {
        match (HeaderName::try_from(k.as_str()), HeaderValue::try_from(v.as_str())) {
            (Ok(name), Ok(value)) => {
                map.insert(name, value);
            }
            _ => tracing::warn!(header = %k, "header name or value is not valid HTTP; skipped"),
        }
    }
    map
}

/// How pollers begin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// The board: each first poll lands somewhere in its first interval, so a fleet's checks
    /// spread out.
    Spread,
    /// `check` and `snapshot`: every first poll at once, and scrapes `scrape_every` apart (two
    /// make a rate).
    AtOnce { scrape_every: Duration },
}

/// The headers configured for the Prometheus server.
pub fn promql_client(server: &crate::config::schema::PrometheusServer) -> Result<promql::Promql, String> {
    let mut headers = HeaderMap::new();
    for (k, v) in &server.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(k.as_str()), HeaderValue::try_from(v.as_str())) {
            headers.insert(name, value);
        }
    }
    promql::Promql::new(server, headers)
}
