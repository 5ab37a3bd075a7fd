//! What `opsboard attach` and `opsboard serve` say to each other.
//!
//! The terminal asks for `GET /attach` with `Upgrade: opsboard-attach` and its protocol version
//! in `Opsboard-Protocol`; a server that speaks another version answers 400 in words and nothing
//! else happens. After `101 Switching Protocols` each side writes one JSON object per line:
//!
//! ```text
//!  terminal ─▶ {"t":"hello","cols":120,"rows":40,"theme":"monochrome = false …","utc_offset_secs":7200}
//!           ─▶ {"t":"key","code":"j","mods":0}          {"t":"size","cols":80,"rows":24}
//!  server   ─▶ {"t":"full","cols":120,"rows":40,"hb":5000,"runs":[[row,col,text,fg,bg,mods],…]}
//!           ─▶ {"t":"diff","runs":[…]}   {"t":"hb"}   {"t":"bye","why":"…"}
//! ```
//!
//! The server draws each terminal's own view with the terminal's theme; the terminal keeps the
//! last frame and hands it to ratatui, which writes only the cells that changed. Colours travel
//! as ratatui names them (`Reset`, `LightRed`, `#1C1C1C`, `236`), so a 16-colour or colourless
//! terminal gets exactly what its own board would draw.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier};
use serde::{Deserialize, Serialize};

/// The version both sides must speak; bumped whenever a message changes meaning.
pub const PROTOCOL: u32 = 1;
/// The `Upgrade` token of an attach request.
pub const UPGRADE: &str = "opsboard-attach";
/// The header that carries [`PROTOCOL`] both ways.
pub const VERSION_HEADER: &str = "opsboard-protocol";
/// The header that carries an operator's token (`[[serve.operators]]`), apart from the
/// reader's token in `Authorization`.
pub const OPERATOR_HEADER: &str = "opsboard-operator";
/// The longest line a terminal may send: a hello with its theme is well under this.
pub const MAX_UP_LINE: usize = 4096;
/// The longest line a server may send: a whole frame at the largest size the server draws
/// (400×200 cells, a few bytes each as runs) fits with room to spare.
pub const MAX_DOWN_LINE: usize = 8 * 1024 * 1024;

/// From the terminal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Up {
    /// `theme` is the terminal's theme as a theme file (`Theme::to_toml`), read by the server
    /// as one: a colour it cannot read is refused with its key.
    Hello {
        cols: u16,
        rows: u16,
        theme: String,
        utc_offset_secs: i32,
    },
    Key {
        code: String,
        mods: u8,
    },
    Size {
        cols: u16,
        rows: u16,
    },
}

/// From the server.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Down {
    Full { cols: u16, rows: u16, hb: u64, runs: Vec<Run> },
    Diff { runs: Vec<Run> },
    Hb,
    Bye { why: String },
}

/// Consecutive cells of one style: row, column, text, fg, bg, modifier bits.
pub type Run = (u16, u16, RunText, String, String, u16);

/// One character per cell as a string, else one string per cell (`""` under a wide character).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum RunText {
    Chars(String),
    Cells(Vec<String>),
}

/// The server's goodbye, as a line.
pub fn bye(why: &str) -> String {
    serde_json::json!({ "t": "bye", "why": why }).to_string()
}

/// A key press as the wire carries it; `None` for releases and keys the board has no use for.
pub fn key_up(key: KeyEvent) -> Option<Up> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let code = match key.code {
        KeyCode::Char(c) => c.to_string(),
        KeyCode::F(n) => format!("F{n}"),
        KeyCode::Up => "Up".into(),
        KeyCode::Down => "Down".into(),
        KeyCode::Left => "Left".into(),
        KeyCode::Right => "Right".into(),
        KeyCode::Home => "Home".into(),
        KeyCode::End => "End".into(),
        KeyCode::PageUp => "PageUp".into(),
        KeyCode::PageDown => "PageDown".into(),
        KeyCode::Enter => "Enter".into(),
        KeyCode::Esc => "Esc".into(),
        KeyCode::Backspace => "Backspace".into(),
        KeyCode::Tab => "Tab".into(),
        KeyCode::BackTab => "BackTab".into(),
        KeyCode::Delete => "Delete".into(),
        _ => return None,
    };
    Some(Up::Key { code, mods: key.modifiers.bits() })
}

/// The key a wire key stands for; `None` for one this version does not know.
pub fn key_down(code: &str, mods: u8) -> Option<KeyEvent> {
    let mut chars = code.chars();
    let code = match (chars.next(), chars.next()) {
        (Some(c), None) => KeyCode::Char(c),
        _ => match code {
            "Up" => KeyCode::Up,
            "Down" => KeyCode::Down,
            "Left" => KeyCode::Left,
            "Right" => KeyCode::Right,
            "Home" => KeyCode::Home,
            "End" => KeyCode::End,
            "PageUp" => KeyCode::PageUp,
            "PageDown" => KeyCode::PageDown,
            "Enter" => KeyCode::Enter,
            "Esc" => KeyCode::Esc,
            "Backspace" => KeyCode::Backspace,
            "Tab" => KeyCode::Tab,
            "BackTab" => KeyCode::BackTab,
            "Delete" => KeyCode::Delete,
            f => KeyCode::F(f.strip_prefix('F')?.parse().ok()?),
        },
    };
    Some(KeyEvent::new(code, KeyModifiers::from_bits_truncate(mods)))
}

/// Applies a frame's runs to `buf`; cells outside it are left out (a frame for the old size
/// arriving after a resize).
pub fn apply(buf: &mut Buffer, runs: &[Run]) {
    let area = buf.area;
    for (y, x, text, fg, bg, mods) in runs {
        let (fg, bg) = (fg.parse().unwrap_or(Color::Reset), bg.parse().unwrap_or(Color::Reset));
        let modifier = Modifier::from_bits_truncate(*mods);
        let cells: Vec<String> = match text {
            RunText::Chars(s) => s.chars().map(String::from).collect(),
            RunText::Cells(v) => v.clone(),
        };
        for (i, sym) in cells.iter().enumerate() {
            let cx = usize::from(*x) + i;
            let Ok(cx) = u16::try_from(cx) else { break };
            if cx >= area.width || *y >= area.height {
                continue;
            }
            let cell = &mut buf[(area.x + cx, area.y + *y)];
            // A cell under a wide character is never printed; it keeps a plain space.
            cell.set_symbol(if sym.is_empty() { " " } else { sym });
            cell.fg = fg;
            cell.bg = bg;
            cell.modifier = modifier;
        }
    }
}

/// An empty frame of the given size.
pub fn blank(cols: u16, rows: u16) -> Buffer {
    Buffer::empty(Rect::new(0, 0, cols, rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_colour_ratatui_names_travels_and_comes_back() {
        let all = [
            Color::Reset,
            Color::Black,
            Color::LightRed,
            Color::DarkGray,
            Color::Gray,
            Color::White,
            Color::Rgb(28, 28, 28),
            Color::Indexed(236),
        ];
        for c in all {
            assert_eq!(c.to_string().parse::<Color>(), Ok(c), "{c}");
        }
    }

    #[test]
    fn keys_travel_with_their_modifiers_and_releases_stay_home() {
        for (code, mods) in [
            (KeyCode::Char('j'), KeyModifiers::NONE),
            (KeyCode::Char('R'), KeyModifiers::SHIFT),
            (KeyCode::Char('c'), KeyModifiers::CONTROL),
            (KeyCode::Enter, KeyModifiers::NONE),
            (KeyCode::F(5), KeyModifiers::NONE),
            (KeyCode::PageDown, KeyModifiers::ALT),
        ] {
            let key = KeyEvent::new(code, mods);
            let Some(Up::Key { code: c, mods: m }) = key_up(key) else { panic!("{key:?} is sent") };
            assert_eq!(key_down(&c, m), Some(key));
        }
        let mut release = KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE);
        release.kind = KeyEventKind::Release;
        assert_eq!(key_up(release), None);
        assert_eq!(key_down("Hyper", 0), None);
        assert_eq!(key_down("Fx", 0), None);
    }

    #[test]
    fn runs_land_in_their_cells_and_what_falls_outside_is_left_out() {
        let mut buf = blank(4, 2);
        let runs: Vec<Run> = serde_json::from_str(
            r##"[[0,0,"ab","Red","#1C1C1C",1],[1,2,["界",""],"Reset","236",0],[1,3,"xyz","Reset","Reset",0]]"##,
        )
        .unwrap();
        apply(&mut buf, &runs);
        assert_eq!(buf[(0, 0)].symbol(), "a");
        assert_eq!(buf[(1, 0)].fg, Color::Red);
        assert_eq!(buf[(1, 0)].bg, Color::Rgb(28, 28, 28));
        assert_eq!(buf[(1, 0)].modifier, Modifier::BOLD);
        assert_eq!(buf[(2, 1)].symbol(), "界");
        assert_eq!(buf[(2, 1)].bg, Color::Indexed(236));
        assert_eq!(buf[(3, 1)].symbol(), "x", "the later run overwrote the covered cell");
    }
}
