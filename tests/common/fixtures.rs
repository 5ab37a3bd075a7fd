//! A fixed fleet in a fixed moment, for state and snapshot tests.

use opsboard::config::{self, Loaded};
use opsboard::metrics::Counts;
use opsboard::state::{
    BodyVerdict, Event, HealthOutcome, HealthSample, InstanceId, InstanceKey, ProbeError, ScrapeResult, State,
};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// "Now" in every fixture: 2025-11-24 16:00:00 UTC.
pub fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_764_000_000)
}

pub const FLEET: &str = r#"
[board]
title = "prod-eu"

[defaults]
interval = "5s"
timeout = "2s"
slow_after = "500ms"

[environments.prod]
label = "prod"
color = "lightred"
read_only = true

[environments.staging]
label = "staging"
color = "lightblue"

[services.web]
env = "prod"
instances = ["http://10.0.1.1:8080", "http://10.0.1.2:8080", "http://10.0.1.3:8080"]

[services.checkout]
env = "prod"
instances = ["http://10.0.2.1:8080", "http://10.0.2.2:8080", "http://10.0.2.3:8080", "http://10.0.2.4:8080"]

[services.payments]
env = "prod"
instances = ["http://10.0.3.1:8080", "http://10.0.3.2:8080", "http://10.0.3.3:8080"]

[services.search]
env = "staging"
instances = ["http://10.0.4.1:9200", "http://10.0.4.2:9200", "http://10.0.4.3:9200", "http://10.0.4.4:9200", "http://10.0.4.5:9200"]

[services.auth]
env = "prod"
instances = ["http://10.0.5.1:8080", "http://10.0.5.2:8080"]

[services.reports]
env = "staging"
instances = ["http://10.0.6.1:8080", "http://10.0.6.2:8080"]
"#;

pub fn loaded() -> Loaded {
    config::load_str("fixture.toml", FLEET).expect("fixture config is valid")
}

pub fn ok(at: SystemTime, latency_ms: u64) -> HealthSample {
    let outcome = HealthOutcome::Response {
        code: 200,
        body: BodyVerdict::Healthy,
        version: Some("1.4.2".into()),
        truncated: false,
        cert: None,
        status_expected: None,
    };
    HealthSample { at, latency: Duration::from_millis(latency_ms), outcome }
}

pub fn failed(at: SystemTime, err: ProbeError) -> HealthSample {
    HealthSample { at, latency: Duration::from_millis(2000), outcome: HealthOutcome::Failed(err) }
}

pub fn http(at: SystemTime, code: u16, body: BodyVerdict, latency_ms: u64) -> HealthSample {
    let outcome = HealthOutcome::Response {
        code,
        body,
        version: Some("3.2.1".into()),
        truncated: false,
        cert: None,
        status_expected: None,
    };
    HealthSample { at, latency: Duration::from_millis(latency_ms), outcome }
}

/// The key of the instance at a position of `state`; a key that names nothing when none is there.
pub fn key(state: &State, service: usize, instance: usize) -> InstanceKey {
    state
        .instance_key(InstanceId { service, instance })
        .unwrap_or_else(|| InstanceKey { service: "no such service".into(), instance: "no such instance".into() })
}

pub fn health(state: &State, service: usize, instance: usize, sample: HealthSample) -> Event {
    Event::Health { key: key(state, service, instance), sample, next_in: Duration::from_secs(5) }
}

/// A scrape with cumulative `requests`, `errors`, and all requests in the histogram's `fast` share
/// under 100 ms, the rest under 1 s.
pub fn scrape(
    state: &State,
    (service, instance): (usize, usize),
    at: SystemTime,
    requests: f64,
    errors: f64,
    fast: f64,
) -> Event {
    let counts = Counts {
        requests: Some(requests),
        errors,
        buckets: vec![(0.1, requests * fast), (1.0, requests), (f64::INFINITY, requests)],
        ..Counts::default()
    };
    Event::Scrape { key: key(state, service, instance), result: ScrapeResult { at, outcome: Ok(counts) } }
}

/// An incident in progress: a timeout, a 503, two slow nodes, a stale node, a service not yet checked.
pub fn incident_state() -> State {
    let loaded = loaded();
    let mut state = State::new(&loaded.fleet, 120, 3);
    let now = now();
    let ago = |s: u64| now - Duration::from_secs(s);
    for round in (0..12).rev() {
        let t = |extra: u64| ago(round * 5 + extra);
        let wave = (round % 4) * 7;
        for i in 0..3 {
            state.apply(health(&state, 0, i, ok(t(1), 30 + wave + i as u64 * 4)));
        }
        for i in 0..4 {
            let sample = if i == 2 && round < 3 {
                failed(t(2), ProbeError::Timeout(Duration::from_secs(2)))
            } else {
                ok(t(2), 60 + wave)
            };
            state.apply(health(&state, 1, i, sample));
        }
        for i in 0..3 {
            let sample = if i == 1 && round < 5 {
                http(t(1), 503, BodyVerdict::Failing("status=fail".into()), 85)
            } else {
                http(t(1), 200, BodyVerdict::Healthy, 80 + wave)
            };
            state.apply(health(&state, 2, i, sample));
        }
        for i in 0..5 {
            let latency = if i < 2 && round < 6 { 900 + wave * 3 } else { 45 + wave };
            state.apply(health(&state, 3, i, ok(t(3), latency)));
        }
        // Web serves 100 req/s per instance, all fast; payments' errors climb over the last rounds.
        let n = (12 - round) as f64;
        for i in 0..3 {
            state.apply(scrape(&state, (0, i), t(1), 500.0 * n, 0.0, 1.0));
            let errors = if round < 5 { 10.0 * (5 - round) as f64 * (5 - round) as f64 } else { 0.0 };
            state.apply(scrape(&state, (2, i), t(1), 100.0 * n, errors, 0.7));
        }
        state.apply(health(&state, 4, 0, ok(t(0), 20 + wave)));
        if round >= 8 {
            state.apply(health(&state, 4, 1, ok(t(0), 22)));
        }
    }
    state
}
