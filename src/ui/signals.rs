//! The error-rate and latency panel: one row per service, current values and their trends, worst first.

use super::Scene;
use super::widgets::spark::{self, Scale};
use super::widgets::{cut, status_cell};
use crate::format;
use crate::state::{SignalPoint, Status, percent};
use ratatui::{
    Frame,
    layout::{Constraint, Rect},
    text::{Line, Span},
    widgets::{Block, Cell, Row, Table},
};
use std::time::Duration;

/// One trend cell covers at least this long: the trend scrolls once per bucket, not per scrape.
const TREND_BUCKET: Duration = Duration::from_secs(10);

/// The visible services with their signals' state, worst first, then the highest error rate.
pub fn worst_first(scene: &Scene) -> Vec<(Status, usize)> {
    let visible = scene.view.visible(scene.state, &scene.verdicts);
    let mut rows: Vec<(Status, f64, usize)> = visible
        .iter()
        .map(|&si| {
            let status = scene.verdicts.services[si].signals.as_ref().map_or(Status::Unknown, |v| v.status);
            let err = scene.state.current_signals(si, scene.now).and_then(|p| p.error_ratio).unwrap_or(0.0);
            (status, err, si)
        })
        .collect();
    rows.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.total_cmp(&a.1)));
    rows.into_iter().map(|(status, _, si)| (status, si)).collect()
}

pub fn render(frame: &mut Frame, area: Rect, scene: &Scene) {
    let theme = scene.theme;
    let mut rows = worst_first(scene);
    // Only the rows that fit are built (and sized): the rest would be cut off anyway.
    rows.truncate(area.height.saturating_sub(3).max(1) as usize);
    // Notes (failing queries or scrapes) come first; trends take what is left.
    let notes: Vec<(String, bool)> = rows.iter().map(|&(_, si)| note_or_budget(scene, si)).collect();
    let longest = rows.iter().map(|&(_, si)| scene.state.services[si].name.chars().count()).max().unwrap_or(0);
    let name_width = cut::name_column(longest, area.width);
    // Fixed columns, their spacing and the borders; the note and the two trends share the rest,
    // the note first: a trend is a nicety, the note says why a number is missing.
    let fixed = 9 + name_width + 8 + 6 + 6 + 6 + 8 + 2;
    let free = area.width.saturating_sub(fixed);
    let note_width = (notes.iter().map(|(n, _)| n.chars().count()).max().unwrap_or(0).max(4) as u16).min(free);
    let trend = match (free - note_width) / 2 {
        t if t < 3 => 0,
        t => t.min(40) as usize,
    };
    let widths = [
        Constraint::Length(9),
        Constraint::Length(name_width),
        Constraint::Length(8),
        Constraint::Length(6),
        Constraint::Length(trend as u16),
        Constraint::Length(6),
        Constraint::Length(trend as u16),
        Constraint::Length(6),
        Constraint::Fill(1),
    ];
    let columns = cut::columns(&widths, area.width.saturating_sub(2));
    let (name_room, note_room) = (columns[1], columns[8]);
    let table_rows: Vec<Row> = rows
        .into_iter()
        .zip(notes)
        .map(|((status, si), (note, warns))| {
            let style = if warns { theme.status(Status::Warn) } else { theme.dim() };
            let note = cut::line(Line::from(Span::styled(note, style)), note_room);
            row(scene, si, status, trend, name_room, note)
        })
        .collect();
    let header = Row::new(["STATE", "SERVICE", "REQ/S", "ERRORS", "", "P95", "", "P99", "NOTE"]).style(theme.dim());
    let table = Table::new(table_rows, widths)
        .header(header)
        .block(Block::bordered().title(Span::styled(" errors & latency ", theme.title())).border_style(theme.border()))
        .style(theme.base());
    frame.render_widget(table, area);
}

/// One service's row: its name cut to `name_room`, the note already cut to its column.
fn row<'a>(scene: &Scene, si: usize, status: Status, trend: usize, name_room: u16, note: Line<'a>) -> Row<'a> {
    let theme = scene.theme;
    let svc = &scene.state.services[si];
    let current = scene.state.current_signals(si, scene.now);
    let bucket = svc.check.interval.max(TREND_BUCKET);
    let series = |f: fn(&SignalPoint) -> Option<f64>, scale| {
        let points: Vec<(std::time::SystemTime, f64)> =
            svc.signals.iter().map(|p| (p.at, f(&p).unwrap_or(f64::NAN))).collect();
        spark::bucketed(&points, scene.now, bucket, trend, scale)
    };
    let dash = || "—".to_string();
    let state_cell = match current {
        Some(_) => Cell::from(status_cell::span(status, theme)),
        None => Cell::from(Span::styled("  no data", theme.dim())),
    };
    let t = &svc.check.thresholds;
    // Too little traffic to judge: the numbers are there, dimmed.
    let low = current.is_some_and(|p| p.low_traffic(t));
    let traffic_style = if low { theme.dim() } else { theme.base() };
    let err_style = match current.and_then(|p| p.error_level(t, 1.0)) {
        Some(s) if s >= Status::Warn => theme.status(s),
        _ => traffic_style,
    };
    Row::new(vec![
        state_cell,
        Cell::from(cut::line(Line::raw(svc.name.to_string()), name_room)),
        Cell::from(Span::styled(current.and_then(|p| p.rate).map(format::rate).unwrap_or_else(dash), traffic_style)),
        Cell::from(Span::styled(current.and_then(|p| p.error_ratio).map(percent).unwrap_or_else(dash), err_style)),
        // Error rates against zero and the warning level: under it, low bars; full ones only at or over it.
        Cell::from(Span::styled(series(|p| p.error_ratio, Scale::UpTo(t.error_rate_warn)), theme.status(Status::Crit))),
        Cell::from(current.and_then(|p| p.p95).map(seconds).unwrap_or_else(dash)),
        Cell::from(Span::styled(series(|p| p.p95, Scale::Spread), theme.accent())),
        Cell::from(current.and_then(|p| p.p99).map(seconds).unwrap_or_else(dash)),
        Cell::from(note),
    ])
}

/// The row's note, and whether it warns; without one, where its error budget stands, or why
/// its budget burns too fast.
fn note_or_budget(scene: &Scene, si: usize) -> (String, bool) {
    let v = &scene.verdicts.services[si];
    if let Some(b) = &v.budget {
        return (b.reason.clone(), true);
    }
    match (note(scene, si), scene.verdicts.standings.get(si).and_then(Option::as_ref)) {
        (n, Some((_, s))) if n.is_empty() => (s.short(), false),
        (n, _) => (n, true),
    }
}

/// What keeps this row from being complete, or the pending change of its state.
pub fn note(scene: &Scene, si: usize) -> String {
    if let Some(n) = scene.state.signals_note(si, scene.now) {
        return n;
    }
    scene.verdicts.services[si].signals.as_ref().map(|v| v.reason.clone()).unwrap_or_default()
}

pub(super) fn seconds(s: f64) -> String {
    format::latency(Duration::from_secs_f64(s.max(0.0)))
}
