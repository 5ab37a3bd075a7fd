//! Backup sources: the newest file matching a glob, a last-success timestamp metric, or a
//! command that prints a timestamp. Each job polls on its own interval.

use crate::config::aws::AwsSpec;
use crate::config::schema::{BackupJob, BackupMetric};
use crate::metrics::exposition;
use crate::state::Event;
use crate::state::backups::BackupSample;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;

/// A command that says nothing for this long is killed.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// Checks one job once. `aws` are the configured accounts, for S3 and RDS jobs.
pub async fn check(job: &BackupJob, client: &reqwest::Client, aws: &[AwsSpec]) -> BackupSample {
    let at = SystemTime::now();
    let found = if let Some(pattern) = &job.glob {
        let pattern = pattern.clone();
        tokio::task::spawn_blocking(move || newest_file(&pattern)).await.unwrap_or_else(|e| Err(e.to_string()))
    } else if let Some(m) = &job.metric {
        from_metric(client, m).await
    } else if let Some(cmd) = &job.command {
        from_command(cmd).await
    } else if let Some(s3) = &job.s3 {
        match aws.iter().find(|a| a.name == s3.account) {
            Some(spec) => newest_object(spec, &s3.bucket, &s3.prefix).await,
            None => Err(format!("no AWS account `{}`", s3.account)),
        }
    } else if let Some(r) = &job.rds {
        match aws.iter().find(|a| a.name == r.account) {
            Some(spec) => newest_snapshot(spec, &r.db_instance).await,
            None => Err(format!("no AWS account `{}`", r.account)),
        }
    } else {
        Err("no source configured".into())
    };
    let none = BackupSample { at, error: None, newest: None, size: None, previous_size: None, what: String::new() };
    match found {
        Ok(Some(l)) => BackupSample {
            newest: Some(l.newest.at),
            size: l.newest.size,
            previous_size: l.previous.and_then(|p| p.size),
            what: l.newest.name,
            ..none
        },
        Ok(None) => none,
        Err(e) => BackupSample { error: Some(e), ..none },
    }
}

/// One backup: a file, an object, a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artefact {
    pub at: SystemTime,
    pub size: Option<u64>,
    pub name: String,
}

/// The newest artefact of a listing and the one before it, so that a shrunken backup shows
/// from the first look, not only after the board has watched two of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    pub newest: Artefact,
    pub previous: Option<Artefact>,
}

/// Keeps the two newest artefacts offered; on equal times the later name (dumps are named by
/// date) counts as newer.
#[derive(Debug, Default)]
struct TwoNewest(Option<Artefact>, Option<Artefact>);

impl TwoNewest {
    fn offer(&mut self, a: Artefact) {
        let newer = |x: &Artefact, y: &Artefact| (x.at, &x.name) > (y.at, &y.name);
        match &self.0 {
            Some(first) if !newer(&a, first) => {
                if self.1.as_ref().is_none_or(|second| newer(&a, second)) {
                    self.1 = Some(a);
                }
            }
            _ => self.1 = self.0.replace(a),
        }
    }

    fn listing(self) -> Option<Listing> {
        self.0.map(|newest| Listing { newest, previous: self.1 })
    }
}

type Found = Result<Option<Listing>, String>;

fn one(at: SystemTime, size: Option<u64>, name: String) -> Found {
    Ok(Some(Listing { newest: Artefact { at, size, name }, previous: None }))
}

/// The newest file matching `pattern` by modification time, with its size, and the one before.
pub fn newest_file(pattern: &str) -> Found {
    let paths = glob::glob(pattern).map_err(|e| format!("bad glob `{pattern}`: {e}"))?;
    let mut newest = TwoNewest::default();
    for entry in paths {
        let path = entry.map_err(|e| e.to_string())?;
        let meta = std::fs::metadata(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        if !meta.is_file() {
            continue;
        }
        let modified = meta.modified().map_err(|e| e.to_string())?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        newest.offer(Artefact { at: modified, size: Some(meta.len()), name });
    }
    Ok(newest.listing())
}

async fn from_metric(client: &reqwest::Client, m: &BackupMetric) -> Found {
    let fetch = async {
        let resp = client.get(&m.url).send().await.map_err(|e| super::http::classify(&e).to_string())?;
        if !resp.status().is_success() {
            return Err(format!("{}: HTTP {}", m.url, resp.status().as_u16()));
        }
        resp.text().await.map_err(|e| e.to_string())
    };
    let text = tokio::time::timeout(HTTP_TIMEOUT, fetch).await.map_err(|_| format!("{}: timeout", m.url))??;
    let mut value = None;
    exposition::parse(&text, |s| {
        if s.name == m.name && m.labels.iter().all(|(k, v)| s.labels.get(k).as_deref() == Some(v.as_str())) {
            value = Some(s.value);
        }
    })
    .map_err(|e| format!("{}: {e}", m.url))?;
    let secs = value.ok_or_else(|| format!("no `{}` in {}", m.name, m.url))?;
    if !secs.is_finite() || secs <= 0.0 {
        return Ok(None);
    }
    one(UNIX_EPOCH + Duration::from_secs_f64(secs), None, m.name.clone())
}

async fn from_command(cmd: &str) -> Found {
    let run = tokio::process::Command::new("sh").arg("-c").arg(cmd).kill_on_drop(true).output();
    let out = tokio::time::timeout(COMMAND_TIMEOUT, run).await.map_err(|_| "command timed out".to_string())?;
    let out = out.map_err(|e| format!("could not run: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!("command failed ({}): {}", out.status, err.lines().next().unwrap_or("").trim()));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().next().unwrap_or("").trim();
    if line.is_empty() {
        return Ok(None);
    }
    let mut words = line.split_whitespace();
    let stamp = words.next().unwrap_or_default();
    let when = parse_time(stamp).ok_or_else(|| format!("`{stamp}` is not a timestamp (RFC 3339 or unix seconds)"))?;
    let size = words.next().and_then(|w| w.parse().ok());
    one(when, size, line.to_string())
}

fn parse_time(s: &str) -> Option<SystemTime> {
    if let Ok(secs) = s.parse::<f64>() {
        return (secs > 0.0).then(|| UNIX_EPOCH + Duration::from_secs_f64(secs));
    }
    chrono::DateTime::parse_from_rfc3339(s).ok().map(SystemTime::from)
}

/// Checks a job forever on its interval.
pub async fn run(job: BackupJob, aws: Vec<AwsSpec>, tx: mpsc::Sender<Event>, mut round: crate::sources::rounds::Round) {
    let client = crate::sources::http::client();
    let name: std::sync::Arc<str> = job.name.as_str().into();
    loop {
        let sample = check(&job, &client, &aws).await;
        if tx.send(Event::Backup { job: name.clone(), sample }).await.is_err() {
            return;
        }
        round.done();
        tokio::time::sleep(job.interval).await;
    }
}

/// The newest object under an S3 prefix, with its size.
#[cfg(feature = "aws")]
pub async fn newest_object(spec: &AwsSpec, bucket: &str, prefix: &str) -> Found {
    let conf = super::aws::sdk_config(spec).await;
    // Path-style addressing, so endpoints like moto or MinIO work without bucket DNS names.
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&conf).force_path_style(true).build());
    let endpoint = spec.endpoint_url.clone().unwrap_or_else(|| format!("AWS {}", spec.region));
    let mut newest = TwoNewest::default();
    let mut token = None;
    loop {
        let resp = s3
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .set_continuation_token(token)
            .send()
            .await
            .map_err(|e| super::aws::errors::describe(&e, &endpoint).text)?;
        for o in resp.contents() {
            let Some(t) = o.last_modified().and_then(|t| SystemTime::try_from(*t).ok()) else { continue };
            let size = o.size().and_then(|s| u64::try_from(s).ok());
            newest.offer(Artefact { at: t, size, name: o.key().unwrap_or_default().to_string() });
        }
        token = resp.next_continuation_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    Ok(newest.listing())
}

/// The newest available RDS snapshot of a DB instance; its size is the allocated storage.
#[cfg(feature = "aws")]
pub async fn newest_snapshot(spec: &AwsSpec, db_instance: &str) -> Found {
    let conf = super::aws::sdk_config(spec).await;
    let rds = aws_sdk_rds::Client::new(&conf);
    let endpoint = spec.endpoint_url.clone().unwrap_or_else(|| format!("AWS {}", spec.region));
    let resp = rds
        .describe_db_snapshots()
        .db_instance_identifier(db_instance)
        .send()
        .await
        .map_err(|e| super::aws::errors::describe(&e, &endpoint).text)?;
    let mut newest = TwoNewest::default();
    for s in resp.db_snapshots().iter().filter(|s| s.status().is_none_or(|st| st == "available")) {
        let Some(t) = s.snapshot_create_time().and_then(|t| SystemTime::try_from(*t).ok()) else { continue };
        let size = s.allocated_storage().and_then(|g| u64::try_from(g).ok()).map(|g| g << 30);
        newest.offer(Artefact { at: t, size, name: s.db_snapshot_identifier().unwrap_or_default().to_string() });
    }
    Ok(newest.listing())
}

#[cfg(not(feature = "aws"))]
pub async fn newest_object(_: &AwsSpec, _: &str, _: &str) -> Found {
    Err(super::aws::NOT_BUILT.into())
}

#[cfg(not(feature = "aws"))]
pub async fn newest_snapshot(_: &AwsSpec, _: &str) -> Found {
    Err(super::aws::NOT_BUILT.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_newest_keeps_the_newest_and_the_one_before_in_any_order() {
        let a =
            |s: u64, name: &str| Artefact { at: UNIX_EPOCH + Duration::from_secs(s), size: Some(s), name: name.into() };
        let mut t = TwoNewest::default();
        for x in [a(5, "e"), a(9, "i"), a(1, "a"), a(7, "g"), a(9, "h")] {
            t.offer(x);
        }
        let l = t.listing().unwrap();
        assert_eq!((l.newest.name.as_str(), l.previous.unwrap().name.as_str()), ("i", "h"));
    }
}
