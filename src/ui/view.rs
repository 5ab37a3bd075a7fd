//! What the person is looking at: screen, selection, filter, overlays. Changed only by key actions.

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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    /// Worst status first, so trouble is at the top.
    #[default]
    WorstFirst,
    /// The order of the config file.
    Config,
}

/// Things a key can ask for. Keys map to actions in [`crate::keymap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    Up,
    Down,
    Top,
    Bottom,
    PageUp,
    PageDown,
    Open,
    Back,
    ToggleHelp,
    StartFilter,
    ToggleSort,
    FilterChar(char),
    FilterBackspace,
    FilterAccept,
    FilterCancel,
    ToggleCompact,
    /// The wall's timer: show the next page.
    NextPage,
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
}

const PAGE_ROWS: usize = 10;

impl View {
    /// Service indices in display order: filtered, then sorted.
    pub fn visible(&self, state: &State, verdicts: &Verdicts) -> Vec<usize> {
        let needle = self.filter.to_lowercase();
        let order = match self.sort {
            SortOrder::WorstFirst => verdicts.worst_first(),
            SortOrder::Config => (0..state.services.len()).collect(),
        };
        order
            .into_iter()
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

    /// Applies an action. Returns `true` when the board should quit.
    pub fn handle(&mut self, action: Action, state: &State, now: SystemTime) -> bool {
        if let Some(wall) = &mut self.wall {
            // The wall answers only to quit and its own timer.
            match action {
                Action::Quit => return true,
                Action::NextPage => wall.current = (wall.current + 1) % wall.pages.len().max(1),
                _ => {}
            }
            return false;
        }
        let visible = self.visible(state, &state.verdicts(now));
        match action {
            Action::Quit => return true,
            Action::NextPage => {}
            Action::ToggleCompact => {
                self.screen = if self.screen == Screen::Compact { Screen::Overview } else { Screen::Compact };
            }
            Action::ToggleHelp => self.help = !self.help,
            Action::Back if self.help => self.help = false,
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
        false
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
