//! Instances from AWS: an ELBv2 target group's targets with the load balancer's view of each,
//! and an Auto Scaling group's instances with their lifecycle; instance IDs become addresses
//! through EC2.

use super::Target;
use crate::config::aws::AwsSpec;
use crate::config::discovery::{AddressKind, SourceKind};
use crate::sources::aws::ec2::Ec2;
use crate::sources::aws::errors::{AwsFailure, describe};
use crate::state::{LbView, ViewBy};

/// The clients of one source's account, and what a target group's name resolved to.
pub struct Fleet {
    elb: aws_sdk_elasticloadbalancingv2::Client,
    asg: aws_sdk_autoscaling::Client,
    ec2: Ec2,
    endpoint: String,
    group: Option<Group>,
}

/// A target group, as `DescribeTargetGroups` gives it.
struct Group {
    arn: String,
    /// `instance`, `ip`, `lambda` or `alb`.
    kind: String,
    port: Option<u16>,
    https: bool,
}

impl Fleet {
    pub async fn new(account: &AwsSpec) -> Self {
        let conf = crate::sources::aws::sdk_config(account).await;
        Self {
            elb: aws_sdk_elasticloadbalancingv2::Client::new(&conf),
            asg: aws_sdk_autoscaling::Client::new(&conf),
            ec2: Ec2::new(&conf),
            endpoint: account.endpoint_url.clone().unwrap_or_else(|| format!("AWS {}", account.region)),
            group: None,
        }
    }

    pub async fn list(&mut self, kind: &SourceKind) -> Result<Vec<Target>, String> {
        let result = match kind {
            SourceKind::TargetGroup { name, address, port, .. } => self.targets(name, *address, *port).await,
            SourceKind::Asg { name, address, port, .. } => self.group_instances(name, *address, *port).await,
            _ => return Err("not an AWS source".into()),
        };
        result.map_err(|f| {
            // A group renamed or re-created has a new ARN: look it up again next time.
            self.group = None;
            f.text
        })
    }

    async fn find_group(&mut self, name: &str) -> Result<&Group, AwsFailure> {
        if self.group.is_none() {
            let resp =
                self.elb.describe_target_groups().names(name).send().await.map_err(|e| describe(&e, &self.endpoint))?;
            let g = resp.target_groups().first().ok_or_else(|| not_found(format!("target group {name} not found")))?;
            self.group = Some(Group {
                arn: g.target_group_arn().unwrap_or_default().to_string(),
                kind: g.target_type().map(|t| t.as_str().to_string()).unwrap_or_else(|| "instance".into()),
                port: g.port().and_then(|p| u16::try_from(p).ok()),
                https: g.protocol().is_some_and(|p| p.as_str() == "HTTPS"),
            });
        }
        Ok(self.group.as_ref().expect("set above"))
    }

    /// The targets registered in the group, each with the load balancer's view.
    async fn targets(
        &mut self,
        name: &str,
        address: AddressKind,
        port: Option<u16>,
    ) -> Result<Vec<Target>, AwsFailure> {
        let endpoint = self.endpoint.clone();
        let group = self.find_group(name).await?;
        let (arn, kind, group_port, https) = (group.arn.clone(), group.kind.clone(), group.port, group.https);
        if kind == "lambda" || kind == "alb" {
            return Err(not_found(format!("target group {name} holds {kind} targets, which have no address to check")));
        }
        let resp = self
            .elb
            .describe_target_health()
            .target_group_arn(&arn)
            .send()
            .await
            .map_err(|e| describe(&e, &endpoint))?;
        let mut targets: Vec<(String, Option<u16>, LbView)> = Vec::new();
        for d in resp.target_health_descriptions() {
            let Some(t) = d.target() else { continue };
            let Some(id) = t.id() else { continue };
            let health = d.target_health();
            let view = LbView {
                by: ViewBy::LoadBalancer,
                state: health
                    .and_then(|h| h.state())
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_else(|| "unknown".into()),
                reason: health.and_then(|h| h.reason()).map(|r| r.as_str().to_string()),
            };
            let target_port = port.or_else(|| t.port().and_then(|p| u16::try_from(p).ok())).or(group_port);
            targets.push((id.to_string(), target_port, view));
        }
        let scheme = https.then(|| "https".to_string());
        if kind == "ip" {
            return Ok(targets
                .into_iter()
                .filter_map(|(ip, port, lb)| {
                    let host_port = host_port(&ip, port?);
                    Some(Target { host_port, scheme: scheme.clone(), name: None, lb: Some(lb) })
                })
                .collect());
        }
        let ids: Vec<String> = targets.iter().map(|(id, _, _)| id.clone()).collect();
        let described = self.ec2.describe(&ids).await?;
        // One instance registered on several ports (containers in bridge mode) is a row a port.
        let twice = |id: &str| targets.iter().filter(|(i, _, _)| i == id).count() > 1;
        let mut out = Vec::new();
        for (id, port, lb) in &targets {
            let (Some(port), Some(addr)) = (port, described.get(id).and_then(|i| i.address(address))) else { continue };
            let name = if twice(id) { format!("{id}:{port}") } else { id.clone() };
            out.push(Target {
                host_port: host_port(addr, *port),
                scheme: scheme.clone(),
                name: Some(name),
                lb: Some(lb.clone()),
            });
        }
        Ok(out)
    }

    /// The group's instances, each with its lifecycle state as Auto Scaling says it.
    async fn group_instances(
        &mut self,
        name: &str,
        address: AddressKind,
        port: u16,
    ) -> Result<Vec<Target>, AwsFailure> {
        let resp = self
            .asg
            .describe_auto_scaling_groups()
            .auto_scaling_group_names(name)
            .send()
            .await
            .map_err(|e| describe(&e, &self.endpoint))?;
        let group = resp
            .auto_scaling_groups()
            .iter()
            .find(|g| g.auto_scaling_group_name() == Some(name))
            .ok_or_else(|| not_found(format!("Auto Scaling group {name} not found")))?;
        let members: Vec<(String, LbView)> = group
            .instances()
            .iter()
            .filter_map(|i| {
                let health = i.health_status().unwrap_or("Healthy");
                let view = LbView {
                    by: ViewBy::AutoScaling,
                    state: i.lifecycle_state().map(|l| l.as_str().to_string()).unwrap_or_else(|| "unknown".into()),
                    reason: (health != "Healthy").then(|| health.to_string()),
                };
                Some((i.instance_id()?.to_string(), view))
            })
            .collect();
        let ids: Vec<String> = members.iter().map(|(id, _)| id.clone()).collect();
        let described = self.ec2.describe(&ids).await?;
        Ok(members
            .into_iter()
            .filter_map(|(id, lb)| {
                let addr = described.get(&id)?.address(address)?;
                Some(Target { host_port: host_port(addr, port), scheme: None, name: Some(id), lb: Some(lb) })
            })
            .collect())
    }
}

fn not_found(text: String) -> AwsFailure {
    AwsFailure { text, throttled: false }
}

/// `host:port`, with an IPv6 address in brackets.
fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") }
}
