//! Verdicts on simulated real traffic, time as a parameter: a steady fleet keeps one state,
//! a real outage turns it red quickly.

mod common;

use common::fixtures::{failed, health, now, ok, scrape};
use opsboard::config;
use opsboard::state::{ProbeError, State, Status};
use std::time::{Duration, SystemTime};

/// One service, two instances, health and scrapes every 5 s, the default thresholds
/// (errors warn at 1%, crit at 5%; 1 m window; 100 requests; hold 30 s).
const FLEET: &str = r#"
[defaults]
interval = "5s"
timeout = "2s"

[services.api]
instances = ["http://127.0.0.1:1", "http://127.0.0.1:2"]
"#;

const INTERVAL: Duration = Duration::from_secs(5);

/// A fleet of two instances with counters that move as a real exporter's do: whole requests
/// arriving at random, each failing with `error_share`, scrapes jittered by up to ±0.5 s.
struct Fleet {
    state: State,
    rng: fastrand::Rng,
    requests: [f64; 2],
    errors: [f64; 2],
    /// Requests per second per instance.
    rate: f64,
    error_share: f64,
    refusing: bool,
}

impl Fleet {
    fn new(seed: u64) -> Self {
        let loaded = config::load_str("verdicts.toml", FLEET).unwrap();
        Self {
            state: State::new(&loaded.fleet, 120, 3),
            rng: fastrand::Rng::with_seed(seed),
            requests: [0.0; 2],
            errors: [0.0; 2],
            rate: 2.0,
            error_share: 0.02,
            refusing: false,
        }
    }

    /// One 5 s round starting at `t`: each instance's traffic, a scrape and a health check.
    fn round(&mut self, t: SystemTime) {
        for i in 0..2 {
            let expected = self.rate * INTERVAL.as_secs_f64();
            // Poisson-ish arrivals: a whole number of requests around the expected count.
            let n = (0..(expected * 2.0) as usize).filter(|_| self.rng.bool()).count();
            let bad = (0..n).filter(|_| self.rng.f64() < self.error_share).count();
            self.requests[i] += n as f64;
            self.errors[i] += bad as f64;
            let jitter = Duration::from_millis(self.rng.u64(0..1000));
            let at = t + jitter;
            self.state.apply(scrape(0, i, at, self.requests[i], self.errors[i], 0.97));
            let sample = if self.refusing && i == 0 {
                failed(at, ProbeError::Refused)
            } else {
                ok(at, 20 + self.rng.u64(0..30))
            };
            self.state.apply(health(0, i, sample));
        }
    }

    fn status(&self, at: SystemTime) -> Status {
        self.state.service_verdict(0, at).status
    }
}

/// Runs `rounds` rounds from `start`, reading the service's state every second; returns
/// the states seen in order and the changes after the first known state.
fn run(fleet: &mut Fleet, start: SystemTime, rounds: u64) -> (Vec<Status>, usize) {
    let mut seen = Vec::new();
    for r in 0..rounds {
        let t = start + INTERVAL * r as u32;
        fleet.round(t);
        for s in 0..5 {
            seen.push(fleet.status(t + Duration::from_secs(s)));
        }
    }
    let known: Vec<Status> = seen.iter().copied().skip_while(|s| *s == Status::Unknown).collect();
    let changes = known.windows(2).filter(|w| w[0] != w[1]).count();
    (seen, changes)
}

#[test]
fn a_steady_fleet_with_two_percent_errors_changes_state_at_most_once_in_ten_minutes() {
    for seed in 1..=20 {
        let mut fleet = Fleet::new(seed);
        let (seen, changes) = run(&mut fleet, now(), 120);
        eprintln!("seed {seed}: {changes} state changes in 10 minutes, ending {:?}", seen.last());
        assert!(changes <= 1, "seed {seed}: {changes} changes: {seen:?}");
        assert_eq!(seen.last(), Some(&Status::Warn), "2% errors against a 1% warning threshold");
    }
}

#[test]
fn an_instance_refusing_connections_is_crit_within_two_health_intervals() {
    let mut fleet = Fleet::new(7);
    run(&mut fleet, now(), 24);
    let outage = now() + INTERVAL * 24;
    fleet.refusing = true;
    fleet.round(outage);
    assert_ne!(fleet.status(outage + Duration::from_secs(1)), Status::Crit, "one refused check is not yet down");
    let v = fleet.state.instance_verdict(opsboard::state::InstanceId { service: 0, instance: 0 }, outage + INTERVAL);
    assert!(v.reason.starts_with("failing 1/2: connection refused"), "{}", v.reason);
    fleet.round(outage + INTERVAL);
    let at = outage + INTERVAL + Duration::from_secs(1);
    let v = fleet.state.service_verdict(0, at);
    assert_eq!(v.status, Status::Crit, "{v:?}");
    assert!(v.reason.contains("connection refused"), "{}", v.reason);
}

#[test]
fn errors_jumping_from_two_to_thirty_percent_are_crit_within_one_window() {
    let mut fleet = Fleet::new(11);
    run(&mut fleet, now(), 36);
    let jump = now() + INTERVAL * 36;
    fleet.error_share = 0.30;
    let mut crit_after = None;
    for r in 0..12u32 {
        let t = jump + INTERVAL * r;
        fleet.round(t);
        if fleet.status(t + Duration::from_secs(2)) == Status::Crit {
            crit_after = Some(t + Duration::from_secs(2));
            break;
        }
    }
    let after = crit_after.expect("CRIT within a minute").duration_since(jump).unwrap();
    eprintln!("errors 2% -> 30%: CRIT after {after:?}");
    assert!(after <= Duration::from_secs(60), "{after:?}");
}

#[test]
fn a_flapping_instance_shows_one_steady_word() {
    let mut fleet = Fleet::new(3);
    fleet.error_share = 0.0;
    run(&mut fleet, now(), 12);
    // Instance 0 fails two checks, passes two, fails two …: each change confirmed, so the
    // service goes CRIT and OK again and again.
    let start = now() + INTERVAL * 12;
    let mut statuses = Vec::new();
    for r in 0..40u32 {
        fleet.refusing = (r / 2) % 2 == 0;
        let t = start + INTERVAL * r;
        fleet.round(t);
        statuses.push(fleet.status(t + Duration::from_secs(1)));
    }
    let v = fleet.state.service_verdict(0, start + INTERVAL * 39 + Duration::from_secs(1));
    assert_eq!(v.status, Status::Warn, "{v:?}");
    assert!(v.reason.starts_with("flapping between OK and CRIT"), "{}", v.reason);
    let tail = &statuses[20..];
    assert!(tail.iter().all(|s| *s == Status::Warn), "steady once flapping: {statuses:?}");
}
