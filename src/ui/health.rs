//! The instance-health panel: one row per service, one symbol per instance.

use super::Scene;
use super::symbols;
use super::widgets::{cut, status_cell};
use crate::format;
use crate::state::{ServiceState, Status, Verdict};
use ratatui::{
    Frame,
    layout::{Constraint, Rect},
    text::{Line, Span},
    widgets::{Block, Cell, Row, Table, TableState},
};
use std::time::Duration;

/// Most instance symbols shown in one row before `+N`.
const MAX_INSTANCE_CELLS: usize = 16;

pub fn render(frame: &mut Frame, area: Rect, scene: &Scene) {
    let theme = scene.theme;
    let visible = scene.view.visible(scene.state, &scene.verdicts);
    let current = scene.view.current(&visible);
    let grid_width =
        scene.state.services.iter().map(|s| s.instances.len().min(MAX_INSTANCE_CELLS + 1)).max().unwrap_or(1).max(9)
            as u16;
    let name_width =
        cut::name_column(scene.state.services.iter().map(|s| s.name.chars().count()).max().unwrap_or(0), area.width);
    let env_width =
        scene.state.services.iter().map(|s| s.env.label.chars().count()).max().unwrap_or(3).clamp(3, 10) as u16;
    // Only the rows that fit are built: a fleet of thousands costs what one screen costs. The
    // window is where a table scrolled to the selection from the top would put it.
    let fits = area.height.saturating_sub(3).max(1) as usize;
    let selected = current.and_then(|c| visible.iter().position(|&s| s == c));
    let start = selected.map_or(0, |s| (s + 1).saturating_sub(fits));
    let header = Row::new(["STATE", "SERVICE", "ENV", "INSTANCES", "LATENCY", "AGE", "REASON"]).style(theme.dim());
    let title = match (scene.view.filter.is_empty(), visible.len(), scene.state.services.len()) {
        (true, n, _) => format!(" health · {n} services "),
        (false, n, total) => format!(" health · {n} of {total} match \"{}\" ", scene.view.filter),
    };
    let widths = [
        Constraint::Length(9),
        Constraint::Length(name_width),
        Constraint::Length(env_width),
        Constraint::Length(grid_width),
        Constraint::Length(7),
        Constraint::Length(4),
        Constraint::Fill(2),
    ];
    let columns = cut::columns(&widths, area.width.saturating_sub(2));
    let (name_room, reason_room) = (columns[1], columns[6]);
    let rows: Vec<Row> =
        visible.iter().skip(start).take(fits).map(|&si| row(scene, si, name_room, reason_room)).collect();
    let table = Table::new(rows, widths)
        .header(header)
        .column_spacing(1)
        .row_highlight_style(theme.selected())
        .block(Block::bordered().title(Span::styled(title, theme.title())).border_style(theme.border()))
        .style(theme.base());
    let mut table_state = TableState::default().with_selected(selected.map(|s| s - start));
    frame.render_stateful_widget(table, area, &mut table_state);
}

/// One service's row, its name and reason cut to their columns' widths.
fn row<'a>(scene: &Scene, si: usize, name_room: u16, reason_room: u16) -> Row<'a> {
    let theme = scene.theme;
    let svc = &scene.state.services[si];
    // The grid shows which instance is bad; the reason column says why.
    let verdicts = &scene.verdicts.services[si];
    let health = verdicts.health_verdict().cloned().unwrap_or_else(|| Verdict::new(Status::Unknown, ""));
    // What the service's AWS resources say (an alarm firing, a queue backed up, a database
    // failing over) is about the service itself, and has no other row: it shows here when worse.
    let verdict = match &verdicts.aws {
        Some(aws) if aws.status > health.status => aws.clone(),
        _ => health,
    };
    let mut grid: Vec<Span> = svc
        .instances
        .iter()
        .enumerate()
        .take(MAX_INSTANCE_CELLS)
        .map(|(ii, _)| match verdicts.counted.get(ii) {
            // Starting, draining or gone: there, but not counted.
            Some(false) => Span::styled(symbols::status(verdicts.instances[ii].status), theme.dim()),
            _ => status_cell::symbol(verdicts.instances[ii].status, theme),
        })
        .collect();
    if svc.instances.len() > MAX_INSTANCE_CELLS {
        grid.push(Span::styled(format!("+{}", svc.instances.len() - MAX_INSTANCE_CELLS), theme.dim()));
    }
    // Blocked by a failing cause, or in maintenance: its state stays, quiet, so that the red
    // rows are those that page.
    let quiet = scene.verdicts.quiet(si);
    let state = match status_cell::span(verdict.status, theme) {
        span if quiet => span.style(theme.dim()),
        span => span,
    };
    let reason = match reason(scene, si, verdict) {
        span if quiet => span.style(theme.dim()),
        span => span,
    };
    Row::new(vec![
        Cell::from(state),
        Cell::from(cut::line(
            if svc.check.tls.verify {
                Line::raw(svc.name.to_string())
            } else {
                // Certificates are not checked for this service: say so on its row.
                Line::from(vec![Span::raw(svc.name.to_string()), Span::styled(" ⚠", theme.status(Status::Warn))])
            },
            name_room,
        )),
        Cell::from(Span::styled(svc.env.label.clone(), super::env_style(&svc.env, theme))),
        Cell::from(Line::from(grid)),
        Cell::from(max_latency(svc).map(format::latency).unwrap_or_else(|| "—".into())),
        Cell::from(Span::styled(
            oldest_age(svc, scene).map(|a| format::age_or_fresh(a, svc.check.interval)).unwrap_or_default(),
            theme.dim(),
        )),
        Cell::from(cut::line(
            match super::marks_label(scene, si, false) {
                // The marks, then the reason, apart.
                Some(marks) if !reason.content.is_empty() => {
                    Line::from(vec![Span::styled(format!("{marks} · "), theme.dim()), reason])
                }
                Some(marks) => Line::from(Span::styled(marks, theme.dim())),
                None => Line::from(reason),
            },
            reason_room,
        )),
    ])
}

/// Why the service is in its state; for a healthy one, what a person should still know
/// (a pending change, instances on different versions).
fn reason<'a>(scene: &Scene, si: usize, verdict: Verdict) -> Span<'a> {
    let theme = scene.theme;
    if verdict.status != Status::Ok {
        return Span::styled(verdict.reason, theme.status(verdict.status));
    }
    if !verdict.reason.is_empty() {
        return Span::styled(verdict.reason, theme.dim());
    }
    match (scene.state.mixed_versions(si), scene.state.discovery_note(si, scene.now)) {
        (Some(m), _) => Span::styled(format!("mixed: {m}"), theme.dim()),
        (None, Some(note)) => Span::styled(note, theme.dim()),
        (None, None) => Span::raw(""),
    }
}

/// The slowest latest check among the service's instances that answered.
fn max_latency(svc: &ServiceState) -> Option<Duration> {
    svc.instances.iter().filter_map(|i| i.health.latest()).filter(|s| s.code().is_some()).map(|s| s.latency).max()
}

fn oldest_age(svc: &ServiceState, scene: &Scene) -> Option<Duration> {
    svc.instances.iter().filter_map(|i| i.age(scene.now)).max()
}
