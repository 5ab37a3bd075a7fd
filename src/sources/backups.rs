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
    match found {
        Ok(Some((newest, size, what))) => BackupSample { at, error: None, newest: Some(newest), size, what },
        Ok(None) => BackupSample { at, error: None, newest: None, size: None, what: String::new() },
        Err(e) => BackupSample { at, error: Some(e), newest: None, size: None, what: String::new() },
    }
}

type Found = Result<Option<(SystemTime, Option<u64>, String)>, String>;

/// The newest file matching `pattern` by modification time, with its size.
pub fn newest_file(pattern: &str) -> Found {
    let paths = glob::glob(pattern).map_err(|e| format!("bad glob `{pattern}`: {e}"))?;
    let mut newest: Option<(SystemTime, Option<u64>, String)> = None;
    for entry in paths {
        let path = entry.map_err(|e| e.to_string())?;
        let meta = std::fs::metadata(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        if !meta.is_file() {
            continue;
        }
        let modified = meta.modified().map_err(|e| e.to_string())?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if newest.as_ref().is_none_or(|(t, _, n)| modified > *t || (modified == *t && name > *n)) {
            newest = Some((modified, Some(meta.len()), name));
        }
    }
    Ok(newest)
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
    Ok(Some((UNIX_EPOCH + Duration::from_secs_f64(secs), None, m.name.clone())))
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
    Ok(Some((when, size, line.to_string())))
}

fn parse_time(s: &str) -> Option<SystemTime> {
    if let Ok(secs) = s.parse::<f64>() {
        return (secs > 0.0).then(|| UNIX_EPOCH + Duration::from_secs_f64(secs));
    }
    chrono::DateTime::parse_from_rfc3339(s).ok().map(SystemTime::from)
}

/// Checks job `index` forever on its interval.
pub async fn run(index: usize, job: BackupJob, aws: Vec<AwsSpec>, tx: mpsc::Sender<Event>) {
    let client = reqwest::Client::new();
    loop {
        let sample = check(&job, &client, &aws).await;
        if tx.send(Event::Backup { job: index, sample }).await.is_err() {
            return;
        }
        tokio::time::sleep(job.interval).await;
    }
}

/// The newest object under an S3 prefix, with its size.
pub async fn newest_object(spec: &AwsSpec, bucket: &str, prefix: &str) -> Found {
    let conf = super::aws::sdk_config(spec).await;
    // Path-style addressing, so endpoints like moto or MinIO work without bucket DNS names.
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&conf).force_path_style(true).build());
    let endpoint = spec.endpoint_url.clone().unwrap_or_else(|| format!("AWS {}", spec.region));
    let mut newest: Option<(SystemTime, Option<u64>, String)> = None;
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
            let key = o.key().unwrap_or_default();
            // S3 times have whole seconds: on a tie the later name (dumps are named by date) wins.
            if newest.as_ref().is_none_or(|(n, _, k)| t > *n || (t == *n && key > k.as_str())) {
                let size = o.size().and_then(|s| u64::try_from(s).ok());
                newest = Some((t, size, key.to_string()));
            }
        }
        token = resp.next_continuation_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    Ok(newest)
}

/// The newest available RDS snapshot of a DB instance; its size is the allocated storage.
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
    Ok(resp
        .db_snapshots()
        .iter()
        .filter(|s| s.status().is_none_or(|st| st == "available"))
        .filter_map(|s| {
            let t = SystemTime::try_from(*s.snapshot_create_time()?).ok()?;
            let size = s.allocated_storage().and_then(|g| u64::try_from(g).ok()).map(|g| g << 30);
            Some((t, size, s.db_snapshot_identifier().unwrap_or_default().to_string()))
        })
        .max_by_key(|(t, _, _)| *t))
}
