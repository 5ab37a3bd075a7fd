//! Running one action: audit first, then the command with a timeout, its output streamed
//! as events, and the end audited too. The board never waits on it.

use super::audit::{AuditLog, AuditRecord, Operator, now_rfc3339};
use crate::state::{ActionEvent, Event};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc;

/// Everything needed to run one action against one service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionRequest {
    pub action: String,
    pub service: usize,
    pub service_name: String,
    pub env: String,
    pub from_version: Option<String>,
    pub to_version: Option<String>,
    /// The filled command, exactly as the dialog showed it (a native call's words).
    pub command: String,
    pub timeout: Duration,
    /// A rollback through ECS's or CodeDeploy's API instead of a command ([`run_native`]).
    pub native: Option<crate::state::rollback::NativeCall>,
}

/// What a native call did in words and its request id, or why it failed.
pub type NativeResult = Result<(String, Option<String>), String>;

/// Runs `req`'s command, reporting through `tx`. If the audit log cannot be written, nothing runs.
pub async fn run(req: ActionRequest, audit: AuditLog, operator: Operator, tx: mpsc::Sender<Event>) {
    run_with(req, audit, operator, tx, None::<std::future::Ready<NativeResult>>).await;
}

/// Runs `req`'s native call, `call` (the AWS source's), with the same audit, timeout and
/// reporting as a command.
pub async fn run_native(
    req: ActionRequest,
    audit: AuditLog,
    operator: Operator,
    tx: mpsc::Sender<Event>,
    call: impl Future<Output = NativeResult>,
) {
    run_with(req, audit, operator, tx, Some(call)).await;
}

async fn run_with(
    req: ActionRequest,
    audit: AuditLog,
    operator: Operator,
    tx: mpsc::Sender<Event>,
    native: Option<impl Future<Output = NativeResult>>,
) {
    let service: crate::state::ServiceKey = req.service_name.as_str().into();
    let send = |event: ActionEvent| {
        let (tx, service) = (tx.clone(), service.clone());
        async move {
            let _ = tx.send(Event::Action { service, event }).await;
        }
    };
    let record = |phase, exit_status, outcome, duration_ms, request_id| AuditRecord {
        time: now_rfc3339(),
        phase,
        operator: &operator,
        action: &req.action,
        service: &req.service_name,
        env: &req.env,
        from_version: req.from_version.as_deref(),
        to_version: req.to_version.as_deref(),
        command: &req.command,
        exit_status,
        outcome,
        duration_ms,
        request_id,
    };
    if let Err(e) = audit.append(&record("start", None, None, None, None)) {
        let text = format!("not run: cannot write the audit log {}: {e}", audit.path().display());
        send(ActionEvent::Finished { outcome: text, exit_status: None, duration: Duration::ZERO }).await;
        return;
    }
    let started = Instant::now();
    if let Some(call) = native {
        send(ActionEvent::Output { line: req.command.clone() }).await;
        let result = match tokio::time::timeout(req.timeout, call).await {
            Ok(r) => r,
            Err(_) => Err(format!("timed out after {}", crate::format::duration(req.timeout))),
        };
        let duration = started.elapsed();
        let (exit_status, outcome, request_id) = match result {
            Ok((words, id)) => (Some(0), format!("succeeded: {words}"), id),
            Err(e) => (Some(1), format!("failed: {e}"), None),
        };
        if let Some(id) = &request_id {
            send(ActionEvent::Output { line: format!("request id {id}") }).await;
        }
        let end = record("end", exit_status, Some(&outcome), Some(duration.as_millis() as u64), request_id.as_deref());
        if let Err(e) = audit.append(&end) {
            tracing::error!(error = %e, "audit log end record");
        }
        send(ActionEvent::Finished { outcome, exit_status, duration }).await;
        return;
    }
    let mut cmd = tokio::process::Command::new("sh");
    cmd.arg("-c").arg(&req.command).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    // Its own process group, so a timeout stops everything it started.
    cmd.process_group(0).kill_on_drop(true);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            let outcome = format!("could not start: {e}");
            let _ = audit.append(&record("end", None, Some(&outcome), Some(0), None));
            send(ActionEvent::Finished { outcome, exit_status: None, duration: Duration::ZERO }).await;
            return;
        }
    };
    let mut out = BufReader::new(child.stdout.take().expect("piped")).lines();
    let mut err = BufReader::new(child.stderr.take().expect("piped")).lines();
    let deadline = tokio::time::sleep(req.timeout);
    tokio::pin!(deadline);
    let (mut out_open, mut err_open) = (true, true);
    let status = loop {
        tokio::select! {
            line = out.next_line(), if out_open => match line {
                Ok(Some(l)) => send(ActionEvent::Output { line: l }).await,
                _ => out_open = false,
            },
            line = err.next_line(), if err_open => match line {
                Ok(Some(l)) => send(ActionEvent::Output { line: l }).await,
                _ => err_open = false,
            },
            status = child.wait(), if !out_open && !err_open => break status.ok(),
            () = &mut deadline => {
                if let Some(pid) = child.id() {
                    let _ = std::process::Command::new("kill").args(["-KILL", &format!("-{pid}")]).status();
                }
                let _ = child.kill().await;
                break None;
            }
        }
    };
    let duration = started.elapsed();
    let (exit_status, outcome) = match status {
        Some(s) if s.success() => (Some(0), "succeeded".to_string()),
        Some(s) => match s.code() {
            Some(code) => (Some(code), format!("failed with exit status {code}")),
            None => (None, "killed by a signal".to_string()),
        },
        None => (None, format!("timed out after {}; killed", crate::format::duration(req.timeout))),
    };
    if let Err(e) = audit.append(&record("end", exit_status, Some(&outcome), Some(duration.as_millis() as u64), None)) {
        tracing::error!(error = %e, "audit log end record");
    }
    send(ActionEvent::Finished { outcome, exit_status, duration }).await;
}
