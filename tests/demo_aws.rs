//! The demo's AWS account read as a real one is: through the AWS SDK, from the endpoint the demo
//! serves on 127.0.0.1, at chosen points of the story.
#![cfg(feature = "aws")]

mod common;

use opsboard::demo;
use opsboard::sources::aws::{clients, poll_account};
use opsboard::state::{State, Status};
use std::time::{Duration, SystemTime};

/// The demo started `at` into its story, one AWS poll applied.
async fn polled(at: u64) -> (State, demo::DemoFleet) {
    let fleet = demo::start(Duration::from_secs(at)).await.unwrap();
    let loaded = fleet.load().unwrap();
    let mut state = State::new(&loaded.fleet, 20, 3);
    let spec = &loaded.fleet.aws[0];
    let (events, failure) = poll_account(&clients(spec).await, spec).await;
    assert!(failure.is_none(), "{failure:?}");
    for e in events {
        state.apply(e);
    }
    (state, fleet)
}

fn group<'a>(state: &'a State, name: &str) -> &'a opsboard::state::aws::AsgSnapshot {
    state.aws[0].asgs.iter().find(|(n, _)| n == name).and_then(|(_, g)| g.latest()).unwrap()
}

#[tokio::test]
async fn search_scales_out_during_its_spike_through_the_sdk() {
    let (state, _fleet) = polled(30).await;
    let search = group(&state, demo::aws::SEARCH_ASG);
    assert_eq!((search.desired, search.in_service(), search.pending()), (7, 5, 2));
    // Its p95 alarm fires, as a warning (the account's `warn`), through DescribeAlarms.
    let alarm = state.aws[0].alarm_verdict("search").expect("the p95 alarm fires during the spike");
    assert_eq!(alarm.status, Status::Warn);
    assert!(
        alarm.reason.starts_with("alarm demo-search-p95: 2 out of the last 3 datapoints [0.91, 0.93]"),
        "{alarm:?}"
    );
    assert_eq!(state.aws[0].alarm_verdict("payments"), None);
    let cpu = state.aws[0].metrics.iter().find(|m| m.label == "search CPU %").unwrap();
    let (_, v) = cpu.points.latest().unwrap();
    assert!((70.0..=85.0).contains(v), "CPU during the spike: {v}");
    // The load balancer feeds the web frontend's traffic: 540 req/s, 0.2% errors.
    let web = state.services.iter().position(|s| &*s.name == "web-frontend").unwrap();
    let p = state.current_signals(web, SystemTime::now()).unwrap();
    assert!(p.rate.is_some_and(|r| (500.0..=580.0).contains(&r)), "{p:?}");
    assert!(p.error_ratio.is_some_and(|e| (0.001..0.004).contains(&e)), "{p:?}");
}

#[tokio::test]
async fn an_unhealthy_web_node_shows_then_is_replaced() {
    let (state, _fleet) = polled(165).await;
    let web = group(&state, demo::aws::WEB_ASG);
    assert_eq!(web.unhealthy(), 1);
    assert_eq!(state.verdicts(SystemTime::now()).aws[0][1].status, Status::Ok, "below desired, within grace");
    let (state, _fleet) = polled(200).await;
    let web = group(&state, demo::aws::WEB_ASG);
    assert_eq!((web.in_service(), web.unhealthy()), (3, 0));
    assert!(web.instances.iter().any(|i| i.id == "i-0web04"));
}

/// The board on the demo fleet started `at` into its story.
async fn board(at: u64) -> (opsboard::collector::Collector, demo::DemoFleet, tempfile::TempDir) {
    let fleet = demo::start(Duration::from_secs(at)).await.unwrap();
    // As `opsboard demo` does: the demo's own data dir, with the weeks of counts it wrote.
    opsboard::store::override_data_dir(fleet.data_dir());
    let dir = tempfile::tempdir().unwrap();
    let loaded = std::sync::Arc::new(fleet.load().unwrap());
    let c = opsboard::collector::Collector::start(
        &loaded,
        opsboard::history::DeployHistory::new(dir.path().join("deploys.jsonl")),
    );
    (c, fleet, dir)
}

fn lives(c: &opsboard::collector::Collector, service: &str) -> Vec<(String, opsboard::state::Life)> {
    let si = c.state.service_position(service).unwrap();
    c.state.services[si].instances.iter().map(|i| (i.spec.label.clone(), i.life)).collect()
}

#[tokio::test]
async fn the_health_panel_grows_with_search_s_target_group() {
    let (mut c, _fleet, _dir) = board(45).await;
    let seven = |c: &opsboard::collector::Collector| {
        let si = c.state.service_position("search").unwrap();
        let insts = &c.state.services[si].instances;
        insts.len() == 7 && insts.iter().all(|i| i.level == Some(Status::Ok))
    };
    // The spike on two of its nodes ends at 0:59 and their checks need a few rounds to read OK
    // again: about 17 s from 0:45 on an idle machine; the bound leaves room for a busy one.
    assert!(common::drive(&mut c, Duration::from_secs(40), seven).await, "{:?}", lives(&c, "search"));
    let si = c.state.service_position("search").unwrap();
    let names: Vec<String> = c.state.services[si].instances.iter().map(|i| i.spec.label.clone()).collect();
    assert_eq!(names, (1..=7).map(|i| format!("i-0search{i:02}")).collect::<Vec<_>>(), "the group's instances, by ID");
    assert!(c.state.services[si].instances.iter().all(|i| i.lb.as_ref().is_some_and(|l| l.state == "healthy")));
}

#[tokio::test]
async fn a_replaced_web_node_drains_and_goes_while_its_successor_starts() {
    use opsboard::state::Life;
    let (mut c, _fleet, _dir) = board(176).await;
    // i-0web02 is terminating (its load balancer drains it); i-0web04 boots, refusing, for its grace.
    let replacing = |c: &opsboard::collector::Collector| {
        let l = lives(c, "web-frontend");
        l.iter().any(|(n, life)| n == "i-0web02" && *life == Life::Draining)
            && l.iter().any(|(n, life)| n == "i-0web04" && matches!(life, Life::Starting { .. }))
    };
    assert!(common::drive(&mut c, Duration::from_secs(10), replacing).await, "{:?}", lives(&c, "web-frontend"));
    c.refresh_verdicts(SystemTime::now());
    let si = c.state.service_position("web-frontend").unwrap();
    assert!(c.verdicts().services[si].status() < Status::Crit, "a replacement is no outage");
    // At 190 s the old node has left its group: gone; the new one answers and serves.
    let replaced = |c: &opsboard::collector::Collector| {
        let l = lives(c, "web-frontend");
        l.iter().any(|(n, life)| n == "i-0web02" && matches!(life, Life::Gone { .. }))
            && l.iter().any(|(n, life)| n == "i-0web04" && *life == Life::Serving)
    };
    assert!(common::drive(&mut c, Duration::from_secs(30), replaced).await, "{:?}", lives(&c, "web-frontend"));
}

#[tokio::test]
async fn the_mail_queue_backs_up_while_its_worker_is_stuck() {
    let (state, _fleet) = polled(132).await;
    let q = &state.aws[0].queues[0];
    let s = q.latest().expect("read through SQS's JSON protocol");
    assert_eq!((s.visible, s.dead_letters.as_ref().map(|(n, c)| (n.as_str(), *c))), (1320, Some(("emails-dlq", 3))));
    assert_eq!(state.aws[0].queue_verdict("notifications").unwrap().reason, "emails: 1,320 messages > 1,000");
    let (state, _fleet) = polled(60).await;
    assert_eq!(state.aws[0].queue_verdict("notifications"), None, "drained, no dead letters");
}

#[tokio::test]
async fn the_orders_database_backs_up_and_has_its_copy_in_the_dr_region() {
    let (state, _fleet) = polled(210).await;
    let (_, db) = state.aws[0].databases[0].latest.clone().expect("read through DescribeDBInstances");
    assert_eq!((db.status.as_str(), db.multi_az, db.allocated_gib), ("backing-up", true, Some(100)));
    let (region, newest) = db.dr.clone().unwrap();
    assert_eq!((region.as_str(), newest.map(|(id, _)| id)), ("eu-central-1", Some("orders-db-nightly-dr".to_string())));
    let v = state.aws[0].databases[0].verdict(SystemTime::now());
    assert_eq!((v.status, v.reason.as_str()), (Status::Ok, "backing up"));
}
