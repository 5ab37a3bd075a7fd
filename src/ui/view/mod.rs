//! What the person is looking at: screen, selection, filter, overlays. Changed only by key actions.

mod dialogs;

pub use dialogs::{
    Dialog, MAINTENANCE_CHOICES, NoteDialog, SILENCE_CHOICES, SilenceDialog, TakeDialog, request, service_item,
};

use crate::actions::ActionSpecs;
use crate::actions::runner::ActionRequest;
use crate::config::schema::Page;
use crate::state::{State, Verdicts};
use std::time::SystemTime;

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
    Run(Box<ActionRequest>),
    /// Mute an item's notifications or lift its silence; take its incident or hand it back.
    Mark(crate::notify::marks::Marking),
    /// Load the config again.
    ReloadConfig,
}

/// What the wall says when a key other than quit is pressed.
pub const WALL_REFUSAL: &str = "the wall takes no keys: q quits";

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
    /// Why, when it is not the board's own setting: "this terminal has no operator token".
    pub read_only_why: Option<String>,
    pub dialog: Option<Dialog>,
    /// The service whose action output is shown.
    pub output: Option<usize>,
    /// A one-line message, e.g. why a key did nothing.
    pub flash: Option<String>,
    pub silencing: Option<SilenceDialog>,
    pub taking: Option<TakeDialog>,
    pub noting: Option<NoteDialog>,
}

const PAGE_ROWS: usize = 10;

impl View {
    /// Why nothing may run from this view: the board's setting, or this terminal's own reason.
    pub fn read_only_words(&self) -> String {
        self.read_only_why.clone().unwrap_or_else(|| "the board is read-only".into())
    }

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
            // The wall answers only to quit and its own timer; a key pressed says so until the
            // page turns, so whoever pressed it sees it arrived.
            match action {
                Action::Quit => return Outcome::Quit,
                Action::NextPage => {
                    wall.current = (wall.current + 1) % wall.pages.len().max(1);
                    self.flash = None;
                }
                _ => self.flash = Some(WALL_REFUSAL.into()),
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
        if self.taking.is_some() {
            return self.handle_taking(action, state);
        }
        if self.noting.is_some() {
            return self.handle_noting(action);
        }
        let visible = self.visible(state, &state.verdicts(now));
        match action {
            Action::Quit => return Outcome::Quit,
            Action::ReloadConfig => return Outcome::ReloadConfig,
            Action::NextPage | Action::DialogChar(_) | Action::DialogBackspace | Action::DialogPrevVersion => {}
            Action::DialogNextVersion | Action::DialogConfirm | Action::DialogCancel => {}
            Action::ActionKey(key) => {
                if let Some(si) = self.current(&visible) {
                    self.open_dialog(key, si, state);
                }
            }
            Action::Silence => match self.current(&visible) {
                _ if self.read_only => self.flash = Some(format!("silences are off: {}", self.read_only_words())),
                Some(si) => {
                    let silenced = state.silences.get(&service_item(state, si)).is_some();
                    let reason = String::new();
                    self.silencing =
                        Some(SilenceDialog { service: si, choice: 1, silenced, reason, maintenance: false });
                }
                None => {}
            },
            Action::Maintenance => match self.current(&visible) {
                _ if self.read_only => self.flash = Some(format!("maintenance is off: {}", self.read_only_words())),
                Some(si) => {
                    let item = service_item(state, si);
                    let silenced = crate::state::maintenance::ad_hoc(state, &item, now).is_some();
                    let reason = String::new();
                    self.silencing =
                        Some(SilenceDialog { service: si, choice: 1, silenced, reason, maintenance: true });
                }
                None => {}
            },
            Action::Take => match self.current(&visible) {
                _ if self.read_only => {
                    self.flash = Some(format!("taking incidents is off: {}", self.read_only_words()));
                }
                Some(si) => self.open_taking(si, state, now),
                None => {}
            },
            Action::Note => match self.current(&visible) {
                _ if self.read_only => {
                    self.flash = Some(format!("status page notes are off: {}", self.read_only_words()));
                }
                Some(si) => self.open_noting(si, state),
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
