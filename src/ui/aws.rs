//! The AWS panel: per account a banner when it cannot see, its Auto Scaling groups with
//! capacity and trend, its CloudWatch alarms (those not OK by name), its SQS queues, its
//! databases, its CloudWatch values, and the API calls it makes per minute.

use super::Scene;
use super::widgets::{cut, spark, status_cell};
use crate::format;
use crate::state::Status;
use crate::state::aws::{Alarm, AwsAccountState};
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
        if account.spec.alarms.is_some() {
            rows.extend(alarm_rows(account, scene).into_iter().map(|(status, line)| {
                let cell = status.map_or_else(|| Cell::from(""), |s| Cell::from(status_cell::span(s, theme)));
                Row::new(vec![cell, text(line)])
            }));
        }
        for q in &account.queues {
            let v = q.verdict();
            let history: Vec<f64> = q.history.iter().map(|(_, s)| s.visible as f64).collect();
            let detail = q.latest().map_or_else(String::new, |s| {
                let mut d = format!(
                    "{} waiting  {} in flight  {} delayed",
                    format::count(s.visible),
                    format::count(s.in_flight),
                    format::count(s.delayed)
                );
                if let Some(age) = s.oldest {
                    d.push_str(&format!("  oldest {}", format::age(age)));
                }
                if let Some((dlq, n)) = &s.dead_letters {
                    d.push_str(&format!("  {dlq} {}", format::count(*n)));
                }
                d
            });
            let mut spans = vec![
                Span::styled(format!("{:<24} ", q.spec.name), theme.base()),
                Span::styled(format!("{} ", spark::inline(&history, trend)), theme.accent()),
                Span::raw(detail),
            ];
            if !v.reason.is_empty() {
                spans.push(Span::styled(format!("  {}", v.reason), theme.status(v.status)));
            }
            rows.push(Row::new(vec![Cell::from(status_cell::span(v.status, theme)), text(Line::from(spans))]));
        }
        for d in &account.databases {
            let v = d.verdict(scene.now);
            let detail = d.latest.as_ref().map_or_else(String::new, |(_, s)| {
                let mut parts = vec![s.engine.clone(), s.status.clone()];
                if s.multi_az {
                    parts.push("multi-AZ".into());
                }
                match (s.allocated_gib, s.free_bytes) {
                    (Some(g), Some(free)) => {
                        parts.push(format!("{} free of {g}G", format::bytes(free.max(0.0) as u64)))
                    }
                    (Some(g), None) => parts.push(format!("{g}G")),
                    _ => {}
                }
                if let Some((region, newest)) = &s.dr {
                    parts.push(match newest {
                        Some((_, at)) => {
                            format!(
                                "DR {region} {} ago",
                                format::age(scene.now.duration_since(*at).unwrap_or_default())
                            )
                        }
                        None => format!("DR {region}: none"),
                    });
                }
                parts.retain(|p| !p.is_empty());
                parts.join(" · ")
            });
            let mut spans = vec![Span::styled(format!("{:<24} ", d.spec.id), theme.base()), Span::raw(detail)];
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

/// An account's alarms: a line that counts them, then one for each not OK, firing first.
fn alarm_rows(account: &AwsAccountState, scene: &Scene) -> Vec<(Option<Status>, Line<'static>)> {
    let theme = scene.theme;
    let mut not_ok: Vec<(&Alarm, Status)> =
        account.alarms.iter().map(|a| (a, account.alarm_status(a))).filter(|(_, s)| *s != Status::Ok).collect();
    not_ok.sort_by_key(|(_, s)| std::cmp::Reverse(*s));
    let firing = account.alarms.iter().filter(|a| a.firing()).count();
    let mut counts = format!("{} OK", account.alarms.len() - not_ok.len());
    if firing > 0 {
        counts = format!("{firing} in ALARM, {counts}");
    }
    let waiting = not_ok.len() - firing;
    if waiting > 0 {
        counts.push_str(&format!(", {waiting} insufficient data"));
    }
    let mut rows =
        vec![(None, Line::from(vec![Span::styled(format!("{:<24} ", "alarms"), theme.base()), Span::raw(counts)]))];
    for (a, status) in not_ok {
        let since = a
            .since
            .map(|t| format!(" · {} ago", format::age(scene.now.duration_since(t).unwrap_or_default())))
            .unwrap_or_default();
        let words = if a.reason.is_empty() { a.state.clone() } else { a.reason.clone() };
        rows.push((
            Some(status),
            Line::from(vec![
                Span::styled(format!("{:<24} ", a.name), theme.base()),
                Span::styled(format!("{words}{since}"), theme.status(status)),
            ]),
        ));
    }
    rows
}

/// Rows the panel needs, for layout.
pub fn height(scene: &Scene) -> u16 {
    let alarms = |a: &AwsAccountState| match a.spec.alarms {
        Some(_) => 1 + a.alarms.iter().filter(|x| a.alarm_status(x) != Status::Ok).count(),
        None => 0,
    };
    let rows: usize = scene
        .state
        .aws
        .iter()
        .map(|a| {
            1 + usize::from(a.error.is_some())
                + a.asgs.len()
                + alarms(a)
                + a.queues.len()
                + a.databases.len()
                + a.metrics.len()
        })
        .sum();
    rows as u16 + 2
}
