//! A fleet that changes shape under a running collector: instances and services come and go
//! through events sent like any source's, their pollers start and stop, and everything that
//! stays keeps its history and its states with memory.

mod common;

use common::{Reply, TestServer, drive, serve_with};
use opsboard::collector::Collector;
use opsboard::config::{self, Loaded};
use opsboard::history::DeployHistory;
use opsboard::sources::pollers::Job;
use opsboard::state::{Event, InstanceKey, InstanceState, Status};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

const WAIT: Duration = Duration::from_secs(15);

/// A server answering 200 with a version while `up`, 503 otherwise.
async fn switchable(up: bool) -> (TestServer, Arc<AtomicBool>) {
    let flag = Arc::new(AtomicBool::new(up));
    let f = flag.clone();
    let server = serve_with(move |_| {
        if f.load(Ordering::SeqCst) {
            Reply::json(200, r#"{"status":"UP","version":"1.0.0"}"#)
        } else {
            Reply::text(503, "down")
        }
    })
    .await;
    (server, flag)
}

fn list(servers: &[&TestServer]) -> String {
    servers.iter().map(|s| format!("\"{}\"", s.url(""))).collect::<Vec<_>>().join(", ")
}

/// Checks every 200 ms, two failures in a row to go CRIT, nothing scraped.
fn fleet(services: &[(&str, &[&TestServer])]) -> Loaded {
    let mut toml = String::from(
        "[polling]\njitter = 0.0\n[defaults]\ninterval = \"200ms\"\ntimeout = \"150ms\"\nscrape = false\n\
         unhealthy_after = 2\nhealthy_after = 2\n",
    );
    for (name, servers) in services {
        toml.push_str(&format!("[services.{name}]\ninstances = [{}]\n", list(servers)));
    }
    config::load_str("shape.toml", &toml).unwrap()
}

fn key(service: &str, server: &TestServer) -> InstanceKey {
    InstanceKey { service: service.into(), instance: server.url("").into() }
}

fn instance<'a>(c: &'a Collector, key: &InstanceKey) -> Option<&'a InstanceState> {
    c.state.position(key).and_then(|id| c.state.instance(id))
}

fn checks(c: &Collector, key: &InstanceKey) -> usize {
    instance(c, key).map_or(0, |i| i.health.len())
}

fn polled(c: &Collector, job: &Job) -> bool {
    c.jobs().any(|j| j == job)
}

#[tokio::test]
async fn instances_and_services_come_and_go_while_the_rest_keep_what_they_know() {
    let dir = tempfile::tempdir().unwrap();
    let (a, _) = switchable(true).await;
    let (b, _) = switchable(false).await;
    let (api, _) = switchable(true).await;
    let loaded = fleet(&[("web", &[&a, &b]), ("api", &[&api])]);
    common::own_data_dir();
    let mut c = Collector::start(&Arc::new(loaded), DeployHistory::new(dir.path().join("deploys.jsonl")));
    c.keep_silences_in(dir.path().join("silences.json"));
    let (ka, kb, kapi) = (key("web", &a), key("web", &b), key("api", &api));
    let b_is_crit = |c: &Collector| instance(c, &kb).is_some_and(|i| i.level == Some(Status::Crit));
    assert!(
        drive(&mut c, WAIT, |c| checks(c, &ka) >= 4 && b_is_crit(c) && checks(c, &kapi) >= 2).await,
        "the first fleet is checked, and b confirmed down"
    );
    let web_was = c.state.service_verdict(0, SystemTime::now());
    assert_eq!(web_was.status, Status::Crit, "{web_was:?}");

    // An instance is added (as discovery will send it): through the collector's own channel.
    let (d, _) = switchable(true).await;
    let kd = key("web", &d);
    let web_now = |c: &Collector| c.state.services[0].instances.iter().map(|i| i.spec.clone()).collect::<Vec<_>>();
    let mut specs = web_now(&c);
    specs.push(fleet(&[("web", &[&d])]).fleet.services[0].instances[0].clone());
    let (a_before, b_before) = (checks(&c, &ka), checks(&c, &kb));
    c.sender().send(Event::Instances { service: "web".into(), instances: specs }).await.unwrap();
    assert!(drive(&mut c, WAIT, |c| c.state.position(&kd).is_some()).await, "the new instance has a row");
    assert!(polled(&c, &Job::Health(kd.clone())), "and a poller");
    assert!(b_is_crit(&c), "b keeps its confirmed level: it is not checked again from nothing");
    assert!(checks(&c, &ka) >= a_before && checks(&c, &kb) >= b_before, "histories are kept");
    assert_eq!(instance(&c, &kd).map(|i| i.health.len()), Some(0), "the new one starts unchecked");
    assert_eq!(c.state.service_verdict(0, SystemTime::now()).status, Status::Crit, "web stays CRIT");
    assert!(drive(&mut c, WAIT, |c| checks(c, &kd) >= 2).await, "the new instance is checked");

    // b is removed: its row goes, its poller stops, and web recovers without waiting on it.
    let specs: Vec<_> = web_now(&c).into_iter().filter(|s| s.base_url != b.url("")).collect();
    let a_before = checks(&c, &ka);
    c.sender().send(Event::Instances { service: "web".into(), instances: specs }).await.unwrap();
    assert!(drive(&mut c, WAIT, |c| c.state.position(&kb).is_none()).await, "b's row is gone");
    assert!(!polled(&c, &Job::Health(kb.clone())), "b is no longer polled");
    assert_eq!(c.state.position(&kd).map(|id| id.instance), Some(1), "d moved up into b's place");
    assert!(checks(&c, &ka) >= a_before, "a's history is kept");
    let b_asked = b.requests.load(Ordering::SeqCst);
    assert!(
        drive(&mut c, WAIT, |c| c.state.service_verdict(0, SystemTime::now()).status == Status::Ok).await,
        "web is OK once b is gone"
    );
    // At most one check was in flight when b's poller stopped.
    assert!(b.requests.load(Ordering::SeqCst) <= b_asked + 1, "b is still asked");

    // The config is loaded again: api goes, db comes, web stays with its instances as they are.
    let (db, _) = switchable(true).await;
    let kdb = key("db", &db);
    let reloaded = fleet(&[("web", &[&a, &d]), ("db", &[&db])]);
    let (a_before, d_before) = (checks(&c, &ka), checks(&c, &kd));
    let web_changes = c.state.services[0].flapping.changes();
    assert!(web_changes >= 1, "web went from CRIT to OK");
    c.sender().send(Event::Reload(Arc::new(reloaded))).await.unwrap();
    assert!(drive(&mut c, WAIT, |c| checks(c, &kdb) >= 2).await, "the new service is checked");
    let names: Vec<&str> = c.state.services.iter().map(|s| &*s.name).collect();
    assert_eq!(names, ["web", "db"]);
    assert!(!polled(&c, &Job::Health(kapi.clone())), "api is no longer polled");
    assert!(polled(&c, &Job::Health(ka.clone())) && polled(&c, &Job::Health(kd.clone())));
    assert!(checks(&c, &ka) >= a_before && checks(&c, &kd) >= d_before, "web's histories are kept");
    assert_eq!(c.state.services[0].instances[0].level, Some(Status::Ok));
    let changes = c.state.services[0].flapping.changes();
    assert!(changes >= web_changes, "web's memory of its states is kept: {changes} changes after {web_changes}");
    let api_asked = api.requests.load(Ordering::SeqCst);
    drive(&mut c, Duration::from_millis(800), |_| false).await;
    assert!(api.requests.load(Ordering::SeqCst) <= api_asked + 1, "api is still asked");
    assert_eq!(c.jobs().count(), 3, "a, d and db: {:?}", c.jobs().collect::<Vec<_>>());
}
