//! Keys to actions: terminal key events become the board's [`Key`]s, and the one table in
//! [`crate::bindings`] says what they do. Typing into the filter or a dialog takes every
//! printable key first.

use crate::bindings::{self, Key};
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
    if view.dialog.is_some() || view.silencing.is_some() || view.taking.is_some() || view.noting.is_some() {
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
    let bound = match key.code {
        KeyCode::Char(c) if ctrl => Key::Ctrl(c),
        KeyCode::Char(c) => Key::Char(c),
        KeyCode::Up => Key::Up,
        KeyCode::Down => Key::Down,
        KeyCode::Left => Key::Left,
        KeyCode::Right => Key::Right,
        KeyCode::Home => Key::Home,
        KeyCode::End => Key::End,
        KeyCode::PageUp => Key::PageUp,
        KeyCode::PageDown => Key::PageDown,
        KeyCode::Enter => Key::Enter,
        KeyCode::Esc => Key::Esc,
        KeyCode::Backspace => Key::Backspace,
        KeyCode::F(n) => Key::F(n),
        _ => return None,
    };
    match (bindings::bound_to(bound), bound) {
        (Some(action), _) => Some(action),
        (None, Key::Char(c)) => Some(Action::ActionKey(c)),
        (None, _) => None,
    }
}
