//! Text cut to the width of a table column, ending in `…` when something was cut: a reason too
//! long for its column says that it goes on (`30h old > 26h allo…`) instead of stopping at the
//! border mid-word (`30h old > 26h allowe`), which reads as if that were all.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthChar;

/// The widths a `Table` with one column of spacing and no selection symbol (every table of the
/// board) gives its columns, `inner` being the table's width inside its borders.
pub fn columns(widths: &[Constraint], inner: u16) -> Vec<u16> {
    let columns = Layout::horizontal(widths.iter().copied()).spacing(1).split(Rect::new(0, 0, inner, 1));
    columns.iter().map(|c| c.width).collect()
}

/// The width of the last of [`columns`].
pub fn last_column(widths: &[Constraint], inner: u16) -> u16 {
    columns(widths, inner).last().copied().unwrap_or(0)
}

/// The width of a name column for names up to `longest` characters in a table `row_width`
/// wide: what the longest needs, at least 7 and at most 32, and never more than a quarter of
/// the row, so the reason beside it keeps its room (a longer name is cut with `…`).
pub fn name_column(longest: usize, row_width: u16) -> u16 {
    let cap = (row_width / 4).clamp(7, 32);
    u16::try_from(longest).unwrap_or(u16::MAX).clamp(7, cap)
}

/// `line` in at most `width` columns: as it is when it fits, else cut and ended with a `…` in
/// the style of the span it cut.
pub fn line(line: Line<'_>, width: u16) -> Line<'_> {
    let width = usize::from(width);
    if line.width() <= width {
        return line;
    }
    let Line { style, alignment, spans } = line;
    let mut kept = Vec::new();
    if width > 0 {
        // One column is the ellipsis'.
        let mut room = width - 1;
        for span in spans {
            let span_width = span.width();
            if span_width <= room {
                room -= span_width;
                kept.push(span);
                continue;
            }
            let mut text = String::new();
            for c in span.content.chars() {
                let w = c.width().unwrap_or(0);
                if w > room {
                    break;
                }
                room -= w;
                text.push(c);
            }
            text.truncate(text.trim_end().len());
            text.push('…');
            kept.push(Span::styled(text, span.style));
            break;
        }
    }
    let mut cut = Line::from(kept).style(style);
    cut.alignment = alignment;
    cut
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::style::{Color, Style};

    fn text(line: &Line) -> String {
        line.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn a_line_that_fits_is_left_as_it_is() {
        let fits = Line::from(vec![Span::raw("HTTP 503 "), Span::raw("status=fail")]);
        assert_eq!(line(fits.clone(), 20), fits);
        assert_eq!(line(fits.clone(), 40), fits);
    }

    #[test]
    fn a_longer_line_ends_in_an_ellipsis_within_the_width() {
        let red = Style::default().fg(Color::Red);
        let long = Line::from(vec![Span::raw("muted "), Span::styled("30h old > 26h allowed", red)]);
        let cut = line(long, 24);
        assert_eq!(text(&cut), "muted 30h old > 26h all…");
        assert_eq!(cut.width(), 24);
        // The ellipsis takes the style of the words it stands for.
        assert_eq!(cut.spans.last().map(|s| s.style), Some(red));
    }

    #[test]
    fn no_space_is_left_before_the_ellipsis() {
        assert_eq!(text(&line(Line::raw("errors 10% ≥ 5.0%"), 8)), "errors…");
    }

    #[test]
    fn wide_characters_are_not_split_and_nothing_is_drawn_in_no_room() {
        let cut = line(Line::raw("名前が長い"), 6);
        assert_eq!(text(&cut), "名前…");
        assert!(cut.width() <= 6);
        assert_eq!(line(Line::raw("anything"), 0).width(), 0);
        assert_eq!(text(&line(Line::raw("anything"), 1)), "…");
    }

    #[test]
    fn a_name_column_fits_the_longest_name_within_a_quarter_of_the_row() {
        assert_eq!(name_column(15, 160), 15);
        assert_eq!(name_column(3, 160), 7);
        assert_eq!(name_column(41, 160), 32);
        assert_eq!(name_column(41, 80), 20);
        assert_eq!(name_column(41, 20), 7);
    }

    #[test]
    fn the_last_column_gets_what_a_table_gives_it() {
        let widths = [Constraint::Length(9), Constraint::Length(10), Constraint::Fill(1)];
        assert_eq!(last_column(&widths, 78), 78 - 9 - 10 - 2);
        // No room left: nothing.
        assert_eq!(last_column(&widths, 15), 0);
    }

    #[test]
    fn a_cut_reason_ends_at_the_tables_border_with_its_ellipsis() {
        use ratatui::buffer::Buffer;
        use ratatui::widgets::{Block, Row, Table, Widget};
        let widths = [Constraint::Length(6), Constraint::Min(4), Constraint::Fill(1)];
        for width in [30u16, 41, 80] {
            let area = Rect::new(0, 0, width, 3);
            let reason = line(
                Line::raw("backup 30h old > 26h allowed, last run failed: disk full"),
                last_column(&widths, width - 2),
            );
            let table = Table::new([Row::new(vec![Line::raw("CRIT"), Line::raw("postgres"), reason])], widths)
                .block(Block::bordered());
            let mut buf = Buffer::empty(area);
            table.render(area, &mut buf);
            let row: String = (0..width).map(|x| buf[(x, 1)].symbol().to_string()).collect();
            assert!(row.ends_with("…│"), "{width} columns: {row:?}");
        }
    }
}
