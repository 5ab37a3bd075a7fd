//! The `?` overlay: every key and what it does.

use super::{Scene, centered};
use ratatui::{
    Frame,
    layout::Rect,
    text::{Line, Span},
    widgets::{Block, Clear, Paragraph, Wrap},
};

pub fn render(frame: &mut Frame, area: Rect, scene: &Scene) {
    let theme = scene.theme;
    let mut lines: Vec<Line> = crate::bindings::help_lines()
        .into_iter()
        .map(|(keys, what)| Line::from(vec![Span::styled(format!(" {keys:<14}"), theme.accent()), Span::raw(what)]))
        .collect();
    for (name, a) in &scene.view.actions.specs {
        let what = if scene.view.read_only {
            format!("{name} (off: read-only)")
        } else {
            format!("{name} the selected service")
        };
        lines.push(Line::from(vec![Span::styled(format!(" {:<14}", a.key), theme.accent()), Span::raw(what)]));
    }
    // As wide as the longest line (plus borders); on a narrower screen the lines wrap.
    let longest = lines.iter().map(Line::width).max().unwrap_or(0) as u16 + 2;
    let width = longest.min(area.width);
    let inner = width.saturating_sub(2).max(1) as usize;
    let rows: usize = lines.iter().map(|l| l.width().div_ceil(inner).max(1)).sum();
    let popup = centered(area, width, rows as u16 + 2);
    frame.render_widget(Clear, popup);
    let block = Block::bordered()
        .title(Span::styled(" keys ", theme.title()))
        .title_bottom(Span::styled(" ? or Esc to close ", theme.dim()))
        .border_style(theme.accent())
        .style(theme.base());
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).block(block), popup);
}
