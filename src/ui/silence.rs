//! The dialog that silences a service's notifications: for how long, and why.

use super::Scene;
use super::view::{SILENCE_CHOICES, SilenceDialog};
use ratatui::{
    Frame,
    layout::Rect,
    style::Modifier,
    text::{Line, Span},
};

pub fn render(frame: &mut Frame, area: Rect, scene: &Scene, d: &SilenceDialog) {
    let theme = scene.theme;
    let Some(svc) = scene.state.services.get(d.service) else { return };
    let v = crate::state::named_worst(svc, &scene.verdicts.services[d.service]);
    let mut lines = vec![
        Line::from(vec![
            Span::styled(" service  ", theme.dim()),
            Span::styled(&*svc.name, theme.title()),
            Span::styled(format!("  ({})", svc.env.label), super::env_style(&svc.env, theme)),
            Span::raw("  "),
            Span::styled(format!("{} {}", v.status.word(), v.reason), theme.status(v.status)),
        ]),
        Line::from(vec![
            Span::styled(" mute     ", theme.dim()),
            Span::styled("◀ ", theme.accent()),
            Span::styled(d.choice_label(), theme.title().add_modifier(Modifier::REVERSED)),
            Span::styled(" ▶", theme.accent()),
            Span::styled(format!("   ←/→ {} of {}", d.choice + 1, d.choices()), theme.dim()),
        ]),
    ];
    if d.choice < SILENCE_CHOICES.len() {
        lines.push(Line::from(vec![
            Span::styled(" reason   ", theme.dim()),
            Span::raw(d.reason.clone()),
            Span::styled("▏", theme.accent()),
        ]));
    }
    if let Some(muted) = super::silence_label(scene, d.service) {
        lines.push(Line::styled(format!(" now      {muted}"), theme.dim()));
    }
    lines.push(Line::styled(" The state stays on the board; only its notifications are muted.", theme.dim()));
    super::popup(frame, area, scene, format!(" silence · {} ", svc.name), " ⏎ apply  Esc cancel ", lines);
}
