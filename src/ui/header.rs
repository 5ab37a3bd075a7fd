//! The top line: title, fleet verdict, freshness and clock.

use super::Scene;
use super::widgets::status_cell;
use crate::format;
use crate::state::Status;
use ratatui::{
    Frame,
    layout::{Alignment, Rect},
    text::{Line, Span},
    widgets::Paragraph,
};

pub fn render(frame: &mut Frame, area: Rect, scene: &Scene) {
    let theme = scene.theme;
    let services = scene.state.service_tally(scene.now);
    let instances = scene.state.instance_tally(scene.now);
    let mut left = vec![Span::styled(format!(" {} ", scene.title), theme.title())];
    if scene.read_only {
        left.push(Span::styled("[read-only] ", theme.dim()));
    }
    for status in Status::ALL {
        let n = services.get(status);
        if n > 0 || (status == Status::Ok && services.total() == 0) {
            left.push(status_cell::symbol(status, theme));
            left.push(Span::styled(format!(" {n} {}  ", status.word()), theme.status(status)));
        }
    }
    left.push(Span::styled(
        format!("instances {}/{} ok", instances.ok, instances.total()),
        theme.dim(),
    ));
    let right = Line::from(vec![
        Span::styled(updated_text(scene), theme.dim()),
        Span::styled(format!("  {} ", clock(scene)), theme.title()),
    ]);
    frame.render_widget(Paragraph::new(Line::from(left)).style(theme.base()), area);
    let right_width = right.width() as u16;
    if area.width > right_width + 40 {
        let r = Rect { x: area.right() - right_width, width: right_width, ..area };
        frame.render_widget(Paragraph::new(right).alignment(Alignment::Right), r);
    }
}

/// "updated 3s ago" from the newest result, "waiting for data" before any.
pub fn updated_text(scene: &Scene) -> String {
    match scene.state.last_update() {
        Some(at) => format!("updated {} ago", format::age(scene.now.duration_since(at).unwrap_or_default())),
        None => "waiting for data".into(),
    }
}

/// `HH:MM:SS` in the board's local offset.
pub fn clock(scene: &Scene) -> String {
    let secs = scene.now.duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs() as i64;
    let local = (secs + i64::from(scene.utc_offset_secs)).rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}", local / 3600, local / 60 % 60, local % 60)
}
