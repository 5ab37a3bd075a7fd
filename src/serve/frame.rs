//! A rendered frame as messages for the page: every cell at first, then only the cells that changed.
//! The same messages, with colours as the terminal names them, go to `opsboard attach`
//! ([`Paint::Terminal`], [`crate::attach::wire`]).
//!
//! A message is JSON: `{"t":"full"|"diff", "runs":[[row, col, text, fg, bg, flags], …]}`. A run is
//! consecutive cells of one style; `text` is a string when each cell holds one character, else an
//! array with one string per cell (`""` for a cell that a wide character before it covers).
//! Colours are `#rrggbb` (reversed cells arrive already swapped); flags are [`BOLD`] | [`DIM`] |
//! [`ITALIC`] | [`UNDERLINE`] | [`CROSSED`].

use crate::snapshot::hex;
use ratatui::buffer::{Buffer, Cell};
use ratatui::style::Modifier;
use serde_json::{Value, json};

pub const BOLD: u8 = 1;
pub const DIM: u8 = 2;
pub const ITALIC: u8 = 4;
pub const UNDERLINE: u8 = 8;
pub const CROSSED: u8 = 16;

/// Who the cells are painted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paint {
    /// A web page: `#rrggbb`, reversed cells swapped, [`BOLD`]… flags.
    Page,
    /// A terminal: ratatui's colour names (`Reset`, `LightRed`, `#1C1C1C`, `236`) and its
    /// modifier bits, drawn there as a local board draws them.
    Terminal,
}

/// The whole frame, for a page that has just joined.
pub fn full(buf: &Buffer, heartbeat_ms: u64, scrub: &dyn Fn(&str) -> String) -> String {
    full_for(Paint::Page, buf, heartbeat_ms, scrub)
}

/// Only what changed from `before` (same size); `None` when nothing did.
pub fn diff(before: &Buffer, after: &Buffer, scrub: &dyn Fn(&str) -> String) -> Option<String> {
    diff_for(Paint::Page, before, after, scrub)
}

/// [`full`], painted for `paint`.
pub fn full_for(paint: Paint, buf: &Buffer, heartbeat_ms: u64, scrub: &dyn Fn(&str) -> String) -> String {
    let runs = runs(paint, buf, None, scrub);
    json!({
        "t": "full",
        "cols": buf.area.width,
        "rows": buf.area.height,
        "hb": heartbeat_ms,
        "runs": runs,
    })
    .to_string()
}

/// [`diff`], painted for `paint`.
pub fn diff_for(paint: Paint, before: &Buffer, after: &Buffer, scrub: &dyn Fn(&str) -> String) -> Option<String> {
    let runs = runs(paint, after, Some(before), scrub);
    (!runs.is_empty()).then(|| json!({ "t": "diff", "runs": runs }).to_string())
}

type Style = (String, String, u16);

fn style(paint: Paint, cell: &Cell) -> Style {
    if paint == Paint::Terminal {
        return (cell.fg.to_string(), cell.bg.to_string(), cell.modifier.bits());
    }
    let (mut fg, mut bg) = (cell.fg, cell.bg);
    if cell.modifier.contains(Modifier::REVERSED) {
        std::mem::swap(&mut fg, &mut bg);
    }
    let mut flags = 0;
    for (m, f) in [
        (Modifier::BOLD, BOLD),
        (Modifier::DIM, DIM),
        (Modifier::ITALIC, ITALIC),
        (Modifier::UNDERLINED, UNDERLINE),
        (Modifier::CROSSED_OUT, CROSSED),
    ] {
        if cell.modifier.contains(m) {
            flags |= u16::from(f);
        }
    }
    (hex(fg, false), hex(bg, true), flags)
}

fn runs(paint: Paint, after: &Buffer, before: Option<&Buffer>, scrub: &dyn Fn(&str) -> String) -> Vec<Value> {
    let mut runs = Vec::new();
    for y in 0..after.area.height {
        let now = crate::snapshot::row_cells(after, y);
        let old = before.map(|b| crate::snapshot::row_cells(b, y));
        let changed = |x: usize| {
            old.as_ref().is_none_or(|o| {
                let (s0, c0) = o[x];
                let (s1, c1) = now[x];
                s0 != s1 || (c0.fg, c0.bg, c0.modifier) != (c1.fg, c1.bg, c1.modifier)
            })
        };
        let mut x = 0;
        while x < now.len() {
            if !changed(x) {
                x += 1;
                continue;
            }
            let st = style(paint, now[x].1);
            let start = x;
            let mut syms: Vec<&str> = Vec::new();
            while x < now.len() && changed(x) && style(paint, now[x].1) == st {
                syms.push(now[x].0);
                x += 1;
            }
            runs.push(run(y, start, &syms, st, scrub));
        }
    }
    runs
}

fn run(y: u16, x: usize, syms: &[&str], (fg, bg, flags): Style, scrub: &dyn Fn(&str) -> String) -> Value {
    let simple = syms.iter().all(|s| s.chars().count() == 1);
    let text = if simple {
        Value::String(scrub(&syms.concat()))
    } else {
        Value::Array(syms.iter().map(|s| Value::String(scrub(s))).collect())
    };
    json!([y, x, text, fg, bg, flags])
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;
    use ratatui::style::{Color, Style as RStyle};

    fn keep(s: &str) -> String {
        s.to_string()
    }

    #[test]
    fn a_diff_holds_only_changed_cells_and_none_when_equal() {
        let mut a = Buffer::empty(Rect::new(0, 0, 10, 2));
        a.set_string(0, 0, "hello", RStyle::new().fg(Color::Rgb(1, 2, 3)));
        let mut b = a.clone();
        assert!(diff(&a, &b, &keep).is_none());
        b.set_string(1, 1, "ab", RStyle::new().fg(Color::Rgb(255, 0, 0)));
        let msg: Value = serde_json::from_str(&diff(&a, &b, &keep).unwrap()).unwrap();
        assert_eq!(msg["runs"], json!([[1, 1, "ab", "#ff0000", "#1c1c1c", 0]]));
    }

    #[test]
    fn wide_characters_cover_the_next_cell() {
        let mut a = Buffer::empty(Rect::new(0, 0, 4, 1));
        a.set_string(0, 0, "界x", RStyle::new());
        let msg: Value = serde_json::from_str(&full(&a, 5000, &keep)).unwrap();
        assert_eq!(msg["runs"][0][2], json!(["界", "", "x", " "]));
    }

    #[test]
    fn reversed_cells_arrive_swapped_and_secrets_scrubbed() {
        let mut a = Buffer::empty(Rect::new(0, 0, 6, 1));
        a.set_string(0, 0, "s3cret", RStyle::new().fg(Color::Rgb(0, 0, 0)).bg(Color::Rgb(255, 255, 255)).reversed());
        let msg = full(&a, 5000, &|s: &str| s.replace("s3cret", "******"));
        let v: Value = serde_json::from_str(&msg).unwrap();
        assert_eq!(v["runs"][0], json!([0, 0, "******", "#ffffff", "#000000", 0]));
    }
}
