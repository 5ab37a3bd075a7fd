//! A collector's rows of a service, as the discovery tests look at them.

use opsboard::collector::Collector;
use opsboard::sources::pollers::Job;
use opsboard::state::{InstanceKey, Life, Status};
use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

/// The service's rows: name and life, in order.
pub fn rows(c: &Collector, service: &str) -> Vec<(String, Life)> {
    let Some(si) = c.state.service_position(service) else { return Vec::new() };
    c.state.services[si].instances.iter().map(|i| (i.spec.label.clone(), i.life)).collect()
}

pub fn present(c: &Collector, service: &str) -> Vec<String> {
    let mut names: Vec<String> =
        rows(c, service).into_iter().filter(|(_, l)| !matches!(l, Life::Gone { .. })).map(|(n, _)| n).collect();
    names.sort();
    names
}

pub fn gone(c: &Collector, service: &str, name: &str) -> bool {
    rows(c, service).iter().any(|(n, l)| n == name && matches!(l, Life::Gone { .. }))
}

pub fn status(c: &mut Collector, service: &str) -> Status {
    let now = SystemTime::now();
    c.refresh_verdicts(now);
    let si = c.state.service_position(service).unwrap();
    c.verdicts().services[si].status()
}

pub fn checked_ok(c: &Collector, service: &str, name: &str) -> bool {
    let Some(si) = c.state.service_position(service) else { return false };
    c.state.services[si].instances.iter().any(|i| i.spec.label == name && i.level == Some(Status::Ok))
}

pub fn polled(c: &Collector, service: &str, addr: SocketAddr) -> bool {
    let key = InstanceKey { service: service.into(), instance: format!("http://{addr}").into() };
    c.jobs().any(|j| *j == Job::Health(key.clone()))
}

/// The worst state the service is in while the collector runs for `within`, looked at every 100 ms.
pub async fn worst_within(c: &mut Collector, service: &str, within: Duration) -> Status {
    let mut worst = Status::Ok;
    let until = tokio::time::Instant::now() + within;
    while tokio::time::Instant::now() < until {
        let _ = super::drive(c, Duration::from_millis(100), |_| false).await;
        worst = worst.max(status(c, service));
    }
    worst
}
