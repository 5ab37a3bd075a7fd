//! The wall's errors and health pages when the services are few: a tile per service sized to
//! fill the room (a TV's stat panels). On the errors page, its error rate in large type and its
//! trends as wide and as tall as the tile, spanning all the history kept; on the health page, its
//! instances up in large type and each instance's state. With more services than tiles fit, the
//! table.
//!
//! ```text
//! ┌ payments ────────────────────── ▲ WARN ┐
//! │ 23% errors · 60.0 req/s · p95 850ms     │ the numbers
//! │ ▀█▀ ▀▀█  ▀                              │ the error rate, large
//! │ errors                                  │
//! │ ▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▂▃▅▇██       │ trends, the tile's width
//! │ p95                                     │
//! │ ▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▃▃       │
//! │ p95 850ms ≥ 500ms                       │ why, when there is a why
//! └─────────────────────────────────────────┘
//! ```

use super::Scene;
use super::widgets::{cut, spark, status_cell};
use crate::format;
use crate::state::{SignalPoint, Status, percent};
use ratatui::{
    Frame,
    layout::{Alignment, Constraint, Layout, Rect},
    text::{Line, Span},
    widgets::{Block, Paragraph, Sparkline, SparklineBar},
};
use std::time::SystemTime;

/// The smallest tile worth drawing: the numbers, two trends of one row each, and a note.
const MIN_W: u16 = 30;
const MIN_H: u16 = 8;

/// Columns and rows of tiles for `n` services in `area`: the grid whose tiles are largest for
/// their shape (a tile reads best about three times as wide as tall in cells), or `None` when
/// `n` tiles cannot each get [`MIN_W`]×[`MIN_H`].
pub fn grid(n: usize, area: Rect) -> Option<(u16, u16)> {
    let n = u16::try_from(n).ok().filter(|&n| n > 0)?;
    (1..=n)
        .filter_map(|cols| {
            let rows = n.div_ceil(cols);
            let (w, h) = (area.width / cols, area.height / rows);
            (w >= MIN_W && h >= MIN_H).then_some((cols, rows, (w / 3).min(h)))
        })
        .max_by_key(|&(cols, _, score)| (score, std::cmp::Reverse(cols)))
        .map(|(cols, rows, _)| (cols, rows))
}

/// The tiles of `services` (indices, worst first) in `area`, as [`grid`] lays them out.
pub fn render(frame: &mut Frame, area: Rect, scene: &Scene, services: &[(Status, usize)], (cols, rows): (u16, u16)) {
    let row_areas = Layout::vertical(vec![Constraint::Fill(1); rows as usize]).split(area);
    for (r, row_area) in row_areas.iter().enumerate() {
        let cells = Layout::horizontal(vec![Constraint::Fill(1); cols as usize]).split(*row_area);
        for (c, cell) in cells.iter().enumerate() {
            if let Some(&(status, si)) = services.get(r * cols as usize + c) {
                tile(frame, *cell, scene, si, status);
            }
        }
    }
}

/// A tile's frame: the service's name, its state, who is on it; the room inside it.
fn frame_tile(frame: &mut Frame, area: Rect, scene: &Scene, si: usize, status: Status) -> Rect {
    let theme = scene.theme;
    let svc = &scene.state.services[si];
    let mut block = Block::bordered()
        .border_style(theme.status(status))
        .title(Span::styled(format!(" {} ", svc.name), theme.title()))
        .title(
            Line::from(vec![Span::raw(" "), status_cell::span(status, theme), Span::raw(" ")])
                .alignment(Alignment::Right),
        );
    // Who is on it, where the room can read it.
    if let Some(marks) = super::marks_label(scene, si, true) {
        block = block.title_bottom(Span::styled(format!(" {marks} "), theme.title()));
    }
    let inner = block.inner(area);
    frame.render_widget(block.style(theme.base()), area);
    inner
}

/// The health page's tiles of `services` (indices, worst first), as [`grid`] lays them out.
pub fn render_health(
    frame: &mut Frame,
    area: Rect,
    scene: &Scene,
    services: &[(Status, usize)],
    (cols, rows): (u16, u16),
) {
    let row_areas = Layout::vertical(vec![Constraint::Fill(1); rows as usize]).split(area);
    for (r, row_area) in row_areas.iter().enumerate() {
        let cells = Layout::horizontal(vec![Constraint::Fill(1); cols as usize]).split(*row_area);
        for (c, cell) in cells.iter().enumerate() {
            if let Some(&(status, si)) = services.get(r * cols as usize + c) {
                health_tile(frame, *cell, scene, si, status);
            }
        }
    }
}

/// One service's health: its instances up in large type, then each instance's state, latency
/// and why, as many as fit; the service's reason last.
fn health_tile(frame: &mut Frame, area: Rect, scene: &Scene, si: usize, status: Status) {
    let theme = scene.theme;
    let inner = frame_tile(frame, area, scene, si, status);
    let svc = &scene.state.services[si];
    let verdicts = &scene.verdicts.services[si];
    let counted: Vec<usize> =
        (0..svc.instances.len()).filter(|&i| verdicts.counted.get(i).copied().unwrap_or(true)).collect();
    let up = counted
        .iter()
        .filter(|&&i| verdicts.instances.get(i).is_some_and(|v| matches!(v.status, Status::Ok | Status::Warn)))
        .count();
    let reason = crate::state::named_worst(svc, verdicts);
    let why = if status == Status::Ok { String::new() } else { reason.reason };
    let big = format!("{up}/{}", counted.len());
    let spare = inner.height.saturating_sub(1 + u16::from(!why.is_empty()));
    let big_size =
        super::wall::fit(&big, inner.width, spare / 2).filter(|(size, _, _)| *size != tui_big_text::PixelSize::Octant);
    let big_rows = big_size.map_or(0, |s| s.2);
    let [words, large, list, reason_area] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(big_rows),
        Constraint::Fill(1),
        Constraint::Length(u16::from(!why.is_empty())),
    ])
    .areas(inner);
    let line = Line::from(vec![
        Span::raw(format!("{up} of {} instances up", counted.len())),
        Span::styled(format!(" · {}", svc.env.label), super::env_style(&svc.env, theme)),
    ]);
    frame.render_widget(Paragraph::new(cut::line(line, words.width)), words);
    if let Some((size, _, _)) = big_size {
        super::wall::big_text(frame, large, &big, size, theme.status(status));
    }
    let lines: Vec<Line> = svc
        .instances
        .iter()
        .zip(&verdicts.instances)
        .take(usize::from(list.height))
        .map(|(inst, v)| {
            let latency = inst.health.latest().filter(|s| s.code().is_some()).map(|s| format::latency(s.latency));
            let mut spans = vec![
                Span::styled(format!("{} ", super::symbols::status(v.status)), theme.status(v.status)),
                Span::raw(inst.spec.label.clone()),
                Span::styled(latency.map(|l| format!("  {l}")).unwrap_or_default(), theme.dim()),
            ];
            if v.status != Status::Ok {
                spans.push(Span::styled(format!("  {}", v.reason), theme.status(v.status)));
            }
            cut::line(Line::from(spans), list.width)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), list);
    frame.render_widget(Paragraph::new(Span::styled(why, theme.status(status))), reason_area);
}

fn tile(frame: &mut Frame, area: Rect, scene: &Scene, si: usize, status: Status) {
    let theme = scene.theme;
    let svc = &scene.state.services[si];
    let current = scene.state.current_signals(si, scene.now);
    let inner = frame_tile(frame, area, scene, si, status);

    let note = super::signals::note(scene, si);
    let t = &svc.check.thresholds;
    let err = current.and_then(|p| p.error_ratio);
    let big = err.map(percent);
    // The rows: the numbers, the large rate when there is room for it and two trend rows, the
    // trends with their labels, the note.
    let fixed = 1 + 2 + u16::from(!note.is_empty());
    let spare = inner.height.saturating_sub(fixed);
    // Octants are left out: few fonts have them (Unicode 16), and a TV's browser shows boxes.
    let big_size = big
        .as_deref()
        .and_then(|b| super::wall::fit(b, inner.width, spare / 2))
        .filter(|(size, _, _)| *size != tui_big_text::PixelSize::Octant);
    let big_rows = big_size.map_or(0, |s| s.2);
    let trend_rows = spare.saturating_sub(big_rows);
    let [numbers, large, err_label, err_trend, p95_label, p95_trend, why] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(big_rows),
        Constraint::Length(1),
        Constraint::Length(trend_rows.div_ceil(2)),
        Constraint::Length(1),
        Constraint::Length(trend_rows / 2),
        Constraint::Length(u16::from(!note.is_empty())),
    ])
    .areas(inner);

    let dash = || "—".to_string();
    let err_status = current.and_then(|p| p.error_level(t, 1.0)).filter(|s| *s >= Status::Warn);
    let err_style = err_status.map_or(theme.base(), |s| theme.status(s));
    let line = match current {
        Some(p) => Line::from(vec![
            Span::styled(err.map(percent).unwrap_or_else(dash), err_style),
            Span::styled(" errors · ", theme.dim()),
            Span::raw(p.rate.map(format::rate).unwrap_or_else(dash)),
            Span::styled(" req/s · p95 ", theme.dim()),
            Span::raw(p.p95.map(super::signals::seconds).unwrap_or_else(dash)),
            Span::styled(" · p99 ", theme.dim()),
            Span::raw(p.p99.map(super::signals::seconds).unwrap_or_else(dash)),
        ]),
        None => Line::styled("no data", theme.dim()),
    };
    frame.render_widget(Paragraph::new(cut::line(line, numbers.width)), numbers);
    if let (Some((size, _, _)), Some(text)) = (big_size, &big) {
        super::wall::big_text(frame, large, text, size, err_style);
    }

    // Every bucket as wide as the history kept allows, so the trend spans the tile.
    let span = svc.check.interval * u32::try_from(svc.signals.capacity()).unwrap_or(u32::MAX);
    let width = usize::from(inner.width.max(1));
    let bucket = svc.check.interval.max(span / u32::try_from(width).unwrap_or(1));
    let series = |f: fn(&SignalPoint) -> Option<f64>| {
        let points: Vec<(SystemTime, f64)> = svc.signals.iter().filter_map(|p| Some((p.at, f(&p)?))).collect();
        spark::buckets(&points, scene.now, bucket, width)
    };
    let errors = series(|p| p.error_ratio);
    // Under the warning level the bars stay low; only a rate at it or over fills the tile.
    let err_top = errors.iter().fold(t.error_rate_warn, |a, &b| a.max(b));
    frame.render_widget(Paragraph::new(Span::styled("errors", theme.dim())), err_label);
    frame.render_widget(bars(&errors, err_top).style(theme.status(Status::Crit)), err_trend);
    let p95 = series(|p| p.p95);
    let p95_top = p95.iter().fold(0.0, |a: f64, &b| a.max(b));
    frame.render_widget(Paragraph::new(Span::styled("p95", theme.dim())), p95_label);
    frame.render_widget(bars(&p95, p95_top).style(theme.accent()), p95_trend);
    frame.render_widget(Paragraph::new(Span::styled(note, theme.status(Status::Warn))), why);
}

/// Bars of `values` scaled to `top`; a bucket without a value (NaN) draws nothing.
fn bars(values: &[f64], top: f64) -> Sparkline<'static> {
    const STEPS: f64 = 1000.0;
    let bars: Vec<SparklineBar> = values
        .iter()
        .map(|&v| {
            let scaled = if top > 0.0 { (v / top * STEPS).round() as u64 } else { 0 };
            SparklineBar::from(v.is_finite().then_some(scaled))
        })
        .collect();
    Sparkline::default().data(bars).max(STEPS as u64).absent_value_symbol(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn few_services_get_large_tiles_and_many_get_none() {
        let room = Rect::new(0, 0, 200, 44);
        assert_eq!(grid(7, room), Some((4, 2)), "7 services on a 200x44 body: two rows of four");
        assert_eq!(grid(1, room), Some((1, 1)));
        assert_eq!(grid(0, room), None);
        assert_eq!(grid(40, room), None, "40 tiles would each be smaller than a tile can be");
        assert_eq!(grid(7, Rect::new(0, 0, 80, 10)), None);
    }
}
