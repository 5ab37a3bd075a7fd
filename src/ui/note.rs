//! The dialog that writes a note on the public status page, under the component's public name.

use super::Scene;
use super::view::NoteDialog;
use ratatui::{
    Frame,
    layout::Rect,
    text::{Line, Span},
};

pub fn render(frame: &mut Frame, area: Rect, scene: &Scene, d: &NoteDialog) {
    let theme = scene.theme;
    let Some(svc) = scene.state.services.get(d.service) else { return };
    let mut lines = vec![
        Line::from(vec![
            Span::styled(" service  ", theme.dim()),
            Span::styled(&*svc.name, theme.title()),
            Span::styled("  on the page as ", theme.dim()),
            Span::styled(d.component.clone(), theme.title()),
        ]),
        Line::from(vec![
            Span::styled(" note     ", theme.dim()),
            Span::raw(d.text.clone()),
            Span::styled("▏", theme.accent()),
        ]),
    ];
    if let Some(last) = scene.state.status_notes.latest(&d.component) {
        lines.push(Line::styled(format!(" last     {}", last.text), theme.dim()));
    }
    lines.push(Line::styled(" Customers read this on the status page: write it for them.", theme.dim()));
    super::popup(frame, area, scene, format!(" status page · {} ", d.component), " ⏎ post  Esc cancel ", lines);
}
