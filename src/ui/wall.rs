//! The wall: a screen for a TV across the room. Large verdict, the names of what is failing,
//! a rotating page, a clock and the age of the data; when the data goes stale it says so loudly.
//!
//! ```text
//! ┌──────────────────────────────────────────────────────────────┐
//! │ title                 page 2/3 · health   updated 2s · 14:03 │ top line
//! │            ██  ███ ████ ███ ████ ███ ███  ███ █              │ verdict in big type
//! │ 2 CRITICAL: payments, checkout-api · 1 WARNING: search       │ the same in words
//! │          payments   checkout-api                             │ failing names, large when room
//! │ ┌ page ────────────────────────────────────────────────────┐ │
//! │ │ overview (compact list) / health / errors & latency      │ │ body
//! │ └──────────────────────────────────────────────────────────┘ │
//! │ ⚠ STALE: no answer from the fleet for 34s                    │ only when stale
//! └──────────────────────────────────────────────────────────────┘
//! ```

use super::view::WallPages;
use super::{Scene, compact, header, health, signals};
use crate::config::schema::Page;
use crate::format;
use crate::state::Status;
use ratatui::{
    Frame,
    layout::{Alignment, Constraint, Layout, Rect},
    style::{Modifier, Style},
    text::{Line, Span},
    widgets::Paragraph,
};
use tui_big_text::{BigText, PixelSize};

/// Big-text sizes from largest to smallest, with the cells one character takes.
const SIZES: [(PixelSize, u16, u16); 4] =
    [(PixelSize::Full, 8, 8), (PixelSize::HalfHeight, 8, 4), (PixelSize::Quadrant, 4, 4), (PixelSize::Octant, 4, 2)];

pub fn render(frame: &mut Frame, area: Rect, scene: &Scene, wall: &WallPages) {
    let theme = scene.theme;
    let stale = scene.state.board_staleness(scene.now, scene.look.started_at);
    let (verdict, verdict_status) = verdict_text(scene, stale.is_some());
    let failing = failing_names(scene);
    let verdict_budget = (area.height / 4).max(1);
    let verdict_size = fit(&verdict, area.width, verdict_budget);
    let names_text = failing.join("  ");
    let names_size = (!failing.is_empty()).then(|| fit(&names_text, area.width, (area.height / 6).max(1))).flatten();
    let [top, big, words, names, body, bottom] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(verdict_size.map_or(0, |s| s.2)),
        Constraint::Length(1),
        Constraint::Length(names_size.map_or(0, |s| s.2)),
        Constraint::Fill(1),
        Constraint::Length(u16::from(stale.is_some() || scene.view.flash.is_some())),
    ])
    .areas(area);

    top_line(frame, top, scene, wall);
    let style = theme.status(verdict_status).add_modifier(Modifier::BOLD);
    if let Some((size, _, _)) = verdict_size {
        big_text(frame, big, &verdict, size, style);
    }
    frame.render_widget(
        Paragraph::new(summary_line(scene, &verdict, verdict_status, words.width)).alignment(Alignment::Center),
        words,
    );
    if let Some((size, _, _)) = names_size {
        big_text(frame, names, &names_text, size, theme.status(verdict_status));
    }
    match wall.page() {
        Page::Overview => compact::render(frame, body, scene),
        Page::Health => {
            let visible = scene.view.visible(scene.state, &scene.verdicts);
            let services: Vec<(Status, usize)> =
                visible.iter().map(|&si| (scene.verdicts.services[si].status(), si)).collect();
            match super::tiles::grid(services.len(), body) {
                Some(grid) => super::tiles::render_health(frame, body, scene, &services, grid),
                None => health::render(frame, body, scene),
            }
        }
        // Few services: tiles that fill the room; many: the table's compact columns.
        Page::Errors => {
            let services = signals::worst_first(scene);
            match super::tiles::grid(services.len(), body) {
                Some(grid) => super::tiles::render(frame, body, scene, &services, grid),
                None => signals::render(frame, body, scene),
            }
        }
        Page::Aws => super::aws::render(frame, body, scene),
        Page::Deploys => super::deploys::render(frame, body, scene),
        Page::Backups => super::backups::render(frame, body, scene),
    }
    if let Some(age) = stale {
        let banner = format!("⚠ STALE: no answer from the fleet for {} — what is shown is old", format::age(age));
        let style =
            Style::new().fg(theme.bg_or_black()).bg(theme.crit).add_modifier(Modifier::BOLD | Modifier::REVERSED);
        frame.render_widget(Paragraph::new(banner).alignment(Alignment::Center).style(style), bottom);
    } else if let Some(flash) = &scene.view.flash {
        let line = Paragraph::new(flash.as_str()).alignment(Alignment::Center).style(theme.status(Status::Warn));
        frame.render_widget(line, bottom);
    }
}

/// The largest big-text size in which `text` fits `width` x `height`, with its cell size.
pub(super) fn fit(text: &str, width: u16, height: u16) -> Option<(PixelSize, u16, u16)> {
    let chars = text.chars().count() as u16;
    SIZES.into_iter().find(|&(_, w, h)| chars.saturating_mul(w) <= width && h <= height)
}

pub(super) fn big_text(frame: &mut Frame, area: Rect, text: &str, size: PixelSize, style: Style) {
    let big =
        BigText::builder().pixel_size(size).style(style).centered().lines(vec![Line::raw(text.to_string())]).build();
    frame.render_widget(big, area);
}

/// "ALL OK", "2 CRITICAL", "1 WARNING", "STALE", "WAITING".
fn verdict_text(scene: &Scene, stale: bool) -> (String, Status) {
    let t = &scene.verdicts.service_tally;
    if stale {
        return ("STALE".into(), Status::Stale);
    }
    match t.worst() {
        Status::Crit => (format!("{} CRITICAL", t.crit), Status::Crit),
        Status::Warn => (format!("{} WARNING", t.warn), Status::Warn),
        Status::Stale => (format!("{} STALE", t.stale), Status::Stale),
        Status::Unknown if t.ok == 0 => ("WAITING".into(), Status::Unknown),
        Status::Unknown | Status::Ok => ("ALL OK".into(), Status::Ok),
    }
}

/// Whatever is at warn or worse (services, groups, backups), worst first: the same items the
/// big count counts, so a service blocked by a cause is not among them (its cause is), nor one
/// in maintenance.
fn failing_names(scene: &Scene) -> Vec<String> {
    let items = scene.verdicts.items.iter().filter(|i| i.counted());
    items.filter(|i| i.verdict.status >= Status::Warn).map(|i| i.name.clone()).collect()
}

/// The verdict in plain words, readable from a capture and by a screen reader.
fn summary_line<'a>(scene: &Scene, verdict: &str, status: Status, width: u16) -> Line<'a> {
    let theme = scene.theme;
    let items = &scene.verdicts.items;
    // Causes first: "orders-db CRIT — 4 services behind it".
    let mut parts: Vec<String> = scene.verdicts.blocking.causes.iter().map(|c| c.headline()).collect();
    for s in [Status::Crit, Status::Warn, Status::Stale] {
        let names: Vec<&str> =
            (items.iter()).filter(|i| i.verdict.status == s && i.counted()).map(|i| i.name.as_str()).collect();
        if !names.is_empty() {
            parts.push(format!("{} {}: {}", names.len(), s.word(), names.join(", ")));
        }
    }
    if parts.is_empty() {
        parts.push(verdict.to_string());
    }
    // Not counted, so said: "1 in maintenance: recommendations".
    let planned: Vec<&str> = (scene.state.services.iter().zip(&scene.verdicts.maintenance))
        .filter(|(_, m)| m.is_some())
        .map(|(s, _)| &*s.name)
        .collect();
    if !planned.is_empty() {
        parts.push(format!("{} in maintenance: {}", planned.len(), planned.join(", ")));
    }
    // The fleet's size last, and only where it fits: what fails is said first, and a line too
    // long for the room ends in `…` rather than at the edge.
    let head = format!("{} {}", super::symbols::status(status), parts.join(" · "));
    let whole = format!("{head} · {}", scene.verdicts.kinds_text());
    let text = if whole.chars().count() <= usize::from(width) { whole } else { head };
    super::widgets::cut::line(Line::from(Span::styled(text, theme.status(status))), width)
}

fn top_line(frame: &mut Frame, area: Rect, scene: &Scene, wall: &WallPages) {
    let theme = scene.theme;
    let page = format!("page {}/{} · {}", wall.current + 1, wall.pages.len(), page_name(wall.page()));
    let right = format!("{}  {} ", header::updated_text(scene), header::clock(scene));
    let [l, m, r] = Layout::horizontal([
        Constraint::Fill(1),
        Constraint::Length(page.chars().count() as u16 + 2),
        Constraint::Fill(1),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(Span::styled(format!(" {}", scene.look.title), theme.title())), l);
    frame.render_widget(Paragraph::new(Span::styled(page, theme.dim())).alignment(Alignment::Center), m);
    frame.render_widget(Paragraph::new(Span::styled(right, theme.title())).alignment(Alignment::Right), r);
}

fn page_name(p: Page) -> &'static str {
    match p {
        Page::Overview => "overview",
        Page::Health => "health",
        Page::Errors => "errors & latency",
        Page::Aws => "AWS",
        Page::Deploys => "deploys",
        Page::Backups => "backups",
    }
}
