//! The event loop: source events and keys in, state and view changes, a redraw only when the frame differs.

use crate::config::Loaded;
use crate::keymap;
use crate::sources;
use crate::state::{Event, State};
use crate::terminal::{Tui, shutdown_signal};
use crate::ui::{self, Scene, theme::Theme, view::View};
use crossterm::event::{Event as TermEvent, EventStream};
use futures_util::StreamExt;
use ratatui::buffer::Buffer;
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::mpsc;

/// Events waiting for the loop; sources wait when it is full.
const EVENT_QUEUE: usize = 4096;
/// Time-driven changes (ages, staleness, the clock) are looked at this often.
const TICK: Duration = Duration::from_secs(1);

/// How the live board looks and behaves, after config, flags and environment.
#[derive(Debug, Clone)]
pub struct BoardOptions {
    pub title: String,
    pub theme: Theme,
    pub read_only: bool,
    pub max_fps: u32,
    pub mouse: bool,
    pub utc_offset_secs: i32,
}

/// Runs the interactive board until the person quits or a signal arrives.
pub async fn run(loaded: &Loaded, opts: &BoardOptions) -> anyhow::Result<()> {
    let polling = &loaded.config.polling;
    let mut state = State::new(&loaded.fleet, polling.history, polling.stale_after_intervals);
    let (tx, mut rx) = mpsc::channel::<Event>(EVENT_QUEUE);
    let _pollers = sources::spawn_health(&loaded.fleet, polling, sources::http_client(), tx);

    let mut tui = Tui::enter(opts.mouse)?;
    let mut input = EventStream::new();
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let frame_every = Duration::from_secs(1) / opts.max_fps.max(1);

    let mut view = View::default();
    let mut gate = RedrawGate::default();
    let mut dirty = true;
    let mut last_draw = Instant::now() - frame_every;
    loop {
        if dirty && last_draw.elapsed() >= frame_every {
            let now = SystemTime::now();
            let scene = Scene {
                state: &state,
                view: &view,
                theme: &opts.theme,
                now,
                title: &opts.title,
                utc_offset_secs: opts.utc_offset_secs,
                read_only: opts.read_only,
            };
            gate.draw(&mut tui, &scene)?;
            dirty = false;
            last_draw = Instant::now();
        }
        let until_frame = frame_every.saturating_sub(last_draw.elapsed());
        tokio::select! {
            Some(event) = rx.recv() => {
                state.apply(event);
                while let Ok(more) = rx.try_recv() {
                    state.apply(more);
                }
                dirty = true;
            }
            Some(term) = input.next() => match term {
                Ok(TermEvent::Key(key)) => {
                    if let Some(action) = keymap::action_for(key, &view) {
                        if view.handle(action, &state, SystemTime::now()) {
                            break;
                        }
                        dirty = true;
                    }
                }
                Ok(TermEvent::Resize(..)) => {
                    gate.forget();
                    dirty = true;
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(error = %e, "reading terminal input failed");
                    break;
                }
            },
            _ = tick.tick() => dirty = true,
            () = tokio::time::sleep(until_frame), if dirty => {}
            () = &mut shutdown => break,
        }
    }
    Ok(())
}

/// Draws only when the new frame differs from the last one drawn, so a steady board writes nothing.
#[derive(Default)]
struct RedrawGate {
    last: Option<Buffer>,
}

impl RedrawGate {
    fn draw(&mut self, tui: &mut Tui, scene: &Scene) -> anyhow::Result<()> {
        let size = tui.terminal.size()?;
        let frame = ui::render_to_buffer(scene, size.width, size.height);
        if self.last.as_ref() == Some(&frame) {
            return Ok(());
        }
        tui.terminal.draw(|f| ui::render(f, scene))?;
        self.last = Some(frame);
        Ok(())
    }

    /// After a resize the terminal's contents are unknown: draw the next frame whatever it is.
    fn forget(&mut self) {
        self.last = None;
    }
}
