//! The dialog that silences a service's notifications, or puts it in maintenance: for how long,
//! and why.

use super::Scene;
use super::view::SilenceDialog;
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
            Span::styled(if d.maintenance { " window   " } else { " mute     " }, theme.dim()),
            Span::styled("◀ ", theme.accent()),
            Span::styled(d.choice_label(), theme.title().add_modifier(Modifier::REVERSED)),
            Span::styled(" ▶", theme.accent()),
            Span::styled(format!("   ←/→ {} of {}", d.choice + 1, d.choices()), theme.dim()),
        ]),
    ];
    if d.sets() {
        lines.push(Line::from(vec![
            Span::styled(" reason   ", theme.dim()),
            Span::raw(d.reason.clone()),
            Span::styled("▏", theme.accent()),
        ]));
    }
    let now = if d.maintenance {
        scene.verdicts.maintenance.get(d.service).cloned().flatten().map(|m| m.label(scene.look.utc_offset_secs, true))
    } else {
        super::silence_label(scene, d.service)
    };
    if let Some(now) = now {
        lines.push(Line::styled(format!(" now      {now}"), theme.dim()));
    }
    let (what, title) = if d.maintenance {
        ("The state stays on the board; nothing is sent until the window ends.", "maintenance")
    } else {
        ("The state stays on the board; only its notifications are muted.", "silence")
    };
    lines.push(Line::styled(format!(" {what}"), theme.dim()));
    super::popup(frame, area, scene, format!(" {title} · {} ", svc.name), " ⏎ apply  Esc cancel ", lines);
}
