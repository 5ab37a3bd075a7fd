//! The AWS sources through the SDK: Auto Scaling groups and CloudWatch metrics, one task per
//! account and region.

pub mod codedeploy;
pub mod databases;
pub mod ec2;
pub mod ecs;
pub mod errors;
pub mod hosts;
pub mod queues;

use super::fed_services;
use crate::config::aws::{AlarmSpec, AwsSpec, CloudWatchQuery, Role};
use crate::state::aws::{Alarm, AsgInstance, AsgSnapshot, AwsEvent, alarm_words};
use crate::state::{Event, ServiceKey, SignalPoint};
use aws_sdk_cloudwatch::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_cloudwatch::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{AlarmType, Dimension, Metric, MetricDataQuery, MetricStat};
use errors::{AwsFailure, describe};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime};
use tokio::sync::mpsc;

/// The most queries one GetMetricData call takes.
pub const MAX_QUERIES_PER_CALL: usize = 500;
/// Each call's limit, retries included.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(10);

/// Counts every request sent to AWS (retries too): GetMetricData is billed per call.
#[derive(Debug, Clone, Default)]
pub struct CallCounter(Arc<AtomicU32>);

impl CallCounter {
    /// Calls since the last take.
    pub fn take(&self) -> u32 {
        self.0.swap(0, Ordering::Relaxed)
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "opsboard call counter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// Clients for one account, sharing a call counter.
#[derive(Clone)]
pub struct AwsClients {
    pub asg: aws_sdk_autoscaling::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub rds: aws_sdk_rds::Client,
    pub ecs: aws_sdk_ecs::Client,
    pub codedeploy: aws_sdk_codedeploy::Client,
    pub calls: CallCounter,
    endpoint: String,
    conf: aws_config::SdkConfig,
    /// What one round keeps for the next: task definitions' images, finished deployments.
    seen: Arc<tokio::sync::Mutex<(ecs::TaskImages, codedeploy::Finished)>>,
}

impl AwsClients {
    /// RDS in another region of the same account (a DR region), counted with the rest.
    pub fn rds_in(&self, region: &str) -> aws_sdk_rds::Client {
        let conf = aws_sdk_rds::config::Builder::from(&self.conf)
            .region(aws_config::Region::new(region.to_string()))
            .interceptor(self.calls.clone())
            .build();
        aws_sdk_rds::Client::from_conf(conf)
    }
}

/// The SDK config of an account: region, profile, endpoint, timeouts, retries.
pub async fn sdk_config(spec: &AwsSpec) -> aws_config::SdkConfig {
    let timeouts = aws_config::timeout::TimeoutConfig::builder().operation_timeout(OPERATION_TIMEOUT).build();
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(spec.region.clone()))
        .timeout_config(timeouts)
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(2));
    if let Some(profile) = &spec.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(url) = &spec.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if spec.static_credentials {
        let creds = aws_sdk_cloudwatch::config::Credentials::new("demo", "demo", None, None, "opsboard-demo");
        loader = loader.credentials_provider(creds);
    }
    loader.load().await
}

/// Builds clients from the standard credential chain (env, profile, SSO, instance role).
pub async fn clients(spec: &AwsSpec) -> AwsClients {
    let conf = sdk_config(spec).await;
    let calls = CallCounter::default();
    let asg = aws_sdk_autoscaling::Client::from_conf(
        aws_sdk_autoscaling::config::Builder::from(&conf).interceptor(calls.clone()).build(),
    );
    let cloudwatch = aws_sdk_cloudwatch::Client::from_conf(
        aws_sdk_cloudwatch::config::Builder::from(&conf).interceptor(calls.clone()).build(),
    );
    let sqs =
        aws_sdk_sqs::Client::from_conf(aws_sdk_sqs::config::Builder::from(&conf).interceptor(calls.clone()).build());
    let rds =
        aws_sdk_rds::Client::from_conf(aws_sdk_rds::config::Builder::from(&conf).interceptor(calls.clone()).build());
    let ecs =
        aws_sdk_ecs::Client::from_conf(aws_sdk_ecs::config::Builder::from(&conf).interceptor(calls.clone()).build());
    let codedeploy = aws_sdk_codedeploy::Client::from_conf(
        aws_sdk_codedeploy::config::Builder::from(&conf).interceptor(calls.clone()).build(),
    );
    let endpoint = spec.endpoint_url.clone().unwrap_or_else(|| format!("AWS {}", spec.region));
    AwsClients { asg, cloudwatch, sqs, rds, ecs, codedeploy, calls, endpoint, conf, seen: Default::default() }
}

/// Reads the configured groups (by name, and by name prefix).
pub async fn describe_groups(c: &AwsClients, spec: &AwsSpec) -> Result<Vec<AsgSnapshot>, AwsFailure> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    let by_name = !spec.asgs.is_empty() && spec.asg_prefix.is_none();
    loop {
        let mut req = c.asg.describe_auto_scaling_groups().set_next_token(token.clone());
        if by_name {
            req = req.set_auto_scaling_group_names(Some(spec.asgs.clone()));
        }
        let resp = req.send().await.map_err(|e| describe(&e, &c.endpoint))?;
        for g in resp.auto_scaling_groups() {
            let name = g.auto_scaling_group_name().unwrap_or_default().to_string();
            let wanted = spec.asgs.contains(&name) || spec.asg_prefix.as_deref().is_some_and(|p| name.starts_with(p));
            if !wanted {
                continue;
            }
            out.push(AsgSnapshot {
                name,
                desired: g.desired_capacity().unwrap_or(0).max(0) as u32,
                min: g.min_size().unwrap_or(0).max(0) as u32,
                max: g.max_size().unwrap_or(0).max(0) as u32,
                instances: g
                    .instances()
                    .iter()
                    .map(|i| AsgInstance {
                        id: i.instance_id().unwrap_or_default().to_string(),
                        health: i.health_status().unwrap_or("Unknown").to_string(),
                        lifecycle: i.lifecycle_state().map(|l| l.as_str().to_string()).unwrap_or_default(),
                        zone: i.availability_zone().unwrap_or_default().to_string(),
                    })
                    .collect(),
            });
        }
        token = resp.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    Ok(out)
}

/// The alarms of one `DescribeAlarms` answer, metric and composite, each name once (a name
/// given and matched by the prefix too is one alarm).
pub fn alarms_of(resp: &aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsOutput, out: &mut Vec<Alarm>) {
    let when = |t: Option<&DateTime>| t.and_then(|t| SystemTime::try_from(*t).ok());
    let metric = resp.metric_alarms().iter().map(|a| {
        (
            a.alarm_name(),
            a.state_value().map(|v| v.as_str()),
            a.state_reason(),
            when(a.state_updated_timestamp()),
            false,
        )
    });
    let composite = resp.composite_alarms().iter().map(|a| {
        (a.alarm_name(), a.state_value().map(|v| v.as_str()), a.state_reason(), when(a.state_updated_timestamp()), true)
    });
    for (name, state, reason, since, composite) in metric.chain(composite) {
        let Some(name) = name else { continue };
        if out.iter().any(|a| a.name == name) {
            continue;
        }
        out.push(Alarm {
            name: name.to_string(),
            state: state.unwrap_or("INSUFFICIENT_DATA").to_string(),
            reason: alarm_words(reason.unwrap_or_default()),
            since,
            composite,
        });
    }
}

/// Alarm names one `DescribeAlarms` call takes.
const ALARM_NAMES_PER_CALL: usize = 100;

/// The configured alarms, metric and composite: one paged call for a prefix, one a hundred names.
pub async fn describe_alarms(c: &AwsClients, spec: &AlarmSpec) -> Result<Vec<Alarm>, AwsFailure> {
    let mut out: Vec<Alarm> = Vec::new();
    let mut asks: Vec<(Option<&str>, Option<Vec<String>>)> = Vec::new();
    if let Some(p) = &spec.prefix {
        asks.push((Some(p), None));
    }
    for names in spec.names.chunks(ALARM_NAMES_PER_CALL) {
        asks.push((None, Some(names.to_vec())));
    }
    for (prefix, names) in asks {
        let mut token: Option<String> = None;
        loop {
            let resp = c
                .cloudwatch
                .describe_alarms()
                .set_alarm_name_prefix(prefix.map(str::to_string))
                .set_alarm_names(names.clone())
                .alarm_types(AlarmType::MetricAlarm)
                .alarm_types(AlarmType::CompositeAlarm)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| describe(&e, &c.endpoint))?;
            alarms_of(&resp, &mut out);
            token = resp.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

fn query(i: usize, q: &CloudWatchQuery) -> MetricDataQuery {
    let metric = Metric::builder()
        .namespace(&q.namespace)
        .metric_name(&q.metric)
        .set_dimensions(Some(q.dimensions.iter().map(|(k, v)| Dimension::builder().name(k).value(v).build()).collect()))
        .build();
    let stat = MetricStat::builder().metric(metric).period(q.period.as_secs().max(1) as i32).stat(&q.stat).build();
    MetricDataQuery::builder().id(format!("q{i}")).metric_stat(stat).return_data(true).build()
}

/// `t` rounded down to a multiple of `period` since the epoch.
fn align(t: SystemTime, period: Duration) -> SystemTime {
    let secs = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().as_secs();
    let step = period.as_secs().max(1);
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs - secs % step)
}

/// Values of every query over the last few periods, `MAX_QUERIES_PER_CALL` queries per call.
pub async fn metric_data(
    c: &AwsClients,
    queries: &[CloudWatchQuery],
    now: SystemTime,
) -> Result<Vec<(usize, Vec<(SystemTime, f64)>)>, AwsFailure> {
    let longest = queries.iter().map(|q| q.period).max().unwrap_or(Duration::from_secs(60));
    // On a period boundary, as CloudWatch rounds it (moto counts its periods from the start
    // as given): each datapoint then covers one whole period, and the newest is the partial one.
    let start = align(now - (longest * 10).max(Duration::from_secs(600)), longest);
    let mut out: Vec<(usize, Vec<(SystemTime, f64)>)> = Vec::new();
    let all: Vec<MetricDataQuery> = queries.iter().enumerate().map(|(i, q)| query(i, q)).collect();
    for batch in all.chunks(MAX_QUERIES_PER_CALL) {
        let mut token: Option<String> = None;
        loop {
            let resp = c
                .cloudwatch
                .get_metric_data()
                .set_metric_data_queries(Some(batch.to_vec()))
                .start_time(DateTime::from(start))
                .end_time(DateTime::from(now))
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| describe(&e, &c.endpoint))?;
            for r in resp.metric_data_results() {
                let Some(i) = r.id().and_then(|id| id.strip_prefix('q')).and_then(|n| n.parse::<usize>().ok()) else {
                    continue;
                };
                let mut points: Vec<(SystemTime, f64)> = r
                    .timestamps()
                    .iter()
                    .zip(r.values())
                    .filter_map(|(t, v)| SystemTime::try_from(*t).ok().map(|t| (t, *v)))
                    .collect();
                points.sort_by_key(|(t, _)| *t);
                match out.iter_mut().find(|(j, _)| *j == i) {
                    Some((_, existing)) => existing.extend(points),
                    None => out.push((i, points)),
                }
            }
            token = resp.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
    }
    Ok(out)
}

/// Signal points for services fed by CloudWatch: one per complete period the answer holds,
/// oldest first, stamped with the period's start. CloudWatch publishes minutes late, and the
/// board judges a point's freshness by the period and the publishing delay, not by when it was
/// read. The period still under way at `now` is left out: its sums are partial, and a partial
/// RequestCount would read as a drop in traffic.
pub fn service_points(
    queries: &[CloudWatchQuery],
    values: &[(usize, Vec<(SystemTime, f64)>)],
    now: SystemTime,
) -> Vec<(ServiceKey, Vec<SignalPoint>)> {
    let series = |i: usize| values.iter().find(|(j, _)| *j == i).map_or(&[][..], |(_, p)| p.as_slice());
    let complete = |t: SystemTime, period: Duration| t.checked_add(period).is_some_and(|end| end <= now);
    fed_services(queries)
        .into_iter()
        .map(|si| {
            let feeds =
                |q: &CloudWatchQuery, role: Role| q.feeds.as_ref().is_some_and(|(s, r)| **s == *si && *r == role);
            let role = |role: Role| queries.iter().enumerate().find(|(_, q)| feeds(q, role));
            // A role's value for the period starting at `at`: its datapoint whose own period
            // covers that moment.
            let value_at = |role: Option<(usize, &CloudWatchQuery)>, at: SystemTime| {
                let (i, q) = role?;
                series(i)
                    .iter()
                    .rev()
                    .find(|(t, _)| *t <= at && complete(*t, q.period) && at < *t + q.period)
                    .map(|(_, v)| (*v, q.period))
            };
            let (requests, errors, p95) = (role(Role::Requests), role(Role::Errors), role(Role::P95));
            let errors_read = errors.is_some();
            let mut starts: Vec<SystemTime> = [requests, errors, p95]
                .into_iter()
                .flatten()
                .flat_map(|(i, q)| series(i).iter().filter(|(t, _)| complete(*t, q.period)).map(|(t, _)| *t))
                .collect();
            starts.sort_unstable();
            starts.dedup();
            let points = starts
                .into_iter()
                .map(|at| {
                    let (r, e, p) = (value_at(requests, at), value_at(errors, at), value_at(p95, at));
                    let window = r.map_or(Duration::from_secs(60), |(_, period)| period);
                    // When errors are read, no 5xx datapoint in a period with requests means none
                    // were counted (ALBs publish nothing for zero); when they are not read, nobody knows.
                    let error_ratio = match (r, e) {
                        (Some((r, _)), Some((e, _))) if r > 0.0 => Some((e / r).clamp(0.0, 1.0)),
                        (Some((r, _)), None) if r > 0.0 && errors_read => Some(0.0),
                        _ => None,
                    };
                    SignalPoint {
                        rate: r.map(|(v, period)| v / period.as_secs_f64().max(1.0)),
                        requests: r.map(|(v, _)| v),
                        error_ratio,
                        p95: p.map(|(v, _)| v),
                        ..SignalPoint::empty(at, window)
                    }
                })
                .collect();
            (si, points)
        })
        .collect()
}

/// One round for one account: groups, metrics, service signals, and the calls it took.
pub async fn poll_account(c: &AwsClients, spec: &AwsSpec) -> (Vec<Event>, Option<AwsFailure>) {
    let mut events = Vec::new();
    let account: Arc<str> = spec.name.as_str().into();
    let mut failure = None;
    let now = SystemTime::now();
    if !spec.asgs.is_empty() || spec.asg_prefix.is_some() {
        match describe_groups(c, spec).await {
            Ok(groups) => {
                events.push(Event::Aws { account: account.clone(), event: AwsEvent::Asgs { at: now, groups } })
            }
            Err(f) => failure = Some(f),
        }
    }
    if let (None, Some(alarms)) = (&failure, &spec.alarms) {
        match describe_alarms(c, alarms).await {
            Ok(alarms) => {
                events.push(Event::Aws { account: account.clone(), event: AwsEvent::Alarms { at: now, alarms } })
            }
            Err(f) => failure = Some(f),
        }
    }
    if failure.is_none() && !spec.queues.is_empty() {
        match queues::read(c, &spec.queues, now).await {
            Ok(queues) => {
                events.push(Event::Aws { account: account.clone(), event: AwsEvent::Queues { at: now, queues } })
            }
            Err(f) => failure = Some(f),
        }
    }
    if failure.is_none() && !spec.databases.is_empty() {
        match databases::read(c, &spec.databases, now).await {
            Ok(databases) => {
                events.push(Event::Aws { account: account.clone(), event: AwsEvent::Databases { at: now, databases } })
            }
            Err(f) => failure = Some(f),
        }
    }
    if failure.is_none() && !spec.queries.is_empty() {
        match metric_data(c, &spec.queries, now).await {
            Ok(values) => {
                for (service, points) in service_points(&spec.queries, &values, now) {
                    events.push(Event::Signals { service, result: Ok(points) });
                }
                events.push(Event::Aws { account: account.clone(), event: AwsEvent::Metrics { at: now, values } });
            }
            Err(f) => failure = Some(f),
        }
    }
    if failure.is_none() && !(spec.ecs.is_empty() && spec.codedeploy.is_empty()) {
        failure = deploy_sources(c, spec, now, &mut events).await;
    }
    if let Some(f) = &failure {
        events
            .push(Event::Aws { account: account.clone(), event: AwsEvent::Failed { at: now, error: f.text.clone() } });
        for service in fed_services(&spec.queries) {
            events.push(Event::Signals { service, result: Err(f.text.clone()) });
        }
    }
    events.push(Event::Aws { account, event: AwsEvent::Calls { at: now, count: c.calls.take() } });
    (events, failure)
}

/// The ECS services' and CodeDeploy groups' deployments, as events of their services. A
/// service whose source cannot be read says so on its own; only throttling fails the account.
async fn deploy_sources(
    c: &AwsClients,
    spec: &AwsSpec,
    now: SystemTime,
    events: &mut Vec<Event>,
) -> Option<AwsFailure> {
    use crate::state::rollouts::SourceRead;
    let mut seen = c.seen.lock().await;
    let (images, finished) = &mut *seen;
    let (ecs, failure) = ecs::read(c, &spec.name, &spec.ecs, images, now).await;
    for (service, result) in ecs {
        let result = result.map(SourceRead::Ecs);
        events.push(Event::DeploySource { service: service.as_str().into(), source: "ecs", result });
    }
    if failure.is_some() {
        return failure;
    }
    let (groups, failure) = codedeploy::read(c, &spec.name, &spec.codedeploy, finished, now).await;
    for (service, result) in groups {
        let result = result.map(SourceRead::CodeDeploy);
        events.push(Event::DeploySource { service: service.as_str().into(), source: "codedeploy", result });
    }
    failure
}

/// Makes a native rollback's call: what it did in words, and the request's id.
pub async fn native(
    spec: &AwsSpec,
    call: &crate::state::rollback::NativeCall,
) -> Result<(String, Option<String>), String> {
    use crate::state::rollback::NativeCall;
    let c = clients(spec).await;
    let result = match call {
        NativeCall::EcsUpdate { cluster, service, to, .. } => ecs::update_service(&c, cluster, service, to)
            .await
            .map(|(now, id)| (format!("{cluster}/{service} is moving to {now}"), id)),
        NativeCall::CodeDeployRedeploy { application, group, of, revision, .. } => {
            codedeploy::redeploy(&c, application, group, of)
                .await
                .map(|(new, id)| (format!("deployment {new} of {revision} created in {application}/{group}"), id))
        }
        NativeCall::CodeDeployStop { id, .. } => codedeploy::stop(&c, id)
            .await
            .map(|(status, rid)| (format!("{id} stopped ({status}); CodeDeploy rolls back"), rid)),
    };
    result.map_err(|f| f.text)
}

/// Reads a service's hosts from CloudWatch forever, once an `interval`: `targets` are its
/// instances' keys and EC2 instance IDs.
pub async fn run_hosts(
    spec: AwsSpec,
    service: ServiceKey,
    targets: Vec<(crate::state::InstanceKey, String)>,
    interval: Duration,
    tx: mpsc::Sender<Event>,
    mut round: crate::sources::rounds::Round,
) {
    let c = clients(&spec).await;
    let mut listed = hosts::Listed::default();
    let mut schedule = crate::sources::schedule::Schedule::new(interval, 0.1, interval * 4);
    // A point is current until two reads have been missed.
    let fresh_for = interval * 3;
    loop {
        let at = SystemTime::now();
        let result = hosts::read(&c, &targets, &mut listed, at).await;
        schedule.record(result.is_err());
        let result = result.map_err(|f| f.text);
        if tx.send(Event::HostPoints { service: service.clone(), at, fresh_for, result }).await.is_err() {
            return;
        }
        round.done();
        tokio::time::sleep(schedule.next_delay(fastrand::f64())).await;
    }
}

/// Polls one account forever on its interval, backing off (with jitter) on failure and harder on throttling.
pub async fn run_account(
    spec: AwsSpec,
    jitter: f64,
    backoff_max: Duration,
    tx: mpsc::Sender<Event>,
    mut round: crate::sources::rounds::Round,
) {
    let c = clients(&spec).await;
    let mut schedule =
        crate::sources::schedule::Schedule::new(spec.interval, jitter, backoff_max.max(spec.interval * 4));
    loop {
        let (events, failure) = poll_account(&c, &spec).await;
        schedule.record(failure.is_some());
        if failure.as_ref().is_some_and(|f| f.throttled) {
            schedule.record(true);
        }
        for e in events {
            if tx.send(e).await.is_err() {
                return;
            }
        }
        round.done();
        tokio::time::sleep(schedule.next_delay(fastrand::f64())).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::aws::Unit;

    fn q(metric: &str, role: Role) -> CloudWatchQuery {
        CloudWatchQuery {
            label: metric.into(),
            namespace: "AWS/ApplicationELB".into(),
            metric: metric.into(),
            dimensions: vec![],
            stat: "Sum".into(),
            period: Duration::from_secs(60),
            unit: Unit::Count,
            feeds: Some(("web".into(), role)),
        }
    }

    /// moto cannot make a composite alarm (PutCompositeAlarm is not implemented): one on the
    /// SDK's own types, beside a metric alarm, as DescribeAlarms gives them.
    #[test]
    fn a_composite_alarm_reads_as_an_alarm_naming_the_child_that_moved_it() {
        use aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsOutput;
        use aws_sdk_cloudwatch::types::{CompositeAlarm, MetricAlarm, StateValue};
        let resp = DescribeAlarmsOutput::builder()
            .metric_alarms(
                MetricAlarm::builder()
                    .alarm_name("shop-web-5xx")
                    .state_value(StateValue::Alarm)
                    .state_reason("Threshold Crossed: 1 out of the last 1 datapoints [140.0 (02/12/26 10:00:00)] was greater than the threshold (100.0) (minimum 1 datapoint for OK -> ALARM transition).")
                    .build(),
            )
            .composite_alarms(
                CompositeAlarm::builder()
                    .alarm_name("shop-web-down")
                    .alarm_rule("ALARM(\"shop-web-5xx\") OR ALARM(\"shop-web-latency\")")
                    .state_value(StateValue::Alarm)
                    .state_reason("arn:aws:cloudwatch:eu-west-1:123456789012:alarm:shop-web-5xx transitioned to ALARM at Wednesday 02 December, 2026 10:00:00 UTC")
                    .build(),
            )
            .build();
        let mut alarms = Vec::new();
        alarms_of(&resp, &mut alarms);
        alarms_of(&resp, &mut alarms);
        let seen: Vec<_> =
            alarms.iter().map(|a| (a.name.as_str(), a.state.as_str(), a.reason.as_str(), a.composite)).collect();
        assert_eq!(
            seen,
            [
                (
                    "shop-web-5xx",
                    "ALARM",
                    "1 out of the last 1 datapoints [140.0] was greater than the threshold (100.0)",
                    false
                ),
                ("shop-web-down", "ALARM", "shop-web-5xx transitioned to ALARM", true),
            ],
            "each alarm once, in words"
        );
    }

    #[test]
    fn no_errors_datapoint_is_zero_errors_only_when_errors_are_read() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let now = t + Duration::from_secs(90);
        let values = vec![(0, vec![(t, 600.0)])];
        let requests_only = [q("RequestCount", Role::Requests)];
        let p = service_points(&requests_only, &values, now)[0].1[0];
        assert_eq!((p.rate, p.requests, p.error_ratio), (Some(10.0), Some(600.0), None));
        let both = [q("RequestCount", Role::Requests), q("HTTPCode_Target_5XX_Count", Role::Errors)];
        let p = service_points(&both, &values, now)[0].1[0];
        assert_eq!((p.error_ratio, p.at, p.window), (Some(0.0), t, Duration::from_secs(60)));
    }

    #[test]
    fn one_point_per_complete_period_and_never_the_partial_one() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let min = |m: u64| t0 + Duration::from_secs(60 * m);
        let both = [q("RequestCount", Role::Requests), q("HTTPCode_Target_5XX_Count", Role::Errors)];
        // Requests in minutes 0..=3; errors only in minute 1 and in minute 3, still under way.
        let values = vec![
            (0, vec![(min(0), 600.0), (min(1), 600.0), (min(2), 600.0), (min(3), 100.0)]),
            (1, vec![(min(1), 60.0), (min(3), 50.0)]),
        ];
        let points = &service_points(&both, &values, min(3) + Duration::from_secs(20))[0].1;
        let seen: Vec<_> = points.iter().map(|p| (p.at, p.error_ratio)).collect();
        assert_eq!(seen, vec![(min(0), Some(0.0)), (min(1), Some(0.1)), (min(2), Some(0.0))]);
    }
}
