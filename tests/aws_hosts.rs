//! Hosts from CloudWatch (`[services.NAME.hosts] cloudwatch = true`), against a real moto server
//! on 127.0.0.1: EC2's CPUUtilization per instance ID, and the CloudWatch agent's memory and
//! disk metrics with the extra dimensions its config appends (found with ListMetrics), pseudo
//! filesystems skipped, as the same columns and verdicts a node exporter gives.
#![cfg(feature = "aws")]

mod common;

use common::moto;
use common::{Reply, serve_at};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_opsboard");
const AGENT: &str = "i-0123456789abcdef0";
const BASIC: &str = "i-0fedcba9876543210";

#[tokio::test]
async fn cpu_memory_and_the_fullest_disk_come_from_cloudwatch_per_instance() {
    let dir = tempfile::tempdir().unwrap();
    let moto = moto::start();
    let web = serve_at("127.0.0.1:0".parse().unwrap(), |_| Reply::json(200, r#"{"status":"UP"}"#)).await;
    // One instance with the agent (mem and disk, dimensions as its default config appends
    // them), one with EC2's basic monitoring only.
    moto::boto3(
        &moto,
        &format!(
            "cw = boto3.client('cloudwatch', **kw)\n\
             t = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=90)\n\
             def put(ns, name, dims, v):\n    \
                 cw.put_metric_data(Namespace=ns, MetricData=[{{'MetricName': name, 'Timestamp': t, 'Value': v, 'Unit': 'Percent', \
                 'Dimensions': [{{'Name': k, 'Value': x}} for k, x in dims]}}])\n\
             put('AWS/EC2', 'CPUUtilization', [('InstanceId', '{AGENT}')], 42.0)\n\
             put('AWS/EC2', 'CPUUtilization', [('InstanceId', '{BASIC}')], 5.0)\n\
             put('CWAgent', 'mem_used_percent', [('InstanceId', '{AGENT}'), ('ImageId', 'ami-0abc'), ('InstanceType', 't3.large')], 91.5)\n\
             for path, dev, fs, v in [('/', 'nvme0n1p1', 'xfs', 40.0), ('/data', 'nvme1n1', 'ext4', 96.5), ('/run', 'tmpfs', 'tmpfs', 100.0)]:\n    \
                 put('CWAgent', 'disk_used_percent', [('InstanceId', '{AGENT}'), ('ImageId', 'ami-0abc'), ('InstanceType', 't3.large'), \
                 ('path', path), ('device', dev), ('fstype', fs)], v)\n"
        ),
    );
    let path = dir.path().join("board.toml");
    let config = format!(
        "[defaults]\ntimeout = \"1s\"\nscrape = false\n\
         [services.web]\ninstances = [{{ url = \"http://{a}\", name = \"{AGENT}\" }}, {{ url = \"http://{a}/b\", name = \"{BASIC}\" }}, \
         {{ url = \"http://{a}/c\", name = \"web-3\" }}]\n\
         [services.web.hosts]\ncloudwatch = true\n\
         [aws.test]\nregion = \"eu-west-1\"\nendpoint_url = \"{}\"\n",
        moto.url,
        a = web.addr,
    );
    std::fs::write(&path, config).unwrap();
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.args(["check", "--json", "--config"]).arg(&path);
    cmd.env("AWS_CONFIG_FILE", dir.path().join("none")).env("AWS_SHARED_CREDENTIALS_FILE", dir.path().join("none"));
    cmd.env("AWS_EC2_METADATA_DISABLED", "true").env("AWS_ACCESS_KEY_ID", "test").env("AWS_SECRET_ACCESS_KEY", "test");
    let out = cmd.output().await.unwrap();
    let r: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let instances = r["services"][0]["instances"].as_array().unwrap();
    let agent = instances.iter().find(|i| i["name"] == AGENT).unwrap();
    let host = &agent["host"];
    assert_eq!((host["cpu"].as_f64(), host["memory"].as_f64()), (Some(0.42), Some(0.915)), "{agent}");
    assert_eq!(host["disk_mountpoint"], "/data", "the fullest real filesystem, tmpfs skipped: {agent}");
    assert!((host["disk"].as_f64().unwrap() - 0.965).abs() < 1e-9, "{agent}");
    assert_eq!(agent["status"], "crit", "{agent}");
    assert!(agent["reason"].as_str().unwrap().starts_with("disk /data 9"), "{agent}");

    let basic = instances.iter().find(|i| i["name"] == BASIC).unwrap();
    assert_eq!((basic["host"]["cpu"].as_f64(), basic["host"]["memory"].as_f64()), (Some(0.05), None), "{basic}");
    assert_eq!(basic["status"], "ok", "{basic}");
    // An instance the board cannot name in EC2 says so, and is judged on its checks alone.
    let unnamed = instances.iter().find(|i| i["name"] == "web-3").unwrap();
    let error = unnamed["host"]["error"].as_str().unwrap_or_default();
    assert!(error.contains("by EC2 instance ID"), "{unnamed}");
    assert_eq!(unnamed["status"], "ok", "{unnamed}");
}
