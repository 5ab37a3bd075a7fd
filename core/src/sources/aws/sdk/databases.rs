//! RDS instances and Aurora clusters: their state (`DescribeDBInstances`, `DescribeDBClusters`),
//! an instance's free storage (CloudWatch's `FreeStorageSpace`, all in one `GetMetricData`), and
//! the newest snapshot in the DR region (`DescribeDBSnapshots`, `DescribeDBClusterSnapshots`
//! there).

use super::errors::{AwsFailure, describe};
use super::{AwsClients, metric_data};
use crate::config::aws::{CloudWatchQuery, DatabaseSpec, Unit};
use crate::state::aws::{DatabaseSnapshot, Maintenance};
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

/// Automated backups of `db` replicated to its DR region (`DescribeDBInstanceAutomatedBackups`
/// there): the latest time they restore to. An Aurora cluster's are not replicated across regions.
async fn replicated_backups(
    rds: &aws_sdk_rds::Client,
    db: &DatabaseSpec,
    endpoint: &str,
) -> Result<Option<(String, SystemTime)>, AwsFailure> {
    if db.cluster {
        return Ok(None);
    }
    let resp = rds.describe_db_instance_automated_backups().db_instance_identifier(&db.id).send().await;
    let resp = match found(resp.map_err(|e| describe(&e, endpoint))) {
        Ok(Some(r)) => r,
        Ok(None) => return Ok(None),
        Err(f) if f.throttled => return Err(f),
        Err(f) => {
            tracing::warn!(db = %db.id, error = %f.text, "replicated automated backups not read");
            return Ok(None);
        }
    };
    Ok(resp.db_instance_automated_backups().iter().filter_map(replicated_latest).max_by_key(|(_, at)| *at))
}

/// A replicated automated backup's latest restorable time, named.
pub fn replicated_latest(b: &aws_sdk_rds::types::DbInstanceAutomatedBackup) -> Option<(String, SystemTime)> {
    let at = when(b.restore_window().and_then(|w| w.latest_time()))?;
    let from = b.region().map(|r| format!(" from {r}")).unwrap_or_default();
    Some((format!("automated backups replicated{from}"), at))
}

/// Maintenance pending on the account's databases, by resource ARN (one paged call for all).
/// A failure is logged and the databases are read without it.
async fn pending_maintenance(c: &AwsClients) -> Result<Vec<(String, Maintenance)>, AwsFailure> {
    let mut out = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let resp = c.rds.describe_pending_maintenance_actions().set_marker(marker.clone()).send().await;
        let resp = match resp.map_err(|e| describe(&e, &c.endpoint)) {
            Ok(r) => r,
            Err(f) if f.throttled => return Err(f),
            Err(f) => {
                tracing::warn!(error = %f.text, "pending maintenance not read");
                return Ok(out);
            }
        };
        for r in resp.pending_maintenance_actions() {
            let arn = r.resource_identifier().unwrap_or_default();
            out.extend(r.pending_maintenance_action_details().iter().map(|a| (arn.to_string(), maintenance_of(a))));
        }
        marker = resp.marker().map(str::to_string);
        if marker.is_none() {
            return Ok(out);
        }
    }
}

/// One pending action as the board keeps it.
pub fn maintenance_of(a: &aws_sdk_rds::types::PendingMaintenanceAction) -> Maintenance {
    Maintenance {
        action: a.action().unwrap_or("maintenance").to_string(),
        description: a.description().map(str::to_string),
        auto_applied_after: when(a.auto_applied_after_date()),
        forced_apply: when(a.forced_apply_date()),
    }
}

/// Whether a resource ARN is this database's: `arn:aws:rds:…:db:orders-db`, `…:cluster:orders`.
fn is_of(arn: &str, d: &DatabaseSpec) -> bool {
    let kind = if d.cluster { ":cluster:" } else { ":db:" };
    arn.ends_with(&format!("{kind}{}", d.id))
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
        maintenance: Vec::new(),
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
    let maintenance = pending_maintenance(c).await?;
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
                maintenance: Vec::new(),
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
                maintenance: Vec::new(),
            }
        };
        snapshot.maintenance = maintenance.iter().filter(|(arn, _)| is_of(arn, d)).map(|(_, m)| m.clone()).collect();
        if let Some((region, _)) = &d.dr {
            let rds = c.rds_in(region);
            let snap = newest_snapshot(&rds, d, &c.endpoint).await?;
            let backups = replicated_backups(&rds, d, &c.endpoint).await?;
            let newest = [snap, backups].into_iter().flatten().max_by_key(|(_, at)| *at);
            snapshot.dr = Some((region.clone(), newest));
        }
        out.push(snapshot);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_rds::types::{DbInstanceAutomatedBackup, PendingMaintenanceAction, RestoreWindow};

    /// moto has neither pending maintenance nor replicated backups: read on the SDK's own types.
    #[test]
    fn pending_maintenance_and_replicated_backups_read_as_the_board_keeps_them() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let a = PendingMaintenanceAction::builder()
            .action("system-update")
            .description("New Operating System update is available")
            .auto_applied_after_date(DateTime::from(t))
            .forced_apply_date(DateTime::from(t + Duration::from_secs(86_400)))
            .build();
        let m = maintenance_of(&a);
        assert_eq!((m.action.as_str(), m.applies()), ("system-update", Some(t)));
        let spec = |id: &str, cluster| DatabaseSpec {
            id: id.into(),
            cluster,
            service: None,
            dr: None,
            min_free_storage_pct: 10,
        };
        assert!(is_of("arn:aws:rds:eu-west-1:123456789012:db:orders-db", &spec("orders-db", false)));
        assert!(!is_of("arn:aws:rds:eu-west-1:123456789012:db:orders-db-replica", &spec("orders-db", false)));
        assert!(!is_of("arn:aws:rds:eu-west-1:123456789012:db:orders", &spec("orders", true)));

        let b = DbInstanceAutomatedBackup::builder()
            .db_instance_identifier("orders-db")
            .region("eu-west-1")
            .status("replicating")
            .restore_window(RestoreWindow::builder().latest_time(DateTime::from(t)).build())
            .build();
        assert_eq!(replicated_latest(&b), Some(("automated backups replicated from eu-west-1".into(), t)));
        let empty = DbInstanceAutomatedBackup::builder().db_instance_identifier("orders-db").build();
        assert_eq!(replicated_latest(&empty), None, "no restore window yet: no copy");
    }
}
