//! The AWS panel: per account a banner when it cannot see, its Auto Scaling groups with
//! capacity and trend, its CloudWatch values, and the API calls it makes per minute.

use super::Scene;
use super::widgets::{cut, spark, status_cell};
use crate::format;
use crate::state::Status;
use ratatui::{
    Frame,
    layout::{Constraint, Rect},
    text::{Line, Span},
    widgets::{Block, Cell, Row, Table},
};

pub fn render(frame: &mut Frame, area: Rect, scene: &Scene) {
    let theme = scene.theme;
    let mut rows: Vec<Row> = Vec::new();
    let trend = (area.width.saturating_sub(70) / 2).clamp(6, 30) as usize;
    let widths = [Constraint::Length(9), Constraint::Fill(1)];
    // Each row is one line of words in the second column; one too long says so.
    let room = cut::last_column(&widths, area.width.saturating_sub(2));
    let text = |line: Line<'static>| Cell::from(cut::line(line, room));
    for (ai, account) in scene.state.aws.iter().enumerate() {
        let calls = account.calls_last_minute(scene.now);
        let title = format!("{} · {} · {calls} API calls/min", account.spec.name, account.spec.region);
        rows.push(Row::new(vec![Cell::from(""), text(Line::from(Span::styled(title, theme.title())))]));
        if let Some((at, error)) = &account.error {
            let since = account
                .last_success
                .map(|t| format!(" (last good {} ago)", format::age(scene.now.duration_since(t).unwrap_or_default())))
                .unwrap_or_default();
            let age = format::age(scene.now.duration_since(*at).unwrap_or_default());
            rows.push(Row::new(vec![
                Cell::from(status_cell::span(Status::Unknown, theme)),
                text(Line::from(Span::styled(
                    format!("can't see: {error}{since} · {age} ago"),
                    theme.status(Status::Crit),
                ))),
            ]));
        }
        for (gi, (name, asg)) in account.asgs.iter().enumerate() {
            let v = &scene.verdicts.aws[ai][gi];
            let Some(s) = asg.latest() else { continue };
            let history: Vec<f64> = asg.history.iter().map(|(_, s)| f64::from(s.in_service())).collect();
            let unhealthy: Vec<&str> =
                s.instances.iter().filter(|i| i.health != "Healthy").map(|i| i.id.as_str()).collect();
            let mut detail = format!(
                "{}/{} in service  {} pending  {} terminating  min {} max {}",
                s.in_service(),
                s.desired,
                s.pending(),
                s.terminating(),
                s.min,
                s.max
            );
            if !unhealthy.is_empty() {
                detail.push_str(&format!("  unhealthy: {}", unhealthy.join(", ")));
            }
            let mut spans = vec![
                Span::styled(format!("{name:<24} "), theme.base()),
                Span::styled(format!("{} ", spark::inline(&history, trend)), theme.accent()),
                Span::raw(detail),
            ];
            if !v.reason.is_empty() {
                spans.push(Span::styled(format!("  {}", v.reason), theme.status(v.status)));
            }
            rows.push(Row::new(vec![Cell::from(status_cell::span(v.status, theme)), text(Line::from(spans))]));
        }
        for (m, q) in account.metrics.iter().zip(&account.spec.queries) {
            let values: Vec<f64> = m.points.iter().map(|(_, v)| *v).collect();
            let current = m.points.latest().map(|(_, v)| q.unit.format(*v, q.period)).unwrap_or_else(|| "—".into());
            rows.push(Row::new(vec![
                Cell::from(""),
                text(Line::from(vec![
                    Span::styled(format!("{:<24} ", m.label), theme.base()),
                    Span::styled(format!("{} ", spark::inline(&values, trend)), theme.accent()),
                    Span::raw(current),
                ])),
            ]));
        }
    }
    let table = Table::new(rows, widths)
        .block(Block::bordered().title(Span::styled(" AWS ", theme.title())).border_style(theme.border()))
        .style(theme.base());
    frame.render_widget(table, area);
}

/// Rows the panel needs, for layout.
pub fn height(scene: &Scene) -> u16 {
    let rows: usize =
        scene.state.aws.iter().map(|a| 1 + usize::from(a.error.is_some()) + a.asgs.len() + a.metrics.len()).sum();
    rows as u16 + 2
}
