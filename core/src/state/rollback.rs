//! Rollbacks through ECS's and CodeDeploy's own APIs: what to call is decided when the dialog
//! opens, from what the board last read and its deploy history, and shown there in words; the
//! call itself is made by the AWS source (`sources::aws::native`), run as an action.

use super::ServiceState;
use super::deploys::{DeployState, Deploys};
use super::rollouts::{CodeDeployStatus, EcsStatus, revision_before, revision_of, source_of};
use crate::config::schema::ActionKind;

/// One API call that rolls a service back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NativeCall {
    /// `UpdateService` of `cluster`/`service` to the task definition `to`.
    EcsUpdate { account: String, cluster: String, service: String, from: String, to: String },
    /// `CreateDeployment` of the revision deployment `of` deployed.
    CodeDeployRedeploy { account: String, application: String, group: String, of: String, revision: String },
    /// `StopDeployment` of `id` with auto-rollback.
    CodeDeployStop { account: String, application: String, group: String, id: String },
}

impl NativeCall {
    pub fn account(&self) -> &str {
        match self {
            NativeCall::EcsUpdate { account, .. }
            | NativeCall::CodeDeployRedeploy { account, .. }
            | NativeCall::CodeDeployStop { account, .. } => account,
        }
    }

    /// The call as the dialog shows it and the audit log records it.
    pub fn words(&self) -> String {
        match self {
            NativeCall::EcsUpdate { cluster, service, to, .. } => {
                format!("ecs UpdateService cluster={cluster} service={service} taskDefinition={to}")
            }
            NativeCall::CodeDeployRedeploy { application, group, of, .. } => {
                format!("codedeploy CreateDeployment application={application} group={group} revision-of={of}")
            }
            NativeCall::CodeDeployStop { id, .. } => {
                format!("codedeploy StopDeployment deploymentId={id} autoRollbackEnabled=true")
            }
        }
    }

    /// Where it goes from and to, for the dialog and the audit record.
    pub fn versions(&self) -> (Option<String>, String) {
        match self {
            NativeCall::EcsUpdate { from, to, .. } => (Some(from.clone()), to.clone()),
            NativeCall::CodeDeployRedeploy { revision, .. } => (None, revision.clone()),
            NativeCall::CodeDeployStop { .. } => (None, "the last successful revision".into()),
        }
    }
}

/// What a rollback of `svc` would call, and why that target, or why it cannot run.
pub fn plan(kind: ActionKind, svc: &ServiceState, deploys: &Deploys) -> Result<(NativeCall, String), String> {
    let sources = &svc.deploy_sources;
    let unread = |source: &str, table: &str| {
        let why = sources.errors.iter().find(|(s, _)| *s == source).map(|(_, e)| format!(": {e}"));
        match why {
            Some(e) => format!("{}'s {table} could not be read{e}", svc.name),
            None => format!("{}'s {table} has not been read yet", svc.name),
        }
    };
    match kind {
        ActionKind::Command => Err("not a native rollback".into()),
        ActionKind::EcsRollback => {
            let status = sources.ecs.as_ref().ok_or_else(|| unread("ecs", "ECS service"))?;
            ecs_plan(status, &svc.name, deploys)
        }
        ActionKind::CodedeployRollback => {
            let status = sources.codedeploy.as_ref().ok_or_else(|| unread("codedeploy", "CodeDeploy group"))?;
            codedeploy_plan(status)
        }
    }
}

/// Back to the task definition the service ran before its current deployment: the one the
/// board saw it come from, else the last one it saw done, else revision N-1 of the family.
pub fn ecs_plan(status: &EcsStatus, service: &str, deploys: &Deploys) -> Result<(NativeCall, String), String> {
    let name = format!("{}/{}", status.cluster, status.service);
    match status.controller.as_str() {
        "ECS" => {}
        "CODE_DEPLOY" => {
            return Err(format!("{name} is deployed by CodeDeploy: roll it back there (a codedeploy_rollback action)"));
        }
        other => return Err(format!("{name} is deployed by an {other} controller: the board cannot roll it back")),
    }
    let current = revision_of(&status.task_definition);
    let primary_key = status.primary().map(|p| format!("ecs:{}@{}", p.id, current));
    let from_record = primary_key.and_then(|k| deploys.by_source(&k)).and_then(|d| d.from_revision.clone());
    let seen_done = || {
        deploys
            .recent()
            .filter(|d| d.service == service && d.sources.iter().any(|k| source_of(k) == "ecs"))
            .filter(|d| d.state == DeployState::Done)
            .filter_map(|d| d.revision.clone())
            .find(|r| *r != current)
    };
    let (to, why) = match from_record.filter(|r| *r != current) {
        Some(r) => (r, "the task definition it ran before this deployment".to_string()),
        None => match seen_done() {
            Some(r) => (r, "the last other task definition the board saw deployed".to_string()),
            None => {
                let family = current.rsplit_once(':').map_or(current.as_str(), |(f, _)| f);
                let r = revision_before(&current)
                    .ok_or_else(|| format!("{name} runs {current}: no earlier revision of {family} to go back to"))?;
                (r, format!("revision N-1 of {family}: the board saw no earlier deploy"))
            }
        },
    };
    let call = NativeCall::EcsUpdate {
        account: status.account.clone(),
        cluster: status.cluster.clone(),
        service: status.service.clone(),
        from: current,
        to,
    };
    Ok((call, why))
}

/// A deployment under way is stopped with auto-rollback; else the newest successful
/// deployment of another revision than the newest one is deployed again.
pub fn codedeploy_plan(status: &CodeDeployStatus) -> Result<(NativeCall, String), String> {
    let name = format!("{}/{}", status.application, status.group);
    let newest = status.deployments.first().ok_or_else(|| format!("{name} has no deployments to roll back"))?;
    let (account, application, group) = (status.account.clone(), status.application.clone(), status.group.clone());
    if newest.in_progress() {
        let why = format!(
            "{} is {}: CodeDeploy stops it and redeploys the last successful revision",
            newest.id, newest.status
        );
        return Ok((NativeCall::CodeDeployStop { account, application, group, id: newest.id.clone() }, why));
    }
    let good = (status.deployments.iter().skip(1))
        .find(|d| d.status == "Succeeded" && d.revision != newest.revision)
        .ok_or_else(|| {
        format!(
            "{name}: no successful deployment of another revision than {} among the last {}",
            newest.revision,
            status.deployments.len()
        )
    })?;
    let why = format!("the last successful revision before {} ({})", newest.id, good.id);
    let call = NativeCall::CodeDeployRedeploy {
        account,
        application,
        group,
        of: good.id.clone(),
        revision: good.revision.clone(),
    };
    Ok((call, why))
}
