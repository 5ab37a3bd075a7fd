//! Symbols that carry state without colour.

use crate::state::Status;

/// One cell that says the state: readable in monochrome, distinct in shape.
pub fn status(s: Status) -> &'static str {
    match s {
        Status::Ok => "✔",
        Status::Warn => "▲",
        Status::Crit => "✖",
        Status::Unknown => "?",
        Status::Stale => "◌",
    }
}

/// Eight levels for inline sparklines.
pub const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
