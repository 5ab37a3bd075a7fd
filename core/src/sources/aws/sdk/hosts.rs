//! Hosts' numbers from CloudWatch, for a service with `[services.NAME.hosts] cloudwatch = true`:
//! EC2's `CPUUtilization` per `InstanceId`, and the CloudWatch agent's `mem_used_percent` and
//! `disk_used_percent` (namespace `CWAgent`). The agent's metrics carry more dimensions than
//! `InstanceId` (`ImageId`, `InstanceType`, `AutoScalingGroupName`, `path`, `device`, `fstype`,
//! as its config appends them) and GetMetricData wants a metric's dimensions exactly, so
//! `ListMetrics` finds them, again every few minutes; then one `GetMetricData` reads them all.

use super::errors::AwsFailure;
use super::{AwsClients, metric_data};
use crate::config::aws::{CloudWatchQuery, Unit};
use crate::metrics::host::{Filesystem, is_disk};
use crate::state::InstanceKey;
use crate::state::host::HostPoint;
use std::time::{Duration, Instant, SystemTime};

/// The period asked for: EC2's detailed monitoring and the agent publish each minute; basic
/// monitoring every five, and the newest point within the window is taken either way.
const PERIOD: Duration = Duration::from_secs(60);
/// The agent's metrics are listed again this often (an instance replaced, a disk mounted).
const LIST_EVERY: Duration = Duration::from_secs(600);
/// A value older than this is no longer the host's.
const NEWEST_WITHIN: Duration = Duration::from_secs(600);

/// A metric's dimensions, name and value.
type Dimensions = Vec<(String, String)>;

/// What one query is for.
#[derive(Debug, Clone, PartialEq)]
enum Reads {
    Cpu,
    Memory,
    /// A filesystem by its mount path.
    Disk(String),
}

/// The agent's metrics found for the instances, and when.
#[derive(Debug, Default)]
pub struct Listed {
    at: Option<Instant>,
    /// Instance ID, what it reads, its dimensions.
    metrics: Vec<(String, Reads, Dimensions)>,
}

/// The agent's metric `name` for each of `ids`, with its dimensions (paged `ListMetrics`).
async fn list(c: &AwsClients, name: &str, ids: &[&str]) -> Result<Vec<(String, Dimensions)>, AwsFailure> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let resp = (c.cloudwatch.list_metrics().namespace("CWAgent").metric_name(name))
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| super::errors::describe(&e, &c.endpoint))?;
        for m in resp.metrics() {
            let dims: Vec<(String, String)> =
                (m.dimensions().iter()).filter_map(|d| Some((d.name()?.to_string(), d.value()?.to_string()))).collect();
            let id = dims.iter().find(|(k, _)| k == "InstanceId").map(|(_, v)| v.clone());
            if let Some(id) = id.filter(|id| ids.contains(&id.as_str())) {
                out.push((id, dims));
            }
        }
        token = resp.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(out);
        }
    }
}

/// Keeps, per instance, one memory metric and one disk metric per real filesystem's path: the
/// one with the fewest dimensions where the agent publishes several.
fn choose(memory: Vec<(String, Dimensions)>, disks: Vec<(String, Dimensions)>) -> Listed {
    let mut metrics: Vec<(String, Reads, Dimensions)> = Vec::new();
    let mut keep = |id: String, reads: Reads, dims: Vec<(String, String)>| match metrics
        .iter_mut()
        .find(|(i, r, _)| *i == id && *r == reads)
    {
        Some(m) if m.2.len() > dims.len() => m.2 = dims,
        Some(_) => {}
        None => metrics.push((id, reads, dims)),
    };
    for (id, dims) in memory {
        keep(id, Reads::Memory, dims);
    }
    for (id, dims) in disks {
        let get = |k: &str| dims.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        if get("fstype").is_some_and(|f| !is_disk(&f)) {
            continue;
        }
        let Some(path) = get("path") else { continue };
        keep(id, Reads::Disk(path), dims);
    }
    Listed { at: Some(Instant::now()), metrics }
}

/// The hosts' numbers of `targets` (an instance's key and its EC2 instance ID) at `now`.
pub async fn read(
    c: &AwsClients,
    targets: &[(InstanceKey, String)],
    listed: &mut Listed,
    now: SystemTime,
) -> Result<Vec<(InstanceKey, HostPoint)>, AwsFailure> {
    let ids: Vec<&str> = targets.iter().map(|(_, id)| id.as_str()).collect();
    if listed.at.is_none_or(|at| at.elapsed() >= LIST_EVERY) {
        *listed = choose(list(c, "mem_used_percent", &ids).await?, list(c, "disk_used_percent", &ids).await?);
    }
    let query = |label: String, namespace: &str, metric: &str, dimensions: Vec<(String, String)>| CloudWatchQuery {
        label,
        namespace: namespace.into(),
        metric: metric.into(),
        dimensions,
        stat: "Average".into(),
        period: PERIOD,
        unit: Unit::Percent,
        feeds: None,
    };
    let mut reads: Vec<(String, Reads)> = Vec::new();
    let mut queries = Vec::new();
    for id in &ids {
        reads.push((id.to_string(), Reads::Cpu));
        queries.push(query(
            format!("{id} cpu"),
            "AWS/EC2",
            "CPUUtilization",
            vec![("InstanceId".into(), id.to_string())],
        ));
    }
    for (id, what, dims) in &listed.metrics {
        let metric = if *what == Reads::Memory { "mem_used_percent" } else { "disk_used_percent" };
        reads.push((id.clone(), what.clone()));
        queries.push(query(format!("{id} {metric}"), "CWAgent", metric, dims.clone()));
    }
    let values = metric_data(c, &queries, now).await?;
    let newest = |i: usize| {
        let points = values.iter().find(|(j, _)| *j == i).map(|(_, p)| p.as_slice()).unwrap_or_default();
        points.last().filter(|(t, _)| now.duration_since(*t).unwrap_or_default() <= NEWEST_WITHIN).map(|(_, v)| *v)
    };
    let mut out = Vec::new();
    for (key, id) in targets {
        let mut point = HostPoint { at: Some(now), ..HostPoint::default() };
        for (i, (of, what)) in reads.iter().enumerate() {
            let Some(v) = newest(i).filter(|_| of == id) else { continue };
            let share = (v / 100.0).clamp(0.0, 1.0);
            match what {
                Reads::Cpu => point.cpu = Some(share),
                Reads::Memory => point.memory = Some(share),
                Reads::Disk(path) => {
                    if point.disk.as_ref().is_none_or(|d| d.used() < share) {
                        point.disk =
                            Some(Filesystem { mountpoint: path.clone(), size: 100.0, avail: 100.0 - share * 100.0 });
                    }
                }
            }
        }
        if point.cpu.is_some() || point.memory.is_some() || point.disk.is_some() {
            out.push((key.clone(), point));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dims(pairs: &[(&str, &str)]) -> Dimensions {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_agent_s_metrics_are_chosen_per_instance_and_real_filesystem() {
        let id = "i-0123456789abcdef0";
        let memory = vec![
            (id.into(), dims(&[("InstanceId", id), ("ImageId", "ami-1"), ("InstanceType", "t3.large")])),
            (id.into(), dims(&[("InstanceId", id)])),
        ];
        let disks = vec![
            (id.into(), dims(&[("InstanceId", id), ("path", "/"), ("device", "nvme0n1p1"), ("fstype", "xfs")])),
            (id.into(), dims(&[("InstanceId", id), ("path", "/data"), ("device", "nvme1n1"), ("fstype", "ext4")])),
            (id.into(), dims(&[("InstanceId", id), ("path", "/run"), ("device", "tmpfs"), ("fstype", "tmpfs")])),
            (id.into(), dims(&[("InstanceId", id), ("path", "/snap/core/1"), ("fstype", "squashfs")])),
        ];
        let listed = choose(memory, disks);
        let kinds: Vec<(&Reads, usize)> = listed.metrics.iter().map(|(_, r, d)| (r, d.len())).collect();
        assert_eq!(kinds, [(&Reads::Memory, 1), (&Reads::Disk("/".into()), 4), (&Reads::Disk("/data".into()), 4)]);
        use crate::state::host::instance_id;
        assert_eq!(instance_id("i-0123456789abcdef0"), Some("i-0123456789abcdef0"));
        assert_eq!(instance_id("i-1234abcd"), Some("i-1234abcd"));
        assert_eq!(instance_id("10.0.3.7:8080"), None);
    }
}
