//! The output pane of an action: its last lines and how it ended.

use super::Scene;
use crate::format;
use crate::state::Status;
use ratatui::{
    Frame,
    layout::Rect,
    text::{Line, Span},
    widgets::{Block, Clear, Paragraph},
};

pub fn render(frame: &mut Frame, area: Rect, scene: &Scene, service: usize) {
    let theme = scene.theme;
    let svc = &scene.state.services[service];
    let Some(run) = &svc.action else { return };
    let height = (area.height / 2).max(6).min(area.height);
    let pane = Rect { y: area.bottom() - height, height, ..area };
    frame.render_widget(Clear, pane);
    let (status, state) = match &run.finished {
        None => (
            Status::Warn,
            format!("running for {}", format::age(scene.now.duration_since(run.started_at).unwrap_or_default())),
        ),
        Some((outcome, _, took)) => {
            let s = if run.succeeded() { Status::Ok } else { Status::Crit };
            (s, format!("{outcome} after {}", format::duration(*took)))
        }
    };
    let title = Line::from(vec![
        Span::styled(format!(" {} · {} ", run.action, svc.name), theme.title()),
        Span::styled(format!("{state} "), theme.status(status)),
    ]);
    let inner_rows = height.saturating_sub(2) as usize;
    let mut lines: Vec<Line> = vec![Line::styled(format!("$ {}", run.command), theme.dim())];
    lines.extend(run.output.last_n(inner_rows.saturating_sub(1)).map(|l| Line::raw(l.clone())));
    let block = Block::bordered()
        .title(title)
        .title_bottom(Span::styled(" o or Esc to close ", theme.dim()))
        .border_style(theme.status(status))
        .style(theme.base());
    frame.render_widget(Paragraph::new(lines).block(block), pane);
}
