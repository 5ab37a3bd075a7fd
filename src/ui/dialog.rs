//! The confirmation dialog of an action: what runs, against what, and a typed confirmation.

use super::Scene;
use crate::ui::view::{Dialog, request};
use ratatui::{
    Frame,
    layout::Rect,
    style::Modifier,
    text::{Line, Span},
};

pub fn render(frame: &mut Frame, area: Rect, scene: &Scene, d: &Dialog) {
    let theme = scene.theme;
    let svc = &scene.state.services[d.service];
    let Some(spec) = scene.view.actions.specs.get(&d.action) else { return };
    let command = request(d, spec, svc).command;
    let mut lines = vec![Line::from(vec![
        Span::styled(" service   ", theme.dim()),
        Span::styled(&*svc.name, theme.title()),
        Span::styled(format!("  ({})", svc.env.label), super::env_style(&svc.env, theme)),
    ])];
    let rollout = scene.state.rollout(d.service);
    let now_on = if rollout.is_empty() {
        "unknown".to_string()
    } else {
        rollout.iter().map(|(v, n)| format!("{v} on {n}")).collect::<Vec<_>>().join(", ")
    };
    lines.push(Line::from(vec![Span::styled(" running   ", theme.dim()), Span::raw(now_on)]));
    if let Some((call, why)) = &d.native {
        let (from, to) = call.versions();
        if let Some(from) = from {
            lines.push(Line::from(vec![Span::styled(" now on    ", theme.dim()), Span::raw(from)]));
        }
        lines.push(Line::from(vec![Span::styled(" go to     ", theme.dim()), Span::styled(to, theme.title())]));
        lines.push(Line::from(vec![Span::styled(" because   ", theme.dim()), Span::raw(why.clone())]));
    } else if d.needs_version && d.versions.is_empty() {
        // No earlier version is known: the person names one.
        let mut spans =
            vec![Span::styled(" go to     ", theme.dim()), Span::styled(d.typed_version.clone(), theme.title())];
        if d.entering_version {
            spans.push(Span::styled("▏", theme.accent()));
            spans.push(Span::styled("   no earlier version seen: type one, then ⏎", theme.dim()));
        }
        lines.push(Line::from(spans));
    } else if d.needs_version {
        let version = d.version().unwrap_or("?").to_string();
        lines.push(Line::from(vec![
            Span::styled(" go to     ", theme.dim()),
            Span::styled("◀ ", theme.accent()),
            Span::styled(version, theme.title().add_modifier(Modifier::REVERSED)),
            Span::styled(" ▶", theme.accent()),
            Span::styled(format!("   ←/→ {} of {} seen", d.choice + 1, d.versions.len()), theme.dim()),
        ]));
    }
    lines.push(Line::styled(if d.native.is_some() { " calls" } else { " command" }, theme.dim()));
    lines.push(Line::styled(format!("   {command}"), theme.accent()));
    lines.push(Line::raw(""));
    if !d.entering_version {
        let matches = *d.typed == *svc.name;
        lines.push(Line::from(vec![
            Span::raw(format!(" type {} to confirm: ", svc.name)),
            Span::styled(d.typed.clone(), if matches { theme.status(crate::state::Status::Ok) } else { theme.base() }),
            Span::styled("▏", theme.accent()),
        ]));
    }
    let title = format!(" {} · {} ", d.action, svc.name);
    super::popup(frame, area, scene, title, " ⏎ run  Esc cancel ", lines);
}
