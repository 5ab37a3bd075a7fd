//! The bottom line: key hints, or the filter prompt while typing one.

use super::Scene;
use super::view::Screen;
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
        let hints: &[(&str, &str)] = match view.screen {
            Screen::Overview => &[
                ("?", "help"),
                ("↑↓", "move"),
                ("⏎", "detail"),
                ("/", "filter"),
                ("s", "sort"),
                ("c", "compact"),
                ("q", "quit"),
            ],
            Screen::Deploys => &[("?", "help"), ("d", "panels"), ("q", "quit")],
            Screen::Backups => &[("?", "help"), ("b", "panels"), ("q", "quit")],
            Screen::Compact => {
                &[("?", "help"), ("↑↓", "move"), ("⏎", "detail"), ("/", "filter"), ("c", "panels"), ("q", "quit")]
            }
            Screen::Detail => &[("?", "help"), ("↑↓", "instance"), ("Esc", "back"), ("q", "quit")],
        };
        for (key, what) in hints {
            spans.push(Span::styled(format!(" {key}"), theme.accent()));
            spans.push(Span::styled(format!(" {what} "), theme.dim()));
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
        if let Some((label, why)) = &scene.state.undelivered {
            spans.push(Span::styled(format!("  ⚠ notify {label}: {why}"), theme.status(crate::state::Status::Warn)));
        }
        if !view.filter.is_empty() {
            spans.push(Span::styled(format!("  filter: {}", view.filter), theme.accent()));
        }
        Line::from(spans)
    };
    frame.render_widget(Paragraph::new(line).style(theme.base()), area);
}
