//! The audit log: one JSON line per action attempt and per end, flushed to disk before the
//! command starts and after it ends, so a crash mid-run still leaves the record.

use serde::Serialize;
use std::path::{Path, PathBuf};

/// Who ran it, from where.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Operator {
    pub user: String,
    pub host: String,
    /// `SSH_CLIENT`, when the board runs over SSH.
    pub ssh_client: Option<String>,
    /// The attached terminal's address, when an operator ran it through `opsboard serve`
    /// (`host` is then the server's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub terminal: Option<String>,
}

impl Operator {
    pub fn from_env() -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        // The real uid says who runs the board; USER can be unset (systemd, `sudo -i`,
        // containers) or say anything.
        let real = real_uid().map(|uid| user_name(uid).unwrap_or_else(|| format!("uid {uid}")));
        let user = match (real, var("SUDO_USER")) {
            (Some(u), Some(sudo)) if sudo != u => format!("{sudo} (sudo as {u})"),
            (Some(u), _) => u,
            (None, _) => var("USER").or_else(|| var("LOGNAME")).unwrap_or_else(|| "unknown".into()),
        };
        Self {
            user,
            host: std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_string())
                .filter(|h| !h.is_empty())
                .or_else(|| var("HOSTNAME"))
                .unwrap_or_else(|| "unknown".into()),
            ssh_client: var("SSH_CLIENT").or_else(|| var("SSH_CONNECTION")),
            terminal: None,
        }
    }

    /// An operator of `opsboard serve` named by their token, at `terminal` (its address, or the
    /// bastion user on the server's Unix socket); the host is this server's, whose credentials
    /// run the action.
    pub fn attached(name: &str, terminal: &str) -> Self {
        let server = Self::from_env();
        Self { user: name.to_string(), host: server.host, ssh_client: None, terminal: Some(terminal.to_string()) }
    }
}

/// The process's real uid, from `/proc/self/status` (Linux).
fn real_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|l| l.strip_prefix("Uid:"))?.split_whitespace().next()?.parse().ok()
}

/// `uid 1001 (alice)`: a local user as the audit log names one.
pub fn user_of(uid: u32) -> String {
    match user_name(uid) {
        Some(name) => format!("uid {uid} ({name})"),
        None => format!("uid {uid}"),
    }
}

/// The login name of `uid` in `/etc/passwd`.
fn user_name(uid: u32) -> Option<String> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut f = line.split(':');
        let name = f.next()?;
        (f.nth(1)?.parse::<u32>().ok()? == uid).then(|| name.to_string())
    })
}

/// One line of `audit.jsonl`.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRecord<'a> {
    /// RFC 3339, UTC.
    pub time: String,
    /// `start`, `end`, `refused`.
    pub phase: &'a str,
    #[serde(flatten)]
    pub operator: &'a Operator,
    pub action: &'a str,
    pub service: &'a str,
    pub env: &'a str,
    pub from_version: Option<&'a str>,
    pub to_version: Option<&'a str>,
    pub command: &'a str,
    /// Exit code; `None` while running, when killed by a signal, or on timeout.
    pub exit_status: Option<i32>,
    pub outcome: Option<&'a str>,
    pub duration_ms: Option<u64>,
    /// The AWS request id of a native rollback's call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<&'a str>,
}

/// One line of `audit.jsonl` for a silence set or lifted.
#[derive(Debug, Clone, Serialize)]
pub struct SilenceRecord<'a> {
    pub time: String,
    /// `silence` or `unsilence`.
    pub phase: &'a str,
    #[serde(flatten)]
    pub operator: &'a Operator,
    /// `service payments`.
    pub item: &'a str,
    /// RFC 3339 in UTC, or `until OK`.
    pub until: String,
    pub reason: &'a str,
}

/// One line of `audit.jsonl` for an incident taken, handed back, or over (its item OK again), or
/// a note posted to the status page.
#[derive(Debug, Clone, Serialize)]
pub struct MarkRecord<'a> {
    pub time: String,
    /// `take`, `hand back`, `over` or `status note`.
    pub phase: &'a str,
    #[serde(flatten)]
    pub operator: &'a Operator,
    /// `service payments`; `component Checkout` for a status note.
    pub item: &'a str,
    /// What the taker said; for `over`, who had taken it and why it ended; a status note's text.
    pub note: &'a str,
}

/// The audit file is moved aside (and kept) once it holds this much: years of actions for a
/// team, and small enough to open in an editor.
const ROTATE_AT_BYTES: u64 = 16 * 1024 * 1024;

/// The audit file in the data dir.
#[derive(Debug, Clone)]
pub struct AuditLog {
    path: PathBuf,
}

impl AuditLog {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// `<data dir>/audit.jsonl`.
    pub fn default_path() -> Option<PathBuf> {
        crate::store::data_dir().map(|d| d.join("audit.jsonl"))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record and flushes it to disk before returning.
    pub fn append(&self, record: &AuditRecord) -> std::io::Result<()> {
        crate::store::log::append_rotating(&self.path, std::slice::from_ref(record), ROTATE_AT_BYTES)
    }

    /// Appends a record of something done from the board other than an action: a silence, an
    /// incident taken.
    pub fn mark<T: Serialize>(&self, record: &T) -> std::io::Result<()> {
        crate::store::log::append_rotating(&self.path, std::slice::from_ref(record), ROTATE_AT_BYTES)
    }
}

/// Now as RFC 3339 in UTC.
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_user_comes_from_the_real_uid_not_from_user() {
        let uid = real_uid().expect("a uid on Linux");
        let name = user_name(uid).expect("the test runs as a user in /etc/passwd");
        let op = Operator::from_env();
        assert!(op.user == name || op.user.ends_with(&format!("(sudo as {name})")), "{} vs {name}", op.user);
    }
}
