//! CodeDeploy deployment groups' deployments (`ListDeployments`, then `BatchGetDeployments` for
//! those new or still under way: a finished one never changes) and the rollback: a new
//! deployment of the last successful revision (`GetDeployment` for it, `CreateDeployment`), or
//! `StopDeployment` with auto-rollback for one in progress.

use super::AwsClients;
use super::errors::{AwsFailure, describe};
use crate::config::aws::CodeDeployWatch;
use crate::state::rollouts::{CodeDeployStatus, CodeDeployment};
use aws_sdk_codedeploy::primitives::DateTime;
use aws_sdk_codedeploy::types::{DeploymentInfo, RevisionLocation};
use std::collections::HashMap;
use std::time::SystemTime;

/// BatchGetDeployments takes at most this many ids.
const PER_BATCH: usize = 25;
/// Deployments shown and kept per group, newest first.
pub const KEPT: usize = 10;

fn when(t: Option<&DateTime>) -> Option<SystemTime> {
    t.and_then(|t| SystemTime::try_from(*t).ok())
}

fn short(s: &str) -> String {
    s.chars().take(12).collect()
}

/// A revision in words, and the version it reads as: `s3://builds/web-1.4.2.zip` is
/// `web-1.4.2`; a GitHub commit its first 12 characters; an ECS AppSpec its task definition.
pub fn revision_words(r: Option<&RevisionLocation>) -> (String, String) {
    let Some(r) = r else { return ("(no revision)".into(), "?".into()) };
    if let Some(s3) = r.s3_location() {
        let key = s3.key().unwrap_or_default();
        let file = key.rsplit('/').next().unwrap_or(key);
        let stem = crate::state::deploys::bundle_stem(file);
        return (format!("s3://{}/{key}", s3.bucket().unwrap_or_default()), stem.to_string());
    }
    if let Some(gh) = r.git_hub_location() {
        let commit = gh.commit_id().unwrap_or_default();
        return (format!("github {}@{}", gh.repository().unwrap_or_default(), short(commit)), short(commit));
    }
    let (content, sha) = match (r.app_spec_content(), r.string()) {
        (Some(a), _) => (a.content(), a.sha256()),
        (None, Some(s)) => (s.content(), s.sha256()),
        (None, None) => (None, None),
    };
    let task_definition = content.and_then(|c| {
        let at = c.find("task-definition/")? + "task-definition/".len();
        let rest = &c[at..];
        Some(
            rest[..rest.find(|ch: char| !(ch.is_alphanumeric() || "-_:".contains(ch))).unwrap_or(rest.len())]
                .to_string(),
        )
    });
    match (task_definition, sha) {
        (Some(td), _) => (format!("appspec {td}"), td),
        (None, Some(sha)) => (format!("appspec sha256:{}", short(sha)), short(sha)),
        (None, None) => ("appspec".into(), "appspec".into()),
    }
}

/// One deployment as the board keeps it.
pub fn deployment_of(d: &DeploymentInfo, now: SystemTime) -> CodeDeployment {
    let (revision, version) = revision_words(d.revision());
    let targets = d.deployment_overview().map(|o| {
        let all = o.pending() + o.in_progress() + o.succeeded() + o.failed() + o.skipped() + o.ready();
        (o.succeeded().max(0) as u32, all.max(0) as u32)
    });
    let error = d.error_information().and_then(|e| {
        let code = e.code().map(|c| c.as_str().to_string());
        match (code, e.message()) {
            (Some(c), Some(m)) => Some(format!("{c}: {m}")),
            (Some(c), None) => Some(c),
            (None, Some(m)) => Some(m.to_string()),
            (None, None) => None,
        }
    });
    CodeDeployment {
        id: d.deployment_id().unwrap_or_default().to_string(),
        status: d.status().map_or_else(|| "Created".to_string(), |s| s.as_str().to_string()),
        revision,
        version,
        creator: d.creator().map(|c| c.as_str().to_string()),
        created: when(d.create_time()).unwrap_or(now),
        completed: when(d.complete_time()),
        targets: targets.filter(|(_, all)| *all > 0),
        error,
        rolled_back_by: d.rollback_info().and_then(|r| r.rollback_deployment_id()).map(str::to_string),
    }
}

/// Finished deployments, by id: they are read once.
#[derive(Debug, Default)]
pub struct Finished(HashMap<String, CodeDeployment>);

/// Each group's recent deployments, or why they could not be read, and a failure that holds for
/// the account (throttling) on its own.
pub async fn read(
    c: &AwsClients,
    account: &str,
    watches: &[CodeDeployWatch],
    finished: &mut Finished,
    now: SystemTime,
) -> (Vec<(String, Result<CodeDeployStatus, String>)>, Option<AwsFailure>) {
    let mut out = Vec::new();
    for w in watches {
        match group(c, account, w, finished, now).await {
            Ok(s) => out.push((w.service.clone(), Ok(s))),
            Err(f) => {
                out.push((w.service.clone(), Err(f.text.clone())));
                if f.throttled {
                    return (out, Some(f));
                }
            }
        }
    }
    (out, None)
}

async fn group(
    c: &AwsClients,
    account: &str,
    w: &CodeDeployWatch,
    finished: &mut Finished,
    now: SystemTime,
) -> Result<CodeDeployStatus, AwsFailure> {
    let resp = (c.codedeploy.list_deployments().application_name(&w.application))
        .deployment_group_name(&w.group)
        .send()
        .await
        .map_err(|e| describe(&e, &c.endpoint))?;
    let ids = resp.deployments();
    let mut deployments: Vec<CodeDeployment> = ids.iter().filter_map(|id| finished.0.get(id).cloned()).collect();
    let unread: Vec<String> = ids.iter().filter(|id| !finished.0.contains_key(*id)).cloned().collect();
    for chunk in unread.chunks(PER_BATCH) {
        let resp = c
            .codedeploy
            .batch_get_deployments()
            .set_deployment_ids(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| describe(&e, &c.endpoint))?;
        for info in resp.deployments_info() {
            let d = deployment_of(info, now);
            if !d.in_progress() {
                finished.0.insert(d.id.clone(), d.clone());
            }
            deployments.push(d);
        }
    }
    // Ids no longer listed are forgotten.
    finished.0.retain(|id, _| ids.contains(id));
    deployments.sort_by_key(|d| std::cmp::Reverse(d.created));
    deployments.truncate(KEPT);
    Ok(CodeDeployStatus {
        account: account.to_string(),
        application: w.application.clone(),
        group: w.group.clone(),
        deployments,
        at: now,
    })
}

/// A new deployment of the revision `of` deployed: the new deployment's id and the request's.
pub async fn redeploy(
    c: &AwsClients,
    application: &str,
    group: &str,
    of: &str,
) -> Result<(String, Option<String>), AwsFailure> {
    use aws_sdk_codedeploy::operation::RequestId;
    let earlier =
        c.codedeploy.get_deployment().deployment_id(of).send().await.map_err(|e| describe(&e, &c.endpoint))?;
    let revision = earlier.deployment_info().and_then(|d| d.revision()).cloned().ok_or_else(|| AwsFailure {
        text: format!("deployment {of} names no revision to go back to"),
        throttled: false,
    })?;
    let resp = (c.codedeploy.create_deployment().application_name(application).deployment_group_name(group))
        .revision(revision)
        .description(format!("rollback to the revision of {of}, from opsboard"))
        .send()
        .await
        .map_err(|e| describe(&e, &c.endpoint))?;
    Ok((resp.deployment_id().unwrap_or_default().to_string(), resp.request_id().map(str::to_string)))
}

/// Stops a deployment under way; CodeDeploy rolls the group back to its last successful
/// revision. The stop's status and the request's id.
pub async fn stop(c: &AwsClients, id: &str) -> Result<(String, Option<String>), AwsFailure> {
    use aws_sdk_codedeploy::operation::RequestId;
    let resp = (c.codedeploy.stop_deployment().deployment_id(id))
        .auto_rollback_enabled(true)
        .send()
        .await
        .map_err(|e| describe(&e, &c.endpoint))?;
    let status = match (resp.status(), resp.status_message()) {
        (Some(s), Some(m)) => format!("{}: {m}", s.as_str()),
        (Some(s), None) => s.as_str().to_string(),
        (None, _) => "stop requested".to_string(),
    };
    Ok((status, resp.request_id().map(str::to_string)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::deploys::DeployState;
    use crate::state::rollback::{NativeCall, codedeploy_plan};
    use aws_sdk_codedeploy::types::{
        AppSpecContent, DeploymentOverview, DeploymentStatus, ErrorCode, ErrorInformation, GitHubLocation,
        RevisionLocationType, RollbackInfo, S3Location,
    };
    use std::time::Duration;

    fn at(m: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + 60 * m)
    }

    fn s3(key: &str) -> RevisionLocation {
        RevisionLocation::builder()
            .revision_type(RevisionLocationType::S3)
            .s3_location(S3Location::builder().bucket("builds").key(key).build())
            .build()
    }

    fn info(
        id: &str,
        status: DeploymentStatus,
        key: &str,
        created: u64,
    ) -> aws_sdk_codedeploy::types::builders::DeploymentInfoBuilder {
        DeploymentInfo::builder()
            .deployment_id(id)
            .status(status)
            .revision(s3(key))
            .create_time(DateTime::from(at(created)))
            .complete_time(DateTime::from(at(created + 4)))
    }

    fn group(deployments: Vec<CodeDeployment>) -> CodeDeployStatus {
        CodeDeployStatus {
            account: "prod".into(),
            application: "web".into(),
            group: "prod".into(),
            deployments,
            at: at(60),
        }
    }

    /// moto's deployments stay `Created`: the other states, on the SDK's own types.
    #[test]
    fn states_read_as_deploys_in_words() {
        let failed = info("d-3", DeploymentStatus::Failed, "web/web-1.4.3.zip", 30)
            .error_information(
                ErrorInformation::builder()
                    .code(ErrorCode::HealthConstraints)
                    .message("too many unhealthy instances")
                    .build(),
            )
            .rollback_info(RollbackInfo::builder().rollback_deployment_id("d-4").build())
            .build();
        let failed = deployment_of(&failed, at(40));
        assert_eq!((failed.revision.as_str(), failed.version.as_str()), ("s3://builds/web/web-1.4.3.zip", "web-1.4.3"));
        assert_eq!(failed.error.as_deref(), Some("HEALTH_CONSTRAINTS: too many unhealthy instances"));
        let rolling = info("d-5", DeploymentStatus::InProgress, "web/web-1.4.4.zip", 50)
            .deployment_overview(DeploymentOverview::builder().succeeded(1).in_progress(1).pending(2).build())
            .build();
        let rolling = deployment_of(&rolling, at(51));
        let stopped = deployment_of(&info("d-2", DeploymentStatus::Stopped, "web/web-1.4.2.zip", 20).build(), at(40));
        let done = deployment_of(&info("d-1", DeploymentStatus::Succeeded, "web/web-1.4.1.zip", 10).build(), at(40));
        let g = group(vec![rolling, failed, stopped, done]);
        assert_eq!(g.summary(), "codedeploy web/prod: d-5 InProgress of s3://builds/web/web-1.4.4.zip (1/4 targets)");
        let states: Vec<_> = g.rollouts().iter().map(|r| (r.key.clone(), r.state, r.progress)).collect();
        assert_eq!(
            states,
            [
                ("codedeploy:d-5".to_string(), DeployState::Rolling, Some((1, 4))),
                ("codedeploy:d-3".to_string(), DeployState::RolledBack, None),
                ("codedeploy:d-2".to_string(), DeployState::Stopped, None),
                ("codedeploy:d-1".to_string(), DeployState::Done, None),
            ]
        );
    }

    #[test]
    fn the_rollback_stops_one_in_progress_else_redeploys_the_last_good_other_revision() {
        let d = |id: &str, status, key: &str, created| deployment_of(&info(id, status, key, created).build(), at(60));
        let under_way = group(vec![
            d("d-3", DeploymentStatus::InProgress, "web/web-1.4.3.zip", 30),
            d("d-1", DeploymentStatus::Succeeded, "web/web-1.4.1.zip", 10),
        ]);
        let (call, why) = codedeploy_plan(&under_way).unwrap();
        assert!(matches!(&call, NativeCall::CodeDeployStop { id, .. } if id == "d-3"), "{call:?}");
        assert_eq!(why, "d-3 is InProgress: CodeDeploy stops it and redeploys the last successful revision");

        // The newest succeeded (and is bad), one before it failed, and a redeploy of the same revision
        // succeeded too: back to the last successful *other* revision.
        let finished = group(vec![
            d("d-4", DeploymentStatus::Succeeded, "web/web-1.4.3.zip", 40),
            d("d-3", DeploymentStatus::Succeeded, "web/web-1.4.3.zip", 30),
            d("d-2", DeploymentStatus::Failed, "web/web-1.4.2.zip", 20),
            d("d-1", DeploymentStatus::Succeeded, "web/web-1.4.1.zip", 10),
        ]);
        let (call, why) = codedeploy_plan(&finished).unwrap();
        assert_eq!(call.words(), "codedeploy CreateDeployment application=web group=prod revision-of=d-1");
        assert_eq!(call.versions().1, "s3://builds/web/web-1.4.1.zip");
        assert_eq!(why, "the last successful revision before d-4 (d-1)");

        let nothing = group(vec![d("d-1", DeploymentStatus::Succeeded, "web/web-1.4.1.zip", 10)]);
        assert_eq!(
            codedeploy_plan(&nothing).unwrap_err(),
            "web/prod: no successful deployment of another revision than s3://builds/web/web-1.4.1.zip among the last 1"
        );
    }

    #[test]
    fn revisions_read_as_what_they_deploy() {
        let gh = RevisionLocation::builder()
            .revision_type(RevisionLocationType::GitHub)
            .git_hub_location(
                GitHubLocation::builder().repository("shop/web").commit_id("0123456789abcdef0123").build(),
            )
            .build();
        assert_eq!(revision_words(Some(&gh)), ("github shop/web@0123456789ab".into(), "0123456789ab".into()));
        let appspec = r#"{"Resources":[{"TargetService":{"Type":"AWS::ECS::Service","Properties":{"TaskDefinition":"arn:aws:ecs:eu-west-1:1:task-definition/web:42"}}}]}"#;
        let ecs = RevisionLocation::builder()
            .revision_type(RevisionLocationType::AppSpecContent)
            .app_spec_content(AppSpecContent::builder().content(appspec).build())
            .build();
        assert_eq!(revision_words(Some(&ecs)), ("appspec web:42".into(), "web:42".into()));
    }
}
