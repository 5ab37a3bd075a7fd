//! ECS services' deployments (`DescribeServices`, up to ten services a call, per cluster) and
//! each task definition's primary image (`DescribeTaskDefinition`, once per task definition:
//! a revision never changes). Also the rollback: `UpdateService` back to an earlier revision.

use super::AwsClients;
use super::errors::{AwsFailure, describe};
use crate::config::aws::EcsWatch;
use crate::state::rollouts::{EcsDeployment, EcsStatus, revision_of};
use aws_sdk_ecs::primitives::DateTime;
use aws_sdk_ecs::types::TaskDefinition;
use std::collections::HashMap;
use std::time::SystemTime;

/// DescribeServices takes at most this many services.
const SERVICES_PER_CALL: usize = 10;
/// Task definitions remembered; each is a few dozen bytes.
const IMAGES_KEPT: usize = 1024;

fn when(t: Option<&DateTime>) -> Option<SystemTime> {
    t.and_then(|t| SystemTime::try_from(*t).ok())
}

/// The tag of an image reference, or its digest shortened: `repo/web:1.4.2` is `1.4.2`,
/// `repo/web@sha256:0123456789ab…` is `sha256:0123456789ab`, a bare `web` is `latest`.
pub fn image_tag(image: &str) -> String {
    if let Some((_, digest)) = image.split_once('@') {
        return digest.chars().take("sha256:".len() + 12).collect();
    }
    let name = image.rsplit('/').next().unwrap_or(image);
    match name.split_once(':') {
        Some((_, tag)) => tag.to_string(),
        None => "latest".to_string(),
    }
}

/// The primary container: the essential one named as the ECS service, else the first
/// essential one, else the first.
pub fn primary_image(td: &TaskDefinition, ecs_service: &str) -> Option<String> {
    let containers = td.container_definitions();
    let essential = |c: &&aws_sdk_ecs::types::ContainerDefinition| c.essential().unwrap_or(true);
    containers
        .iter()
        .filter(essential)
        .find(|c| c.name() == Some(ecs_service))
        .or_else(|| containers.iter().find(essential))
        .or_else(|| containers.first())
        .and_then(|c| c.image())
        .map(image_tag)
}

/// The image tags of the task definitions seen, by ARN.
#[derive(Debug, Default)]
pub struct TaskImages(HashMap<String, Option<String>>);

impl TaskImages {
    async fn tag(&mut self, c: &AwsClients, arn: &str, ecs_service: &str) -> Result<Option<String>, AwsFailure> {
        if let Some(tag) = self.0.get(arn) {
            return Ok(tag.clone());
        }
        let resp = c
            .ecs
            .describe_task_definition()
            .task_definition(arn)
            .send()
            .await
            .map_err(|e| describe(&e, &c.endpoint))?;
        let tag = resp.task_definition().and_then(|td| primary_image(td, ecs_service));
        if self.0.len() >= IMAGES_KEPT {
            self.0.clear();
        }
        self.0.insert(arn.to_string(), tag.clone());
        Ok(tag)
    }
}

/// Each watched service's status, or why it could not be read; a failure that holds for the
/// whole account (throttling, credentials) also comes back on its own.
pub async fn read(
    c: &AwsClients,
    account: &str,
    watches: &[EcsWatch],
    images: &mut TaskImages,
    now: SystemTime,
) -> (Vec<(String, Result<EcsStatus, String>)>, Option<AwsFailure>) {
    let mut out = Vec::new();
    let mut clusters: Vec<&str> = watches.iter().map(|w| w.cluster.as_str()).collect();
    clusters.sort_unstable();
    clusters.dedup();
    for cluster in clusters {
        let in_cluster: Vec<&EcsWatch> = watches.iter().filter(|w| w.cluster == cluster).collect();
        for chunk in in_cluster.chunks(SERVICES_PER_CALL) {
            let names: Vec<String> = chunk.iter().map(|w| w.ecs_service.clone()).collect();
            let resp = match c.ecs.describe_services().cluster(cluster).set_services(Some(names)).send().await {
                Ok(r) => r,
                Err(e) => {
                    let f = describe(&e, &c.endpoint);
                    out.extend(chunk.iter().map(|w| (w.service.clone(), Err(f.text.clone()))));
                    if f.throttled {
                        return (out, Some(f));
                    }
                    continue;
                }
            };
            for w in chunk {
                let found = resp.services().iter().find(|s| s.service_name() == Some(w.ecs_service.as_str()));
                let Some(s) = found.filter(|s| s.status() != Some("INACTIVE")) else {
                    let why = (resp.failures().iter())
                        .find(|f| f.arn().is_some_and(|a| a.ends_with(&format!("/{}", w.ecs_service))))
                        .and_then(|f| f.reason())
                        .unwrap_or(if found.is_some() { "INACTIVE" } else { "MISSING" });
                    let text = match why {
                        "MISSING" => format!("no ECS service {} in cluster {cluster}", w.ecs_service),
                        other => format!("ECS service {} in cluster {cluster}: {other}", w.ecs_service),
                    };
                    out.push((w.service.clone(), Err(text)));
                    continue;
                };
                match status(c, account, cluster, w, s, images, now).await {
                    Ok(status) => out.push((w.service.clone(), Ok(status))),
                    Err(f) => {
                        out.push((w.service.clone(), Err(f.text.clone())));
                        if f.throttled {
                            return (out, Some(f));
                        }
                    }
                }
            }
        }
    }
    (out, None)
}

async fn status(
    c: &AwsClients,
    account: &str,
    cluster: &str,
    w: &EcsWatch,
    s: &aws_sdk_ecs::types::Service,
    images: &mut TaskImages,
    now: SystemTime,
) -> Result<EcsStatus, AwsFailure> {
    let service_td = s.task_definition().unwrap_or_default().to_string();
    let mut deployments = Vec::new();
    for d in s.deployments() {
        let primary = d.status() == Some("PRIMARY");
        // The primary runs the service's task definition (moto leaves the deployment's own at
        // the first one after an UpdateService).
        let td =
            if primary && !service_td.is_empty() { service_td.as_str() } else { d.task_definition().unwrap_or("") };
        let image_tag = if td.is_empty() { None } else { images.tag(c, td, &w.ecs_service).await? };
        deployments.push(deployment_of(d, td, image_tag, now));
    }
    deployments.sort_by_key(|d| std::cmp::Reverse(d.created));
    Ok(EcsStatus {
        account: account.to_string(),
        cluster: cluster.to_string(),
        service: w.ecs_service.clone(),
        controller: s.deployment_controller().map_or_else(|| "ECS".to_string(), |d| d.r#type().as_str().to_string()),
        task_definition: service_td,
        running: s.running_count().max(0) as u32,
        desired: s.desired_count().max(0) as u32,
        deployments,
        at: now,
    })
}

/// One deployment as the board keeps it, running `td` (whose primary image has `image_tag`).
pub fn deployment_of(
    d: &aws_sdk_ecs::types::Deployment,
    td: &str,
    image_tag: Option<String>,
    now: SystemTime,
) -> EcsDeployment {
    EcsDeployment {
        id: d.id().unwrap_or_default().to_string(),
        primary: d.status() == Some("PRIMARY"),
        revision: revision_of(td),
        image_tag,
        running: d.running_count().max(0) as u32,
        desired: d.desired_count().max(0) as u32,
        failed_tasks: d.failed_tasks().max(0) as u32,
        rollout: d.rollout_state().map(|r| r.as_str().to_string()),
        reason: d.rollout_state_reason().map(str::to_string),
        created: when(d.created_at()).unwrap_or(now),
        updated: when(d.updated_at()),
    }
}

/// Moves the ECS service to `task_definition` (a new deployment, even where the revision is
/// the one it runs): the task definition it now has, and the request's id.
pub async fn update_service(
    c: &AwsClients,
    cluster: &str,
    service: &str,
    task_definition: &str,
) -> Result<(String, Option<String>), AwsFailure> {
    use aws_sdk_ecs::operation::RequestId;
    let resp = (c.ecs.update_service().cluster(cluster).service(service))
        .task_definition(task_definition)
        .force_new_deployment(true)
        .send()
        .await
        .map_err(|e| describe(&e, &c.endpoint))?;
    let now = resp.service().and_then(|s| s.task_definition()).map_or_else(String::new, revision_of);
    Ok((now, resp.request_id().map(str::to_string)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::deploys::{DeployState, Deploys};
    use aws_sdk_ecs::types::{Deployment, DeploymentRolloutState};
    use std::time::Duration;

    fn at(m: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + 60 * m)
    }

    fn ecs(id: &str, status: &str, rollout: DeploymentRolloutState, created: u64) -> Deployment {
        Deployment::builder()
            .id(id)
            .status(status)
            .rollout_state(rollout)
            .created_at(DateTime::from(at(created)))
            .updated_at(DateTime::from(at(created + 5)))
            .desired_count(4)
            .running_count(2)
            .build()
    }

    fn service(deployments: Vec<EcsDeployment>) -> EcsStatus {
        EcsStatus {
            account: "prod".into(),
            cluster: "prod".into(),
            service: "web".into(),
            controller: "ECS".into(),
            task_definition: deployments.iter().find(|d| d.primary).map(|d| d.revision.clone()).unwrap_or_default(),
            running: 2,
            desired: 4,
            deployments,
            at: at(30),
        }
    }

    /// moto's deployments never fail: the circuit breaker's FAILED and its rollback, on the SDK's own types.
    #[test]
    fn a_circuit_breaker_rollback_reads_as_a_failed_deploy_and_one_back() {
        let td = |n: u32| format!("arn:aws:ecs:eu-west-1:123456789012:task-definition/web:{n}");
        let mut deploys = Deploys::new(vec![]);
        let good = deployment_of(
            &ecs("ecs-svc/1", "PRIMARY", DeploymentRolloutState::Completed, 0),
            &td(41),
            Some("1.4.1".into()),
            at(0),
        );
        deploys.follow("web", &service(vec![good]).rollouts());

        let bad = Deployment::builder()
            .id("ecs-svc/2")
            .status("ACTIVE")
            .rollout_state(DeploymentRolloutState::Failed)
            .rollout_state_reason("ECS deployment circuit breaker: tasks failed to start.")
            .failed_tasks(3)
            .created_at(DateTime::from(at(10)))
            .updated_at(DateTime::from(at(14)))
            .build();
        let bad = deployment_of(&bad, &td(42), Some("1.4.2".into()), at(15));
        let back = deployment_of(
            &ecs("ecs-svc/3", "PRIMARY", DeploymentRolloutState::InProgress, 14),
            &td(41),
            Some("1.4.1".into()),
            at(15),
        );
        let status = service(vec![back, bad]);
        assert_eq!(status.summary(), "ecs prod/web: 2/4 tasks, rolling to web:41");
        deploys.follow("web", &status.rollouts());

        let list: Vec<_> = deploys.list.iter().map(|d| (d.version.as_str(), d.revision.as_deref(), d.state)).collect();
        assert_eq!(
            list,
            [
                ("1.4.1", Some("web:41"), DeployState::Done),
                ("1.4.2", Some("web:42"), DeployState::Failed),
                ("1.4.1", Some("web:41"), DeployState::Rolling),
            ]
        );
        let failed = &deploys.list[1];
        assert_eq!(
            failed.detail.as_deref(),
            Some("3 failed tasks; ECS deployment circuit breaker: tasks failed to start.")
        );
        assert_eq!((failed.from.as_deref(), failed.from_revision.as_deref()), (Some("1.4.1"), Some("web:41")));
        assert_eq!(deploys.list[2].from_revision.as_deref(), Some("web:42"));
        assert_eq!(deploys.list[2].progress, Some((2, 4)));
    }

    #[test]
    fn a_deployment_replaced_mid_rollout_by_one_back_is_rolled_back() {
        let mut deploys = Deploys::new(vec![]);
        let d = |id: &str, status: &str, rollout, created, rev: &str, tag: &str| {
            deployment_of(&ecs(id, status, rollout, created), rev, Some(tag.into()), at(created))
        };
        deploys.follow(
            "web",
            &service(vec![d("a", "PRIMARY", DeploymentRolloutState::Completed, 0, "web:7", "7")]).rollouts(),
        );
        deploys.follow(
            "web",
            &service(vec![d("b", "PRIMARY", DeploymentRolloutState::InProgress, 10, "web:8", "8")]).rollouts(),
        );
        assert_eq!(deploys.list[1].state, DeployState::Rolling);
        // Someone sends it back to web:7 while web:8 still rolls: b is ACTIVE, in progress.
        let now = service(vec![
            d("c", "PRIMARY", DeploymentRolloutState::InProgress, 12, "web:7", "7"),
            d("b", "ACTIVE", DeploymentRolloutState::InProgress, 10, "web:8", "8"),
        ]);
        deploys.follow("web", &now.rollouts());
        let states: Vec<_> = deploys.list.iter().map(|d| d.state).collect();
        assert_eq!(states, [DeployState::Done, DeployState::RolledBack, DeployState::Rolling]);
    }

    #[test]
    fn an_image_reads_as_its_tag() {
        assert_eq!(image_tag("123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:1.4.2"), "1.4.2");
        assert_eq!(image_tag("localhost:5000/web"), "latest");
        assert_eq!(image_tag("nginx"), "latest");
        assert_eq!(image_tag("web@sha256:0123456789abcdef0123"), "sha256:0123456789ab");
    }
}
