//! Deploys as ECS and CodeDeploy know them, against a real moto server on 127.0.0.1, and their
//! native rollbacks: an ECS service moved between task definitions and a CodeDeploy deployment
//! the test creates are one deploy with the version the instances tell; `ecs_rollback` from the
//! board (typed confirmation, audit with the request id) puts the service back on the task
//! definition it ran before, read back from moto; a CodeDeploy rollback creates a deployment of
//! the earlier revision.
//!
//! moto cannot produce every state: its ECS deployments never turn FAILED and CodeDeploy's stay
//! `Created` (it has no StopDeployment either). Those states' words and the choice of the
//! revision to go back to are tested on the SDK's own types in `deploy_words.rs`.
#![cfg(feature = "aws")]

mod common;

use common::moto::{self, Moto};
use common::tmux::Tmux;
use common::versioned::Versioned;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_opsboard");
const WAIT: Duration = Duration::from_secs(30);

/// A cluster `prod` with the ECS service `web` on `web:1` (image tag 1.4.1, `web:2` registered
/// with 1.4.2), and a CodeDeploy group `web/prod` with one deployment of web-1.4.1.zip.
fn seed(moto: &Moto) {
    moto::boto3(
        moto,
        "ecs = boto3.client('ecs', **kw)\n\
         ecs.create_cluster(clusterName='prod')\n\
         for tag in ['1.4.1', '1.4.2']:\n    \
             ecs.register_task_definition(family='web', containerDefinitions=[\
                 {'name': 'log-router', 'image': 'fluent/fluent-bit:3.0', 'essential': False, 'memory': 64},\
                 {'name': 'web', 'image': '123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:' + tag, 'memory': 256}])\n\
         ecs.create_service(cluster='prod', serviceName='web', taskDefinition='web:1', desiredCount=2)\n\
         cd = boto3.client('codedeploy', **kw)\n\
         cd.create_application(applicationName='web', computePlatform='Server')\n\
         cd.create_deployment_group(applicationName='web', deploymentGroupName='prod', serviceRoleArn='arn:aws:iam::123456789012:role/cd')\n\
         cd.create_deployment(applicationName='web', deploymentGroupName='prod', revision={'revisionType': 'S3', \
             's3Location': {'bucket': 'builds', 'key': 'web/web-1.4.1.zip', 'bundleType': 'zip'}})",
    );
}

fn config(dir: &Path, moto: &Moto, instance: u16) -> PathBuf {
    let path = dir.join("board.toml");
    std::fs::write(
        &path,
        format!(
            "[defaults]\ninterval = \"300ms\"\ntimeout = \"250ms\"\nscrape = false\n\
             [services.web]\nhealth_path = \"/health.json\"\ninstances = [\"http://127.0.0.1:{instance}\"]\n\
             [services.web.ecs]\naws = \"test\"\ncluster = \"prod\"\nservice = \"web\"\n\
             [services.web.codedeploy]\naws = \"test\"\napplication = \"web\"\ngroup = \"prod\"\n\
             [aws.test]\nregion = \"eu-west-1\"\nendpoint_url = \"{}\"\ninterval = \"1s\"\n\
             [actions.rollback]\nkind = \"ecs_rollback\"\nkey = \"R\"\ntimeout = \"20s\"\n",
            moto.url
        ),
    )
    .unwrap();
    path
}

fn board(dir: &Path, config: &Path) -> String {
    format!(
        "sh -c 'exec env XDG_DATA_HOME={d}/data AWS_CONFIG_FILE={d}/none AWS_SHARED_CREDENTIALS_FILE={d}/none \
         AWS_EC2_METADATA_DISABLED=true AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
         {BIN} --config {c} --log-file {d}/log'; sleep 30",
        d = dir.display(),
        c = config.display()
    )
}

/// The deploy history the board wrote, folded (last record of an id wins), oldest first.
fn history(dir: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(dir.join("data/opsboard/deploys.jsonl")).unwrap_or_default();
    let mut out: Vec<Value> = Vec::new();
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        match out.iter_mut().find(|d| d["id"] == v["id"]) {
            Some(d) => *d = v,
            None => out.push(v),
        }
    }
    out
}

fn audit(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("data/opsboard/audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn has_source(d: &Value, prefix: &str) -> bool {
    d["sources"].as_array().is_some_and(|s| s.iter().any(|k| k.as_str().unwrap().starts_with(prefix)))
}

#[test]
fn ecs_and_codedeploy_deployments_are_one_deploy_and_the_ecs_rollback_lands() {
    let dir = tempfile::tempdir().unwrap();
    let moto = moto::start();
    seed(&moto);
    let web = Versioned::start(dir.path(), "1.4.1");
    let tmux = Tmux::start("ecs-rollback", 140, 40, &board(dir.path(), &config(dir.path(), &moto, web.port)));
    tmux.wait_for("the service", |s| s.contains("web") && s.contains("OK"));

    // What ECS and CodeDeploy ran before the board started is on record, each as ECS or
    // CodeDeploy says: the primary's image tag and task definition, the S3 bundle.
    let first = common::eventually(WAIT, "the ECS deployment of web:1", || {
        let h = history(dir.path());
        h.iter().find(|d| d["revision"] == "web:1").cloned()
    });
    assert_eq!(first["version"], "1.4.1", "the version is the primary container's tag, not the log router's: {first}");
    assert!(has_source(&first, "ecs:ecs-svc/"), "{first}");

    // A deploy of 1.4.2: ECS moves to web:2, CodeDeploy gets a deployment, the instance tells it.
    moto::boto3(
        &moto,
        "boto3.client('ecs', **kw).update_service(cluster='prod', service='web', taskDefinition='web:2', forceNewDeployment=True)\n\
         boto3.client('codedeploy', **kw).create_deployment(applicationName='web', deploymentGroupName='prod', \
             revision={'revisionType': 'S3', 's3Location': {'bucket': 'builds', 'key': 'web/web-1.4.2.zip', 'bundleType': 'zip'}})",
    );
    web.deploy("1.4.2");
    let deploy = common::eventually(WAIT, "one deploy of 1.4.2 from all three sources", || {
        let h = history(dir.path());
        let of: Vec<&Value> = h.iter().filter(|d| d["version"] == "1.4.2").collect();
        let d = of.first()?;
        (has_source(d, "ecs:") && has_source(d, "codedeploy:") && d["seen"] == true).then(|| (*d).clone())
    });
    let h = history(dir.path());
    let records: Vec<&Value> = h
        .iter()
        .filter(|d| d["version"] == "1.4.2" || d["version"] == "web-1.4.2" || d["revision"] == "web:2")
        .collect();
    assert_eq!(records.len(), 1, "one rollout, one record: {records:#?}");
    assert_eq!(
        (deploy["revision"].as_str(), deploy["from_revision"].as_str()),
        (Some("web:2"), Some("web:1")),
        "{deploy}"
    );
    assert_eq!(deploy["from"], "1.4.1", "{deploy}");

    // The rollback: the dialog names the call and why that task definition.
    tmux.keys(&["R"]);
    let screen = tmux.wait_for("the dialog", |s| s.contains("rollback · web"));
    assert!(screen.contains("ecs UpdateService cluster=prod service=web taskDefinition=web:1"), "{screen}");
    assert!(screen.contains("the task definition it ran before this deployment"), "{screen}");
    tmux.text("web");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the result", |s| s.contains("succeeded"));

    let now_on = moto::boto3_out(
        &moto,
        "print(boto3.client('ecs', **kw).describe_services(cluster='prod', services=['web'])['services'][0]['taskDefinition'])",
    );
    // An ARN from AWS; moto keeps the name as it was given.
    assert_eq!(now_on.trim().rsplit('/').next(), Some("web:1"), "moto says the service runs {now_on}");
    let records = audit(dir.path());
    assert_eq!(records.len(), 2, "{records:?}");
    assert_eq!((records[0]["phase"].as_str(), records[1]["phase"].as_str()), (Some("start"), Some("end")));
    assert_eq!(
        (records[0]["from_version"].as_str(), records[0]["to_version"].as_str()),
        (Some("web:2"), Some("web:1"))
    );
    assert!(
        records[1]["outcome"].as_str().unwrap().starts_with("succeeded: prod/web is moving to web:1"),
        "{records:?}"
    );
    assert!(!records[1]["request_id"].as_str().unwrap_or_default().is_empty(), "the API's request id: {records:?}");

    // The board follows the rollback ECS now runs: a deploy back to web:1.
    common::eventually(WAIT, "the deploy back to web:1", || {
        let h = history(dir.path());
        let back = h.last()?;
        (back["revision"] == "web:1" && back["from_revision"] == "web:2").then_some(())
    });
    drop(tmux);
}

#[test]
fn an_ecs_service_deployed_by_codedeploy_is_refused_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let moto = moto::start();
    moto::boto3(
        &moto,
        "ecs = boto3.client('ecs', **kw)\n\
         ecs.create_cluster(clusterName='prod')\n\
         ecs.register_task_definition(family='web', containerDefinitions=[{'name': 'web', 'image': 'web:1.0', 'memory': 256}])\n\
         ecs.create_service(cluster='prod', serviceName='web', taskDefinition='web:1', desiredCount=1, deploymentController={'type': 'CODE_DEPLOY'})",
    );
    let web = Versioned::start(dir.path(), "1.0");
    let path = dir.path().join("board.toml");
    std::fs::write(
        &path,
        format!(
            "[defaults]\ninterval = \"300ms\"\ntimeout = \"250ms\"\nscrape = false\n\
             [services.web]\nhealth_path = \"/health.json\"\ninstances = [\"http://127.0.0.1:{}\"]\n\
             [services.web.ecs]\naws = \"test\"\ncluster = \"prod\"\nservice = \"web\"\n\
             [aws.test]\nregion = \"eu-west-1\"\nendpoint_url = \"{}\"\ninterval = \"1s\"\n\
             [actions.rollback]\nkind = \"ecs_rollback\"\nkey = \"R\"\n",
            web.port, moto.url
        ),
    )
    .unwrap();
    let tmux = Tmux::start("ecs-refused", 140, 40, &board(dir.path(), &path));
    tmux.wait_for("the service", |s| s.contains("web") && s.contains("OK"));
    // Until ECS has been read, and after: the dialog never opens, and says why.
    common::eventually(WAIT, "the refusal", || {
        tmux.keys(&["R"]);
        let s = tmux.screen();
        s.contains("prod/web is deployed by CodeDeploy: roll it back there").then_some(())
    });
    assert!(!tmux.screen().contains("rollback · web"));
    assert!(audit(dir.path()).is_empty());
}

/// The CodeDeploy rollback's call, run by the board's runner against moto: a new deployment of
/// the revision the earlier one deployed, audited with its request id. (The board's choice of
/// that deployment needs a `Succeeded` one, which moto never reports: `deploy_words.rs`.)
#[tokio::test]
async fn the_codedeploy_rollback_creates_a_deployment_of_the_earlier_revision_and_is_audited() {
    use opsboard::actions::audit::{AuditLog, Operator};
    use opsboard::actions::runner::{ActionRequest, run_native};
    use opsboard::state::rollback::NativeCall;
    let dir = tempfile::tempdir().unwrap();
    let moto = moto::start();
    seed(&moto);
    let ids = moto::boto3_out(
        &moto,
        "cd = boto3.client('codedeploy', **kw)\n\
         print(cd.create_deployment(applicationName='web', deploymentGroupName='prod', revision={'revisionType': 'S3', \
             's3Location': {'bucket': 'builds', 'key': 'web/web-1.4.2.zip', 'bundleType': 'zip'}})['deploymentId'])\n\
         print(' '.join(cd.list_deployments(applicationName='web', deploymentGroupName='prod')['deployments']))",
    );
    let mut lines = ids.lines();
    let newest = lines.next().unwrap().to_string();
    let earlier = lines.next().unwrap().split(' ').find(|id| *id != newest).unwrap().to_string();

    let text = format!(
        "[services.web]\ninstances = [\"http://127.0.0.1:1\"]\n[services.web.codedeploy]\naws = \"test\"\napplication = \"web\"\ngroup = \"prod\"\n\
         [aws.test]\nregion = \"eu-west-1\"\nendpoint_url = \"{}\"\n",
        moto.url
    );
    let loaded = opsboard::config::load_str("board.toml", &text).unwrap();
    let spec = loaded.fleet.aws[0].clone();
    // SAFETY: set before any thread of this test reads the environment.
    unsafe {
        std::env::set_var("AWS_ACCESS_KEY_ID", "test");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "test");
        std::env::set_var("AWS_CONFIG_FILE", dir.path().join("none"));
        std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", dir.path().join("none"));
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    }
    let call = NativeCall::CodeDeployRedeploy {
        account: "test".into(),
        application: "web".into(),
        group: "prod".into(),
        of: earlier.clone(),
        revision: "s3://builds/web/web-1.4.1.zip".into(),
    };
    let req = ActionRequest {
        action: "rollback".into(),
        service: 0,
        service_name: "web".into(),
        env: "default".into(),
        from_version: None,
        to_version: Some(call.versions().1),
        command: call.words(),
        timeout: Duration::from_secs(20),
        native: Some(call.clone()),
    };
    let audit_log = AuditLog::new(dir.path().join("audit.jsonl"));
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    run_native(
        req,
        audit_log,
        Operator::from_env(),
        tx,
        async move { opsboard::sources::aws::native(&spec, &call).await },
    )
    .await;
    let mut outcome = None;
    while let Ok(e) = rx.try_recv() {
        if let opsboard::state::Event::Action {
            event: opsboard::state::ActionEvent::Finished { outcome: o, .. }, ..
        } = e
        {
            outcome = Some(o);
        }
    }
    let outcome = outcome.expect("the run finished");
    assert!(outcome.starts_with("succeeded: deployment "), "{outcome}");

    // moto now holds a third deployment, of the earlier revision.
    let revisions = moto::boto3_out(
        &moto,
        "cd = boto3.client('codedeploy', **kw)\n\
         ids = cd.list_deployments(applicationName='web', deploymentGroupName='prod')['deployments']\n\
         for d in cd.batch_get_deployments(deploymentIds=ids)['deploymentsInfo']:\n    \
             print(d['deploymentId'], d['revision']['s3Location']['key'])",
    );
    let made: Vec<&str> = revisions.lines().filter(|l| *l != format!("{earlier} web/web-1.4.1.zip")).collect();
    assert_eq!(made.len(), 2, "{revisions}");
    assert!(made.iter().any(|l| l.ends_with(" web/web-1.4.1.zip") && !l.starts_with(&newest)), "{revisions}");
    let records: Vec<Value> = std::fs::read_to_string(dir.path().join("audit.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 2);
    assert!(
        records[0]["command"].as_str().unwrap().starts_with("codedeploy CreateDeployment application=web group=prod")
    );
    assert!(!records[1]["request_id"].as_str().unwrap_or_default().is_empty(), "{records:?}");
}
