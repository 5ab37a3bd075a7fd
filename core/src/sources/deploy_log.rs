//! The deploy log source: new lines of a JSON-lines file (followed from where it was last
//! read) or of an HTTP URL. A bad line is skipped and logged, never fatal.

use super::http::{classify, read_capped};
use crate::state::Event;
use crate::state::deploys::LogEntry;
use std::io::{Read, Seek, SeekFrom};
use std::time::Duration;
use tokio::sync::mpsc;

/// Deploy log bodies over HTTP larger than this are cut.
const MAX_LOG_BYTES: usize = 4 * 1024 * 1024;

/// Reads what a file gained since `offset`: complete lines only; returns the new offset.
pub fn read_new_lines(path: &str, offset: u64) -> std::io::Result<(Vec<LogEntry>, u64)> {
    let mut f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    // A file that shrank was rotated or truncated: start again.
    let start = if len < offset { 0 } else { offset };
    f.seek(SeekFrom::Start(start))?;
    let mut text = String::new();
    f.take(len - start).read_to_string(&mut text)?;
    let complete = text.rfind('\n').map_or(0, |i| i + 1);
    Ok((parse_lines(&text[..complete], path), start + complete as u64))
}

/// Parses JSON lines, skipping (and logging) the ones that are not deploy records.
pub fn parse_lines(text: &str, origin: &str) -> Vec<LogEntry> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .filter_map(|(i, l)| match serde_json::from_str::<LogEntry>(l) {
            Ok(e) => Some(e),
            Err(e) => {
                tracing::warn!(origin, line = i + 1, error = %e, "skipped a deploy log line");
                None
            }
        })
        .collect()
}

/// Reads the whole deploy log at `url`.
pub async fn fetch(client: &reqwest::Client, url: &str) -> Result<Vec<LogEntry>, String> {
    let mut resp = client.get(url).send().await.map_err(|e| classify(&e).to_string())?;
    if !resp.status().is_success() {
        return Err(format!("deploy log: HTTP {}", resp.status().as_u16()));
    }
    let (body, _) = read_capped(&mut resp, MAX_LOG_BYTES).await.map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&body);
    let complete = text.rfind('\n').map_or(text.len(), |i| i + 1);
    Ok(parse_lines(&text[..complete], url))
}

/// Follows the deploy log forever.
pub async fn run(log: String, interval: Duration, tx: mpsc::Sender<Event>, mut round: crate::sources::rounds::Round) {
    let client = crate::sources::http::client();
    let mut offset = 0u64;
    loop {
        let entries = if log.starts_with("http://") || log.starts_with("https://") {
            fetch(&client, &log).await
        } else {
            read_new_lines(&log, offset)
                .map(|(e, next)| {
                    offset = next;
                    e
                })
                .map_err(|e| format!("{log}: {e}"))
        };
        match entries {
            Ok(entries) if !entries.is_empty() => {
                if tx.send(Event::DeployLog { entries }).await.is_err() {
                    return;
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "deploy log"),
        }
        round.done();
        tokio::time::sleep(interval).await;
    }
}
