//! The dialog that takes a service's incident, with a note for everyone, or hands it back.

use super::Scene;
use super::view::TakeDialog;
use ratatui::{
    Frame,
    layout::Rect,
    style::Modifier,
    text::{Line, Span},
};

pub fn render(frame: &mut Frame, area: Rect, scene: &Scene, d: &TakeDialog) {
    let theme = scene.theme;
    let Some(svc) = scene.state.services.get(d.service) else { return };
    let v = crate::state::named_worst(svc, &scene.verdicts.services[d.service]);
    let choices = if d.taken_by.is_some() { "   ←/→ take it over / hand it back" } else { "" };
    let mut lines = vec![
        Line::from(vec![
            Span::styled(" service  ", theme.dim()),
            Span::styled(&*svc.name, theme.title()),
            Span::styled(format!("  ({})", svc.env.label), super::env_style(&svc.env, theme)),
            Span::raw("  "),
            Span::styled(format!("{} {}", v.status.word(), v.reason), theme.status(v.status)),
        ]),
        Line::from(vec![
            Span::styled(" do       ", theme.dim()),
            Span::styled(d.choice_label(), theme.title().add_modifier(Modifier::REVERSED)),
            Span::styled(choices, theme.dim()),
        ]),
    ];
    if !d.hand_back {
        lines.push(Line::from(vec![
            Span::styled(" note     ", theme.dim()),
            Span::raw(d.note.clone()),
            Span::styled("▏", theme.accent()),
        ]));
    }
    let item = super::view::service_item(scene.state, d.service);
    if let Some(t) = scene.state.taken.get(&item) {
        lines.push(Line::styled(format!(" now      {}", t.label(scene.look.utc_offset_secs)), theme.dim()));
    }
    lines.push(Line::styled(
        " Every screen shows who is on it, and notifications name them; nothing is muted.",
        theme.dim(),
    ));
    super::popup(frame, area, scene, format!(" take · {} ", svc.name), " ⏎ apply  Esc cancel ", lines);
}
