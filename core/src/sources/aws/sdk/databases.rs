//! RDS instances and Aurora clusters: their state (`DescribeDBInstances`, `DescribeDBClusters`),
//! an instance's free storage (CloudWatch's `FreeStorageSpace`, all in one `GetMetricData`), and
//! the newest snapshot in the DR region (`DescribeDBSnapshots`, `DescribeDBClusterSnapshots`
//! there).

use super::errors::{AwsFailure, describe};
use super::{AwsClients, metric_data};
use crate::config::aws::{CloudWatchQuery, DatabaseSpec, Unit};
use crate::state::aws::DatabaseSnapshot;
use aws_sdk_rds::primitives::DateTime;
use std::time::{Duration, SystemTime};

/// RDS publishes its metrics each minute.
const PERIOD: Duration = Duration::from_secs(60);

fn when(t: Option<&DateTime>) -> Option<SystemTime> {
    t.and_then(|t| SystemTime::try_from(*t).ok())
}

/// The newest snapshot of `db` in its DR region's client `rds`.
async fn newest_snapshot(
    rds: &aws_sdk_rds::Client,
    db: &DatabaseSpec,
    endpoint: &str,
) -> Result<Option<(String, SystemTime)>, AwsFailure> {
    let mut newest: Option<(String, SystemTime)> = None;
    let mut keep = |id: Option<&str>, at: Option<SystemTime>| {
        if let (Some(id), Some(at)) = (id, at)
            && newest.as_ref().is_none_or(|(_, t)| at > *t)
        {
            newest = Some((id.to_string(), at));
        }
    };
    let mut marker: Option<String> = None;
    loop {
        if db.cluster {
            let resp = (rds.describe_db_cluster_snapshots().db_cluster_identifier(&db.id))
                .set_marker(marker.clone())
                .send()
                .await
                .map_err(|e| describe(&e, endpoint))?;
            for s in resp.db_cluster_snapshots() {
                keep(s.db_cluster_snapshot_identifier(), when(s.snapshot_create_time()));
            }
            marker = resp.marker().map(str::to_string);
        } else {
            let resp = (rds.describe_db_snapshots().db_instance_identifier(&db.id))
                .set_marker(marker.clone())
                .send()
                .await
                .map_err(|e| describe(&e, endpoint))?;
            for s in resp.db_snapshots() {
                keep(s.db_snapshot_identifier(), when(s.snapshot_create_time()));
            }
            marker = resp.marker().map(str::to_string);
        }
        if marker.is_none() {
            return Ok(newest);
        }
    }
}

/// `None` for an answer that the database does not exist (DBInstanceNotFound,
/// DBClusterNotFoundFault): that is its own row's news, not the account's failure.
fn found<T>(r: Result<T, AwsFailure>) -> Result<Option<T>, AwsFailure> {
    match r {
        Ok(r) => Ok(Some(r)),
        Err(f) if f.text.contains("NotFound") => Ok(None),
        Err(f) => Err(f),
    }
}

/// A database the account does not have: its own row says so, the rest are read.
fn missing(d: &DatabaseSpec) -> DatabaseSnapshot {
    DatabaseSnapshot {
        id: d.id.clone(),
        status: "not-found".into(),
        engine: String::new(),
        multi_az: false,
        allocated_gib: None,
        free_bytes: None,
        dr: None,
    }
}

/// Every configured database as it stands.
pub async fn read(c: &AwsClients, dbs: &[DatabaseSpec], now: SystemTime) -> Result<Vec<DatabaseSnapshot>, AwsFailure> {
    let free: Vec<CloudWatchQuery> = dbs
        .iter()
        .map(|d| CloudWatchQuery {
            label: d.id.clone(),
            namespace: "AWS/RDS".into(),
            metric: "FreeStorageSpace".into(),
            dimensions: vec![("DBInstanceIdentifier".into(), d.id.clone())],
            stat: "Minimum".into(),
            period: PERIOD,
            unit: Unit::Bytes,
            feeds: None,
        })
        .collect();
    let instances: Vec<CloudWatchQuery> =
        (free.into_iter().zip(dbs)).filter(|(_, d)| !d.cluster).map(|(q, _)| q).collect();
    let free = if instances.is_empty() { Vec::new() } else { metric_data(c, &instances, now).await? };
    let mut out = Vec::with_capacity(dbs.len());
    for d in dbs {
        let mut snapshot = if d.cluster {
            let resp = c.rds.describe_db_clusters().db_cluster_identifier(&d.id).send().await;
            let Some(resp) = found(resp.map_err(|e| describe(&e, &c.endpoint)))? else {
                out.push(missing(d));
                continue;
            };
            let Some(k) = resp.db_clusters().first() else { continue };
            DatabaseSnapshot {
                id: d.id.clone(),
                status: k.status().unwrap_or("unknown").to_string(),
                engine: k.engine().unwrap_or_default().to_string(),
                multi_az: k.multi_az().unwrap_or(false),
                allocated_gib: None,
                free_bytes: None,
                dr: None,
            }
        } else {
            let resp = c.rds.describe_db_instances().db_instance_identifier(&d.id).send().await;
            let Some(resp) = found(resp.map_err(|e| describe(&e, &c.endpoint)))? else {
                out.push(missing(d));
                continue;
            };
            let Some(i) = resp.db_instances().first() else { continue };
            let q = instances.iter().position(|q| q.label == d.id);
            DatabaseSnapshot {
                id: d.id.clone(),
                status: i.db_instance_status().unwrap_or("unknown").to_string(),
                engine: i.engine().unwrap_or_default().to_string(),
                multi_az: i.multi_az().unwrap_or(false),
                allocated_gib: i.allocated_storage().and_then(|g| u32::try_from(g).ok()),
                free_bytes: q
                    .and_then(|q| free.iter().find(|(j, _)| *j == q))
                    .and_then(|(_, p)| p.last())
                    .map(|(_, v)| *v),
                dr: None,
            }
        };
        if let Some((region, _)) = &d.dr {
            let rds = c.rds_in(region);
            snapshot.dr = Some((region.clone(), newest_snapshot(&rds, d, &c.endpoint).await?));
        }
        out.push(snapshot);
    }
    Ok(out)
}
