//! Deploys as ECS and CodeDeploy record them: an ECS service's deployments (primary and
//! active, tasks running of desired, rollout state, failed tasks) and a CodeDeploy group's
//! deployments (revision, status, creator, times), read each AWS round and merged into the
//! board's deploy history by [`super::deploys::Deploys::rollout`].

use super::deploys::DeployState;
use std::time::SystemTime;

/// What ECS and CodeDeploy said last of a service's deploys, and why the last read failed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeploySources {
    pub ecs: Option<EcsStatus>,
    pub codedeploy: Option<CodeDeployStatus>,
    /// The last read's failure, by source (`ecs`, `codedeploy`), cleared by the next success.
    pub errors: Vec<(&'static str, String)>,
}

impl DeploySources {
    pub fn failed(&mut self, source: &'static str, error: String) {
        self.errors.retain(|(s, _)| *s != source);
        self.errors.push((source, error));
    }

    /// Keeps a source's new read, and forgets its last failure.
    pub fn keep(&mut self, read: SourceRead) {
        self.errors.retain(|(s, _)| *s != read.source());
        match read {
            SourceRead::Ecs(s) => self.ecs = Some(s),
            SourceRead::CodeDeploy(s) => self.codedeploy = Some(s),
        }
    }

    /// The lines the detail view shows: each source's state, or why it could not be read.
    pub fn lines(&self) -> Vec<String> {
        let mut out: Vec<String> = self.ecs.iter().map(EcsStatus::summary).collect();
        out.extend(self.codedeploy.iter().map(CodeDeployStatus::summary));
        out.extend(self.errors.iter().map(|(s, e)| format!("{s}: cannot read: {e}")));
        out
    }
}

/// One read of a service's deploy source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceRead {
    Ecs(EcsStatus),
    CodeDeploy(CodeDeployStatus),
}

impl SourceRead {
    pub fn source(&self) -> &'static str {
        match self {
            SourceRead::Ecs(_) => "ecs",
            SourceRead::CodeDeploy(_) => "codedeploy",
        }
    }

    pub fn rollouts(&self) -> Vec<Rollout> {
        match self {
            SourceRead::Ecs(s) => s.rollouts(),
            SourceRead::CodeDeploy(s) => s.rollouts(),
        }
    }
}

/// An ECS service as its last `DescribeServices` answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcsStatus {
    pub account: String,
    pub cluster: String,
    pub service: String,
    /// `ECS`, `CODE_DEPLOY` or `EXTERNAL`: only `ECS` is rolled back by the board.
    pub controller: String,
    /// The service's task definition (its primary deployment's), an ARN.
    pub task_definition: String,
    pub running: u32,
    pub desired: u32,
    /// Newest first; the primary is the one tasks are moving to.
    pub deployments: Vec<EcsDeployment>,
    pub at: SystemTime,
}

/// One entry of an ECS service's `deployments`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcsDeployment {
    pub id: String,
    pub primary: bool,
    /// `family:revision`, from the task definition's ARN.
    pub revision: String,
    /// The primary container's image tag (or short digest).
    pub image_tag: Option<String>,
    pub running: u32,
    pub desired: u32,
    pub failed_tasks: u32,
    /// `IN_PROGRESS`, `COMPLETED`, `FAILED`.
    pub rollout: Option<String>,
    pub reason: Option<String>,
    pub created: SystemTime,
    pub updated: Option<SystemTime>,
}

/// A CodeDeploy deployment group's recent deployments, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeDeployStatus {
    pub account: String,
    pub application: String,
    pub group: String,
    pub deployments: Vec<CodeDeployment>,
    pub at: SystemTime,
}

/// One CodeDeploy deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeDeployment {
    pub id: String,
    /// `Created`, `Queued`, `InProgress`, `Baking`, `Ready`, `Succeeded`, `Failed`, `Stopped`.
    pub status: String,
    /// The revision in words: `s3://bucket/key`, `github repo@commit`, `appspec sha256:…`.
    pub revision: String,
    /// What the revision's version reads as, to meet the version the instances tell.
    pub version: String,
    /// `user`, `autoscaling`, `codeDeployRollback`, `CodeDeployAutoUpdate`.
    pub creator: Option<String>,
    pub created: SystemTime,
    pub completed: Option<SystemTime>,
    /// Targets succeeded of all.
    pub targets: Option<(u32, u32)>,
    pub error: Option<String>,
    /// The deployment that rolled this one back.
    pub rolled_back_by: Option<String>,
}

impl CodeDeployment {
    /// Whether CodeDeploy is still working on it.
    pub fn in_progress(&self) -> bool {
        matches!(self.status.as_str(), "Created" | "Queued" | "InProgress" | "Baking" | "Ready")
    }
}

/// A deploy as one of these sources sees it, to merge into the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollout {
    /// Unique in its source: `ecs:<deployment id>@<family:revision>`, `codedeploy:<id>`.
    pub key: String,
    pub version: String,
    pub revision: String,
    pub started: SystemTime,
    pub ended: Option<SystemTime>,
    pub state: DeployState,
    pub who: Option<String>,
    /// Tasks running of desired, targets done of all.
    pub progress: Option<(u32, u32)>,
    /// The source's own words: a rollout state's reason, an error.
    pub detail: Option<String>,
}

/// `family:revision` of a task definition ARN (`arn:aws:ecs:…:task-definition/web:42`), or
/// what it is when it is already that.
pub fn revision_of(task_definition: &str) -> String {
    task_definition.rsplit('/').next().unwrap_or(task_definition).to_string()
}

/// The task definition `family:N-1` for `family:N`, when N is above 1.
pub fn revision_before(revision: &str) -> Option<String> {
    let (family, n) = revision.rsplit_once(':')?;
    let n: u32 = n.parse().ok()?;
    (n > 1).then(|| format!("{family}:{}", n - 1))
}

/// `1 failed task`, `3 failed tasks`.
fn failed_tasks(n: u32) -> String {
    format!("{n} failed task{}", if n == 1 { "" } else { "s" })
}

/// What a source's key starts with.
pub fn source_of(key: &str) -> &str {
    key.split(':').next().unwrap_or(key)
}

impl EcsStatus {
    /// The deployments as deploys: the primary rolling, completed or failed; an older one
    /// failed, or done when it completed.
    pub fn rollouts(&self) -> Vec<Rollout> {
        self.deployments
            .iter()
            .map(|d| {
                let state = match d.rollout.as_deref() {
                    Some("FAILED") => DeployState::Failed,
                    Some("COMPLETED") => DeployState::Done,
                    _ if !d.primary => DeployState::Superseded,
                    _ => DeployState::Rolling,
                };
                let mut detail = d.reason.clone();
                if d.failed_tasks > 0 {
                    let failed = failed_tasks(d.failed_tasks);
                    detail = Some(detail.map_or(failed.clone(), |r| format!("{failed}; {r}")));
                }
                Rollout {
                    key: format!("ecs:{}@{}", d.id, d.revision),
                    version: d.image_tag.clone().unwrap_or_else(|| d.revision.clone()),
                    revision: d.revision.clone(),
                    started: d.created,
                    ended: (state != DeployState::Rolling).then(|| d.updated.unwrap_or(d.created)),
                    state,
                    who: None,
                    progress: Some((d.running, d.desired)),
                    detail,
                }
            })
            .collect()
    }

    /// The primary deployment.
    pub fn primary(&self) -> Option<&EcsDeployment> {
        self.deployments.iter().find(|d| d.primary)
    }

    /// `service web on cluster prod: 3/4 tasks, rolling to web:42 (1 failed task)`.
    pub fn summary(&self) -> String {
        let mut s = format!("ecs {}/{}: {}/{} tasks", self.cluster, self.service, self.running, self.desired);
        if let Some(p) = self.primary() {
            match p.rollout.as_deref() {
                Some("IN_PROGRESS") => s.push_str(&format!(", rolling to {}", p.revision)),
                Some("FAILED") => s.push_str(&format!(", {} failed", p.revision)),
                _ => s.push_str(&format!(", on {}", p.revision)),
            }
            if p.failed_tasks > 0 {
                s.push_str(&format!(" ({})", failed_tasks(p.failed_tasks)));
            }
        }
        if self.controller != "ECS" {
            s.push_str(&format!(", deployed by {}", self.controller));
        }
        s
    }
}

impl CodeDeployStatus {
    pub fn rollouts(&self) -> Vec<Rollout> {
        self.deployments
            .iter()
            .map(|d| {
                let state = match d.status.as_str() {
                    "Succeeded" => DeployState::Done,
                    _ if d.rolled_back_by.is_some() => DeployState::RolledBack,
                    "Failed" => DeployState::Failed,
                    "Stopped" => DeployState::Stopped,
                    _ => DeployState::Rolling,
                };
                Rollout {
                    key: format!("codedeploy:{}", d.id),
                    version: d.version.clone(),
                    revision: d.revision.clone(),
                    started: d.created,
                    ended: (state != DeployState::Rolling).then(|| d.completed.unwrap_or(d.created)),
                    state,
                    who: d.creator.clone(),
                    progress: d.targets,
                    detail: d.error.clone(),
                }
            })
            .collect()
    }

    /// `codedeploy web/prod: d-ABC InProgress (2/4 targets)`.
    pub fn summary(&self) -> String {
        let mut s = format!("codedeploy {}/{}", self.application, self.group);
        match self.deployments.first() {
            Some(d) => {
                s.push_str(&format!(": {} {} of {}", d.id, d.status, d.revision));
                if let (true, Some((done, all))) = (d.in_progress(), d.targets) {
                    s.push_str(&format!(" ({done}/{all} targets)"));
                }
            }
            None => s.push_str(": no deployments"),
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_definitions_read_as_family_and_revision() {
        assert_eq!(revision_of("arn:aws:ecs:eu-west-1:123456789012:task-definition/web:42"), "web:42");
        assert_eq!(revision_before("web:42").as_deref(), Some("web:41"));
        assert_eq!(revision_before("web:1"), None);
    }
}
