//! What the person is looking at: screen, selection, filter, overlays. Changed only by key actions.

use crate::actions::ActionSpecs;
use crate::actions::runner::ActionRequest;
use crate::actions::template::{Fill, fill};
use crate::config::schema::Page;
use crate::state::{State, Verdicts};
use std::time::{Duration, SystemTime};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Screen {
    #[default]
    Overview,
    Detail,
    /// Every service, one line each, in columns.
    Compact,
    /// Recent deploys across services.
    Deploys,
    /// Backup jobs.
    Backups,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    /// Worst status first, so trouble is at the top.
    #[default]
    WorstFirst,
    /// The order of the config file.
    Config,
}

pub use crate::bindings::Action;

/// What handling a key asks the loop to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Nothing,
    Quit,
    Run(ActionRequest),
    /// Mute an item's notifications (`length` none: until it is OK), or lift its silence.
    Silence {
        item: String,
        length: Option<Duration>,
        reason: String,
        lift: bool,
    },
}

/// How long a silence lasts; the last choice lifts one in force.
pub const SILENCE_CHOICES: [(&str, Option<Duration>); 4] = [
    ("30m", Some(Duration::from_secs(1800))),
    ("1h", Some(Duration::from_secs(3600))),
    ("4h", Some(Duration::from_secs(4 * 3600))),
    ("until OK", None),
];

/// The dialog that silences a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SilenceDialog {
    pub service: usize,
    /// Into [`SILENCE_CHOICES`]; one past its end lifts the silence in force.
    pub choice: usize,
    /// Whether a silence is in force (then lifting it is a choice).
    pub silenced: bool,
    pub reason: String,
}

impl SilenceDialog {
    pub fn choices(&self) -> usize {
        SILENCE_CHOICES.len() + usize::from(self.silenced)
    }

    pub fn choice_label(&self) -> &'static str {
        SILENCE_CHOICES.get(self.choice).map_or("lift the silence", |(l, _)| l)
    }
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

/// The wall's pages and which one shows.
#[derive(Debug, Clone, Default)]
pub struct WallPages {
    pub pages: Vec<Page>,
    pub current: usize,
}

impl WallPages {
    pub fn page(&self) -> Page {
        self.pages.get(self.current).copied().unwrap_or(Page::Overview)
    }
}

#[derive(Debug, Clone, Default)]
pub struct View {
    pub screen: Screen,
    /// The selected service, by index into the fleet (stable while the order changes).
    pub selected: Option<usize>,
    /// The selected instance on the detail screen.
    pub instance: usize,
    pub filter: String,
    pub editing_filter: bool,
    pub help: bool,
    pub sort: SortOrder,
    /// Set in wall mode.
    pub wall: Option<WallPages>,
    /// The configured actions; empty in read-only mode.
    pub actions: ActionSpecs,
    /// No action may run (`--read-only`, the wall, `board.read_only`).
    pub read_only: bool,
    pub dialog: Option<Dialog>,
    /// The service whose action output is shown.
    pub output: Option<usize>,
    /// A one-line message, e.g. why a key did nothing.
    pub flash: Option<String>,
    pub silencing: Option<SilenceDialog>,
}

const PAGE_ROWS: usize = 10;

impl View {
    /// Service indices in display order: filtered, then sorted.
    pub fn visible(&self, state: &State, verdicts: &Verdicts) -> Vec<usize> {
        let needle = self.filter.to_lowercase();
        let config_order: Vec<usize>;
        let order = match self.sort {
            SortOrder::WorstFirst => verdicts.worst_first(),
            SortOrder::Config => {
                config_order = (0..state.services.len()).collect();
                &config_order
            }
        };
        order
            .iter()
            .copied()
            .filter(|&i| {
                needle.is_empty() || {
                    let s = &state.services[i];
                    s.name.to_lowercase().contains(&needle) || s.env.name.to_lowercase().contains(&needle)
                }
            })
            .collect()
    }

    /// The selected service if it is visible, else the first visible one.
    pub fn current(&self, visible: &[usize]) -> Option<usize> {
        self.selected.filter(|s| visible.contains(s)).or_else(|| visible.first().copied())
    }

    /// Applies an action: view changes here, a command to run is returned.
    pub fn handle(&mut self, action: Action, state: &State, now: SystemTime) -> Outcome {
        if let Some(wall) = &mut self.wall {
            // The wall answers only to quit and its own timer.
            match action {
                Action::Quit => return Outcome::Quit,
                Action::NextPage => wall.current = (wall.current + 1) % wall.pages.len().max(1),
                _ => {}
            }
            return Outcome::Nothing;
        }
        self.flash = None;
        if self.dialog.is_some() {
            return self.handle_dialog(action, state);
        }
        if self.silencing.is_some() {
            return self.handle_silencing(action, state);
        }
        let visible = self.visible(state, &state.verdicts(now));
        match action {
            Action::Quit => return Outcome::Quit,
            Action::NextPage | Action::DialogChar(_) | Action::DialogBackspace | Action::DialogPrevVersion => {}
            Action::DialogNextVersion | Action::DialogConfirm | Action::DialogCancel => {}
            Action::ActionKey(key) => {
                if let Some(si) = self.current(&visible) {
                    self.open_dialog(key, si, state);
                }
            }
            Action::Silence => match self.current(&visible) {
                _ if self.read_only => self.flash = Some("silences are off: the board is read-only".into()),
                Some(si) => {
                    let silenced = state.silences.get(&silence_item(state, si)).is_some();
                    self.silencing = Some(SilenceDialog { service: si, choice: 1, silenced, reason: String::new() });
                }
                None => {}
            },
            Action::ToggleOutput => {
                self.output = match (self.output, self.current(&visible)) {
                    (Some(_), _) => None,
                    (None, Some(si)) if state.services[si].action.is_some() => Some(si),
                    (None, _) => {
                        self.flash = Some("no action has run on this service".into());
                        None
                    }
                };
            }
            Action::ToggleBackups => {
                self.screen = if self.screen == Screen::Backups { Screen::Overview } else { Screen::Backups };
            }
            Action::ToggleDeploys => {
                self.screen = if self.screen == Screen::Deploys { Screen::Overview } else { Screen::Deploys };
            }
            Action::ToggleCompact => {
                self.screen = if self.screen == Screen::Compact { Screen::Overview } else { Screen::Compact };
            }
            Action::ToggleHelp => self.help = !self.help,
            Action::Back if self.help => self.help = false,
            Action::Back if self.output.is_some() => self.output = None,
            Action::Back => self.screen = Screen::Overview,
            Action::Open => {
                if let Some(cur) = self.current(&visible) {
                    self.selected = Some(cur);
                    self.screen = Screen::Detail;
                    self.instance = 0;
                }
            }
            Action::StartFilter => {
                self.editing_filter = true;
                self.screen = Screen::Overview;
            }
            Action::FilterChar(c) => self.filter.push(c),
            Action::FilterBackspace => {
                self.filter.pop();
            }
            Action::FilterAccept => self.editing_filter = false,
            Action::FilterCancel => {
                self.editing_filter = false;
                self.filter.clear();
            }
            Action::ToggleSort => {
                self.sort = match self.sort {
                    SortOrder::WorstFirst => SortOrder::Config,
                    SortOrder::Config => SortOrder::WorstFirst,
                }
            }
            Action::Up | Action::Down | Action::Top | Action::Bottom | Action::PageUp | Action::PageDown => {
                self.move_selection(action, &visible, state);
            }
        }
        Outcome::Nothing
    }

    /// Opens the dialog of the action bound to `key` on service `si`, unless something forbids it.
    fn open_dialog(&mut self, key: char, si: usize, state: &State) {
        let Some((name, spec)) = self.actions.by_key(key) else { return };
        let svc = &state.services[si];
        if self.read_only || svc.env.read_only {
            let why = if self.read_only {
                "the board is read-only".to_string()
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
        });
    }

    fn handle_dialog(&mut self, action: Action, state: &State) -> Outcome {
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
                if d.typed != svc.name {
                    self.flash = Some(format!("type `{}` exactly to confirm", svc.name));
                    return Outcome::Nothing;
                }
                let Some(spec) = self.actions.specs.get(&d.action) else { return Outcome::Nothing };
                let request = request(d, spec, svc);
                self.output = Some(d.service);
                self.dialog = None;
                return Outcome::Run(request);
            }
            _ => {}
        }
        Outcome::Nothing
    }

    fn handle_silencing(&mut self, action: Action, state: &State) -> Outcome {
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
                let item = silence_item(state, d.service);
                let outcome = Outcome::Silence {
                    item,
                    length: SILENCE_CHOICES.get(d.choice).and_then(|(_, l)| *l),
                    reason: d.reason.trim().to_string(),
                    lift: d.choice >= SILENCE_CHOICES.len(),
                };
                self.silencing = None;
                return outcome;
            }
            _ => {}
        }
        Outcome::Nothing
    }

    fn move_selection(&mut self, action: Action, visible: &[usize], state: &State) {
        if self.screen == Screen::Detail {
            let count = self.selected.and_then(|s| state.services.get(s)).map_or(0, |s| s.instances.len());
            self.instance = step(self.instance, count, action);
            return;
        }
        let Some(cur) = self.current(visible) else { return };
        let pos = visible.iter().position(|&s| s == cur).unwrap_or(0);
        self.selected = Some(visible[step(pos, visible.len(), action)]);
    }
}

/// The item a service's silence is kept under (as notifications name it).
pub fn silence_item(state: &State, service: usize) -> String {
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
    ActionRequest {
        action: d.action.clone(),
        service: d.service,
        service_name: svc.name.clone(),
        env: svc.env.name.clone(),
        from_version: d.from_version.clone(),
        to_version: d.version().map(str::to_string),
        command: fill(&spec.command, &filled),
        timeout: spec.timeout,
    }
}

fn step(pos: usize, len: usize, action: Action) -> usize {
    if len == 0 {
        return 0;
    }
    let last = len - 1;
    match action {
        Action::Up => pos.saturating_sub(1),
        Action::Down => (pos + 1).min(last),
        Action::Top => 0,
        Action::Bottom => last,
        Action::PageUp => pos.saturating_sub(PAGE_ROWS),
        Action::PageDown => (pos + PAGE_ROWS).min(last),
        _ => pos.min(last),
    }
}
