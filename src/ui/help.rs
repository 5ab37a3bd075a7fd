//! The `?` overlay: every key and what it does.

use super::{Scene, centered};
use crate::keymap::HELP;
use ratatui::{
    Frame,
    layout::Rect,
    text::{Line, Span},
    widgets::{Block, Clear, Paragraph},
};

pub fn render(frame: &mut Frame, area: Rect, scene: &Scene) {
    let theme = scene.theme;
    let mut lines: Vec<Line> = HELP
        .iter()
        .map(|(key, what)| Line::from(vec![Span::styled(format!(" {key:<14}"), theme.accent()), Span::raw(*what)]))
        .collect();
    for (name, a) in &scene.view.actions.specs {
        let what = if scene.view.read_only {
            format!("{name} (off: read-only)")
        } else {
            format!("{name} the selected service")
        };
        lines.push(Line::from(vec![Span::styled(format!(" {:<14}", a.key), theme.accent()), Span::raw(what)]));
    }
    let height = lines.len() as u16 + 2;
    let popup = centered(area, 52, height);
    frame.render_widget(Clear, popup);
    let block = Block::bordered()
        .title(Span::styled(" keys ", theme.title()))
        .title_bottom(Span::styled(" ? or Esc to close ", theme.dim()))
        .border_style(theme.accent())
        .style(theme.base());
    frame.render_widget(Paragraph::new(lines).block(block), popup);
}
