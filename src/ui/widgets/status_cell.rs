//! A status as symbol and word in its style: `✖ CRIT`.

use crate::state::Status;
use crate::ui::{symbols, theme::Theme};
use ratatui::text::Span;

pub fn span(status: Status, theme: &Theme) -> Span<'static> {
    Span::styled(format!("{} {}", symbols::status(status), status.word()), theme.status(status))
}

pub fn symbol(status: Status, theme: &Theme) -> Span<'static> {
    Span::styled(symbols::status(status), theme.status(status))
}
