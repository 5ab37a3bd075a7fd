//! Entering and leaving the terminal (raw mode, alternate screen, a restore that always runs),
//! and a backend that writes nothing when a frame brings nothing new.

use ratatui::Terminal;
use ratatui::backend::{Backend, ClearType, CrosstermBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};
use std::io::{IsTerminal, Stdout};
use std::time::{Duration, Instant};

/// Wraps a backend so that an unchanged frame costs zero bytes: no cursor hide repeated,
/// no flush of an empty write. It never asks the terminal where its cursor is: a fullscreen
/// board does not need to know, and a terminal that never answers (a serial console, `script`
/// with no input) would otherwise stop the board before its first frame.
///
/// It also remembers the terminal's size between frames: asking costs opening the tty and an
/// ioctl each time, and the size changes only with a resize, which the board hears of as an
/// event and passes on through [`QuietBackend::resized`]. It asks again after
/// [`SIZE_KEPT_FOR`], so a resize that came before the board listened for them is caught too.
pub struct QuietBackend<B: Backend> {
    inner: B,
    cursor_hidden: bool,
    pending: bool,
    cursor: Position,
    size: std::cell::Cell<Option<(Size, Instant)>>,
}

/// How long a known terminal size is taken without asking the terminal again.
pub const SIZE_KEPT_FOR: Duration = Duration::from_secs(10);

impl<B: Backend> QuietBackend<B> {
    pub fn new(inner: B) -> Self {
        Self { inner, cursor_hidden: false, pending: false, cursor: Position::ORIGIN, size: Default::default() }
    }

    pub fn inner(&self) -> &B {
        &self.inner
    }

    /// The terminal now has this size: the next frame is drawn at it.
    pub fn resized(&mut self, size: Size) {
        self.size.set(Some((size, Instant::now())));
    }
}

impl<B: Backend> Backend for QuietBackend<B> {
    type Error = B::Error;

    fn draw<'a, I>(&mut self, content: I) -> Result<(), Self::Error>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        let mut content = content.peekable();
        if content.peek().is_none() {
            return Ok(());
        }
        self.pending = true;
        self.inner.draw(content)
    }

    fn hide_cursor(&mut self) -> Result<(), Self::Error> {
        if self.cursor_hidden {
            return Ok(());
        }
        self.cursor_hidden = true;
        self.pending = true;
        self.inner.hide_cursor()
    }

    fn show_cursor(&mut self) -> Result<(), Self::Error> {
        self.cursor_hidden = false;
        self.pending = true;
        self.inner.show_cursor()
    }

    fn get_cursor_position(&mut self) -> Result<Position, Self::Error> {
        Ok(self.cursor)
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> Result<(), Self::Error> {
        self.pending = true;
        self.cursor = position.into();
        self.inner.set_cursor_position(self.cursor)
    }

    fn clear(&mut self) -> Result<(), Self::Error> {
        self.pending = true;
        self.inner.clear()
    }

    fn clear_region(&mut self, clear_type: ClearType) -> Result<(), Self::Error> {
        self.pending = true;
        self.inner.clear_region(clear_type)
    }

    fn size(&self) -> Result<Size, Self::Error> {
        if let Some((size, at)) = self.size.get()
            && at.elapsed() < SIZE_KEPT_FOR
        {
            return Ok(size);
        }
        let size = self.inner.size()?;
        self.size.set(Some((size, Instant::now())));
        Ok(size)
    }

    fn window_size(&mut self) -> Result<WindowSize, Self::Error> {
        self.inner.window_size()
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        if !self.pending {
            return Ok(());
        }
        self.pending = false;
        self.inner.flush()
    }
}

pub type BoardTerminal = Terminal<QuietBackend<CrosstermBackend<Stdout>>>;

/// The live terminal. Dropping it restores the terminal, also when unwinding from a panic.
pub struct Tui {
    pub terminal: BoardTerminal,
    mouse: bool,
}

impl Tui {
    /// Raw mode and the alternate screen; mouse capture only when asked for.
    /// A panic restores the terminal before its message is printed.
    pub fn enter(mouse: bool) -> anyhow::Result<Self> {
        if !std::io::stdout().is_terminal() {
            anyhow::bail!("standard output is not a terminal; use `opsboard check` or `opsboard snapshot` instead");
        }
        install_panic_restore();
        crossterm::terminal::enable_raw_mode()?;
        let mut stdout = std::io::stdout();
        crossterm::execute!(stdout, crossterm::terminal::EnterAlternateScreen)?;
        if mouse {
            crossterm::execute!(stdout, crossterm::event::EnableMouseCapture)?;
        }
        let mut terminal = Terminal::new(QuietBackend::new(CrosstermBackend::new(stdout)))?;
        terminal.clear()?;
        Ok(Self { terminal, mouse })
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        if self.mouse {
            let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
        }
        restore();
    }
}

/// Leaves the alternate screen, shows the cursor, and ends raw mode. Safe to call twice.
pub fn restore() {
    let _ = crossterm::execute!(
        std::io::stdout(),
        crossterm::event::DisableMouseCapture,
        crossterm::terminal::LeaveAlternateScreen,
        crossterm::cursor::Show
    );
    let _ = crossterm::terminal::disable_raw_mode();
}

fn install_panic_restore() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}

/// Resolves on SIGTERM or SIGINT: the board then leaves cleanly. SIGHUP reloads the config
/// (`sources::reload`); a terminal that really hung up fails the next frame's write (within the
/// second's tick, the clock changes every frame), which ends the board as cleanly.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM"),
        _ = int.recv() => tracing::info!("SIGINT"),
    }
}

/// The local clock's offset from UTC, in seconds.
pub fn local_utc_offset_secs() -> i32 {
    chrono::Local::now().offset().local_minus_utc()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;
    use ratatui::widgets::Paragraph;
    use ratatui::{TerminalOptions, Viewport};

    /// A writer whose bytes the test can count while the terminal owns it.
    #[derive(Clone, Default)]
    struct Sink(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    type TestTerminal = (Terminal<QuietBackend<CrosstermBackend<Sink>>>, Sink);

    fn terminal() -> TestTerminal {
        let sink = Sink::default();
        let backend = QuietBackend::new(CrosstermBackend::new(sink.clone()));
        let options = TerminalOptions { viewport: Viewport::Fixed(Rect::new(0, 0, 40, 5)) };
        (Terminal::with_options(backend, options).unwrap(), sink)
    }

    fn written(t: &TestTerminal) -> usize {
        t.1.0.borrow().len()
    }

    #[test]
    fn unchanged_frame_writes_zero_bytes() {
        let mut t = terminal();
        t.0.draw(|f| f.render_widget(Paragraph::new("checkout ✔ OK"), f.area())).unwrap();
        let after_first = written(&t);
        assert!(after_first > 0);
        t.0.draw(|f| f.render_widget(Paragraph::new("checkout ✔ OK"), f.area())).unwrap();
        assert_eq!(written(&t), after_first, "a repeated frame wrote bytes");
    }

    #[test]
    fn one_changed_cell_writes_a_few_bytes() {
        let mut t = terminal();
        t.0.draw(|f| f.render_widget(Paragraph::new("updated 1s ago"), f.area())).unwrap();
        let before = written(&t);
        t.0.draw(|f| f.render_widget(Paragraph::new("updated 2s ago"), f.area())).unwrap();
        let delta = written(&t) - before;
        assert!((1..40).contains(&delta), "{delta} bytes for one cell");
    }

    #[test]
    fn the_size_comes_from_resize_events_and_is_asked_again_once_old() {
        use ratatui::backend::TestBackend;
        let mut backend = QuietBackend::new(TestBackend::new(80, 24));
        assert_eq!(backend.size().unwrap(), Size::new(80, 24), "the first size is asked");
        // The terminal changes without an event reaching the board: the kept size stands ...
        backend.inner.resize(100, 30);
        assert_eq!(backend.size().unwrap(), Size::new(80, 24));
        // ... until an event says so,
        backend.resized(Size::new(120, 40));
        assert_eq!(backend.size().unwrap(), Size::new(120, 40));
        // or until the kept answer is older than SIZE_KEPT_FOR.
        let old = Instant::now().checked_sub(SIZE_KEPT_FOR).expect("a clock past its start");
        backend.size.set(Some((Size::new(120, 40), old)));
        assert_eq!(backend.size().unwrap(), Size::new(100, 30), "an old size is asked again");
    }
}
