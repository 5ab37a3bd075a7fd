//! The demo's AWS account read as a real one is: through the AWS SDK, from the endpoint the demo
//! serves on 127.0.0.1, at chosen points of the story.
#![cfg(feature = "aws")]

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
