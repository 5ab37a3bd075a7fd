//! The compact view: every service on one line, in as many columns as fit, worst first.
//! 80 and more services fit on one 120x40 screen.

use super::Scene;
use super::symbols;
use super::widgets::cut;
use crate::state::{Status, named_worst};
use ratatui::{
    Frame,
    layout::Rect,
    style::Modifier,
    text::{Line, Span},
    widgets::{Block, Paragraph},
};

/// Narrowest column: symbol, word, a name and a little reason.
const MIN_COLUMN: u16 = 38;

pub fn render(frame: &mut Frame, area: Rect, scene: &Scene) {
    let theme = scene.theme;
    let visible = scene.view.visible(scene.state, &scene.verdicts);
    let block = Block::bordered()
        .title(Span::styled(format!(" all services · {} ", visible.len()), theme.title()))
        .border_style(theme.border())
        .style(theme.base());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height == 0 || inner.width == 0 {
        return;
    }
    let per_column = inner.height as usize;
    // As many columns as fit, but no more than the services need.
    let columns = ((inner.width / MIN_COLUMN).max(1) as usize).min(visible.len().div_ceil(per_column).max(1));
    let col_width = inner.width / columns as u16;
    let shown = columns * per_column;
    for (slot, &si) in visible.iter().take(shown).enumerate() {
        let (col, row) = (slot / per_column, slot % per_column);
        let cell = Rect {
            x: inner.x + col as u16 * col_width,
            y: inner.y + row as u16,
            width: col_width.saturating_sub(1),
            height: 1,
        };
        let line = if slot == shown - 1 && visible.len() > shown {
            Line::styled(format!("… {} more", visible.len() - shown + 1), theme.dim())
        } else {
            cut::line(service_line(scene, si, scene.view.current(&visible) == Some(si)), cell.width)
        };
        frame.render_widget(Paragraph::new(line), cell);
    }
}

fn service_line<'a>(scene: &Scene, si: usize, selected: bool) -> Line<'a> {
    let theme = scene.theme;
    let svc = &scene.state.services[si];
    let v = named_worst(svc, &scene.verdicts.services[si]);
    let status = v.status;
    let mut name_style = theme.base();
    if selected && scene.view.wall.is_none() {
        name_style = theme.selected();
    }
    if status >= Status::Warn {
        name_style = name_style.add_modifier(Modifier::BOLD);
    }
    let mut spans = vec![
        Span::styled(
            format!("{} {:<5} ", symbols::status(status), short_word(status)),
            if scene.verdicts.quiet(si) { theme.dim() } else { theme.status(status) },
        ),
        Span::styled(svc.name.to_string(), name_style),
        Span::styled(format!(" {}", svc.env.label), super::env_style(&svc.env, theme)),
    ];
    let marks = super::marks_label(scene, si, false);
    if let Some(marks) = &marks {
        spans.push(Span::styled(format!(" {marks}"), theme.dim()));
    }
    // Flapping is said among the marks; blocked or in maintenance, the own reason is quiet.
    if status != Status::Ok && scene.verdicts.services[si].flapping.as_ref() != Some(&v) {
        let style = if scene.verdicts.quiet(si) { theme.dim() } else { theme.status(status) };
        let apart = if marks.is_some() { " ·" } else { "" };
        spans.push(Span::styled(format!("{apart} {}", v.reason), style));
    }
    Line::from(spans)
}

/// Words of at most five letters, so columns line up.
fn short_word(s: Status) -> &'static str {
    match s {
        Status::Unknown => "UNKN",
        other => other.word(),
    }
}
