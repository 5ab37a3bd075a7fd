//! The backup panel: per job the newest backup's age against its allowed age, its size and
//! the trend of sizes, and the state.

use super::Scene;
use super::widgets::{cut, spark, status_cell};
use crate::format;
use ratatui::{
    Frame,
    layout::{Constraint, Rect},
    text::{Line, Span},
    widgets::{Block, Cell, Row, Table},
};

pub fn render(frame: &mut Frame, area: Rect, scene: &Scene) {
    let theme = scene.theme;
    // The newest artefact's name takes the room the reason leaves; a long one keeps its end
    // (dates, sequence numbers tell dumps apart) and loses its middle.
    let reasons = scene.verdicts.backups.iter().map(|v| v.reason.chars().count()).max().unwrap_or(0) as u16;
    let names = scene.state.backups.iter().filter_map(|b| b.samples.latest()).map(|s| s.what.chars().count());
    let jobs = scene.state.backups.iter().map(|b| b.job.name.chars().count()).max().unwrap_or(3) as u16;
    let job_width = jobs.clamp(3, 22);
    // The size trend is the first to go on a narrow screen.
    let spark_width: u16 = if area.width >= 100 { 12 } else { 0 };
    let fixed = 9 + job_width + 14 + 6 + spark_width + 6 + 2;
    let newest_width = (names.max().unwrap_or(6) as u16).min(area.width.saturating_sub(fixed + reasons.min(40))).max(6);
    let widths = [
        Constraint::Length(9),
        Constraint::Length(job_width),
        Constraint::Length(14),
        Constraint::Length(6),
        Constraint::Length(spark_width),
        Constraint::Length(newest_width),
        Constraint::Fill(1),
    ];
    let columns = cut::columns(&widths, area.width.saturating_sub(2));
    let (job_room, reason_width) = (columns[1], columns[6]);
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
                Cell::from(cut::line(Line::raw(b.job.name.clone()), job_room)),
                Cell::from(format!(
                    "{} / {}",
                    b.age(scene.now).map(format::age).unwrap_or_else(|| "age unknown".into()),
                    format::duration(b.job.max_age)
                )),
                Cell::from(last.and_then(|s| s.size).map(format::bytes).unwrap_or_else(|| "—".into())),
                Cell::from(Span::styled(spark::inline(&sizes, spark_width as usize), theme.accent())),
                Cell::from(Span::styled(
                    last.map(|s| format::middle(&s.what, newest_width as usize)).unwrap_or_default(),
                    theme.dim(),
                )),
                Cell::from(cut::line(Line::from(Span::styled(v.reason.clone(), theme.status(v.status))), reason_width)),
            ])
        })
        .collect();
    let header = Row::new(["STATE", "JOB", "AGE / ALLOWED", "SIZE", "SIZES", "NEWEST", "REASON"]).style(theme.dim());
    let table = Table::new(rows, widths)
        .header(header)
        .block(Block::bordered().title(Span::styled(" backups ", theme.title())).border_style(theme.border()))
        .style(theme.base());
    frame.render_widget(table, area);
}
