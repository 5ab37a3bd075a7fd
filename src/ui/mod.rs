//! Drawing the board: a pure function of state, view and theme.

pub mod aws;
pub mod backups;
pub mod compact;
pub mod deploys;
pub mod detail;
pub mod dialog;
pub mod footer;
pub mod header;
pub mod health;
pub mod help;
pub mod note;
pub mod offline;
pub mod output;
pub mod overview;
pub mod record;
pub mod signals;
pub mod silence;
pub mod symbols;
pub mod take;
pub mod theme;
pub mod tiles;
pub mod too_small;
pub mod view;
pub mod wall;
pub mod widgets;

use crate::config::EnvSpec;
use crate::state::{State, Verdicts};
use ratatui::{
    Frame,
    buffer::Buffer,
    layout::{Constraint, Layout, Rect},
    style::{Color, Modifier, Style},
};
use std::borrow::Cow;
use std::time::SystemTime;
use theme::Theme;
use view::{Screen, View};

/// Below this the board shows [`too_small`] instead.
pub const MIN_WIDTH: u16 = 50;
pub const MIN_HEIGHT: u16 = 10;

/// How the board presents itself, fixed for a run.
#[derive(Debug, Clone)]
pub struct Look {
    pub title: String,
    pub theme: Theme,
    /// Offset of the local clock from UTC, for the header clock.
    pub utc_offset_secs: i32,
    pub read_only: bool,
    /// When the board started: before any answer, data counts as stale from here.
    pub started_at: SystemTime,
    /// What the header says about where the data comes from, when it is not the usual:
    /// "no server at http://…: polling alone".
    pub note: Option<String>,
}

/// Everything one frame is drawn from. Nothing in it is changed by drawing.
pub struct Scene<'a> {
    pub state: &'a State,
    pub view: &'a View,
    pub look: &'a Look,
    pub theme: &'a Theme,
    pub now: SystemTime,
    /// Every verdict at `now`: made for this frame, or kept by the collector and brought to `now`.
    pub verdicts: Cow<'a, Verdicts>,
}

impl<'a> Scene<'a> {
    pub fn new(state: &'a State, view: &'a View, look: &'a Look, now: SystemTime) -> Self {
        Self { state, view, look, theme: &look.theme, now, verdicts: Cow::Owned(state.verdicts(now)) }
    }

    /// A scene from verdicts already brought to `now` from `state`.
    pub fn with_verdicts(
        state: &'a State,
        view: &'a View,
        look: &'a Look,
        now: SystemTime,
        verdicts: &'a Verdicts,
    ) -> Self {
        Self { state, view, look, theme: &look.theme, now, verdicts: Cow::Borrowed(verdicts) }
    }
}

/// Draws the whole board.
///
/// ```text
/// ┌──────────────────────────────────────────────────────────────┐
/// │ title  ✖ 1 CRIT ▲ 2 WARN ✔ 5 OK  instances   updated · clock │ header
/// │┌ health ────────────────────────────────────────────────────┐│
/// ││ STATE SERVICE ENV INSTANCES LATENCY AGE REASON             ││ body: overview
/// ││ ...                                                        ││   or one service's detail
/// │└────────────────────────────────────────────────────────────┘│
/// │ ? help  ↑↓ move  ⏎ detail  / filter  s sort  q quit          │ footer
/// └──────────────────────────────────────────────────────────────┘
/// ```
/// The help overlay, when open, is drawn over the body.
pub fn render(frame: &mut Frame, scene: &Scene) {
    let area = frame.area();
    frame.buffer_mut().set_style(area, scene.theme.base());
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        too_small::render(frame, area, scene);
        return;
    }
    if let Some(wall) = &scene.view.wall {
        wall::render(frame, area, scene, wall);
        return;
    }
    let [top, body, bottom] =
        Layout::vertical([Constraint::Length(1), Constraint::Fill(1), Constraint::Length(1)]).areas(area);
    header::render(frame, top, scene);
    let visible = scene.view.visible(scene.state, &scene.verdicts);
    match (scene.view.screen, scene.view.current(&visible)) {
        (Screen::Detail, Some(si)) => detail::render(frame, body, scene, si),
        (Screen::Compact, _) => compact::render(frame, body, scene),
        (Screen::Deploys, _) => deploys::render(frame, body, scene),
        (Screen::Backups, _) => backups::render(frame, body, scene),
        _ => overview::render(frame, body, scene, visible.len()),
    }
    footer::render(frame, bottom, scene);
    // An action's output belongs to its service: the detail view of another one does not show it.
    let detail_of = (scene.view.screen == Screen::Detail).then(|| scene.view.current(&visible)).flatten();
    if let Some(si) =
        scene.view.output.filter(|&si| si < scene.state.services.len() && detail_of.is_none_or(|d| d == si))
    {
        output::render(frame, body, scene, si);
    }
    if let Some(d) = &scene.view.dialog {
        dialog::render(frame, body, scene, d);
    }
    if let Some(d) = &scene.view.silencing {
        silence::render(frame, body, scene, d);
    }
    if let Some(d) = &scene.view.taking {
        take::render(frame, body, scene, d);
    }
    if let Some(d) = &scene.view.noting {
        note::render(frame, body, scene, d);
    }
    if scene.view.help {
        help::render(frame, body, scene);
    }
}

/// Draws one frame into a fresh buffer of the given size (snapshots, tests, the redraw gate).
pub fn render_to_buffer(scene: &Scene, width: u16, height: u16) -> Buffer {
    let backend = ratatui::backend::TestBackend::new(width, height);
    let mut terminal = ratatui::Terminal::new(backend).expect("the test backend cannot fail");
    terminal.draw(|f| render(f, scene)).expect("the test backend cannot fail");
    terminal.backend().buffer().clone()
}

/// `🔇 until 14:30 — deploy in progress` when the service's notifications are muted.
pub fn silence_label(scene: &Scene, si: usize) -> Option<String> {
    let item = view::service_item(scene.state, si);
    scene.state.silences.get(&item).map(|s| s.label(scene.look.utc_offset_secs))
}

/// What qualifies a service's state, in the board's one order after it: maintenance, blocked by
/// a cause, who took it, its silence, flapping. `full` says when and what the taker wrote, and how the
/// flapping goes (the detail view); rows name the taker. None when nothing does.
pub fn marks_label(scene: &Scene, si: usize, full: bool) -> Option<String> {
    let item = view::service_item(scene.state, si);
    let maintenance = (scene.verdicts.maintenance.get(si).and_then(Option::as_ref))
        .map(|m| m.label(scene.look.utc_offset_secs, full));
    let blocked = scene.verdicts.blocking.label(si);
    let taken =
        scene.state.taken.get(&item).map(|t| if full { t.label(scene.look.utc_offset_secs) } else { t.short() });
    let flapping = (scene.verdicts.services.get(si).and_then(|v| v.flapping.as_ref()))
        .map(|f| if full { f.reason.clone() } else { "flapping".to_string() });
    let words: Vec<String> =
        maintenance.into_iter().chain(blocked).chain(taken).chain(silence_label(scene, si)).chain(flapping).collect();
    (!words.is_empty()).then(|| words.join(" · "))
}

/// A warning-bordered dialog over `area`: as wide as fits (40 to 100 columns), as tall as its
/// wrapped lines, cleared underneath.
pub fn popup(frame: &mut Frame, area: Rect, scene: &Scene, title: String, keys: &str, lines: Vec<ratatui::text::Line>) {
    use ratatui::text::Span;
    use ratatui::widgets::{Block, Clear, Paragraph, Wrap};
    let theme = scene.theme;
    let width = area.width.saturating_sub(4).clamp(40, 100).min(area.width);
    let inner = width.saturating_sub(2).max(1) as usize;
    let rows: usize = lines.iter().map(|l| l.width().max(1).div_ceil(inner)).sum();
    let popup = centered(area, width, (rows as u16 + 2).min(area.height));
    frame.render_widget(Clear, popup);
    let block = Block::bordered()
        .title(Span::styled(title, theme.title()))
        .title_bottom(Span::styled(keys.to_string(), theme.dim()))
        .border_style(theme.status(crate::state::Status::Warn))
        .style(theme.base());
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).block(block), popup);
}

/// A rectangle of at most `width` x `height`, centred in `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h }
}

/// An environment's label in its accent colour; bold for read-only ones.
pub fn env_style(env: &EnvSpec, theme: &Theme) -> Style {
    let color =
        env.color.as_deref().and_then(|c| c.parse::<Color>().ok()).filter(|_| !theme.monochrome).unwrap_or(theme.dim);
    let style = Style::new().fg(color);
    if env.read_only { style.add_modifier(Modifier::BOLD) } else { style }
}
