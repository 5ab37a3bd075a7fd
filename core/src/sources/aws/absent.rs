//! A build without the `aws` feature: each configured account is shown, failed, with the reason.

use super::{NOT_BUILT, fed_services};
use crate::config::aws::AwsSpec;
use crate::state::Event;
use crate::state::aws::AwsEvent;
use std::time::{Duration, SystemTime};
use tokio::sync::mpsc;

/// No clients without the SDK.
pub struct AwsClients;

pub async fn clients(_: &AwsSpec) -> AwsClients {
    AwsClients
}

/// The account failed, and the services it feeds have no signals from it.
pub async fn poll_account(_: &AwsClients, spec: &AwsSpec) -> (Vec<Event>, Option<String>) {
    let at = SystemTime::now();
    let account = spec.name.as_str().into();
    let mut events = vec![Event::Aws { account, event: AwsEvent::Failed { at, error: NOT_BUILT.into() } }];
    for service in fed_services(&spec.queries) {
        events.push(Event::Signals { service, result: Err(NOT_BUILT.into()) });
    }
    let ecs = spec.ecs.iter().map(|w| (&w.service, "ecs"));
    for (service, source) in ecs.chain(spec.codedeploy.iter().map(|w| (&w.service, "codedeploy"))) {
        events.push(Event::DeploySource { service: service.as_str().into(), source, result: Err(NOT_BUILT.into()) });
    }
    (events, Some(NOT_BUILT.into()))
}

/// No CloudWatch without the SDK: the hosts say so, once an interval.
pub async fn run_hosts(
    _: AwsSpec,
    service: crate::state::ServiceKey,
    _: Vec<(crate::state::InstanceKey, String)>,
    interval: Duration,
    tx: mpsc::Sender<Event>,
    mut round: crate::sources::rounds::Round,
) {
    loop {
        let (at, result) = (SystemTime::now(), Err(NOT_BUILT.to_string()));
        if tx.send(Event::HostPoints { service: service.clone(), at, fresh_for: interval * 3, result }).await.is_err() {
            return;
        }
        round.done();
        tokio::time::sleep(interval).await;
    }
}

/// No native rollbacks without the SDK.
pub async fn native(_: &AwsSpec, _: &crate::state::rollback::NativeCall) -> Result<(String, Option<String>), String> {
    Err(NOT_BUILT.into())
}

/// Says so once an interval, so the panel shows a current reason rather than a stale one.
pub async fn run_account(
    spec: AwsSpec,
    _: f64,
    _: Duration,
    tx: mpsc::Sender<Event>,
    mut round: crate::sources::rounds::Round,
) {
    loop {
        for e in poll_account(&AwsClients, &spec).await.0 {
            if tx.send(e).await.is_err() {
                return;
            }
        }
        round.done();
        tokio::time::sleep(spec.interval).await;
    }
}
