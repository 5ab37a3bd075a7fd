//! The board's keys as data: one table of (command, keys, words) that the keymap, the help
//! screen, the footer and the config check all read, so a key cannot be shown without being
//! bound, nor a configured action take a key the board uses. Names no terminal crate: the
//! keymap turns terminal events into [`Key`]s.

/// A key as the board names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Char(char),
    Ctrl(char),
    Up,
    Down,
    Left,
    Right,
    Home,
    End,
    PageUp,
    PageDown,
    Enter,
    Esc,
    Backspace,
    F(u8),
}

impl Key {
    /// How the help and the footer write it.
    pub fn label(self) -> String {
        match self {
            Key::Char(c) => c.to_string(),
            Key::Ctrl(c) => format!("Ctrl-{}", c.to_ascii_uppercase()),
            Key::Up => "↑".into(),
            Key::Down => "↓".into(),
            Key::Left => "←".into(),
            Key::Right => "→".into(),
            Key::Home => "Home".into(),
            Key::End => "End".into(),
            Key::PageUp => "PgUp".into(),
            Key::PageDown => "PgDn".into(),
            Key::Enter => "⏎".into(),
            Key::Esc => "Esc".into(),
            Key::Backspace => "Backspace".into(),
            Key::F(n) => format!("F{n}"),
        }
    }
}

/// Things a key can ask for: the board's commands (bound in [`BINDINGS`]), and what typing into
/// the filter or a dialog, a configured action's key and the wall's timer ask for.
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
    ToggleDeploys,
    ToggleBackups,
    /// The wall's timer: show the next page.
    NextPage,
    /// A key that may be bound to a configured action.
    ActionKey(char),
    ToggleOutput,
    DialogChar(char),
    DialogBackspace,
    DialogPrevVersion,
    DialogNextVersion,
    DialogConfirm,
    DialogCancel,
    /// Mute the selected service's notifications.
    Silence,
    /// Put the selected service in maintenance for a while (or end its window).
    Maintenance,
    /// Take the selected service's incident (or hand it back).
    Take,
    /// Write a note on the public status page for the selected service's component.
    Note,
    /// Load the config again.
    ReloadConfig,
}

/// One board action's keys and words.
#[derive(Debug)]
pub struct Binding {
    pub action: Action,
    /// Every key bound to it, the ones the help shows first.
    pub keys: &'static [Key],
    /// How many of `keys` the help shows.
    pub shown: usize,
    /// The help's words; bindings in a row with the same words share one help line.
    pub help: &'static str,
    /// The footer's word.
    pub hint: &'static str,
}

const fn bind(action: Action, keys: &'static [Key], shown: usize, help: &'static str, hint: &'static str) -> Binding {
    Binding { action, keys, shown, help, hint }
}

/// The board's keys, in the help's order.
pub const BINDINGS: &[Binding] = &[
    bind(Action::Up, &[Key::Up, Key::Char('k')], 2, "move", "move"),
    bind(Action::Down, &[Key::Down, Key::Char('j')], 2, "move", "move"),
    bind(Action::Top, &[Key::Char('g'), Key::Home], 2, "first / last", "first"),
    bind(Action::Bottom, &[Key::Char('G'), Key::End], 2, "first / last", "last"),
    bind(Action::PageUp, &[Key::PageUp, Key::Ctrl('u')], 1, "page", "page"),
    bind(Action::PageDown, &[Key::PageDown, Key::Ctrl('d')], 1, "page", "page"),
    bind(Action::Open, &[Key::Enter, Key::Right, Key::Char('l')], 3, "open service detail", "detail"),
    bind(Action::Back, &[Key::Esc, Key::Left, Key::Char('h'), Key::Backspace], 3, "back", "back"),
    bind(Action::StartFilter, &[Key::Char('/')], 1, "filter services (Esc clears)", "filter"),
    bind(Action::ToggleSort, &[Key::Char('s')], 1, "sort: worst first / config order", "sort"),
    bind(Action::ToggleCompact, &[Key::Char('c')], 1, "compact view: every service, one line", "compact"),
    bind(Action::ToggleDeploys, &[Key::Char('d')], 1, "deploys: recent, newest first", "deploys"),
    bind(Action::ToggleBackups, &[Key::Char('b')], 1, "backups: age, size, state", "backups"),
    bind(Action::ToggleOutput, &[Key::Char('o')], 1, "output of the last action on a service", "output"),
    bind(Action::Take, &[Key::Char('a')], 1, "take an incident, or hand it back", "take"),
    bind(Action::Silence, &[Key::Char('m')], 1, "mute a service's notifications", "mute"),
    bind(Action::Maintenance, &[Key::Char('M')], 1, "maintenance window: pages nobody", "maint"),
    bind(Action::Note, &[Key::Char('n')], 1, "note on the public status page", "note"),
    bind(Action::ReloadConfig, &[Key::Ctrl('r')], 1, "reload the config", "reload"),
    bind(Action::ToggleHelp, &[Key::Char('?'), Key::F(1)], 1, "this help", "help"),
    bind(Action::Quit, &[Key::Char('q'), Key::Ctrl('c'), Key::Ctrl('q')], 2, "quit", "quit"),
];

/// The action bound to `key`, if any.
pub fn bound_to(key: Key) -> Option<Action> {
    BINDINGS.iter().find(|b| b.keys.contains(&key)).map(|b| b.action)
}

/// An action's row of the table.
pub fn binding(action: Action) -> &'static Binding {
    BINDINGS.iter().find(|b| b.action == action).unwrap_or(&BINDINGS[0])
}

/// What the board's own key `c` does, if it is one.
pub fn char_meaning(c: char) -> Option<&'static str> {
    BINDINGS.iter().find(|b| b.keys.contains(&Key::Char(c))).map(|b| b.help)
}

/// The plain characters the board uses: a configured action may not take one.
pub fn board_chars() -> impl Iterator<Item = char> {
    BINDINGS.iter().flat_map(|b| b.keys).filter_map(|k| match k {
        Key::Char(c) => Some(*c),
        _ => None,
    })
}

/// The help's lines: each group of bindings in a row with the same words, its shown keys
/// column by column ("↑ ↓  k j"), and the words.
pub fn help_lines() -> Vec<(String, &'static str)> {
    let mut lines = Vec::new();
    let mut i = 0;
    while i < BINDINGS.len() {
        let help = BINDINGS[i].help;
        let group: Vec<&Binding> = BINDINGS[i..].iter().take_while(|b| b.help == help).collect();
        i += group.len();
        let columns = group.iter().map(|b| b.shown).max().unwrap_or(0);
        let keys: Vec<String> = (0..columns)
            .map(|c| {
                let labels: Vec<String> =
                    group.iter().filter(|b| c < b.shown).filter_map(|b| b.keys.get(c)).map(|k| k.label()).collect();
                labels.join(" ")
            })
            .collect();
        // Keys of one command are a space apart; the columns of a group two.
        lines.push((keys.join(if group.len() > 1 { "  " } else { " " }), help));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_key_is_bound_twice_and_every_command_has_a_row() {
        let keys: Vec<Key> = BINDINGS.iter().flat_map(|b| b.keys.iter().copied()).collect();
        for (i, k) in keys.iter().enumerate() {
            assert!(!keys[i + 1..].contains(k), "{k:?} is bound twice");
        }
        for b in BINDINGS {
            assert_eq!(binding(b.action).action, b.action);
            assert!(b.shown >= 1 && b.shown <= b.keys.len(), "{b:?}");
        }
    }

    #[test]
    fn the_help_groups_rows_with_the_same_words() {
        let lines = help_lines();
        assert_eq!(lines[0], ("↑ ↓  k j".to_string(), "move"));
        assert_eq!(lines[1], ("g G  Home End".to_string(), "first / last"));
        assert!(lines.iter().any(|(k, w)| k == "⏎ → l" && *w == "open service detail"), "{lines:?}");
        assert!(lines.iter().any(|(k, w)| k == "q Ctrl-C" && *w == "quit"), "{lines:?}");
        assert_eq!(board_chars().collect::<String>(), "kjgGlh/scdboamMn?q");
    }
}
