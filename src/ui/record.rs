//! A service's record in its detail view: its error budget (objective, what is left, how much of
//! the window was seen, the burn rates, the rule raised) and its availability over 24h, 7d and
//! 30d with coverage. A pane of its own beside the last results on wide terminals; two lines
//! under the instances on narrow ones.
//!
//! ```text
//! ┌ payments · budget & availability ─────────────┐
//! │SLO 99.9 % over 30d, on requests               │
//! │budget 62 % left, over 27 of 30 days seen      │
//! │BURN RATE     5m     30m    1h     6h     3d   │
//! │              0.3×   0.4×   0.5×   0.4×   0.9× │
//! │burning its error budget 16.2× too fast …      │  (the rule raised, in its state's colour)
//! │                                               │
//! │AVAILABILITY  24h       7d        30d          │
//! │requests      99.95 %   99.97 %   99.97 %      │
//! │checks        100 %     99.99 %   99.99 %      │  (a row only for what was counted)
//! │seen          92 %      13 %      3 %          │
//! └───────────────────────────────────────────────┘
//! ```

use super::Scene;
use super::widgets::cut;
use crate::format;
use crate::state::ServiceState;
use crate::state::budget::{self, Availability, Basis, Standing};
use ratatui::{
    Frame,
    layout::Rect,
    text::{Line, Span},
    widgets::{Block, Paragraph},
};

/// The pane's width beside the last results.
pub const PANE_WIDTH: u16 = 52;

/// The pane's height for `lines`: they and the border.
pub fn pane_height(lines: &[Line]) -> u16 {
    lines.len() as u16 + 2
}

/// The pane, bordered, in `area`, with the lines of [`pane_lines`].
pub fn pane(frame: &mut Frame, area: Rect, scene: &Scene, svc: &ServiceState, lines: Vec<Line>) {
    let theme = scene.theme;
    let title = if svc.slo.is_some() { "budget & availability" } else { "availability" };
    let block = Block::bordered()
        .title(Span::styled(format!(" {title} "), theme.title()))
        .border_style(theme.border())
        .style(theme.base());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let lines: Vec<Line> = lines.into_iter().map(|l| cut::line(l, inner.width)).collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The pane's lines, the rule's words wrapped to its width by hand so that its height is known.
pub fn pane_lines<'a>(scene: &Scene, si: usize, svc: &ServiceState) -> Vec<Line<'a>> {
    let width = PANE_WIDTH - 2;
    let theme = scene.theme;
    let mut lines = Vec::new();
    match (svc.slo.as_ref(), standing(scene, si)) {
        (Some(slo), Some((basis, s))) => {
            let on = basis_words(*basis);
            lines.push(Line::raw(format!(
                "SLO {} % over {}, on {on}",
                objective_words(slo.objective),
                format::age(slo.window)
            )));
            lines.push(Line::raw(s.words(slo.window)));
            lines.push(Line::styled(row("BURN RATE", s.burn.iter().map(|(w, _)| w.clone()).collect()), theme.title()));
            // `0.4×`, `16.2×`; from a hundred on, whole (`1000×`), so that a cell keeps its space.
            let rate = |b: f64| if b >= 100.0 { format!("{b:.0}×") } else { format!("{b:.1}×") };
            let rates = s.burn.iter().map(|(_, b)| b.map_or("—".to_string(), rate)).collect();
            lines.push(Line::raw(row("", rates)));
            if let Some((alert, words)) = &s.alert {
                let style = theme.status(budget::alert_status(*alert));
                lines.extend(wrap(words, usize::from(width)).into_iter().map(|l| Line::styled(l, style)));
            }
        }
        _ => lines.push(Line::styled("no `slo`, so no error budget", theme.dim())),
    }
    lines.push(Line::raw(""));
    let all = svc.outcomes.availability(scene.now);
    lines.push(Line::styled(row("AVAILABILITY", all.iter().map(|a| a.window.to_string()).collect()), theme.title()));
    // A share with nothing counted in any window (no request metrics) gets no row.
    let kinds: [(&str, Share); 2] = [("requests", |a| a.requests), ("checks", |a| a.checks)];
    let counted: Vec<_> = kinds.iter().filter(|(_, f)| all.iter().any(|a| f(a).is_some())).collect();
    if counted.is_empty() {
        lines.push(Line::styled("nothing counted yet", theme.dim()));
    }
    for (name, f) in counted {
        lines.push(Line::raw(row(name, all.iter().map(|a| budget::share_words(f(a))).collect())));
    }
    lines.push(Line::styled(row("seen", all.iter().map(|a| budget::seen_words(a.coverage)).collect()), theme.dim()));
    lines
}

/// One of an availability's shares: of requests, or of checks.
type Share = fn(&Availability) -> Option<f64>;

/// `name` then `cells`, in the pane's columns.
fn row(name: &str, cells: Vec<String>) -> String {
    let width = if cells.len() > 3 { 7 } else { 10 };
    let cells: String = cells.iter().map(|c| format!("{c:<width$}")).collect();
    format!("{name:<14}{cells}").trim_end().to_string()
}

/// On a narrow terminal: the budget's line (with an objective) and availability's, each cut to
/// the width; the rule raised, when one is, comes first.
pub fn narrow_lines<'a>(scene: &Scene, si: usize, svc: &ServiceState) -> Vec<Line<'a>> {
    let theme = scene.theme;
    let mut lines = Vec::new();
    if let (Some(slo), Some((basis, s))) = (svc.slo.as_ref(), standing(scene, si)) {
        let head = format!(" SLO {} % over {}", objective_words(slo.objective), format::age(slo.window));
        let mut spans = vec![Span::styled(head, theme.dim())];
        if let Some((alert, words)) = &s.alert {
            spans.push(Span::styled(format!(" · {words}"), theme.status(budget::alert_status(*alert))));
        }
        let rest = format!(" · {} · burn {} · on {}", s.words(slo.window), s.burn_words(), basis_words(*basis));
        spans.push(Span::styled(rest, theme.dim()));
        lines.push(Line::from(spans));
    }
    let words = budget::availability_words(&svc.outcomes.availability(scene.now));
    lines.push(Line::styled(format!(" {words}"), theme.dim()));
    lines
}

/// The standing the verdicts were made with.
fn standing<'s>(scene: &'s Scene, si: usize) -> Option<&'s (Basis, Standing)> {
    scene.verdicts.standings.get(si)?.as_ref()
}

fn basis_words(basis: Basis) -> &'static str {
    match basis {
        Basis::Requests => "requests",
        Basis::Checks => "health checks",
    }
}

/// `99.9`, `99.95`, `99`: an objective as people write it.
pub fn objective_words(o: f64) -> String {
    let text = format!("{:.3}", o * 100.0);
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn columns_of(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

/// `text` in lines of at most `width` columns, broken at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && columns_of(&line) + 1 + columns_of(word) > width {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_wrap_at_spaces_within_the_width() {
        let lines = wrap("burning its error budget 16.2× too fast over 1h", 20);
        assert_eq!(lines, ["burning its error", "budget 16.2× too", "fast over 1h"]);
        assert!(lines.iter().all(|l| columns_of(l) <= 20));
    }

    #[test]
    fn an_objective_reads_as_people_write_it() {
        assert_eq!(objective_words(0.999), "99.9");
        assert_eq!(objective_words(0.9995), "99.95");
        assert_eq!(objective_words(0.99), "99");
    }
}
