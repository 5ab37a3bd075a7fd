//! An account's resources as signals, against a real moto server on 127.0.0.1: CloudWatch alarms
//! the test sets with `SetAlarmState` (ALARM, OK, INSUFFICIENT_DATA) turn their service CRIT or
//! WARN with the alarm's name and reason, and back (alarms of no service show on the account
//! alone); an SQS queue filled past its depth, aged past its limit, or with dead letters does too.
#![cfg(feature = "aws")]

mod common;

use common::moto::{self, Moto};
use common::{Reply, serve_at};
use serde_json::Value;
use std::path::Path;

const BIN: &str = env!("CARGO_BIN_EXE_opsboard");

/// `opsboard check --json` with this config, the moto account's credentials and nothing else.
async fn check(dir: &Path, config: &str) -> Value {
    let path = dir.join("board.toml");
    std::fs::write(&path, config).unwrap();
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.args(["check", "--json", "--config"]).arg(&path);
    for var in ["AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION"] {
        cmd.env_remove(var);
    }
    cmd.env("AWS_CONFIG_FILE", dir.join("no-config")).env("AWS_SHARED_CREDENTIALS_FILE", dir.join("no-credentials"));
    cmd.env("AWS_EC2_METADATA_DISABLED", "true").env("AWS_ACCESS_KEY_ID", "test").env("AWS_SECRET_ACCESS_KEY", "test");
    let out = cmd.output().await.unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
}

fn service<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["services"].as_array().unwrap().iter().find(|s| s["name"] == name).unwrap()
}

fn set(moto: &Moto, states: &[(&str, &str, &str)]) {
    let calls: Vec<String> = states
        .iter()
        .map(|(name, state, reason)| {
            format!("cw.set_alarm_state(AlarmName='{name}', StateValue='{state}', StateReason={reason:?})")
        })
        .collect();
    moto::boto3(moto, &format!("cw = boto3.client('cloudwatch', **kw)\n{}", calls.join("\n")));
}

const CROSSED: &str = "Threshold Crossed: 1 out of the last 1 datapoints [140.0 (02/12/26 10:00:00)] was greater than the threshold (100.0) (minimum 1 datapoint for OK -> ALARM transition).";

#[tokio::test]
async fn alarms_set_in_cloudwatch_turn_their_service_crit_or_warn_and_back() {
    let dir = tempfile::tempdir().unwrap();
    let moto = moto::start();
    let web = serve_at("127.0.0.1:0".parse().unwrap(), |_| Reply::json(200, r#"{"status":"UP"}"#)).await;
    let alarm = |name: &str| {
        format!(
            "cw.put_metric_alarm(AlarmName='{name}', MetricName='HTTPCode_Target_5XX_Count', Namespace='AWS/ApplicationELB', \
             Statistic='Sum', Period=60, EvaluationPeriods=1, Threshold=100.0, ComparisonOperator='GreaterThanThreshold')"
        )
    };
    moto::boto3(
        &moto,
        &format!(
            "cw = boto3.client('cloudwatch', **kw)\n{}\n{}\n{}\n{}",
            alarm("shop-web-5xx"),
            alarm("shop-latency"),
            alarm("shop-batch-backlog"),
            alarm("other-team-5xx"),
        ),
    );
    set(&moto, &[("shop-web-5xx", "OK", "fine"), ("shop-latency", "OK", "fine"), ("shop-batch-backlog", "OK", "fine")]);
    let config = format!(
        "[defaults]\ntimeout = \"1s\"\nscrape = false\n[services.web]\ninstances = [\"http://{}\"]\n\
         [aws.test]\nregion = \"eu-west-1\"\nendpoint_url = \"{}\"\n\
         [aws.test.alarms]\nprefix = \"shop-\"\nservices = {{ \"shop-latency\" = \"web\" }}\nwarn = [\"shop-latency\"]\n",
        web.addr, moto.url
    );

    let r = check(dir.path(), &config).await;
    assert_eq!(service(&r, "web")["status"], "ok", "{r}");
    let alarms = r["aws_accounts"][0]["alarms"].as_array().unwrap();
    let names: Vec<&str> = alarms.iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["shop-batch-backlog", "shop-latency", "shop-web-5xx"], "the prefix's alarms only");
    // moto 5.2.5 answers PutCompositeAlarm with HTTP 500: composite alarms, read from the same
    // answer's CompositeAlarms, are not made here.
    let of = |name: &str| alarms.iter().find(|a| a["name"] == name).unwrap().clone();
    assert_eq!(of("shop-web-5xx")["composite"], false);
    assert_eq!(of("shop-web-5xx")["service"], "web", "by the service's name in the alarm's");
    assert_eq!(of("shop-latency")["service"], "web", "as configured");
    assert_eq!(of("shop-batch-backlog")["service"], Value::Null, "no service's name in it");

    // ALARM is CRIT, with the alarm's name and CloudWatch's reason in fewer words.
    set(&moto, &[("shop-web-5xx", "ALARM", CROSSED)]);
    let r = check(dir.path(), &config).await;
    let w = service(&r, "web");
    assert_eq!(w["status"], "crit", "{w}");
    assert_eq!(
        w["reason"],
        "alarm shop-web-5xx: 1 out of the last 1 datapoints [140.0] was greater than the threshold (100.0)"
    );

    // One in `warn` is WARN; the other back to OK.
    set(&moto, &[("shop-web-5xx", "OK", "fine"), ("shop-latency", "ALARM", "p95 above 1s")]);
    let r = check(dir.path(), &config).await;
    let w = service(&r, "web");
    assert_eq!((w["status"].as_str(), w["reason"].as_str()), (Some("warn"), Some("alarm shop-latency: p95 above 1s")));

    // All OK again; one of no service lacks data: a note on the account, nobody's outage.
    set(&moto, &[("shop-latency", "OK", "fine"), ("shop-batch-backlog", "INSUFFICIENT_DATA", "no datapoints")]);
    let r = check(dir.path(), &config).await;
    assert_eq!(service(&r, "web")["status"], "ok");
    let backlog = r["aws_accounts"][0]["alarms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "shop-batch-backlog")
        .unwrap()
        .clone();
    assert_eq!((backlog["state"].as_str(), backlog["status"].as_str()), (Some("INSUFFICIENT_DATA"), Some("unknown")));
}

#[tokio::test]
async fn a_queue_backed_up_aged_or_with_dead_letters_turns_its_service() {
    let dir = tempfile::tempdir().unwrap();
    let moto = moto::start();
    let mailer = serve_at("127.0.0.1:0".parse().unwrap(), |_| Reply::json(200, r#"{"status":"UP"}"#)).await;
    let sqs = "sqs = boto3.client('sqs', **kw)\nurl = lambda n: sqs.get_queue_url(QueueName=n)['QueueUrl']\n";
    moto::boto3(&moto, &format!("{sqs}sqs.create_queue(QueueName='emails')\nsqs.create_queue(QueueName='emails-dlq')"));
    let config = format!(
        "[defaults]\ntimeout = \"1s\"\nscrape = false\n[services.mailer]\ninstances = [\"http://{}\"]\n\
         [aws.test]\nregion = \"eu-west-1\"\nendpoint_url = \"{}\"\n\
         [[aws.test.queues]]\nname = \"emails\"\nservice = \"mailer\"\nmax_depth = 3\nmax_age = \"5m\"\ndead_letter = \"emails-dlq\"\n",
        mailer.addr, moto.url
    );
    let queue = |r: &Value| r["queues"].as_array().unwrap().iter().find(|q| q["name"] == "emails").unwrap().clone();

    let r = check(dir.path(), &config).await;
    assert_eq!(service(&r, "mailer")["status"], "ok", "{r}");
    let q = queue(&r);
    assert_eq!(
        (q["visible"].as_u64(), q["dead_letters"].as_u64(), q["status"].as_str()),
        (Some(0), Some(0), Some("ok"))
    );

    // Five waiting, one of them received and not yet deleted: four visible, one in flight.
    let send = |queue: &str, n: usize| {
        format!("for i in range({n}):\n    sqs.send_message(QueueUrl=url('{queue}'), MessageBody='m%d' % i)\n")
    };
    moto::boto3(
        &moto,
        &format!("{sqs}{}{}sqs.receive_message(QueueUrl=url('emails'), MaxNumberOfMessages=1)", send("emails", 5), ""),
    );
    let r = check(dir.path(), &config).await;
    let q = queue(&r);
    assert_eq!((q["visible"].as_u64(), q["in_flight"].as_u64()), (Some(4), Some(1)), "{q}");
    let m = service(&r, "mailer");
    assert_eq!((m["status"].as_str(), m["reason"].as_str()), (Some("crit"), Some("emails: 4 messages > 3")));

    // Drained, but a message in the dead-letter queue: a warning.
    moto::boto3(&moto, &format!("{sqs}sqs.purge_queue(QueueUrl=url('emails'))\n{}", send("emails-dlq", 1)));
    let r = check(dir.path(), &config).await;
    let m = service(&r, "mailer");
    assert_eq!(
        (m["status"].as_str(), m["reason"].as_str()),
        (Some("warn"), Some("emails: 1 dead letter in emails-dlq"))
    );

    // CloudWatch says the oldest message is 15 minutes old: past max_age.
    moto::boto3(
        &moto,
        "cw = boto3.client('cloudwatch', **kw)\n\
         t = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=1)\n\
         cw.put_metric_data(Namespace='AWS/SQS', MetricData=[{'MetricName': 'ApproximateAgeOfOldestMessage', \
         'Dimensions': [{'Name': 'QueueName', 'Value': 'emails'}], 'Timestamp': t, 'Value': 900.0}])",
    );
    let r = check(dir.path(), &config).await;
    let m = service(&r, "mailer");
    assert_eq!(
        (m["status"].as_str(), m["reason"].as_str()),
        (Some("crit"), Some("emails: oldest message 15m old > 5m"))
    );
    assert_eq!(queue(&r)["oldest_age_s"].as_u64(), Some(900));
}

#[tokio::test]
async fn databases_are_judged_by_state_storage_and_their_copy_in_the_dr_region() {
    let dir = tempfile::tempdir().unwrap();
    let moto = moto::start();
    let app = serve_at("127.0.0.1:0".parse().unwrap(), |_| Reply::json(200, r#"{"status":"UP"}"#)).await;
    let rds = |region: &str| format!("rds = boto3.client('rds', **dict(kw, region_name='{region}'))\n");
    let made = "rds.create_db_instance(DBInstanceIdentifier='orders-db', Engine='postgres', DBInstanceClass='db.t3.micro', \
                AllocatedStorage=100, MasterUsername='admin', MasterUserPassword='password123')\n\
                rds.create_db_cluster(DBClusterIdentifier='orders', Engine='aurora-postgresql', MasterUsername='admin', \
                MasterUserPassword='password123')\n";
    moto::boto3(&moto, &format!("{}{made}", rds("eu-west-1")));
    let config = format!(
        "[defaults]\ntimeout = \"1s\"\nscrape = false\n[services.orders]\ninstances = [\"http://{}\"]\n\
         [aws.test]\nregion = \"eu-west-1\"\nendpoint_url = \"{}\"\n\
         [[aws.test.databases]]\nid = \"orders-db\"\nservice = \"orders\"\ndr_region = \"eu-central-1\"\n\
         [[aws.test.databases]]\ncluster = \"orders\"\ndr_region = \"eu-central-1\"\ndr_max_age = \"26h\"\n\
         [[aws.test.databases]]\nid = \"ghost-db\"\n",
        app.addr, moto.url
    );
    let db = |r: &Value, id: &str| r["databases"].as_array().unwrap().iter().find(|d| d["id"] == id).unwrap().clone();

    // No copy in the DR region yet.
    let r = check(dir.path(), &config).await;
    let d = db(&r, "orders-db");
    assert_eq!(
        (d["db_status"].as_str(), d["engine"].as_str(), d["allocated_gib"].as_u64()),
        (Some("available"), Some("postgres"), Some(100)),
        "{d}"
    );
    assert_eq!(
        (d["status"].as_str(), d["reason"].as_str()),
        (Some("crit"), Some("orders-db: no snapshot in eu-central-1"))
    );
    let s = service(&r, "orders");
    assert_eq!(
        (s["status"].as_str(), s["reason"].as_str()),
        (Some("crit"), Some("orders-db: no snapshot in eu-central-1"))
    );
    let c = db(&r, "orders");
    assert_eq!(
        (c["cluster"].as_bool(), c["db_status"].as_str(), c["status"].as_str()),
        (Some(true), Some("available"), Some("crit")),
        "{c}"
    );
    let ghost = db(&r, "ghost-db");
    assert_eq!((ghost["status"].as_str(), ghost["reason"].as_str()), (Some("crit"), Some("ghost-db: not-found")));

    // The copies land in eu-central-1. moto 5.2.5 cannot copy a snapshot across regions (its
    // CopyDBSnapshot looks the source up in the target region), so the test makes each there
    // from a database of the same name: what DescribeDBSnapshots then answers is a copy's shape.
    moto::boto3(
        &moto,
        &format!(
            "{}{made}rds.create_db_snapshot(DBInstanceIdentifier='orders-db', DBSnapshotIdentifier='orders-db-dr-copy')\n\
             rds.create_db_cluster_snapshot(DBClusterIdentifier='orders', DBClusterSnapshotIdentifier='orders-dr-copy')",
            rds("eu-central-1")
        ),
    );
    let r = check(dir.path(), &config).await;
    let d = db(&r, "orders-db");
    assert_eq!((d["dr_snapshot"].as_str(), d["status"].as_str()), (Some("orders-db-dr-copy"), Some("ok")), "{d}");
    assert!(d["dr_snapshot_age_s"].as_u64().unwrap() < 120);
    assert_eq!(db(&r, "orders")["dr_snapshot"], "orders-dr-copy");
    assert_eq!(service(&r, "orders")["status"], "ok");

    // CloudWatch says 4 GiB of 100 are free: below half of the 10% asked for.
    moto::boto3(
        &moto,
        "cw = boto3.client('cloudwatch', **kw)\n\
         t = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=1)\n\
         cw.put_metric_data(Namespace='AWS/RDS', MetricData=[{'MetricName': 'FreeStorageSpace', \
         'Dimensions': [{'Name': 'DBInstanceIdentifier', 'Value': 'orders-db'}], 'Timestamp': t, 'Value': 4294967296.0}])",
    );
    let r = check(dir.path(), &config).await;
    let s = service(&r, "orders");
    assert_eq!(
        (s["status"].as_str(), s["reason"].as_str()),
        (Some("crit"), Some("orders-db: 4% storage free (4.0G of 100G)"))
    );
}
