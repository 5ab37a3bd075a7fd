//! The run of an action against a service: its output and how it ended.

use super::series::Ring;
use std::time::{Duration, SystemTime};

/// What a running action reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionEvent {
    Started { action: String, to_version: Option<String>, command: String, at: SystemTime },
    Output { line: String },
    Finished { outcome: String, exit_status: Option<i32>, duration: Duration },
}

/// The latest run of an action against one service.
#[derive(Debug, Clone)]
pub struct ActionRun {
    pub action: String,
    pub to_version: Option<String>,
    pub command: String,
    pub started_at: SystemTime,
    pub output: Ring<String>,
    /// Outcome in words, exit status and duration, once it ended.
    pub finished: Option<(String, Option<i32>, Duration)>,
}

/// Output lines kept per run.
const OUTPUT_LINES: usize = 500;

impl ActionRun {
    pub fn running(&self) -> bool {
        self.finished.is_none()
    }

    pub fn succeeded(&self) -> bool {
        matches!(self.finished, Some((_, Some(0), _)))
    }

    /// Folds an event into the run of a service (starting a new run on `Started`).
    pub fn apply(run: &mut Option<ActionRun>, event: ActionEvent) {
        match event {
            ActionEvent::Started { action, to_version, command, at } => {
                *run = Some(ActionRun {
                    action,
                    to_version,
                    command,
                    started_at: at,
                    output: Ring::new(OUTPUT_LINES),
                    finished: None,
                });
            }
            ActionEvent::Output { line } => {
                if let Some(r) = run {
                    r.output.push(line);
                }
            }
            ActionEvent::Finished { outcome, exit_status, duration } => {
                if let Some(r) = run {
                    r.finished = Some((outcome, exit_status, duration));
                }
            }
        }
    }
}
