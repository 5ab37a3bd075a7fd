//! Keys to actions. Typing into the filter takes every printable key first.

use crate::ui::view::{Action, View};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// The action a key asks for in the current view, if any.
pub fn action_for(key: KeyEvent, view: &View) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && matches!(key.code, KeyCode::Char('c') | KeyCode::Char('q')) {
        return Some(Action::Quit);
    }
    if view.dialog.is_some() || view.silencing.is_some() {
        return match key.code {
            KeyCode::Enter => Some(Action::DialogConfirm),
            KeyCode::Esc => Some(Action::DialogCancel),
            KeyCode::Backspace => Some(Action::DialogBackspace),
            KeyCode::Left => Some(Action::DialogPrevVersion),
            KeyCode::Right => Some(Action::DialogNextVersion),
            KeyCode::Char(c) if !ctrl => Some(Action::DialogChar(c)),
            _ => None,
        };
    }
    if view.editing_filter {
        return match key.code {
            KeyCode::Enter => Some(Action::FilterAccept),
            KeyCode::Esc => Some(Action::FilterCancel),
            KeyCode::Backspace => Some(Action::FilterBackspace),
            KeyCode::Char(c) if !ctrl => Some(Action::FilterChar(c)),
            _ => None,
        };
    }
    Some(match key.code {
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Char('?') | KeyCode::F(1) => Action::ToggleHelp,
        KeyCode::Up | KeyCode::Char('k') => Action::Up,
        KeyCode::Down | KeyCode::Char('j') => Action::Down,
        KeyCode::Home | KeyCode::Char('g') => Action::Top,
        KeyCode::End | KeyCode::Char('G') => Action::Bottom,
        KeyCode::PageUp => Action::PageUp,
        KeyCode::PageDown => Action::PageDown,
        KeyCode::Char('u') if ctrl => Action::PageUp,
        KeyCode::Char('d') if ctrl => Action::PageDown,
        KeyCode::Enter | KeyCode::Right | KeyCode::Char('l') => Action::Open,
        KeyCode::Esc | KeyCode::Left | KeyCode::Char('h') | KeyCode::Backspace => Action::Back,
        KeyCode::Char('/') => Action::StartFilter,
        KeyCode::Char('s') => Action::ToggleSort,
        KeyCode::Char('c') => Action::ToggleCompact,
        KeyCode::Char('d') => Action::ToggleDeploys,
        KeyCode::Char('b') => Action::ToggleBackups,
        KeyCode::Char('o') => Action::ToggleOutput,
        KeyCode::Char('m') => Action::Silence,
        KeyCode::Char(c) if !ctrl => Action::ActionKey(c),
        _ => return None,
    })
}

/// Keys the board itself uses; a configured action may not take one.
pub const BOARD_KEYS: &[char] = &['q', '?', 'k', 'j', 'g', 'G', 'l', 'h', '/', 's', 'c', 'd', 'b', 'o', 'm'];

/// Key, what it does: the help overlay lists these.
pub const HELP: &[(&str, &str)] = &[
    ("↑ ↓  k j", "move"),
    ("g G  Home End", "first / last"),
    ("PgUp PgDn", "page"),
    ("⏎ → l", "open service detail"),
    ("Esc ← h", "back"),
    ("/", "filter services (Esc clears)"),
    ("s", "sort: worst first / config order"),
    ("c", "compact view: every service, one line"),
    ("d", "deploys: recent, newest first"),
    ("b", "backups: age, size, state"),
    ("o", "output of the last action on a service"),
    ("m", "mute a service's notifications"),
    ("?", "this help"),
    ("q  Ctrl-C", "quit"),
];
