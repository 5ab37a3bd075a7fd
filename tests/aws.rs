//! AWS against a real moto server on 127.0.0.1: groups, CloudWatch values, credential
//! failures, unreachable endpoints, recovery, and GetMetricData batching.
#![cfg(feature = "aws")]

mod common;

use common::moto::{self, Moto, boto3, seed_group};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_opsboard");

/// `opsboard check --json` with this config and only the given AWS environment.
fn check(dir: &Path, config: &str, creds: bool) -> Value {
    let path = dir.join("board.toml");
    std::fs::write(&path, config).unwrap();
    let mut cmd = Command::new(BIN);
    cmd.args(["check", "--json", "--config"]).arg(&path);
    for var in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION"] {
        cmd.env_remove(var);
    }
    cmd.env("AWS_CONFIG_FILE", dir.join("no-config")).env("AWS_SHARED_CREDENTIALS_FILE", dir.join("no-credentials"));
    cmd.env("AWS_EC2_METADATA_DISABLED", "true");
    if creds {
        cmd.env("AWS_ACCESS_KEY_ID", "test").env("AWS_SECRET_ACCESS_KEY", "test");
    }
    let out = cmd.output().unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
}

fn board(moto_url: &str, extra: &str) -> String {
    format!(
        "[defaults]\ntimeout = \"1s\"\n[services.web]\ninstances = [\"http://127.0.0.1:9\"]\n\
         [aws.test]\nregion = \"eu-west-1\"\nendpoint_url = \"{moto_url}\"\n{extra}"
    )
}

fn asg<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["asgs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == name)
        .unwrap_or_else(|| panic!("no {name}: {report}"))
}

fn account_error(report: &Value) -> Option<String> {
    report["aws_accounts"][0]["error"].as_str().map(str::to_string)
}

#[test]
fn groups_and_alb_metrics_show_exactly_what_was_seeded() {
    let moto = moto::start();
    seed_group(&moto, "web-asg", 1, 2, 5);
    seed_group(&moto, "batch-asg", 0, 1, 3);
    boto3(
        &moto,
        "cw = boto3.client('cloudwatch', **kw)\n\
         t = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0) - datetime.timedelta(minutes=2)\n\
         dims = [{'Name': 'LoadBalancer', 'Value': 'app/web/1'}]\n\
         cw.put_metric_data(Namespace='AWS/ApplicationELB', MetricData=[\n\
           {'MetricName': 'RequestCount', 'Dimensions': dims, 'Timestamp': t, 'Value': 600.0},\n\
           {'MetricName': 'HTTPCode_Target_5XX_Count', 'Dimensions': dims, 'Timestamp': t, 'Value': 30.0}])\n\
         cw.put_metric_data(Namespace='AWS/EC2', MetricData=[{'MetricName': 'CPUUtilization', 'Dimensions': [{'Name': 'AutoScalingGroupName', 'Value': 'web-asg'}], 'Timestamp': t, 'Value': 42.5}])",
    );
    let dir = tempfile::tempdir().unwrap();
    let extra = "asg_prefix = \"web-\"\n[[aws.test.metrics]]\npreset = \"alb\"\nload_balancer = \"app/web/1\"\nservice = \"web\"\n\
                 [[aws.test.metrics]]\npreset = \"ec2\"\nasg = \"web-asg\"\n";
    let report = check(dir.path(), &board(&moto.url, extra), true);
    assert_eq!(account_error(&report), None, "{report}");
    let web = asg(&report, "web-asg");
    assert_eq!(
        (web["desired"].as_u64(), web["in_service"].as_u64(), web["min"].as_u64(), web["max"].as_u64()),
        (Some(2), Some(2), Some(1), Some(5))
    );
    assert_eq!(web["status"], "ok");
    assert_eq!(web["instances"].as_array().unwrap().len(), 2);
    assert!(web["instances"][0]["id"].as_str().unwrap().starts_with("i-"));
    assert_eq!(report["asgs"].as_array().unwrap().len(), 1, "the prefix picks only web-*");
    let value = |label: &str| {
        report["cloudwatch"].as_array().unwrap().iter().find(|m| m["label"] == label).unwrap()["value"].as_f64()
    };
    assert_eq!(value("app/web/1 requests"), Some(600.0));
    assert_eq!(value("app/web/1 5xx"), Some(30.0));
    assert_eq!(value("web-asg CPU %"), Some(42.5));
    // The ALB feeds the web service's signals: 600 requests a minute, 5% of them 5xx.
    let svc = &report["services"][0];
    assert_eq!((svc["request_rate"].as_f64(), svc["error_rate"].as_f64()), (Some(10.0), Some(0.05)), "{svc}");
    assert_eq!(svc["status"], "crit", "5% errors is at the crit threshold");
    assert!(report["aws_accounts"][0]["api_calls_last_minute"].as_u64().unwrap() >= 2);
}

#[test]
fn the_board_follows_scale_out_and_unhealthy_instances() {
    let moto = moto::start();
    seed_group(&moto, "web-asg", 1, 2, 5);
    let dir = tempfile::tempdir().unwrap();
    let config = board(&moto.url, "asgs = [\"web-asg\"]\n");
    assert_eq!(asg(&check(dir.path(), &config, true), "web-asg")["in_service"], 2);

    boto3(
        &moto,
        "boto3.client('autoscaling', **kw).set_desired_capacity(AutoScalingGroupName='web-asg', DesiredCapacity=4)",
    );
    let report = check(dir.path(), &config, true);
    let web = asg(&report, "web-asg");
    assert_eq!((web["desired"].as_u64(), web["in_service"].as_u64()), (Some(4), Some(4)), "{web}");

    boto3(
        &moto,
        "a = boto3.client('autoscaling', **kw)\n\
         i = a.describe_auto_scaling_groups(AutoScalingGroupNames=['web-asg'])['AutoScalingGroups'][0]['Instances'][0]['InstanceId']\n\
         a.set_instance_health(InstanceId=i, HealthStatus='Unhealthy')",
    );
    let report = check(dir.path(), &config, true);
    let web = asg(&report, "web-asg");
    assert_eq!(web["in_service"], 3, "{web}");
    let unhealthy: Vec<&Value> =
        web["instances"].as_array().unwrap().iter().filter(|i| i["health"] == "Unhealthy").collect();
    assert_eq!(unhealthy.len(), 1, "{web}");
}

#[test]
fn no_credentials_is_a_banner_not_a_crash() {
    let moto = moto::start();
    let dir = tempfile::tempdir().unwrap();
    let report = check(dir.path(), &board(&moto.url, "asgs = [\"web-asg\"]\n"), false);
    assert_eq!(account_error(&report).as_deref(), Some(opsboard::sources::aws::errors::NO_CREDENTIALS));
    // The rest of the board still ran.
    assert_eq!(report["services"][0]["name"], "web");
}

#[test]
fn rejected_credentials_are_named() {
    let moto = moto::start_on(None, true);
    let dir = tempfile::tempdir().unwrap();
    let report = check(dir.path(), &board(&moto.url, "asgs = [\"web-asg\"]\n"), true);
    let error = account_error(&report).expect("moto with auth rejects unknown keys");
    assert!(error.starts_with("AWS rejected the credentials"), "{error}");
}

#[test]
fn unreachable_endpoint_then_recovery() {
    let dir = tempfile::tempdir().unwrap();
    let port = common::closed_port().port();
    let url = format!("http://127.0.0.1:{port}");
    let config = board(&url, "asgs = [\"web-asg\"]\n");
    let report = check(dir.path(), &config, true);
    assert_eq!(account_error(&report), Some(format!("cannot reach {url}: connection refused")));

    let moto: Moto = moto::start_on(Some(port), false);
    seed_group(&moto, "web-asg", 1, 2, 5);
    let report = check(dir.path(), &config, true);
    assert_eq!(account_error(&report), None, "{report}");
    assert_eq!(asg(&report, "web-asg")["in_service"], 2);
}

#[test]
fn metric_queries_are_batched_five_hundred_per_call() {
    let moto = moto::start();
    let dir = tempfile::tempdir().unwrap();
    for (queries, calls) in [(500, 1), (501, 2), (1200, 3)] {
        let mut extra = String::new();
        for i in 0..queries {
            extra
                .push_str(&format!("[[aws.test.metrics]]\nnamespace = \"Bench\"\nmetric = \"m{i}\"\nstat = \"Sum\"\n"));
        }
        let report = check(dir.path(), &board(&moto.url, &extra), true);
        assert_eq!(account_error(&report), None, "{report}");
        assert_eq!(report["aws_accounts"][0]["api_calls_last_minute"], calls, "{queries} queries");
        assert_eq!(report["cloudwatch"].as_array().unwrap().len(), queries);
    }
}

#[test]
fn backups_from_s3_and_rds_on_moto() {
    let moto = moto::start();
    boto3(
        &moto,
        "s3 = boto3.client('s3', **kw)\n\
         s3.create_bucket(Bucket='backups', CreateBucketConfiguration={'LocationConstraint': 'eu-west-1'})\n\
         s3.put_object(Bucket='backups', Key='mongo/dump-1.gz', Body=b'x' * 100)\n\
         s3.put_object(Bucket='backups', Key='mongo/dump-2.gz', Body=b'x' * 200)\n\
         s3.put_object(Bucket='backups', Key='other/big.gz', Body=b'x' * 999)\n\
         rds = boto3.client('rds', **kw)\n\
         rds.create_db_instance(DBInstanceIdentifier='orders-db', DBInstanceClass='db.t3.micro', Engine='postgres', AllocatedStorage=20, MasterUsername='admin', MasterUserPassword='password123')\n\
         rds.create_db_snapshot(DBSnapshotIdentifier='orders-snap-1', DBInstanceIdentifier='orders-db')",
    );
    let dir = tempfile::tempdir().unwrap();
    let extra = "\n[[backups]]\nname = \"mongo on s3\"\nmax_age = \"1h\"\ns3 = { account = \"test\", bucket = \"backups\", prefix = \"mongo/\" }\n\
                 [[backups]]\nname = \"orders snapshots\"\nmax_age = \"1h\"\nrds = { account = \"test\", db_instance = \"orders-db\" }\n\
                 [[backups]]\nname = \"nothing there\"\nmax_age = \"1h\"\ns3 = { account = \"test\", bucket = \"backups\", prefix = \"none/\" }\n";
    let report = check(dir.path(), &board(&moto.url, extra), true);
    let backup = |name: &str| report["backups"].as_array().unwrap().iter().find(|b| b["name"] == name).unwrap().clone();
    let s3 = backup("mongo on s3");
    assert_eq!((s3["status"].as_str(), s3["size_bytes"].as_u64()), (Some("ok"), Some(200)), "{s3}");
    assert!(s3["age_s"].as_u64().unwrap() < 300);
    let rds = backup("orders snapshots");
    assert_eq!((rds["status"].as_str(), rds["size_bytes"].as_u64()), (Some("ok"), Some(20 << 30)), "{rds}");
    let none = backup("nothing there");
    assert_eq!((none["status"].as_str(), none["reason"].as_str()), (Some("crit"), Some("no backup found")));
}
