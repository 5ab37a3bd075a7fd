//! The deploy panel: recent deploys across services, newest first, with rollout progress,
//! who shipped it, and a mark on those followed by a rise in error rate.

use super::Scene;
use super::widgets::cut;
use crate::format;
use crate::state::deploys::{Deploy, DeployState};
use crate::state::{State, Status, percent};
use ratatui::{
    Frame,
    layout::{Constraint, Rect},
    text::{Line, Span},
    widgets::{Block, Cell, Row, Table},
};

/// Rows the panel has to show, at most `recent` deploys: the mixed services, then the deploys.
pub fn rows_wanted(scene: &Scene, recent: usize) -> usize {
    let mixed = (0..scene.state.services.len()).filter(|&si| scene.state.mixed_versions(si).is_some()).count();
    mixed + scene.state.deploys.list.len().min(recent)
}

pub fn render(frame: &mut Frame, area: Rect, scene: &Scene) {
    let theme = scene.theme;
    let widths = [
        Constraint::Length(8),
        Constraint::Length(16),
        Constraint::Length(18),
        Constraint::Length(18),
        Constraint::Length(12),
        Constraint::Fill(1),
    ];
    let columns = cut::columns(&widths, area.width.saturating_sub(2));
    let (service_width, version_width, who_width, rise_width) = (columns[1], columns[2], columns[4], columns[5]);
    // Services whose instances disagree while no deploy is rolling: a canary, or a stuck node.
    let mixed: Vec<Row> = (0..scene.state.services.len())
        .filter_map(|si| {
            let m = scene.state.mixed_versions(si)?;
            Some(Row::new(vec![
                Cell::from(Span::styled("now", theme.dim())),
                Cell::from(cut::line(Line::raw(&*scene.state.services[si].name), service_width)),
                Cell::from(cut::line(
                    Line::from(Span::styled(format!("mixed: {m}"), theme.status(Status::Warn))),
                    version_width,
                )),
            ]))
        })
        .collect();
    let room = (area.height.saturating_sub(3) as usize).saturating_sub(mixed.len());
    let mut rows = mixed;
    rows.extend(scene.state.deploys.recent().take(room).map(|d| {
        let status = match d.state {
            DeployState::Rolling => Status::Warn,
            DeployState::Done => Status::Ok,
            DeployState::Failed => Status::Crit,
            DeployState::RolledBack | DeployState::Superseded | DeployState::Stopped => Status::Stale,
        };
        let progress = if d.state == DeployState::Rolling { progress(scene.state, d) } else { String::new() };
        let rise = crate::state::deploys::error_rise(scene.state, d, scene.now)
            .map(|(b, a)| format!("⚠ errors {} → {}", percent(b), percent(a)))
            .unwrap_or_default();
        let rise = cut::line(Line::from(Span::styled(rise, theme.status(Status::Crit))), rise_width);
        Row::new(vec![
            Cell::from(Span::styled(
                format!("{} ago", format::age(scene.now.duration_since(d.started).unwrap_or_default())),
                theme.dim(),
            )),
            Cell::from(cut::line(Line::raw(d.service.clone()), service_width)),
            Cell::from(cut::line(
                Line::raw(format!("{} → {}", d.from.as_deref().unwrap_or("?"), d.version)),
                version_width,
            )),
            Cell::from(Span::styled(format!("{} {progress}", d.state.word()), theme.status(status))),
            Cell::from(cut::line(Line::raw(d.who.clone().unwrap_or_default()), who_width)),
            Cell::from(rise),
        ])
    }));
    let header = Row::new(["WHEN", "SERVICE", "VERSION", "STATE", "WHO", ""]).style(theme.dim());
    let table = Table::new(rows, widths)
        .header(header)
        .block(Block::bordered().title(Span::styled(" deploys ", theme.title())).border_style(theme.border()))
        .style(theme.base());
    frame.render_widget(table, area);
}

/// "3/5" instances on the new version while a deploy rolls, or what ECS (tasks running of
/// desired) or CodeDeploy (targets done of all) says when the instances do not tell.
pub fn progress(state: &State, d: &Deploy) -> String {
    if !d.seen
        && let Some((done, all)) = d.progress
    {
        return format!("{done}/{all}");
    }
    let Some(si) = state.services.iter().position(|s| *s.name == *d.service) else { return String::new() };
    let rollout = state.rollout(si);
    let total: usize = rollout.iter().map(|(_, n)| n).sum();
    let on = rollout.iter().find(|(v, _)| *v == d.version).map_or(0, |(_, n)| *n);
    format!("{on}/{total}")
}
