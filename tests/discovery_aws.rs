//! Instances from AWS, against a real moto server on 127.0.0.1: an IP target group whose
//! targets register and deregister, and an Auto Scaling group (in a VPC of 127.0.0.0/16, so its
//! instances are 127.0.1.x) that scales out and loses an instance while the board watches, read
//! both as the group and as the target group it is attached to.
#![cfg(feature = "aws")]

mod common;

use common::moto::{self, Moto};
use common::rows::{checked_ok, gone, present, rows, status, worst_within};
use common::{Reply, TestServer, drive, serve_at};
use opsboard::collector::Collector;
use opsboard::config::{self, Loaded};
use opsboard::history::DeployHistory;
use opsboard::state::{Life, Status, ViewBy};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

async fn app(at: &str) -> TestServer {
    serve_at(at.parse().unwrap(), |_| Reply::json(200, r#"{"status":"UP","version":"1.0.0"}"#)).await
}

/// Checks every 200 ms, sources read every second, through the moto account `test`.
fn board(moto: &Moto, services: &str) -> Loaded {
    let toml = format!(
        "[polling]\njitter = 0.0\n[defaults]\ninterval = \"200ms\"\ntimeout = \"150ms\"\nscrape = false\n\
         unhealthy_after = 2\nhealthy_after = 2\n\
         [aws.test]\nregion = \"eu-west-1\"\nendpoint_url = \"{}\"\n{services}",
        moto.url
    );
    let mut loaded = config::load_str("aws-discovery.toml", &toml).unwrap();
    // moto checks no credentials; the machine's own are not read.
    loaded.fleet.aws.iter_mut().for_each(|a| a.static_credentials = true);
    loaded
}

fn start(loaded: Loaded, dir: &Path) -> Collector {
    common::own_data_dir();
    Collector::start(&Arc::new(loaded), DeployHistory::new(dir.join("deploys.jsonl")))
}

/// The load balancer's or group's word for each present row, by name.
fn views(c: &Collector, service: &str) -> BTreeMap<String, (ViewBy, String)> {
    let Some(si) = c.state.service_position(service) else { return BTreeMap::new() };
    c.state.services[si]
        .instances
        .iter()
        .filter(|i| i.present())
        .filter_map(|i| i.lb.as_ref().map(|l| (i.spec.label.clone(), (l.by, l.state.clone()))))
        .collect()
}

const VPC: &str = "ec2 = boto3.client('ec2', **kw)\n\
    vpc = ec2.create_vpc(CidrBlock='127.0.0.0/16')['Vpc']['VpcId']\n";

#[tokio::test]
async fn an_ip_target_group_is_followed_as_targets_register_and_deregister() {
    let dir = tempfile::tempdir().unwrap();
    let moto = moto::start();
    // moto keys IP targets by address alone: each its own loopback address.
    let (a, b) = (app("127.0.0.2:0").await, app("127.0.0.3:0").await);
    let booting = format!("127.0.0.4:{}", common::closed_port().port());
    let register = |targets: &[&str]| {
        let each: Vec<String> = targets
            .iter()
            .map(|t| {
                let (ip, port) = t.split_once(':').unwrap();
                format!("{{'Id': '{ip}', 'Port': {port}}}")
            })
            .collect();
        format!(
            "tg = elb.describe_target_groups(Names=['api-tg'])['TargetGroups'][0]['TargetGroupArn']\nelb.register_targets(TargetGroupArn=tg, Targets=[{}])",
            each.join(", ")
        )
    };
    let deregister = |ip: &str| {
        format!(
            "tg = elb.describe_target_groups(Names=['api-tg'])['TargetGroups'][0]['TargetGroupArn']\n\
             ts = [t['Target'] for t in elb.describe_target_health(TargetGroupArn=tg)['TargetHealthDescriptions'] if t['Target']['Id'] == '{ip}']\n\
             elb.deregister_targets(TargetGroupArn=tg, Targets=ts)"
        )
    };
    let elb = "elb = boto3.client('elbv2', **kw)\n";
    moto::boto3(
        &moto,
        &format!(
            "{VPC}{elb}elb.create_target_group(Name='api-tg', Protocol='HTTP', Port=8080, VpcId=vpc, TargetType='ip', HealthCheckPath='/health')\n{}",
            register(&[&a.addr.to_string(), &b.addr.to_string()])
        ),
    );
    let loaded = board(
        &moto,
        "[services.api]\ninstances_from = [{ target_group = \"api-tg\", aws = \"test\", interval = \"1s\", grace = \"30s\" }]\n",
    );
    let mut c = start(loaded, dir.path());
    let (na, nb) = (a.addr.to_string(), b.addr.to_string());
    assert!(
        drive(&mut c, WAIT, |c| checked_ok(c, "api", &na) && checked_ok(c, "api", &nb)).await,
        "both registered targets are found at their own address and port, and checked: {:?}",
        rows(&c, "api")
    );
    let healthy = (ViewBy::LoadBalancer, "healthy".to_string());
    assert_eq!(views(&c, "api"), BTreeMap::from([(na.clone(), healthy.clone()), (nb.clone(), healthy.clone())]));

    // A new target that refuses connections while it boots: starting, and never CRIT.
    moto::boto3(&moto, &format!("{elb}{}", register(&[&booting])));
    assert!(
        drive(&mut c, WAIT, |c| present(c, "api").contains(&booting)).await,
        "the new target appears: {:?}",
        rows(&c, "api")
    );
    // Without the grace, two refused checks (400 ms) would make it, and the service, CRIT.
    let worst = worst_within(&mut c, "api", Duration::from_secs(2)).await;
    assert!(worst < Status::Warn, "a booting target in its grace is no outage: {worst:?}");
    assert!(rows(&c, "api").iter().any(|(n, l)| *n == booting && matches!(l, Life::Starting { .. })));

    // One deregistered: gone, and the service stays up.
    moto::boto3(&moto, &format!("{elb}{}", deregister("127.0.0.3")));
    assert!(drive(&mut c, WAIT, |c| gone(c, "api", &nb)).await, "a deregistered target is gone: {:?}", rows(&c, "api"));
    assert!(status(&mut c, "api") < Status::Crit, "leaving is no outage");

    // All deregistered: the group is empty, and that is an outage.
    moto::boto3(&moto, &format!("{elb}{}\n{}", deregister("127.0.0.2"), deregister("127.0.0.4")));
    assert!(
        drive(&mut c, WAIT, |c| present(c, "api").is_empty()).await,
        "an empty target group empties the rows (after two answers): {:?}",
        rows(&c, "api")
    );
    c.refresh_verdicts(std::time::SystemTime::now());
    let si = c.state.service_position("api").unwrap();
    let verdict = c.state.services[si].fleet_verdict().unwrap();
    assert_eq!((verdict.status, verdict.reason.as_str()), (Status::Crit, "no instances: the target group is empty"));
    assert_eq!(status(&mut c, "api"), Status::Crit);
}

/// The group's instances and their addresses, as EC2 gives them: `{id: ip}`.
fn instances(moto: &Moto) -> BTreeMap<String, String> {
    let out = moto::boto3_out(
        moto,
        "asg = boto3.client('autoscaling', **kw)\nec2 = boto3.client('ec2', **kw)\n\
         ids = [i['InstanceId'] for i in asg.describe_auto_scaling_groups(AutoScalingGroupNames=['web-asg'])['AutoScalingGroups'][0]['Instances']]\n\
         res = ec2.describe_instances(InstanceIds=ids)['Reservations'] if ids else []\n\
         print(json.dumps({i['InstanceId']: i['PrivateIpAddress'] for r in res for i in r['Instances']}))",
    );
    serde_json::from_str(out.trim()).unwrap()
}

#[tokio::test]
async fn an_auto_scaling_group_and_its_target_group_are_followed_as_it_scales_and_loses_an_instance() {
    let dir = tempfile::tempdir().unwrap();
    let moto = moto::start();
    let port = common::closed_port().port();
    moto::boto3(
        &moto,
        &format!(
            "{VPC}subnet = ec2.create_subnet(VpcId=vpc, CidrBlock='127.0.1.0/24', AvailabilityZone='eu-west-1a')['Subnet']['SubnetId']\n\
             elb = boto3.client('elbv2', **kw)\nasg = boto3.client('autoscaling', **kw)\n\
             tg = elb.create_target_group(Name='web-tg', Protocol='HTTP', Port={port}, VpcId=vpc, TargetType='instance')['TargetGroups'][0]['TargetGroupArn']\n\
             ec2.create_launch_template(LaunchTemplateName='web', LaunchTemplateData={{'ImageId': 'ami-12c6146b', 'InstanceType': 't3.micro'}})\n\
             asg.create_auto_scaling_group(AutoScalingGroupName='web-asg', LaunchTemplate={{'LaunchTemplateName': 'web'}}, MinSize=1, MaxSize=5, DesiredCapacity=2, VPCZoneIdentifier=subnet, TargetGroupARNs=[tg])"
        ),
    );
    let first = instances(&moto);
    assert_eq!(first.len(), 2);
    assert!(first.values().all(|ip| ip.starts_with("127.0.1.")), "moto gives addresses from the subnet: {first:?}");
    let mut servers = Vec::new();
    for ip in first.values() {
        servers.push(app(&format!("{ip}:{port}")).await);
    }
    let loaded = board(
        &moto,
        &format!(
            "[services.web]\ninstances_from = [{{ asg = \"web-asg\", aws = \"test\", port = {port}, interval = \"1s\" }}]\n\
             [services.web-lb]\ninstances_from = [{{ target_group = \"web-tg\", aws = \"test\", interval = \"1s\" }}]\n"
        ),
    );
    let mut c = start(loaded, dir.path());
    let ids: Vec<String> = first.keys().cloned().collect();
    let all_ok =
        |c: &Collector, ids: &[String]| ids.iter().all(|id| checked_ok(c, "web", id) && checked_ok(c, "web-lb", id));
    assert!(
        drive(&mut c, WAIT, |c| all_ok(c, &ids)).await,
        "the group's instances are found by ID, reached at their private IP, and checked: {:?} {:?}",
        rows(&c, "web"),
        rows(&c, "web-lb")
    );
    let in_service: BTreeMap<String, (ViewBy, String)> =
        ids.iter().map(|id| (id.clone(), (ViewBy::AutoScaling, "InService".to_string()))).collect();
    assert_eq!(views(&c, "web"), in_service, "each row carries its lifecycle state");
    assert!(views(&c, "web-lb").values().all(|v| *v == (ViewBy::LoadBalancer, "healthy".to_string())));

    // Scale out: the new instance gets a server at its address, and joins as starting.
    moto::boto3(
        &moto,
        "asg = boto3.client('autoscaling', **kw)\nasg.set_desired_capacity(AutoScalingGroupName='web-asg', DesiredCapacity=3)",
    );
    let now = instances(&moto);
    let new: Vec<(&String, &String)> = now.iter().filter(|(id, _)| !first.contains_key(*id)).collect();
    assert_eq!(new.len(), 1, "{now:?}");
    servers.push(app(&format!("{}:{port}", new[0].1)).await);
    let new_id = new[0].0.clone();
    let seen_starting = std::cell::Cell::new(false);
    assert!(
        drive(&mut c, WAIT, |c| {
            let starting = rows(c, "web").iter().any(|(n, l)| *n == new_id && matches!(l, Life::Starting { .. }));
            seen_starting.set(seen_starting.get() || starting);
            checked_ok(c, "web", &new_id) && checked_ok(c, "web-lb", &new_id)
        })
        .await,
        "the scaled-out instance is found and checked: {:?}",
        rows(&c, "web")
    );
    assert!(seen_starting.get(), "a new instance starts as starting");

    // One terminated: gone from the group and from its target group; the service stays up.
    let victim = ids[0].clone();
    moto::boto3(
        &moto,
        &format!(
            "asg = boto3.client('autoscaling', **kw)\n\
             asg.terminate_instance_in_auto_scaling_group(InstanceId='{victim}', ShouldDecrementDesiredCapacity=True)"
        ),
    );
    assert!(
        drive(&mut c, WAIT, |c| gone(c, "web", &victim) && gone(c, "web-lb", &victim)).await,
        "the terminated instance is gone: {:?} {:?}",
        rows(&c, "web"),
        rows(&c, "web-lb")
    );
    assert_eq!(present(&c, "web").len(), 2);
    assert!(status(&mut c, "web") < Status::Crit && status(&mut c, "web-lb") < Status::Crit);
}
