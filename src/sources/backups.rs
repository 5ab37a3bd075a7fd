//! Backup sources: the newest file matching a glob, a last-success timestamp metric, or a
//! command that prints a timestamp. Each job polls on its own interval.

use crate::config::schema::{BackupJob, BackupMetric};
use crate::metrics::exposition;
use crate::state::Event;
use crate::state::backups::BackupSample;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;

/// A command that says nothing for this long is killed.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// Checks one job once.
pub async fn check(job: &BackupJob, client: &reqwest::Client) -> BackupSample {
    let at = SystemTime::now();
    let found = if let Some(pattern) = &job.glob {
        let pattern = pattern.clone();
        tokio::task::spawn_blocking(move || newest_file(&pattern)).await.unwrap_or_else(|e| Err(e.to_string()))
    } else if let Some(m) = &job.metric {
        from_metric(client, m).await
    } else if let Some(cmd) = &job.command {
        from_command(cmd).await
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
        if newest.as_ref().is_none_or(|(t, _, _)| modified > *t) {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
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
pub async fn run(index: usize, job: BackupJob, tx: mpsc::Sender<Event>) {
    let client = reqwest::Client::new();
    loop {
        let sample = check(&job, &client).await;
        if tx.send(Event::Backup { job: index, sample }).await.is_err() {
            return;
        }
        tokio::time::sleep(job.interval).await;
    }
}
