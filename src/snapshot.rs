//! `opsboard snapshot`: one rendered frame as plain text, ANSI or SVG.

use crate::ui::theme::{ANSI16, indexed_rgb};
use ratatui::buffer::{Buffer, Cell};
use ratatui::style::{Color, Modifier};
use std::fmt::Write;
use unicode_width::UnicodeWidthStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Ansi,
    Svg,
}

impl Format {
    /// The format a file's name asks for: `.txt`, `.ansi` or `.svg`.
    pub fn of_path(path: &std::path::Path) -> Option<Self> {
        match path.extension()?.to_str()? {
            "txt" => Some(Self::Text),
            "ansi" => Some(Self::Ansi),
            "svg" => Some(Self::Svg),
            _ => None,
        }
    }
}

pub fn encode(buf: &Buffer, format: Format) -> String {
    match format {
        Format::Text => text(buf),
        Format::Ansi => ansi(buf),
        Format::Svg => svg(buf),
    }
}

/// The frame's characters as a terminal shows them, one line per row, trailing spaces trimmed.
pub fn text(buf: &Buffer) -> String {
    let mut out = String::new();
    for y in 0..buf.area.height {
        let line: String = row_cells(buf, y).into_iter().map(|(s, _)| s).collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// One row's cells with what each shows: a cell that a wide character before it covers shows `""`.
pub fn row_cells(buf: &Buffer, y: u16) -> Vec<(&str, &Cell)> {
    let mut out = Vec::with_capacity(usize::from(buf.area.width));
    let mut covered = 0;
    for x in 0..buf.area.width {
        let cell = &buf[(buf.area.x + x, buf.area.y + y)];
        if covered > 0 {
            covered -= 1;
            out.push(("", cell));
            continue;
        }
        let sym = cell.symbol();
        covered = sym.width().saturating_sub(1);
        out.push((sym, cell));
    }
    out
}

/// The frame with SGR colour and attribute escapes, as a terminal would show it.
pub fn ansi(buf: &Buffer) -> String {
    let mut out = String::new();
    for y in 0..buf.area.height {
        let mut current = None;
        for x in 0..buf.area.width {
            let cell = &buf[(x, y)];
            let key = (cell.fg, cell.bg, cell.modifier);
            if current != Some(key) {
                out.push_str("\x1b[0");
                push_sgr_color(&mut out, cell.fg, false);
                push_sgr_color(&mut out, cell.bg, true);
                for (m, code) in [
                    (Modifier::BOLD, 1),
                    (Modifier::DIM, 2),
                    (Modifier::ITALIC, 3),
                    (Modifier::UNDERLINED, 4),
                    (Modifier::REVERSED, 7),
                ] {
                    if cell.modifier.contains(m) {
                        let _ = write!(out, ";{code}");
                    }
                }
                out.push('m');
                current = Some(key);
            }
            out.push_str(cell.symbol());
        }
        out.push_str("\x1b[0m\n");
    }
    out
}

fn push_sgr_color(out: &mut String, c: Color, bg: bool) {
    let base = if bg { 40 } else { 30 };
    let _ = match c {
        Color::Reset => Ok(()),
        Color::Black => write!(out, ";{}", base),
        Color::Red => write!(out, ";{}", base + 1),
        Color::Green => write!(out, ";{}", base + 2),
        Color::Yellow => write!(out, ";{}", base + 3),
        Color::Blue => write!(out, ";{}", base + 4),
        Color::Magenta => write!(out, ";{}", base + 5),
        Color::Cyan => write!(out, ";{}", base + 6),
        Color::Gray => write!(out, ";{}", base + 7),
        Color::DarkGray => write!(out, ";{}", base + 60),
        Color::LightRed => write!(out, ";{}", base + 61),
        Color::LightGreen => write!(out, ";{}", base + 62),
        Color::LightYellow => write!(out, ";{}", base + 63),
        Color::LightBlue => write!(out, ";{}", base + 64),
        Color::LightMagenta => write!(out, ";{}", base + 65),
        Color::LightCyan => write!(out, ";{}", base + 66),
        Color::White => write!(out, ";{}", base + 67),
        Color::Indexed(i) => write!(out, ";{};5;{i}", base + 8),
        Color::Rgb(r, g, b) => write!(out, ";{};2;{r};{g};{b}", base + 8),
    };
}

const CELL_W: f32 = 9.0;
const CELL_H: f32 = 18.0;
const DEFAULT_FG: &str = "#d0d0d0";
const DEFAULT_BG: &str = "#1c1c1c";

/// The frame as an SVG picture: one rect per background run, one text per style run; a row's
/// rects before its texts, so that a glyph a little wider than its cell (a bold `s`, a `✖` from
/// a fallback font) is not cut by the next run's background.
pub fn svg(buf: &Buffer) -> String {
    let (w, h) = (f32::from(buf.area.width) * CELL_W, f32::from(buf.area.height) * CELL_H);
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"{DEFAULT_BG}\"/>\n\
         <g font-family=\"DejaVu Sans Mono, Menlo, Consolas, monospace\" font-size=\"15\" xml:space=\"preserve\">\n"
    );
    for y in 0..buf.area.height {
        let mut texts = String::new();
        let mut x = 0;
        while x < buf.area.width {
            let cell = &buf[(x, y)];
            let (mut fg, mut bg) = (cell.fg, cell.bg);
            if cell.modifier.contains(Modifier::REVERSED) {
                std::mem::swap(&mut fg, &mut bg);
            }
            let start = x;
            let mut run = String::new();
            while x < buf.area.width {
                let c = &buf[(x, y)];
                if (c.fg, c.bg, c.modifier) != (cell.fg, cell.bg, cell.modifier) {
                    break;
                }
                run.push_str(c.symbol());
                x += 1;
            }
            let (px, py) = (f32::from(start) * CELL_W, f32::from(y) * CELL_H);
            let width = f32::from(x - start) * CELL_W;
            if bg != Color::Reset || cell.modifier.contains(Modifier::REVERSED) {
                let fill = hex(bg, true);
                let _ = writeln!(
                    out,
                    "<rect x=\"{px}\" y=\"{py}\" width=\"{width}\" height=\"{CELL_H}\" fill=\"{fill}\"/>"
                );
            }
            if !run.trim().is_empty() {
                let weight = if cell.modifier.contains(Modifier::BOLD) { " font-weight=\"bold\"" } else { "" };
                let _ = writeln!(
                    texts,
                    "<text x=\"{px}\" y=\"{}\" fill=\"{}\"{weight}>{}</text>",
                    py + CELL_H * 0.78,
                    hex(fg, false),
                    escape(&run)
                );
            }
        }
        out.push_str(&texts);
    }
    out.push_str("</g>\n</svg>\n");
    out
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A colour as `#rrggbb`, with the theme module's palette for named and indexed colours.
pub fn hex(c: Color, bg: bool) -> String {
    let (r, g, b) = match c {
        Color::Reset => return (if bg { DEFAULT_BG } else { DEFAULT_FG }).to_string(),
        Color::Rgb(r, g, b) => (r, g, b),
        Color::Indexed(i) => indexed_rgb(i),
        named => ANSI16.iter().find(|(n, _)| *n == named).map_or((128, 128, 128), |(_, rgb)| *rgb),
    };
    format!("#{r:02x}{g:02x}{b:02x}")
}
