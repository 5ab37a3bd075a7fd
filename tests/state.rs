//! State: how events change it and how status is derived from samples, thresholds and time.

mod common;

use common::fixtures::{failed, health, http, incident_state, key, loaded, now, ok};
use opsboard::state::{BodyVerdict, Event, InstanceId, ProbeError, State, Status};
use std::time::Duration;

fn fresh() -> State {
    State::new(&loaded().fleet, 120, 3)
}

const WEB0: InstanceId = InstanceId { service: 0, instance: 0 };

#[test]
fn unknown_before_the_first_check() {
    let v = fresh().instance_verdict(WEB0, now());
    assert_eq!((v.status, v.reason.as_str()), (Status::Unknown, "not checked yet"));
}

#[test]
fn apply_moves_an_instance_through_ok_warn_crit_and_back() {
    let mut s = fresh();
    let t = now();
    let steps = [
        (ok(t, 40), Status::Ok, ""),
        (ok(t, 900), Status::Warn, "slow: 900ms > 500ms"),
        (http(t, 200, BodyVerdict::Degraded("status=degraded".into()), 40), Status::Warn, "status=degraded"),
        (http(t, 503, BodyVerdict::Unrecognised, 40), Status::Crit, "HTTP 503"),
        (failed(t, ProbeError::Refused), Status::Crit, "connection refused"),
        (failed(t, ProbeError::Timeout(Duration::from_secs(2))), Status::Crit, "timeout after 2s"),
        (ok(t, 40), Status::Ok, ""),
    ];
    // Each result twice: two in a row confirm a change (unhealthy_after = healthy_after = 2).
    for (sample, status, reason) in steps {
        s.apply(health(&s, 0, 0, sample.clone()));
        s.apply(health(&s, 0, 0, sample));
        let v = s.instance_verdict(WEB0, t);
        assert_eq!((v.status, v.reason.as_str()), (status, reason));
    }
}

#[test]
fn one_failed_check_is_pending_two_are_down_and_two_passes_bring_it_back() {
    let mut s = fresh();
    let t = now();
    let at = |secs: u64| t + Duration::from_secs(secs);
    s.apply(health(&s, 0, 0, ok(at(0), 40)));
    s.apply(health(&s, 0, 0, failed(at(5), ProbeError::Refused)));
    let v = s.instance_verdict(WEB0, at(5));
    assert_eq!((v.status, v.reason.as_str()), (Status::Ok, "failing 1/2: connection refused"));
    s.apply(health(&s, 0, 0, failed(at(10), ProbeError::Refused)));
    let v = s.instance_verdict(WEB0, at(10));
    assert_eq!((v.status, v.reason.as_str()), (Status::Crit, "connection refused"));
    s.apply(health(&s, 0, 0, ok(at(15), 40)));
    let v = s.instance_verdict(WEB0, at(15));
    assert_eq!((v.status, v.reason.as_str()), (Status::Crit, "recovering 1/2 after connection refused"));
    s.apply(health(&s, 0, 0, ok(at(20), 40)));
    assert_eq!(s.instance_verdict(WEB0, at(20)).status, Status::Ok);
}

#[test]
fn stale_after_three_missed_intervals() {
    let mut s = fresh();
    let t = now();
    s.apply(health(&s, 0, 0, ok(t, 40)));
    // interval 5s x 3 + timeout 2s = 17s of grace.
    assert_eq!(s.instance_verdict(WEB0, t + Duration::from_secs(17)).status, Status::Ok);
    let v = s.instance_verdict(WEB0, t + Duration::from_secs(18));
    assert_eq!((v.status, v.reason.as_str()), (Status::Stale, "no result for 18s"));
}

#[test]
fn backoff_interval_widens_the_stale_window() {
    let mut s = fresh();
    let t = now();
    let sample = failed(t, ProbeError::Refused);
    s.apply(Event::Health { key: key(&s, 0, 0), sample: sample.clone(), next_in: Duration::from_secs(40) });
    s.apply(Event::Health { key: key(&s, 0, 0), sample, next_in: Duration::from_secs(40) });
    // A backed-off instance is polled every 40s: 30s without a result is expected, not stale.
    assert_eq!(s.instance_verdict(WEB0, t + Duration::from_secs(30)).status, Status::Crit);
    assert_eq!(s.instance_verdict(WEB0, t + Duration::from_secs(123)).status, Status::Stale);
}

#[test]
fn events_for_unknown_instances_are_ignored() {
    let mut s = fresh();
    s.apply(health(&s, 99, 0, ok(now(), 1)));
    s.apply(health(&s, 0, 99, ok(now(), 1)));
    assert_eq!(s.instance_tally(now()).unknown, s.instance_tally(now()).total());
}

#[test]
fn service_is_as_bad_as_its_worst_instance_and_names_it() {
    let s = incident_state();
    let checkout = s.service_verdict(1, now());
    assert_eq!(checkout.status, Status::Crit);
    assert_eq!(checkout.reason, "10.0.2.3:8080: timeout after 2s");
    assert_eq!(s.service_verdict(3, now()).status, Status::Warn);
    assert_eq!(s.service_verdict(4, now()).status, Status::Stale);
    assert_eq!(s.service_verdict(5, now()).status, Status::Unknown);
}

#[test]
fn tallies_and_worst_first_order() {
    let s = incident_state();
    let t = s.service_tally(now());
    assert_eq!((t.ok, t.warn, t.crit, t.stale, t.unknown), (1, 1, 2, 1, 1));
    assert_eq!(t.worst(), Status::Crit);
    let order: Vec<&str> = s.services_worst_first(now()).into_iter().map(|i| &*s.services[i].name).collect();
    assert_eq!(order, ["checkout", "payments", "search", "auth", "reports", "web"]);
    assert_eq!(s.last_update(), Some(now()));
}

#[test]
fn consecutive_failures_count_back_from_the_newest() {
    let s = incident_state();
    let inst = s.instance(InstanceId { service: 2, instance: 1 }).unwrap();
    assert_eq!(inst.consecutive_failures(), 5);
    assert_eq!(inst.version(), Some("3.2.1"));
}

#[test]
fn history_is_bounded() {
    let mut s = State::new(&loaded().fleet, 10, 3);
    for i in 0..50 {
        s.apply(health(&s, 0, 0, ok(now() + Duration::from_secs(i), 10)));
    }
    assert_eq!(s.instance(WEB0).unwrap().health.len(), 10);
}

#[test]
fn a_load_balancer_s_or_group_s_view_moves_an_instance_s_life() {
    use opsboard::state::{Found, FoundInstance, LbView, Life, SourceView, ViewBy};
    let toml = "[services.web]\ninstances_from = [{ file_sd = \"/nonexistent/*.json\" }]\n";
    let loaded = opsboard::config::load_str("lb.toml", toml).unwrap();
    let mut s = State::new(&loaded.fleet, 120, 3);
    let svc = loaded.fleet.services[0].clone();
    let t = now();
    let view = SourceView {
        what: "target group web".into(),
        count: 0,
        listed_at: Some(t),
        error: None,
        empty: "the target group is empty".into(),
    };
    let found = |views: &[(&str, ViewBy, &str)]| Found {
        instances: views
            .iter()
            .map(|(addr, by, state)| FoundInstance {
                spec: opsboard::config::InstanceSpec::discovered("http", addr, None, &svc),
                grace: Duration::from_secs(60),
                lb: Some(LbView { by: *by, state: (*state).into(), reason: None }),
            })
            .collect(),
        sources: vec![view.clone()],
        capped: None,
    };
    let lives = |s: &State| -> Vec<Life> { s.services[0].instances.iter().map(|i| i.life).collect() };
    let lb = ViewBy::LoadBalancer;
    let asg = ViewBy::AutoScaling;
    // The first list was there before the board, but what its source still brings up is new.
    let first = [("10.0.0.1:80", lb, "healthy"), ("10.0.0.2:80", lb, "initial"), ("10.0.0.3:80", asg, "Pending:Wait")];
    s.apply(Event::Discovered { service: "web".into(), at: t, found: found(&first) });
    let l = lives(&s);
    assert_eq!(l[0], Life::Serving);
    assert!(matches!(l[1], Life::Starting { .. }) && matches!(l[2], Life::Starting { .. }), "{l:?}");
    // Drained by the load balancer, taken out by the group: shown, not counted; back in: serving.
    let leaving =
        [("10.0.0.1:80", lb, "draining"), ("10.0.0.2:80", lb, "healthy"), ("10.0.0.3:80", asg, "Terminating:Wait")];
    s.apply(Event::Discovered { service: "web".into(), at: t, found: found(&leaving) });
    let l = lives(&s);
    assert_eq!((l[0], l[2]), (Life::Draining, Life::Draining));
    assert!(!s.services[0].instances[0].counts(t));
    let v = s.instance_verdict(InstanceId { service: 0, instance: 0 }, t);
    assert_eq!(v.reason, "draining (load balancer: draining)");
    let back = [("10.0.0.1:80", lb, "healthy"), ("10.0.0.2:80", lb, "healthy"), ("10.0.0.3:80", asg, "InService")];
    s.apply(Event::Discovered { service: "web".into(), at: t, found: found(&back) });
    assert_eq!(lives(&s)[0], Life::Serving);
}
