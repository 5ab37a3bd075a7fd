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
            self.state.apply(scrape(&self.state, (0, i), at, self.requests[i], self.errors[i], 0.97));
            let sample = if self.refusing && i == 0 {
                failed(at, ProbeError::Refused)
            } else {
                ok(at, 20 + self.rng.u64(0..30))
            };
            self.state.apply(health(&self.state, 0, i, sample));
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

/// Verdicts kept and brought forward, as the board keeps them, against verdicts made from
/// nothing at each moment: random results, scrapes, silences long enough to go stale, now and
/// then a clock that steps back, a service behind two causes, and maintenance windows that start
/// and end as time goes.
#[test]
fn kept_verdicts_brought_forward_agree_with_verdicts_made_from_nothing() {
    use opsboard::state::{Event, SignalPoint, Verdicts};
    let text = format!(
        "{}\n[prometheus]\nurl = \"http://127.0.0.1:9\"\n\n[services.queries]\ninstances = [\"http://127.0.0.1:9\"]\n\
         [services.queries.promql]\nerror_ratio = 'e'\np95 = 'p'\n\
         [services.gateway]\ninstances = [\"http://127.0.0.1:8\"]\ndepends_on = [\"checkout\", \"payments\"]\n\
         slo = {{ objective = \"99.9%\" }}\n\
         [[maintenance]]\ncron = \"*/3 * * * *\"\ntz = \"UTC\"\nduration = \"70s\"\nservices = [\"payments\", \"gateway\"]\n",
        common::fixtures::FLEET
    );
    let loaded = config::load_str("kept.toml", &text).unwrap();
    let queried = loaded.fleet.services.iter().position(|s| s.name == "queries").unwrap();
    for seed in 1..=30u64 {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut state = State::new(&loaded.fleet, 120, 3);
        let mut kept = Verdicts::default();
        let mut t = now();
        let mut counts = [[0.0f64; 8]; 8];
        for step in 0..400 {
            // Mostly a second at a time; sometimes long enough for results to go stale; rarely back.
            t = match rng.u32(0..100) {
                0..=2 => t - Duration::from_secs(rng.u64(1..20)),
                3..=7 => t + Duration::from_secs(rng.u64(15..60)),
                _ => t + Duration::from_millis(rng.u64(0..2000)),
            };
            if rng.u32(0..40) == 0 {
                // The fleet changes shape: an instance goes, or the config is loaded again whole.
                let si = rng.usize(0..state.services.len());
                let mut specs: Vec<_> = state.services[si].instances.iter().map(|i| i.spec.clone()).collect();
                if specs.len() > 1 && rng.bool() {
                    specs.remove(rng.usize(0..specs.len()));
                    state.apply(Event::Instances { service: state.services[si].name.clone(), instances: specs });
                } else {
                    state.apply(Event::Reload(std::sync::Arc::new(loaded.clone())));
                }
            }
            for _ in 0..rng.usize(0..4) {
                let si = rng.usize(0..state.services.len());
                let ii = rng.usize(0..state.services[si].instances.len());
                let at = t - Duration::from_millis(rng.u64(0..500));
                if si == queried && rng.bool() {
                    let result = if rng.u32(0..8) == 0 {
                        Err("query failed".to_string())
                    } else {
                        let point = SignalPoint {
                            rate: Some(rng.f64() * 50.0),
                            requests: Some(rng.f64() * 3000.0),
                            error_ratio: Some(rng.f64() * 0.08),
                            p95: Some(rng.f64() * 1.5),
                            ..SignalPoint::empty(at, Duration::from_secs(60))
                        };
                        Ok(vec![point])
                    };
                    state.apply(Event::Signals { service: state.services[si].name.clone(), result });
                } else if rng.u32(0..4) == 0 {
                    counts[si][ii] += rng.f64() * 400.0;
                    let errors = counts[si][ii] * rng.f64() * 0.1;
                    state.apply(scrape(&state, (si, ii), at, counts[si][ii], errors, 0.9));
                } else {
                    let sample = match rng.u32(0..10) {
                        0 => failed(at, ProbeError::Refused),
                        1 => ok(at, 900),
                        _ => ok(at, rng.u64(10..80)),
                    };
                    state.apply(health(&state, si, ii, sample));
                }
            }
            kept.refresh(&state, t);
            let fresh = Verdicts::of(&state, t);
            let context = format!("seed {seed}, step {step}");
            assert_eq!(kept.services, fresh.services, "{context}");
            assert_eq!(kept.items, fresh.items, "{context}");
            assert_eq!(kept.service_tally, fresh.service_tally, "{context}");
            assert_eq!(kept.instance_tally, fresh.instance_tally, "{context}");
            assert_eq!(kept.worst_first(), fresh.worst_first(), "{context}");
            assert_eq!(kept.blocking, fresh.blocking, "{context}");
            assert_eq!(kept.maintenance, fresh.maintenance, "{context}");
        }
    }
}

/// The notifier looks again only at a new revision: one must come with every change, and none
/// without one.
#[test]
fn a_revision_comes_with_each_change_and_only_then() {
    use opsboard::state::Verdicts;
    let loaded = common::fixtures::loaded();
    let mut state = State::new(&loaded.fleet, 120, 3);
    let t = now();
    for si in 0..state.services.len() {
        for ii in 0..state.services[si].instances.len() {
            state.apply(health(&state, si, ii, ok(t, 20)));
        }
    }
    let mut kept = Verdicts::default();
    kept.refresh(&state, t);
    let first = kept.revision;
    // Another OK result changes nothing anyone reads; neither does time while results are current.
    state.apply(health(&state, 0, 0, ok(t + Duration::from_secs(5), 25)));
    kept.refresh(&state, t + Duration::from_secs(6));
    kept.refresh(&state, t + Duration::from_secs(16));
    assert_eq!(kept.revision, first, "nothing changed");
    // 5 s interval, 3 intervals and a 2 s timeout: instances not checked since `t` are stale at 17 s.
    kept.refresh(&state, t + Duration::from_secs(18));
    assert_ne!(kept.revision, first, "stale instances are a change");
    let stale = kept.revision;
    kept.refresh(&state, t + Duration::from_secs(19));
    assert_ne!(kept.revision, stale, "a stale result's age is in its reason");
    assert_eq!(kept.services[1].instances[0].status, Status::Stale);
    // Verdicts made from nothing never share a revision with others.
    assert_ne!(Verdicts::of(&state, t).revision, Verdicts::of(&state, t).revision);
}
