//! Keys, mouse and resizes from the terminal, read on a thread of their own and handed to the
//! event loop through a channel.
//!
//! crossterm's `EventStream` keeps its own thread waiting in the terminal reader with the
//! reader's lock held, and each poll of the stream tries that lock for no time at all: on every
//! wake-up of the event loop (every batch of checks), a lock spun on with `sched_yield` until it
//! gives up (strace, 1,000 services every 5 s: 966 `sched_yield` calls per 3,935 checks). Here
//! one thread alone reads the terminal, and the loop only looks at a channel, which costs
//! nothing when no key came.

use crossterm::event::Event;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;

/// How long the reading thread waits for input before it looks whether the board still wants
/// it: after the board stops, the thread lets go of the terminal within this time.
const LOOK_EVERY: Duration = Duration::from_millis(250);

/// Events read ahead of the loop; a long paste waits in the terminal beyond this.
const QUEUE: usize = 64;

/// The terminal's events, as they come.
pub struct Input {
    events: mpsc::Receiver<std::io::Result<Event>>,
    stop: Arc<AtomicBool>,
}

impl Input {
    /// Starts the reading thread.
    pub fn start() -> std::io::Result<Self> {
        let (tx, events) = mpsc::channel(QUEUE);
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::Builder::new().name("terminal-input".into()).spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                let read = match crossterm::event::poll(LOOK_EVERY) {
                    Ok(false) => continue,
                    // A key pressed after the board stopped is left for whoever reads next.
                    Ok(true) if stopped.load(Ordering::Relaxed) => return,
                    Ok(true) => crossterm::event::read(),
                    Err(e) => Err(e),
                };
                let failed = read.is_err();
                // A failed read is handed on once, and ends the thread.
                if tx.blocking_send(read).is_err() || failed {
                    return;
                }
            }
        })?;
        Ok(Self { events, stop })
    }

    /// The next event; `None` once the reading thread has ended.
    pub async fn next(&mut self) -> Option<std::io::Result<Event>> {
        self.events.recv().await
    }
}

impl Drop for Input {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
