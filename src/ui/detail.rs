//! One service up close: each instance, its latency trend, and the last results of the selected one.

use super::Scene;
use super::widgets::{cut, spark, status_cell};
use crate::format;
use crate::state::{LbView, ServiceState, Status, ViewBy, percent};
use ratatui::{
    Frame,
    layout::{Constraint, Layout, Rect},
    text::{Line, Span},
    widgets::{Block, Cell, Row, Sparkline, Table, TableState},
};
use std::time::Duration;

/// Trend cells on wide and on narrow terminals.
const TREND_WIDE: u16 = 16;
const TREND_NARROW: u16 = 8;
const WIDE_FROM: u16 = 110;

pub fn render(frame: &mut Frame, area: Rect, scene: &Scene, si: usize) {
    let Some(svc) = scene.state.services.get(si) else { return };
    let sel = scene.view.instance.min(svc.instances.len().saturating_sub(1));
    let table_height = (svc.instances.len() as u16 + 3).min(area.height.saturating_sub(6).max(4));
    // Wide: the budget and availability in a pane beside the last results; narrow (or short):
    // a line each under the instances, as room allows.
    let wide = area.width >= WIDE_FROM;
    let pane_lines = if wide { super::record::pane_lines(scene, si, svc) } else { Vec::new() };
    let pane_height = super::record::pane_height(&pane_lines);
    let pane = wide && area.height >= table_height + pane_height;
    let lines = if pane { Vec::new() } else { super::record::narrow_lines(scene, si, svc) };
    let room = (area.height.saturating_sub(table_height + 4)).min(lines.len() as u16);
    let [top, middle, bottom] =
        Layout::vertical([Constraint::Length(table_height), Constraint::Length(room), Constraint::Fill(1)]).areas(area);
    instances(frame, top, scene, si, svc, sel);
    for (i, line) in lines.into_iter().take(usize::from(room)).enumerate() {
        let at = Rect { y: middle.y + i as u16, height: 1, ..middle };
        frame.render_widget(ratatui::widgets::Paragraph::new(cut::line(line, at.width)), at);
    }
    if pane {
        let [left, right] =
            Layout::horizontal([Constraint::Fill(1), Constraint::Length(super::record::PANE_WIDTH)]).areas(bottom);
        super::record::pane(frame, Rect { height: pane_height, ..right }, scene, svc, pane_lines);
        history(frame, left, scene, svc, sel);
    } else {
        history(frame, bottom, scene, svc, sel);
    }
}

fn instances(frame: &mut Frame, area: Rect, scene: &Scene, si: usize, svc: &ServiceState, sel: usize) {
    let theme = scene.theme;
    let verdict = crate::state::named_worst(svc, &scene.verdicts.services[si]);
    let wide = area.width >= WIDE_FROM;
    let trend = if wide { TREND_WIDE } else { TREND_NARROW };
    let mut names = vec!["STATE", "INSTANCE", "CODE", "LATENCY", "TREND", "AGE", "VERSION"];
    let mut widths = vec![
        Constraint::Length(9),
        Constraint::Min(15),
        Constraint::Length(4),
        Constraint::Length(7),
        Constraint::Length(trend),
        Constraint::Length(4),
        Constraint::Length(9),
    ];
    if wide {
        names.extend(["REQ/S", "ERR", "P95"]);
        widths.extend([Constraint::Length(7), Constraint::Length(5), Constraint::Length(6)]);
    }
    // What the instances' own source says of them, when it says anything: after the name. On
    // a narrow terminal it takes the trend's place (the history below draws the trend).
    let lb_header = lb_header(svc);
    if let Some(h) = lb_header {
        if !wide {
            names.remove(4);
            widths.remove(4);
        }
        names.insert(2, h);
        widths.insert(2, Constraint::Length(LB_WIDTH));
    }
    // The hosts' numbers, when a node exporter tells of them: before the reason. On a narrow
    // terminal they take the trend's and the version's places.
    let hosts = svc.instances.iter().any(|i| i.host.has_data());
    let mut version_shown = true;
    if hosts {
        if !wide {
            if lb_header.is_none() {
                let at = names.iter().position(|n| *n == "TREND").unwrap_or(4);
                names.remove(at);
                widths.remove(at);
            }
            let at = names.iter().position(|n| *n == "VERSION").unwrap_or(names.len() - 1);
            names.remove(at);
            widths.remove(at);
            version_shown = false;
        }
        names.extend(["CPU", "MEM", "DISK", "LOAD"]);
        widths.extend([Constraint::Length(4), Constraint::Length(4), Constraint::Length(4), Constraint::Length(5)]);
    }
    let trend_shown = (wide || lb_header.is_none()) && names.contains(&"TREND");
    names.push("REASON");
    widths.push(Constraint::Fill(1));
    let columns = cut::columns(&widths, area.width.saturating_sub(2));
    let (label_width, reason_width) = (columns[1], columns[columns.len() - 1]);
    let rows: Vec<Row> = svc
        .instances
        .iter()
        .enumerate()
        .map(|(ii, inst)| {
            let v = scene.verdicts.services[si].instances[ii].clone();
            let last = inst.health.latest();
            let latencies: Vec<f64> = inst
                .health
                .iter()
                .map(|s| if s.code().is_some() { s.latency.as_secs_f64() } else { f64::NAN })
                .collect();
            let state = match inst.life.word(scene.now) {
                // One space in: STARTING and DRAINING fill the column.
                Some(word) => Span::styled(format!(" {word}"), theme.dim()),
                None => status_cell::span(v.status, theme),
            };
            let mut cells =
                vec![Cell::from(state), Cell::from(cut::line(Line::raw(inst.spec.label.clone()), label_width))];
            if lb_header.is_some() {
                cells.push(Cell::from(lb_cell(inst.lb.as_ref(), theme)));
            }
            cells.extend([
                Cell::from(last.and_then(|s| s.code()).map(code_word).unwrap_or_else(|| "—".into())),
                Cell::from(last.map(|s| format::latency(s.latency)).unwrap_or_default()),
            ]);
            if trend_shown {
                cells.push(Cell::from(Span::styled(spark::inline(&latencies, trend as usize), theme.accent())));
            }
            cells.push(Cell::from(Span::styled(
                inst.age(scene.now).map(|a| format::age_or_fresh(a, svc.check.interval)).unwrap_or_default(),
                theme.dim(),
            )));
            if version_shown {
                cells.push(Cell::from(inst.version().or(inst.metrics.version.as_deref()).unwrap_or("").to_string()));
            }
            if wide {
                let p = inst.metrics.latest.as_ref();
                let dash = || "—".to_string();
                cells.push(Cell::from(p.and_then(|p| p.rate).map(format::rate).unwrap_or_else(dash)));
                cells.push(Cell::from(p.and_then(|p| p.error_ratio).map(percent).unwrap_or_else(dash)));
                cells.push(Cell::from(
                    p.and_then(|p| p.p95).map(|s| format::duration(Duration::from_secs_f64(s))).unwrap_or_else(dash),
                ));
            }
            if hosts {
                let columns = inst.host.point.columns(&svc.check.hosts);
                cells.extend(columns.into_iter().map(|(text, status)| {
                    let style = match status {
                        Status::Unknown => theme.dim(),
                        Status::Ok => ratatui::style::Style::default(),
                        _ => theme.status(status),
                    };
                    Cell::from(Span::styled(text, style))
                }));
            }
            let host_error = inst.host.error.as_ref().map(|(_, e)| match svc.check.hosts.cloudwatch {
                true => e.clone(),
                false => format!("node exporter: {e}"),
            });
            let reason = match (&inst.metrics.error, v.status) {
                (Some((_, e)), Status::Ok) => Span::styled(e.clone(), theme.dim()),
                (None, Status::Ok) if let Some(e) = host_error => Span::styled(e, theme.dim()),
                _ => Span::styled(v.reason, theme.status(v.status)),
            };
            cells.push(Cell::from(cut::line(Line::from(reason), reason_width)));
            Row::new(cells)
        })
        .collect();
    let header = Row::new(names).style(theme.dim());
    let title = Line::from(vec![
        Span::styled(format!(" {} ", svc.name), theme.title()),
        Span::styled(format!("· {} ", svc.env.label), super::env_style(&svc.env, theme)),
        status_cell::span(verdict.status, theme),
        Span::raw(" "),
        Span::styled(super::marks_label(scene, si, true).map(|m| format!("{m} ")).unwrap_or_default(), theme.dim()),
        Span::styled(cert_words(svc, sel), theme.dim()),
        Span::styled(
            scene.state.discovery_note(si, scene.now).map(|n| format!(" {n} ")).unwrap_or_default(),
            theme.dim(),
        ),
    ]);
    // What ECS and CodeDeploy say of its deploys, on the bottom border.
    let sources = svc.deploy_sources.lines().join(" · ");
    let failing = !svc.deploy_sources.errors.is_empty();
    let bottom = (!sources.is_empty()).then(|| {
        let style = if failing { theme.status(Status::Warn) } else { theme.dim() };
        cut::line(Line::styled(format!(" {sources} "), style), area.width.saturating_sub(4))
    });
    let mut block = Block::bordered().title(title).border_style(theme.border());
    if let Some(bottom) = bottom {
        block = block.title_bottom(bottom);
    }
    let table =
        Table::new(rows, widths).header(header).row_highlight_style(theme.selected()).block(block).style(theme.base());
    let mut state = TableState::default().with_selected(Some(sel));
    frame.render_stateful_widget(table, area, &mut state);
}

/// The LB column's width: `unhealthy` and `InService` fit, `Terminating:Wait` is cut.
const LB_WIDTH: u16 = 9;

/// The LB column's header, when some instance has a load balancer's or a group's view.
fn lb_header(svc: &ServiceState) -> Option<&'static str> {
    let mut by = svc.instances.iter().filter_map(|i| i.lb.as_ref().map(|l| l.by));
    let first = by.next()?;
    Some(match (first, by.all(|b| b == first)) {
        (_, false) => "LB/ASG",
        (ViewBy::LoadBalancer, true) => "LB",
        (ViewBy::AutoScaling, true) => "ASG",
    })
}

/// One instance's view from its load balancer or group, coloured as the board's own states.
fn lb_cell<'a>(lb: Option<&LbView>, theme: &super::theme::Theme) -> Span<'a> {
    let Some(lb) = lb else { return Span::styled("—", theme.dim()) };
    let status = match (lb.by, lb.state.as_str()) {
        (_, _) if lb.draining() || lb.initial() => None,
        (ViewBy::LoadBalancer, "healthy") => Some(Status::Ok),
        (ViewBy::LoadBalancer, "unhealthy") => Some(Status::Crit),
        (ViewBy::AutoScaling, "InService") if lb.reason.is_none() => Some(Status::Ok),
        (ViewBy::AutoScaling, _) if lb.reason.is_some() => Some(Status::Crit),
        _ => None,
    };
    let style = status.map_or_else(|| theme.dim(), |s| theme.status(s));
    let mut word = lb.state.clone();
    word.truncate(word.char_indices().nth(LB_WIDTH as usize).map_or(word.len(), |(i, _)| i));
    Span::styled(word, style)
}

/// The selected instance's certificate: who it is for, who signed it, until when.
fn cert_words(svc: &ServiceState, sel: usize) -> String {
    let unverified = if svc.check.tls.verify { "" } else { "⚠ tls_verify = false: certificates not checked · " };
    let Some(c) = svc.instances.get(sel).and_then(|i| i.health.latest()).and_then(|s| s.cert()) else {
        return unverified.to_string();
    };
    let until = chrono::DateTime::<chrono::Utc>::from(c.not_after).format("%Y-%m-%d");
    format!("{unverified}cert {} · by {} · until {until} ({}) ", c.subject, c.issuer, c.words)
}

/// An HTTP status code, or `tcp` for a TCP check's answer (code 0).
fn code_word(code: u16) -> String {
    if code == 0 { "tcp".into() } else { code.to_string() }
}

fn history(frame: &mut Frame, area: Rect, scene: &Scene, svc: &ServiceState, sel: usize) {
    let theme = scene.theme;
    let Some(inst) = svc.instances.get(sel) else { return };
    let block = Block::bordered()
        .title(Span::styled(format!(" {} · last results ", inst.spec.label), theme.title()))
        .border_style(theme.border())
        .style(theme.base());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height == 0 {
        return;
    }
    let spark_height = if inner.height >= 10 { 4 } else { 0 };
    // The load balancer's or group's view in full, reason code and all, above the results.
    // The load balancer's or group's view in full, and the host's numbers, above the results.
    let mut above: Vec<Line> = Vec::new();
    if let Some(lb) = &inst.lb {
        above.push(Line::styled(format!("{}: {}", lb.by.words(), lb.words()), theme.dim()));
    }
    if inst.host.has_data() {
        let level = inst.host.level.level;
        let style = if level == Status::Ok { theme.dim() } else { theme.status(level) };
        above.push(Line::styled(format!("host: {}", inst.host.point.words()), style));
    }
    let above_height = if inner.height >= 2 + above.len() as u16 { above.len() as u16 } else { 0 };
    let [above_area, list_area, spark_area] =
        Layout::vertical([Constraint::Length(above_height), Constraint::Fill(1), Constraint::Length(spark_height)])
            .areas(inner);
    for (i, line) in above.into_iter().take(above_height as usize).enumerate() {
        let area = Rect { y: above_area.y + i as u16, height: 1, ..above_area };
        frame.render_widget(cut::line(line, area.width), area);
    }
    let widths = [
        Constraint::Length(8),
        Constraint::Length(9),
        Constraint::Length(4),
        Constraint::Length(7),
        Constraint::Fill(1),
    ];
    // This table has no border of its own.
    let reason_width = cut::last_column(&widths, list_area.width);
    let rows: Vec<Row> = inst
        .health
        .iter()
        .rev()
        .take(list_area.height as usize)
        .map(|s| {
            let v = s.verdict(svc.check.slow_after);
            Row::new(vec![
                Cell::from(Span::styled(
                    format!("{} ago", format::age(scene.now.duration_since(s.at).unwrap_or_default())),
                    theme.dim(),
                )),
                Cell::from(status_cell::span(v.status, theme)),
                Cell::from(s.code().map(code_word).unwrap_or_else(|| "—".into())),
                Cell::from(format::duration(s.latency)),
                Cell::from(cut::line(Line::raw(v.reason), reason_width)),
            ])
        })
        .collect();
    let table = Table::new(rows, widths);
    frame.render_widget(table, list_area);
    if spark_height > 0 {
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(spark_area);
        let latency: Vec<u64> = inst.health.iter().map(|s| s.latency.as_millis() as u64).collect();
        let rate: Vec<u64> = svc.signals.iter().map(|p| p.rate.unwrap_or(0.0).round() as u64).collect();
        // Where each signal comes from, when anything but scrapes feeds the service.
        let sources = svc.signal_sources();
        let rate_title = if sources.iter().all(|(_, src)| *src == "scrape") {
            "service requests/s".to_string()
        } else {
            let named: Vec<String> = sources.iter().map(|(sig, src)| format!("{sig} {src}")).collect();
            format!("service requests/s · {}", named.join(" · "))
        };
        for (area, data, title) in [(left, latency, "health latency".to_string()), (right, rate, rate_title)] {
            let shown = &data[data.len().saturating_sub(area.width as usize)..];
            let spark = Sparkline::default()
                .data(shown)
                .style(theme.accent())
                .block(Block::default().title(Span::styled(title, theme.dim())));
            frame.render_widget(spark, area);
        }
    }
}
