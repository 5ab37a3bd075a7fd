//! Entering and leaving the terminal: raw mode, alternate screen, and a restore that always runs.

use ratatui::DefaultTerminal;
use std::io::IsTerminal;

/// The live terminal. Dropping it restores the terminal, also when unwinding from a panic.
pub struct Tui {
    pub terminal: DefaultTerminal,
    mouse: bool,
}

impl Tui {
    /// Raw mode and the alternate screen; mouse capture only when asked for.
    /// A panic restores the terminal before its message is printed.
    pub fn enter(mouse: bool) -> anyhow::Result<Self> {
        if !std::io::stdout().is_terminal() {
            anyhow::bail!("standard output is not a terminal; use `opsboard check` or `opsboard snapshot` instead");
        }
        let terminal = ratatui::try_init()?;
        if mouse {
            crossterm::execute!(std::io::stdout(), crossterm::event::EnableMouseCapture)?;
        }
        Ok(Self { terminal, mouse })
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        if self.mouse {
            let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
        }
        ratatui::restore();
    }
}

/// Resolves on SIGTERM, SIGINT or SIGHUP: the board then leaves cleanly.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int), Ok(mut hup)) =
        (signal(SignalKind::terminate()), signal(SignalKind::interrupt()), signal(SignalKind::hangup()))
    else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM"),
        _ = int.recv() => tracing::info!("SIGINT"),
        _ = hup.recv() => tracing::info!("SIGHUP"),
    }
}

/// The local clock's offset from UTC, in seconds.
pub fn local_utc_offset_secs() -> i32 {
    chrono::Local::now().offset().local_minus_utc()
}
