//! The demo's AWS: Auto Scaling groups and CloudWatch metrics that follow the story, served on
//! 127.0.0.1 in the AWS Query protocol, so the board reads them through the AWS SDK exactly as
//! it reads a real account.

use super::server::StoryClock;
use super::story::CYCLE;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::collections::HashMap;
use std::fmt::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::net::TcpListener;

/// The groups, the load balancer and the database the demo account holds.
pub const SEARCH_ASG: &str = "search-asg";
pub const WEB_ASG: &str = "web-frontend-asg";
pub const LOAD_BALANCER: &str = "app/web-frontend/50dc6c495c0c9188";
pub const DATABASE: &str = "orders-db";
/// The period of every demo metric: short, so the demo moves.
pub const PERIOD: Duration = Duration::from_secs(10);

/// The services whose instances come from a target group of the demo account (each group's
/// instances registered in it), the group, and the most instances the story gives it.
pub const TARGET_GROUPS: &[(&str, &str, usize)] = &[("search", "search-tg", 7), ("web-frontend", "web-frontend-tg", 4)];

/// The target group `service`'s instances come from, and how many instances it may hold.
pub fn target_group(service: &str) -> Option<(&'static str, usize)> {
    TARGET_GROUPS.iter().find(|(s, _, _)| *s == service).map(|(_, tg, most)| (*tg, *most))
}

/// The instance ID of `service`'s `index`th instance, as its group names it.
pub fn instance_id(service: &str, index: usize) -> String {
    let short = if service == "web-frontend" { "web" } else { service };
    format!("i-0{short}{:02}", index + 1)
}

/// Each instance's port on 127.0.0.1, by instance ID: where EC2 and the target groups send the board.
pub type Ports = Arc<HashMap<String, u16>>;

/// One instance of a group at a point in the story.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInstance {
    pub id: String,
    pub lifecycle: &'static str,
    pub health: &'static str,
}

/// A group at a point in the story.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub name: &'static str,
    pub min: u32,
    pub max: u32,
    pub desired: u32,
    pub instances: Vec<GroupInstance>,
}

fn instance(id: String, lifecycle: &'static str, health: &'static str) -> GroupInstance {
    GroupInstance { id, lifecycle, health }
}

/// The groups at story time `t`. Search scales out during its latency spike (20–59 s) and back
/// in after; a web node turns unhealthy at 160 s and is replaced.
pub fn groups(t: Duration) -> Vec<Group> {
    let s = (t.as_millis() % CYCLE.as_millis()) as u64 / 1000;
    let mut search: Vec<GroupInstance> =
        (1..=5).map(|i| instance(format!("i-0search{i:02}"), "InService", "Healthy")).collect();
    let search_desired = if (25..=89).contains(&s) { 7 } else { 5 };
    for i in 6..=7 {
        let id = format!("i-0search{i:02}");
        match s {
            25..=39 => search.push(instance(id, "Pending", "Healthy")),
            40..=84 => search.push(instance(id, "InService", "Healthy")),
            85..=94 => search.push(instance(id, "Terminating", "Healthy")),
            _ => {}
        }
    }
    let mut web: Vec<GroupInstance> =
        (1..=3).map(|i| instance(format!("i-0web{i:02}"), "InService", "Healthy")).collect();
    match s {
        160..=174 => web[1].health = "Unhealthy",
        175..=189 => {
            web[1].lifecycle = "Terminating";
            web[1].health = "Unhealthy";
            web.push(instance("i-0web04".into(), "Pending", "Healthy"));
        }
        _ if s >= 190 => web[1] = instance("i-0web04".into(), "InService", "Healthy"),
        _ => {}
    }
    vec![
        Group { name: SEARCH_ASG, min: 3, max: 10, desired: search_desired, instances: search },
        Group { name: WEB_ASG, min: 2, max: 6, desired: 3, instances: web },
    ]
}

/// A metric's value over the period starting at story time `t`; `None` for what the account
/// does not have.
pub fn metric(name: &str, dimension: &str, t: Duration) -> Option<f64> {
    let s = (t.as_millis() % CYCLE.as_millis()) as u64 / 1000;
    let wobble = ((s % 7) as f64 - 3.0) / 3.0;
    let per_period = PERIOD.as_secs_f64();
    Some(match (name, dimension) {
        ("CPUUtilization", SEARCH_ASG) if (20..=59).contains(&s) => 78.0 + 4.0 * wobble,
        ("CPUUtilization", SEARCH_ASG) => 34.0 + 3.0 * wobble,
        ("CPUUtilization", WEB_ASG) => 22.0 + 2.0 * wobble,
        ("CPUUtilization", DATABASE) => 18.0 + 2.0 * wobble,
        ("DatabaseConnections", DATABASE) => 42.0 + (s % 5) as f64,
        ("FreeStorageSpace", DATABASE) => (20u64 << 30) as f64 - s as f64 * 1e6,
        // The web frontend's three instances serve 180 req/s each, 0.2% of them 5xx.
        ("RequestCount", LOAD_BALANCER) => (540.0 + 20.0 * wobble) * per_period,
        ("HTTPCode_Target_5XX_Count", LOAD_BALANCER) => (540.0 * 0.002 * per_period).round(),
        ("TargetResponseTime", LOAD_BALANCER) => 0.045 + 0.005 * wobble,
        ("ApproximateAgeOfOldestMessage", q) => queue(q, t)?.3,
        _ => return None,
    })
}

/// The target group of `asg`, and what its load balancer says of each instance.
fn target_health(i: &GroupInstance) -> (&'static str, Option<(&'static str, &'static str)>) {
    match (i.lifecycle, i.health) {
        ("Pending", _) => ("initial", Some(("Elb.RegistrationInProgress", "Target registration is in progress"))),
        ("InService", "Healthy") => ("healthy", None),
        ("InService", _) => {
            ("unhealthy", Some(("Target.ResponseCodeMismatch", "Health checks failed with these codes: [503]")))
        }
        _ => ("draining", Some(("Target.DeregistrationInProgress", "Target deregistration is in progress"))),
    }
}

/// The `instances_from` entry of a service whose instances come from a target group.
pub fn instances_from(target_group: &str) -> String {
    format!(
        "instances_from = [{{ target_group = \"{target_group}\", aws = \"demo\", interval = \"5s\", grace = \"20s\" }}]\n"
    )
}

/// One of the demo account's alarms at a point in the story.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoAlarm {
    pub name: &'static str,
    pub state: &'static str,
    pub reason: String,
    /// Seconds into the cycle when it entered that state.
    pub since: u64,
}

/// The alarms at story time `t`: search's p95 (a warning) during its spike, payments' 5xx while
/// its node fails, and the database's connections, which stay OK.
pub fn alarms(t: Duration) -> Vec<DemoAlarm> {
    let s = (t.as_millis() % CYCLE.as_millis()) as u64 / 1000;
    let crossed = |points: &str, op: &str, threshold: &str| {
        format!(
            "Threshold Crossed: 2 out of the last 3 datapoints [{points}] were {op} the threshold ({threshold}) \
             (minimum 2 datapoints for OK -> ALARM transition)."
        )
    };
    let window = |from: u64, to: u64, reason: String| match s {
        _ if (from..=to).contains(&s) => ("ALARM", reason, from),
        _ if s > to => ("OK", "Threshold Crossed: no datapoints were greater than the threshold.".to_string(), to + 1),
        _ => ("OK", "Threshold Crossed: no datapoints were greater than the threshold.".to_string(), 0),
    };
    let (p95, p95_why, p95_since) =
        window(30, 64, crossed("0.91 (02/12/26 10:00:00), 0.93 (02/12/26 09:59:50)", "greater than", "0.5"));
    let (pay, pay_why, pay_since) = window(
        80,
        124,
        crossed("41.0 (02/12/26 10:00:00), 38.0 (02/12/26 09:59:50)", "greater than or equal to", "10.0"),
    );
    vec![
        DemoAlarm {
            name: "demo-orders-db-connections",
            state: "OK",
            reason: "Threshold Crossed: no datapoints were greater than the threshold.".into(),
            since: 0,
        },
        DemoAlarm { name: "demo-payments-5xx", state: pay, reason: pay_why, since: pay_since },
        DemoAlarm { name: "demo-search-p95", state: p95, reason: p95_why, since: p95_since },
    ]
}

/// The config of the demo account, pointing at `addr`.
pub fn config(addr: SocketAddr) -> String {
    format!(
        "\n[aws.demo]\nregion = \"eu-west-1\"\nendpoint_url = \"http://{addr}\"\ninterval = \"10s\"\ngrace = \"20s\"\n\
         asgs = [\"{SEARCH_ASG}\", \"{WEB_ASG}\"]\n\
         \n[aws.demo.alarms]\nprefix = \"demo-\"\nwarn = [\"demo-search-p95\"]\n\
         \n[[aws.demo.databases]]\nid = \"{DATABASE}\"\nservice = \"checkout-api\"\ndr_region = \"eu-central-1\"\n\
         \n[[aws.demo.queues]]\nname = \"{QUEUE}\"\nservice = \"notifications\"\nmax_depth = 1000\nmax_age = \"5m\"\ndead_letter = \"{DEAD_LETTER_QUEUE}\"\n\
         \n[[aws.demo.metrics]]\npreset = \"alb\"\nload_balancer = \"{LOAD_BALANCER}\"\nlabel = \"web ALB\"\nservice = \"web-frontend\"\nperiod = \"10s\"\n\
         \n[[aws.demo.metrics]]\npreset = \"ec2\"\nasg = \"{SEARCH_ASG}\"\nlabel = \"search\"\nperiod = \"10s\"\n\
         \n[[aws.demo.metrics]]\npreset = \"rds\"\ndb_instance = \"{DATABASE}\"\nlabel = \"orders DB\"\nperiod = \"10s\"\n"
    )
}

/// Binds 127.0.0.1 on a free port and answers the Query API until the task is dropped.
pub async fn spawn(clock: StoryClock, ports: Ports) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let handle = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let ports = ports.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let ports = ports.clone();
                    async move {
                        // SQS speaks JSON (awsJson1.0), named by a header; the rest the Query protocol.
                        let target =
                            req.headers().get("x-amz-target").and_then(|v| v.to_str().ok()).map(str::to_string);
                        let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                        let body = String::from_utf8_lossy(&body);
                        let (status, kind, text) = match target.as_deref().and_then(|t| t.strip_prefix("AmazonSQS.")) {
                            Some(action) => {
                                let (status, json) = sqs_answer(action, &body, clock.now());
                                (status, "application/x-amz-json-1.0", json)
                            }
                            None => {
                                let (status, xml) = answer(&body, clock.now(), SystemTime::now(), &ports);
                                (status, "text/xml", xml)
                            }
                        };
                        let resp = Response::builder().status(status).header("content-type", kind);
                        Ok::<_, std::convert::Infallible>(resp.body(Full::new(Bytes::from(text))).unwrap_or_default())
                    }
                });
                let _ =
                    hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
    Ok((addr, handle))
}

/// The demo's queue: notifications' outgoing mail, whose worker sticks for a while each cycle.
pub const QUEUE: &str = "emails";
pub const DEAD_LETTER_QUEUE: &str = "emails-dlq";

/// Waiting, in-flight and delayed messages of a demo queue at story time `t`, and the age of its
/// oldest message: the mail worker sticks at 100 s, the queue backs up past 1,000 and its oldest
/// ages, a few messages land in the dead-letter queue, and at 140 s it drains.
pub fn queue(name: &str, t: Duration) -> Option<(u64, u64, u64, f64)> {
    let s = (t.as_millis() % CYCLE.as_millis()) as u64 / 1000;
    let stuck = (100..=139).contains(&s);
    match name {
        QUEUE if stuck => Some((40 * (s - 99), 0, 3, (s - 99) as f64 * 10.0)),
        QUEUE => Some((12 + s % 5, 8, 0, 4.0)),
        DEAD_LETTER_QUEUE if (120..=179).contains(&s) => Some((3, 0, 0, 600.0)),
        DEAD_LETTER_QUEUE => Some((0, 0, 0, 0.0)),
        _ => None,
    }
}

/// The answer to one SQS JSON request at story time `t`.
fn sqs_answer(action: &str, body: &str, t: Duration) -> (u16, String) {
    let req: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let not_found = || {
        let e = serde_json::json!({"__type": "com.amazonaws.sqs#QueueDoesNotExist", "message": "The specified queue does not exist."});
        (400, e.to_string())
    };
    match action {
        "GetQueueUrl" => {
            let name = req["QueueName"].as_str().unwrap_or_default();
            if queue(name, t).is_none() {
                return not_found();
            }
            (200, serde_json::json!({"QueueUrl": format!("https://sqs.eu-west-1.amazonaws.com/123456789012/{name}")}).to_string())
        }
        "GetQueueAttributes" => {
            let name = req["QueueUrl"].as_str().unwrap_or_default().rsplit('/').next().unwrap_or_default();
            let Some((visible, in_flight, delayed, _)) = queue(name, t) else { return not_found() };
            let attributes = serde_json::json!({
                "ApproximateNumberOfMessages": visible.to_string(),
                "ApproximateNumberOfMessagesNotVisible": in_flight.to_string(),
                "ApproximateNumberOfMessagesDelayed": delayed.to_string(),
            });
            (200, serde_json::json!({ "Attributes": attributes }).to_string())
        }
        other => (400, serde_json::json!({"__type": "com.amazonaws.sqs#InvalidAction", "message": format!("the demo account does not answer {other}")}).to_string()),
    }
}

/// The answer to one form-encoded Query API request at story time `t` (wall clock `now`).
pub fn answer(form: &str, t: Duration, now: SystemTime, ports: &HashMap<String, u16>) -> (u16, String) {
    let params: Vec<(String, String)> = reqwest::Url::parse(&format!("http://x/?{form}"))
        .map(|u| u.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
        .unwrap_or_default();
    let get = |k: &str| params.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    match get("Action") {
        Some("DescribeAutoScalingGroups") => {
            let wanted: Vec<&str> = params
                .iter()
                .filter(|(k, _)| k.starts_with("AutoScalingGroupNames.member."))
                .map(|(_, v)| v.as_str())
                .collect();
            (200, describe_groups(t, &wanted))
        }
        Some("GetMetricData") => (200, metric_data(&params, t, now)),
        Some("DescribeAlarms") => (200, describe_alarms(t, now)),
        Some("DescribeDBInstances") => (200, describe_db_instances(t)),
        Some("DescribeDBSnapshots") => (200, describe_db_snapshots(now)),
        Some("DescribeTargetGroups") => {
            let wanted: Vec<&str> =
                params.iter().filter(|(k, _)| k.starts_with("Names.member.")).map(|(_, v)| v.as_str()).collect();
            describe_target_groups(&wanted)
        }
        Some("DescribeTargetHealth") => describe_target_health(get("TargetGroupArn").unwrap_or_default(), t, ports),
        Some("DescribeInstances") => {
            let ids: Vec<&str> =
                params.iter().filter(|(k, _)| k.starts_with("Filter.1.Value.")).map(|(_, v)| v.as_str()).collect();
            (200, describe_instances(&ids, ports))
        }
        other => (
            400,
            format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code>\
                 <Message>the demo account does not answer {}</Message></Error></ErrorResponse>",
                other.unwrap_or("a request without Action")
            ),
        ),
    }
}

fn describe_groups(t: Duration, wanted: &[&str]) -> String {
    let mut xml = String::from(
        "<DescribeAutoScalingGroupsResponse xmlns=\"http://autoscaling.amazonaws.com/doc/2011-01-01/\">\
         <DescribeAutoScalingGroupsResult><AutoScalingGroups>",
    );
    for g in groups(t).into_iter().filter(|g| wanted.is_empty() || wanted.contains(&g.name)) {
        let _ = write!(
            xml,
            "<member><AutoScalingGroupName>{}</AutoScalingGroupName><MinSize>{}</MinSize><MaxSize>{}</MaxSize>\
             <DesiredCapacity>{}</DesiredCapacity><DefaultCooldown>300</DefaultCooldown>\
             <AvailabilityZones><member>eu-west-1a</member></AvailabilityZones><HealthCheckType>ELB</HealthCheckType>\
             <CreatedTime>2026-01-05T09:00:00Z</CreatedTime><Instances>",
            g.name, g.min, g.max, g.desired
        );
        for i in &g.instances {
            let _ = write!(
                xml,
                "<member><InstanceId>{}</InstanceId><AvailabilityZone>eu-west-1a</AvailabilityZone>\
                 <LifecycleState>{}</LifecycleState><HealthStatus>{}</HealthStatus>\
                 <ProtectedFromScaleIn>false</ProtectedFromScaleIn></member>",
                i.id, i.lifecycle, i.health
            );
        }
        xml.push_str("</Instances></member>");
    }
    xml.push_str(
        "</AutoScalingGroups></DescribeAutoScalingGroupsResult>\
         <ResponseMetadata><RequestId>demo</RequestId></ResponseMetadata></DescribeAutoScalingGroupsResponse>",
    );
    xml
}

/// The alarms as CloudWatch's `DescribeAlarms` answers (every one matches the prefix).
fn describe_alarms(t: Duration, now: SystemTime) -> String {
    let into_cycle = (t.as_millis() % CYCLE.as_millis()) as u64 / 1000;
    let mut xml = String::from(
        "<DescribeAlarmsResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\"><DescribeAlarmsResult><MetricAlarms>",
    );
    for a in alarms(t) {
        let since = now - Duration::from_secs(into_cycle.saturating_sub(a.since));
        let since = chrono::DateTime::<chrono::Utc>::from(since).format("%Y-%m-%dT%H:%M:%S%.3fZ");
        let _ = write!(
            xml,
            "<member><AlarmName>{}</AlarmName><StateValue>{}</StateValue><StateReason>{}</StateReason>\
             <StateUpdatedTimestamp>{since}</StateUpdatedTimestamp><Namespace>AWS/ApplicationELB</Namespace></member>",
            a.name,
            a.state,
            a.reason.replace('>', "&gt;")
        );
    }
    xml.push_str("</MetricAlarms><CompositeAlarms/></DescribeAlarmsResult><ResponseMetadata><RequestId>demo</RequestId></ResponseMetadata></DescribeAlarmsResponse>");
    xml
}

const RDS_NS: &str = "http://rds.amazonaws.com/doc/2014-10-31/";

/// The orders database: multi-AZ postgres, backing up for a while each cycle.
fn describe_db_instances(t: Duration) -> String {
    let s = (t.as_millis() % CYCLE.as_millis()) as u64 / 1000;
    let status = if (200..=224).contains(&s) { "backing-up" } else { "available" };
    format!(
        "<DescribeDBInstancesResponse xmlns=\"{RDS_NS}\"><DescribeDBInstancesResult><DBInstances><DBInstance>\
         <DBInstanceIdentifier>{DATABASE}</DBInstanceIdentifier><Engine>postgres</Engine><DBInstanceStatus>{status}</DBInstanceStatus>\
         <AllocatedStorage>100</AllocatedStorage><MultiAZ>true</MultiAZ><DBInstanceClass>db.r6g.large</DBInstanceClass>\
         </DBInstance></DBInstances></DescribeDBInstancesResult><ResponseMetadata><RequestId>demo</RequestId></ResponseMetadata>\
         </DescribeDBInstancesResponse>"
    )
}

/// Last night's snapshot, copied to the DR region three hours ago.
fn describe_db_snapshots(now: SystemTime) -> String {
    let at =
        chrono::DateTime::<chrono::Utc>::from(now - Duration::from_secs(3 * 3600)).format("%Y-%m-%dT%H:%M:%S%.3fZ");
    format!(
        "<DescribeDBSnapshotsResponse xmlns=\"{RDS_NS}\"><DescribeDBSnapshotsResult><DBSnapshots><DBSnapshot>\
         <DBSnapshotIdentifier>{DATABASE}-nightly-dr</DBSnapshotIdentifier><DBInstanceIdentifier>{DATABASE}</DBInstanceIdentifier>\
         <SnapshotCreateTime>{at}</SnapshotCreateTime><Status>available</Status><SnapshotType>manual</SnapshotType>\
         </DBSnapshot></DBSnapshots></DescribeDBSnapshotsResult><ResponseMetadata><RequestId>demo</RequestId></ResponseMetadata>\
         </DescribeDBSnapshotsResponse>"
    )
}

const ELB_NS: &str = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/";

fn arn(target_group: &str) -> String {
    format!("arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/{target_group}/73e2d6bc24d8a067")
}

fn elb_error(code: &str, message: &str) -> (u16, String) {
    let xml = format!(
        "<ErrorResponse xmlns=\"{ELB_NS}\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>\
         <RequestId>demo</RequestId></ErrorResponse>"
    );
    (400, xml)
}

fn describe_target_groups(wanted: &[&str]) -> (u16, String) {
    let found: Vec<&str> =
        TARGET_GROUPS.iter().map(|(_, tg, _)| *tg).filter(|tg| wanted.is_empty() || wanted.contains(tg)).collect();
    if found.len() < wanted.len() {
        return elb_error("TargetGroupNotFound", "One or more target groups not found");
    }
    let mut xml =
        format!("<DescribeTargetGroupsResponse xmlns=\"{ELB_NS}\"><DescribeTargetGroupsResult><TargetGroups>");
    for tg in found {
        let _ = write!(
            xml,
            "<member><TargetGroupArn>{}</TargetGroupArn><TargetGroupName>{tg}</TargetGroupName><Protocol>HTTP</Protocol>\
             <Port>80</Port><VpcId>vpc-3ac0fb5f</VpcId><HealthCheckPath>/health</HealthCheckPath><TargetType>instance</TargetType></member>",
            arn(tg)
        );
    }
    xml.push_str("</TargetGroups></DescribeTargetGroupsResult><ResponseMetadata><RequestId>demo</RequestId></ResponseMetadata></DescribeTargetGroupsResponse>");
    (200, xml)
}

/// The registered targets of a target group: its Auto Scaling group's instances, each on its own
/// port, with the load balancer's view of each as the story has it.
fn describe_target_health(target_group_arn: &str, t: Duration, ports: &HashMap<String, u16>) -> (u16, String) {
    let Some((service, _, _)) = TARGET_GROUPS.iter().find(|(_, tg, _)| arn(tg) == target_group_arn) else {
        return elb_error("TargetGroupNotFound", "One or more target groups not found");
    };
    let asg = if *service == "search" { SEARCH_ASG } else { WEB_ASG };
    let mut xml = format!(
        "<DescribeTargetHealthResponse xmlns=\"{ELB_NS}\"><DescribeTargetHealthResult><TargetHealthDescriptions>"
    );
    for i in groups(t).into_iter().filter(|g| g.name == asg).flat_map(|g| g.instances) {
        let Some(port) = ports.get(&i.id) else { continue };
        let (state, why) = target_health(&i);
        let reason = why
            .map(|(code, text)| format!("<Reason>{code}</Reason><Description>{text}</Description>"))
            .unwrap_or_default();
        let _ = write!(
            xml,
            "<member><HealthCheckPort>{port}</HealthCheckPort><Target><Id>{}</Id><Port>{port}</Port>\
             <AvailabilityZone>eu-west-1a</AvailabilityZone></Target><TargetHealth><State>{state}</State>{reason}</TargetHealth></member>",
            i.id
        );
    }
    xml.push_str("</TargetHealthDescriptions></DescribeTargetHealthResult><ResponseMetadata><RequestId>demo</RequestId></ResponseMetadata></DescribeTargetHealthResponse>");
    (200, xml)
}

/// The instances of `ids` the demo runs, all on 127.0.0.1.
fn describe_instances(ids: &[&str], ports: &HashMap<String, u16>) -> String {
    let mut xml = String::from(
        "<DescribeInstancesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>demo</requestId>\
         <reservationSet><item><reservationId>r-0demo</reservationId><instancesSet>",
    );
    for id in ids.iter().filter(|id| ports.contains_key(**id)) {
        let _ = write!(
            xml,
            "<item><instanceId>{id}</instanceId><instanceState><code>16</code><name>running</name></instanceState>\
             <privateDnsName>ip-127-0-0-1.eu-west-1.compute.internal</privateDnsName><privateIpAddress>127.0.0.1</privateIpAddress></item>"
        );
    }
    xml.push_str("</instancesSet></item></reservationSet></DescribeInstancesResponse>");
    xml
}

/// Datapoints for each query over its last few periods, newest first as CloudWatch returns them.
fn metric_data(params: &[(String, String)], t: Duration, now: SystemTime) -> String {
    let get = |k: String| params.iter().find(|(key, _)| *key == k).map(|(_, v)| v.clone());
    let mut xml = String::from(
        "<GetMetricDataResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\">\
         <GetMetricDataResult><MetricDataResults>",
    );
    for n in 1.. {
        let q = |rest: &str| get(format!("MetricDataQueries.member.{n}.{rest}"));
        let Some(id) = q("Id") else { break };
        let name = q("MetricStat.Metric.MetricName").unwrap_or_default();
        let dimension = q("MetricStat.Metric.Dimensions.member.1.Value").unwrap_or_default();
        let _ = write!(xml, "<member><Id>{id}</Id><Label>{name}</Label><StatusCode>Complete</StatusCode>");
        let points: Vec<(SystemTime, f64)> = (1..=6u32)
            .filter_map(|k| {
                let ago = PERIOD * k;
                let story = t.checked_sub(ago).unwrap_or_default();
                metric(&name, &dimension, story).map(|v| (now - ago, v))
            })
            .collect();
        xml.push_str("<Timestamps>");
        for (at, _) in &points {
            let at = chrono::DateTime::<chrono::Utc>::from(*at).format("%Y-%m-%dT%H:%M:%SZ");
            let _ = write!(xml, "<member>{at}</member>");
        }
        xml.push_str("</Timestamps><Values>");
        for (_, v) in &points {
            let _ = write!(xml, "<member>{v}</member>");
        }
        xml.push_str("</Values></member>");
    }
    xml.push_str(
        "</MetricDataResults><Messages/></GetMetricDataResult>\
         <ResponseMetadata><RequestId>demo</RequestId></ResponseMetadata></GetMetricDataResponse>",
    );
    xml
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn search_scales_out_during_its_spike_and_back_in() {
        let search = |s| groups(at(s)).into_iter().find(|g| g.name == SEARCH_ASG).unwrap();
        assert_eq!((search(10).desired, search(10).instances.len()), (5, 5));
        let scaling = search(30);
        assert_eq!(scaling.desired, 7);
        assert_eq!(scaling.instances.iter().filter(|i| i.lifecycle == "Pending").count(), 2);
        assert_eq!(search(50).instances.iter().filter(|i| i.lifecycle == "InService").count(), 7);
        assert_eq!(search(120).instances.len(), 5);
    }

    #[test]
    fn a_web_node_turns_unhealthy_and_is_replaced() {
        let web = |s| groups(at(s)).into_iter().find(|g| g.name == WEB_ASG).unwrap();
        assert!(web(165).instances.iter().any(|i| i.health == "Unhealthy"));
        assert!(web(180).instances.iter().any(|i| i.id == "i-0web04" && i.lifecycle == "Pending"));
        let after = web(200);
        assert!(after.instances.iter().all(|i| i.health == "Healthy" && i.lifecycle == "InService"));
        assert!(after.instances.iter().any(|i| i.id == "i-0web04"));
    }

    #[test]
    fn an_unknown_action_is_an_error_in_the_query_protocol() {
        let (status, xml) =
            answer("Action=DeleteEverything&Version=2010-08-01", at(0), SystemTime::now(), &HashMap::new());
        assert_eq!(status, 400);
        assert!(xml.contains("<Code>InvalidAction</Code>"));
    }

    #[test]
    fn the_load_balancer_sees_the_replaced_web_node_drain_and_its_successor_register() {
        let ports: HashMap<String, u16> = (0..4).map(|i| (instance_id("web-frontend", i), 9000 + i as u16)).collect();
        let health = |s| describe_target_health(&arn("web-frontend-tg"), at(s), &ports).1;
        assert!(health(165).contains("<Id>i-0web02</Id><Port>9001</Port>"));
        assert!(health(165).contains("<State>unhealthy</State><Reason>Target.ResponseCodeMismatch</Reason>"));
        let replacing = health(180);
        assert!(replacing.contains("<State>draining</State>") && replacing.contains("<State>initial</State>"));
        assert!(!health(200).contains("i-0web02") && health(200).contains("i-0web04"));
        let (status, xml) = answer("Action=DescribeTargetGroups&Names.member.1=nope", at(0), SystemTime::now(), &ports);
        assert_eq!(status, 400);
        assert!(xml.contains("TargetGroupNotFound"));
    }
}
