//! What a terminal below the minimum size shows instead of a broken board.

use super::{MIN_HEIGHT, MIN_WIDTH, Scene};
use ratatui::{
    Frame,
    layout::Rect,
    text::Line,
    widgets::{Paragraph, Wrap},
};

pub fn render(frame: &mut Frame, area: Rect, scene: &Scene) {
    let worst = scene.verdicts.service_tally.worst();
    let text = vec![
        Line::styled(format!("{} {}", super::symbols::status(worst), worst.word()), scene.theme.status(worst)),
        Line::raw(format!("{}x{} is too small", area.width, area.height)),
        Line::raw(format!("need {MIN_WIDTH}x{MIN_HEIGHT}")),
    ];
    frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }).style(scene.theme.base()), area);
}
