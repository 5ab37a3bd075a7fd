//! The backup panel: per job the newest backup's age against its allowed age, its size and
//! the trend of sizes, and the state.

use super::Scene;
use super::widgets::{spark, status_cell};
use crate::format;
use ratatui::{
    Frame,
    layout::{Constraint, Rect},
    text::Span,
    widgets::{Block, Cell, Row, Table},
};

pub fn render(frame: &mut Frame, area: Rect, scene: &Scene) {
    let theme = scene.theme;
    let rows: Vec<Row> = scene
        .state
        .backups
        .iter()
        .zip(&scene.verdicts.backups)
        .map(|(b, v)| {
            let last = b.samples.latest();
            let sizes: Vec<f64> = b.sizes().iter().map(|s| *s as f64).collect();
            Row::new(vec![
                Cell::from(status_cell::span(v.status, theme)),
                Cell::from(b.job.name.clone()),
                Cell::from(format!(
                    "{} / {}",
                    b.age(scene.now).map(format::age).unwrap_or_else(|| "age unknown".into()),
                    format::duration(b.job.max_age)
                )),
                Cell::from(last.and_then(|s| s.size).map(format::bytes).unwrap_or_else(|| "—".into())),
                Cell::from(Span::styled(spark::inline(&sizes, 12), theme.accent())),
                Cell::from(Span::styled(last.map(|s| s.what.clone()).unwrap_or_default(), theme.dim())),
                Cell::from(Span::styled(v.reason.clone(), theme.status(v.status))),
            ])
        })
        .collect();
    let header = Row::new(["STATE", "JOB", "AGE / ALLOWED", "SIZE", "SIZES", "NEWEST", "REASON"]).style(theme.dim());
    let table = Table::new(
        rows,
        [
            Constraint::Length(9),
            Constraint::Length(22),
            Constraint::Length(14),
            Constraint::Length(6),
            Constraint::Length(12),
            Constraint::Length(24),
            Constraint::Fill(1),
        ],
    )
    .header(header)
    .block(Block::bordered().title(Span::styled(" backups ", theme.title())).border_style(theme.border()))
    .style(theme.base());
    frame.render_widget(table, area);
}
