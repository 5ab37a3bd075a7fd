//! The dialogs over the board: confirming an action, silencing a service, taking its incident.

use super::{Action, Outcome, View};
use crate::actions::runner::ActionRequest;
use crate::actions::template::{Fill, fill};
use crate::state::State;
use std::time::Duration;

/// How long a silence lasts; the last choice lifts one in force.
pub const SILENCE_CHOICES: [(&str, Option<Duration>); 4] = [
    ("30m", Some(Duration::from_secs(1800))),
    ("1h", Some(Duration::from_secs(3600))),
    ("4h", Some(Duration::from_secs(4 * 3600))),
    ("until OK", None),
];

/// How long a maintenance window set from the board lasts; the last choice ends one in force.
pub const MAINTENANCE_CHOICES: [(&str, Option<Duration>); 4] = [
    ("30m", Some(Duration::from_secs(1800))),
    ("1h", Some(Duration::from_secs(3600))),
    ("2h", Some(Duration::from_secs(2 * 3600))),
    ("4h", Some(Duration::from_secs(4 * 3600))),
];

/// The dialog that silences a service, or puts it in maintenance: for how long, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SilenceDialog {
    pub service: usize,
    /// Into [`SilenceDialog::lengths`]; one past its end lifts the one in force.
    pub choice: usize,
    /// Whether one is in force (then lifting it is a choice).
    pub silenced: bool,
    pub reason: String,
    /// A maintenance window rather than a silence.
    pub maintenance: bool,
}

impl SilenceDialog {
    pub fn lengths(&self) -> &'static [(&'static str, Option<Duration>)] {
        if self.maintenance { &MAINTENANCE_CHOICES } else { &SILENCE_CHOICES }
    }

    pub fn choices(&self) -> usize {
        self.lengths().len() + usize::from(self.silenced)
    }

    pub fn choice_label(&self) -> &'static str {
        let lift = if self.maintenance { "end the window" } else { "lift the silence" };
        self.lengths().get(self.choice).map_or(lift, |(l, _)| l)
    }

    /// Whether the choice sets one (else it lifts the one in force).
    pub fn sets(&self) -> bool {
        self.choice < self.lengths().len()
    }
}

/// The dialog that takes a service's incident, with a note, or hands it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TakeDialog {
    pub service: usize,
    pub note: String,
    /// Who has it now, if anyone: then handing it back is a choice.
    pub taken_by: Option<String>,
    /// 0 takes it; 1 hands it back.
    pub hand_back: bool,
}

impl TakeDialog {
    pub fn choice_label(&self) -> &'static str {
        match (self.hand_back, self.taken_by.is_some()) {
            (true, _) => "hand it back",
            (false, true) => "take it over",
            (false, false) => "take it",
        }
    }
}

/// The dialog that writes a note on the public status page, for a service's component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteDialog {
    pub service: usize,
    /// The component's public name: what the note is under on the page.
    pub component: String,
    pub text: String,
}

/// The confirmation dialog of an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialog {
    pub action: String,
    pub service: usize,
    pub from_version: Option<String>,
    /// Versions to go to, the default first.
    pub versions: Vec<String>,
    pub choice: usize,
    pub needs_version: bool,
    /// What the person has typed; it must equal the service's name.
    pub typed: String,
    /// With no earlier version known, the version the person types, entered before the name.
    pub typed_version: String,
    /// Keys go to `typed_version` until Enter.
    pub entering_version: bool,
    /// A rollback through ECS's or CodeDeploy's API: the call, and why that target.
    pub native: Option<(crate::state::rollback::NativeCall, String)>,
}

impl Dialog {
    pub fn version(&self) -> Option<&str> {
        if !self.needs_version {
            return None;
        }
        match self.versions.get(self.choice) {
            Some(v) => Some(v),
            None => Some(self.typed_version.trim()).filter(|v| !v.is_empty()),
        }
    }
}

impl View {
    /// Opens the dialog of the action bound to `key` on service `si`, unless something forbids it.
    pub(super) fn open_dialog(&mut self, key: char, si: usize, state: &State) {
        let Some((name, spec)) = self.actions.by_key(key) else { return };
        let svc = &state.services[si];
        if self.read_only || svc.env.read_only {
            let why = if self.read_only {
                self.read_only_words()
            } else {
                format!("environment {} is read-only", svc.env.label)
            };
            self.flash = Some(format!("{name} is off: {why}"));
            return;
        }
        if let Some(run) = svc.action.as_ref().filter(|r| r.running()) {
            self.flash = Some(format!("{} of {} is already running; one at a time", run.action, svc.name));
            return;
        }
        if spec.kind.native() {
            match crate::state::rollback::plan(spec.kind, svc, &state.deploys) {
                Ok((call, why)) => {
                    let (from_version, to) = call.versions();
                    self.dialog = Some(Dialog {
                        action: name.to_string(),
                        service: si,
                        from_version,
                        versions: vec![to],
                        choice: 0,
                        needs_version: false,
                        typed: String::new(),
                        typed_version: String::new(),
                        entering_version: false,
                        native: Some((call, why)),
                    });
                }
                Err(why) => self.flash = Some(format!("{name} is off: {why}")),
            }
            return;
        }
        let from_version = state.current_version(si).map(|(v, _)| v);
        let versions: Vec<String> =
            state.versions_seen(si).into_iter().filter(|v| Some(v) != from_version.as_ref()).collect();
        // With no earlier version known, the person types the one to go to.
        let entering_version = spec.needs_version && versions.is_empty();
        self.dialog = Some(Dialog {
            action: name.to_string(),
            service: si,
            from_version,
            versions,
            choice: 0,
            needs_version: spec.needs_version,
            typed: String::new(),
            typed_version: String::new(),
            entering_version,
            native: None,
        });
    }

    pub(super) fn handle_dialog(&mut self, action: Action, state: &State) -> Outcome {
        let Some(d) = self.dialog.as_mut() else { return Outcome::Nothing };
        match action {
            Action::Quit => return Outcome::Quit,
            Action::DialogCancel => self.dialog = None,
            Action::DialogChar(c) if d.entering_version => d.typed_version.push(c),
            Action::DialogChar(c) => d.typed.push(c),
            Action::DialogBackspace if d.entering_version => {
                d.typed_version.pop();
            }
            Action::DialogBackspace => {
                d.typed.pop();
            }
            Action::DialogConfirm if d.entering_version => match d.version() {
                Some(_) => d.entering_version = false,
                None => self.flash = Some("type the version to go to, then ⏎".into()),
            },
            Action::DialogPrevVersion => d.choice = d.choice.saturating_sub(1),
            Action::DialogNextVersion => d.choice = (d.choice + 1).min(d.versions.len().saturating_sub(1)),
            Action::DialogConfirm => {
                let svc = &state.services[d.service];
                if *d.typed != *svc.name {
                    self.flash = Some(format!("type `{}` exactly to confirm", svc.name));
                    return Outcome::Nothing;
                }
                let Some(spec) = self.actions.specs.get(&d.action) else { return Outcome::Nothing };
                let request = request(d, spec, svc);
                self.output = Some(d.service);
                self.dialog = None;
                return Outcome::Run(Box::new(request));
            }
            _ => {}
        }
        Outcome::Nothing
    }

    pub(super) fn handle_silencing(&mut self, action: Action, state: &State) -> Outcome {
        let Some(d) = self.silencing.as_mut() else { return Outcome::Nothing };
        match action {
            Action::Quit => return Outcome::Quit,
            Action::DialogCancel => self.silencing = None,
            Action::DialogChar(c) => d.reason.push(c),
            Action::DialogBackspace => {
                d.reason.pop();
            }
            Action::DialogPrevVersion => d.choice = d.choice.saturating_sub(1),
            Action::DialogNextVersion => d.choice = (d.choice + 1).min(d.choices() - 1),
            Action::DialogConfirm => {
                let change = crate::notify::silences::Change {
                    item: service_item(state, d.service),
                    length: d.lengths().get(d.choice).and_then(|(_, l)| *l),
                    reason: d.reason.trim().to_string(),
                    lift: !d.sets(),
                    maintenance: d.maintenance,
                };
                self.silencing = None;
                return Outcome::Mark(crate::notify::marks::Marking::Silence(change));
            }
            _ => {}
        }
        Outcome::Nothing
    }
}

impl View {
    /// Opens the taking dialog on service `si`: a failing one, or one someone has taken.
    pub(super) fn open_taking(&mut self, si: usize, state: &State, now: std::time::SystemTime) {
        let item = service_item(state, si);
        let taken_by = state.taken.get(&item).map(|t| t.who.clone());
        let status = state.verdicts(now).services.get(si).map(|v| v.status()).unwrap_or_default();
        // Only something failing has an incident: OK and not yet checked have none.
        if taken_by.is_none() && matches!(status, crate::state::Status::Ok | crate::state::Status::Unknown) {
            self.flash = Some(format!("{} is {}: nothing to take", state.services[si].name, status.word()));
            return;
        }
        self.taking = Some(TakeDialog { service: si, note: String::new(), taken_by, hand_back: false });
    }

    pub(super) fn handle_taking(&mut self, action: Action, state: &State) -> Outcome {
        let Some(d) = self.taking.as_mut() else { return Outcome::Nothing };
        match action {
            Action::Quit => return Outcome::Quit,
            Action::DialogCancel => self.taking = None,
            Action::DialogChar(c) if !d.hand_back => d.note.push(c),
            Action::DialogBackspace => {
                d.note.pop();
            }
            Action::DialogPrevVersion => d.hand_back = false,
            Action::DialogNextVersion => d.hand_back = d.taken_by.is_some(),
            Action::DialogConfirm => {
                let change = crate::notify::taking::Change {
                    item: service_item(state, d.service),
                    note: d.note.trim().to_string(),
                    hand_back: d.hand_back,
                };
                self.taking = None;
                return Outcome::Mark(crate::notify::marks::Marking::Take(change));
            }
            _ => {}
        }
        Outcome::Nothing
    }
}

impl View {
    /// Opens the note dialog on service `si`, when it is on the status page.
    pub(super) fn open_noting(&mut self, si: usize, state: &State) {
        let name = &state.services[si].name;
        match state.components.iter().find(|c| c.services.iter().any(|s| **s == **name)) {
            Some(c) => {
                self.noting = Some(NoteDialog { service: si, component: c.name.clone(), text: String::new() });
            }
            None => self.flash = Some(format!("{name} is not on the status page ([[status.components]])")),
        }
    }

    pub(super) fn handle_noting(&mut self, action: Action) -> Outcome {
        let Some(d) = self.noting.as_mut() else { return Outcome::Nothing };
        match action {
            Action::Quit => return Outcome::Quit,
            Action::DialogCancel => self.noting = None,
            Action::DialogChar(c) => d.text.push(c),
            Action::DialogBackspace => {
                d.text.pop();
            }
            Action::DialogConfirm if d.text.trim().is_empty() => {
                self.flash = Some("type the note customers will read, then ⏎".into());
            }
            Action::DialogConfirm => {
                let change = crate::notify::marks::NoteChange { component: d.component.clone(), text: d.text.clone() };
                self.noting = None;
                return Outcome::Mark(crate::notify::marks::Marking::Note(change));
            }
            _ => {}
        }
        Outcome::Nothing
    }
}

/// The item a service is known by in silences, incidents and notifications: `service payments`.
pub fn service_item(state: &State, service: usize) -> String {
    format!("service {}", state.services[service].name)
}

/// The command the dialog shows and runs.
pub fn request(
    d: &Dialog,
    spec: &crate::config::schema::ActionConfig,
    svc: &crate::state::ServiceState,
) -> ActionRequest {
    let filled = Fill {
        service: &svc.name,
        env: &svc.env.name,
        version: d.version().unwrap_or(""),
        from_version: d.from_version.as_deref().unwrap_or(""),
    };
    if let Some((call, _)) = &d.native {
        return ActionRequest {
            action: d.action.clone(),
            service: d.service,
            service_name: svc.name.to_string(),
            env: svc.env.name.clone(),
            from_version: d.from_version.clone(),
            to_version: d.versions.first().cloned(),
            command: call.words(),
            timeout: spec.timeout,
            native: Some(call.clone()),
        };
    }
    ActionRequest {
        action: d.action.clone(),
        service: d.service,
        service_name: svc.name.to_string(),
        env: svc.env.name.clone(),
        from_version: d.from_version.clone(),
        to_version: d.version().map(str::to_string),
        command: fill(&spec.command, &filled),
        timeout: spec.timeout,
        native: None,
    }
}
