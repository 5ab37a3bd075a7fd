//! The alarm an attached terminal shows over its last frame when its server goes quiet: the
//! same words as the web page's ("board offline for 12s", what it shows and that it reconnects),
//! across the middle of the screen so nobody reads the old frame as live.

use super::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget, Wrap};

/// Draws the alarm: `title` in bold, then each of `lines`, in a box centred in `area`.
pub fn render(buf: &mut Buffer, area: Rect, theme: &Theme, title: &str, lines: &[String]) {
    let style = if theme.monochrome {
        Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
    } else {
        Style::new().fg(theme.bg).bg(theme.crit).add_modifier(Modifier::BOLD)
    };
    let widest = std::iter::once(title.chars().count()).chain(lines.iter().map(|l| l.chars().count())).max();
    let width = (widest.unwrap_or(0) as u16 + 4).min(area.width);
    // Each line as many rows as it wraps to inside the borders.
    let inner = usize::from(width.saturating_sub(2).max(1));
    let rows: usize = std::iter::once(title)
        .chain(lines.iter().map(String::as_str))
        .map(|l| l.chars().count().div_ceil(inner).max(1))
        .sum();
    let height = (rows as u16 + 2).min(area.height);
    let boxed = Rect { x: area.x + (area.width - width) / 2, y: area.y + (area.height - height) / 2, width, height };
    let mut text = vec![Line::raw(title.to_string())];
    text.extend(lines.iter().map(|l| Line::styled(l.clone(), style.remove_modifier(Modifier::BOLD))));
    Clear.render(boxed, buf);
    let block = Block::new().borders(Borders::ALL).style(style);
    Paragraph::new(text).wrap(Wrap { trim: true }).centered().block(block).style(style).render(boxed, buf);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(buf: &Buffer) -> String {
        crate::snapshot::text(buf)
    }

    #[test]
    fn the_alarm_sits_in_the_middle_and_fits_a_tiny_terminal() {
        let theme = Theme::default();
        let mut buf = Buffer::empty(Rect::new(0, 0, 80, 24));
        let area = buf.area;
        render(&mut buf, area, &theme, "board offline for 12s", &["reconnecting".into()]);
        let t = text(&buf);
        let row = t.lines().position(|l| l.contains("board offline for 12s")).unwrap();
        assert!((9..=12).contains(&row), "row {row}:\n{t}");
        assert!(t.contains("reconnecting"));
        assert_eq!(buf[(40, row as u16)].bg, theme.crit);
        let mut tiny = Buffer::empty(Rect::new(0, 0, 20, 5));
        let area = tiny.area;
        render(&mut tiny, area, &theme, "board offline for 12s", &["reconnecting".into()]);
        assert!(text(&tiny).contains("board"), "{}", text(&tiny));
    }
}
