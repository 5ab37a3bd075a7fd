//! The bottom line: key hints, or the filter prompt while typing one.

use super::Scene;
use super::view::Screen;
use crate::bindings::{Action, binding};
use ratatui::{
    Frame,
    layout::Rect,
    text::{Line, Span},
    widgets::Paragraph,
};

pub fn render(frame: &mut Frame, area: Rect, scene: &Scene) {
    let theme = scene.theme;
    let view = scene.view;
    let line = if let Some(flash) = &view.flash {
        Line::from(vec![Span::styled(format!(" {flash}"), theme.status(crate::state::Status::Warn))])
    } else if view.editing_filter {
        Line::from(vec![
            Span::styled(" / ", theme.accent()),
            Span::raw(view.filter.clone()),
            Span::styled("▏", theme.accent()),
            Span::styled("   ⏎ apply  Esc clear", theme.dim()),
        ])
    } else {
        let mut spans = Vec::new();
        for (keys, word) in hints(view.screen) {
            spans.push(Span::styled(format!(" {keys}"), theme.accent()));
            spans.push(Span::styled(format!(" {word} "), theme.dim()));
        }
        if !view.read_only {
            for (name, a) in &view.actions.specs {
                spans.push(Span::styled(format!(" {}", a.key), theme.accent()));
                spans.push(Span::styled(format!(" {name} "), theme.dim()));
            }
        }
        if let Some((name, run)) =
            scene.state.services.iter().find_map(|s| s.action.as_ref().filter(|r| r.running()).map(|r| (&s.name, r)))
        {
            spans.push(Span::styled(format!("  ⟳ {} {name}", run.action), theme.status(crate::state::Status::Warn)));
        }
        if let Some(why) = &scene.state.counts_trouble {
            // First, as a refused reload is: a narrow terminal cuts the key hints, not this.
            let text = format!(" ⚠ counts in memory only: {why} ");
            spans.insert(0, Span::styled(text, theme.status(crate::state::Status::Warn)));
        }
        if let Some((label, why)) = &scene.state.undelivered {
            spans.push(Span::styled(format!("  ⚠ notify {label}: {why}"), theme.status(crate::state::Status::Warn)));
        }
        if let Some(note) = &scene.state.config_note {
            // A refusal or a weakened guard stays until a reload that says neither; the rest for a minute.
            let recent = scene.now.duration_since(note.at).unwrap_or_default() < std::time::Duration::from_secs(60);
            if note.warns() {
                // First, so that a narrow terminal cuts the key hints, not this.
                spans
                    .insert(0, Span::styled(format!(" ⚠ {} ", note.words()), theme.status(crate::state::Status::Warn)));
            } else if recent {
                spans.push(Span::styled(format!("  {}", note.words()), theme.dim()));
            }
        }
        if !view.filter.is_empty() {
            spans.push(Span::styled(format!("  filter: {}", view.filter), theme.accent()));
        }
        Line::from(spans)
    };
    frame.render_widget(Paragraph::new(line).style(theme.base()), area);
}

/// The commands a screen's footer names, with the word for each where the screen gives it another.
fn commands(screen: Screen) -> &'static [(&'static [Action], Option<&'static str>)] {
    const HELP: (&[Action], Option<&str>) = (&[Action::ToggleHelp], None);
    const MOVE: (&[Action], Option<&str>) = (&[Action::Up, Action::Down], None);
    const QUIT: (&[Action], Option<&str>) = (&[Action::Quit], None);
    match screen {
        Screen::Overview => &[
            HELP,
            MOVE,
            (&[Action::Open], None),
            (&[Action::StartFilter], None),
            (&[Action::ToggleSort], None),
            (&[Action::ToggleCompact], None),
            QUIT,
        ],
        Screen::Deploys => &[HELP, (&[Action::ToggleDeploys], Some("panels")), QUIT],
        Screen::Backups => &[HELP, (&[Action::ToggleBackups], Some("panels")), QUIT],
        Screen::Compact => &[
            HELP,
            MOVE,
            (&[Action::Open], None),
            (&[Action::StartFilter], None),
            (&[Action::ToggleCompact], Some("panels")),
            QUIT,
        ],
        Screen::Detail => &[HELP, (&[Action::Up, Action::Down], Some("instance")), (&[Action::Back], None), QUIT],
    }
}

/// Each hint as drawn: the first key of each of its commands ("↑↓"), and its word.
fn hints(screen: Screen) -> Vec<(String, &'static str)> {
    commands(screen)
        .iter()
        .map(|(cmds, word)| {
            let keys: String = cmds.iter().filter_map(|c| binding(*c).keys.first()).map(|k| k.label()).collect();
            (keys, word.unwrap_or_else(|| cmds.first().map_or("", |c| binding(*c).hint)))
        })
        .collect()
}
