//! The event loop: source events and keys in, state and view changes, a redraw only when the frame differs.

use crate::actions::ActionSpecs;
use crate::actions::audit::{AuditLog, Operator};
use crate::collector::Collector;
use crate::config::Loaded;
use crate::config::schema::Page;
use crate::history::DeployHistory;
use crate::input::Input;
use crate::keymap;
use crate::terminal::{Tui, shutdown_signal};
use crate::ui::view::{Action, Outcome, View, WallPages};
use crate::ui::{self, Look, Scene};
use crossterm::event::Event as TermEvent;
use std::time::{Duration, Instant, SystemTime};
/// Time-driven changes (ages, staleness, the clock) are looked at this often, and new data is
/// drawn this often: once a second is as fast as a person reads a changing number; faster only
/// writes more bytes (every check still lands in the state as it comes). Keys redraw at the full
/// frame rate.
const TICK: Duration = Duration::from_secs(1);

static PROCESS_START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();

/// Records when the process started, for the time-to-first-frame log line. Call first thing in `main`.
pub fn mark_process_start() {
    PROCESS_START.get_or_init(Instant::now);
}

/// How the live board looks and behaves, after config, flags and environment.
#[derive(Debug, Clone)]
pub struct BoardOptions {
    pub look: Look,
    /// Wall mode: the pages and how long each shows.
    pub wall: Option<(Vec<Page>, Duration)>,
    /// Configured actions (none when read-only) and where their audit records go.
    pub actions: ActionSpecs,
    pub audit: AuditLog,
    /// Where deploys are kept across restarts.
    pub history: DeployHistory,
    pub max_fps: u32,
    pub mouse: bool,
    /// The config's files, followed while the board runs (none for the demo).
    pub config_files: Option<crate::config::Sources>,
    /// Whether the `[[notify]]` destinations are told (not when the team's server, which tells
    /// them, is only out of this board's reach).
    pub notify: bool,
}

/// Runs the interactive board until the person quits or a signal arrives.
pub async fn run(loaded: &std::sync::Arc<Loaded>, opts: &BoardOptions) -> anyhow::Result<()> {
    let mut collector = Collector::start(loaded, opts.history.clone());
    if !opts.notify {
        collector.notifier = crate::notify::Notifier::silent(loaded);
    }
    collector.watch_config(opts.config_files.clone().unwrap_or_default());
    let operator = Operator::from_env();
    let mut alerts = crate::notify::terminal::Alerts::new(&loaded.config.board, &|k| std::env::var(k).ok());

    let mut tui = Tui::enter(opts.mouse)?;
    let mut input = Input::start()?;
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let frame_every = Duration::from_secs(1) / opts.max_fps.max(1);

    let mut view = View {
        wall: opts.wall.as_ref().map(|(pages, _)| WallPages { pages: pages.clone(), current: 0 }),
        actions: opts.actions.clone(),
        read_only: opts.look.read_only,
        ..View::default()
    };
    let mut pages = tokio::time::interval(opts.wall.as_ref().map_or(Duration::from_secs(3600), |(_, every)| *every));
    pages.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    pages.tick().await;
    let mut first_frame = Some(*PROCESS_START.get_or_init(Instant::now));
    let mut last_draw = Instant::now() - frame_every;
    // When the next frame for a key, a resize or a page turn is due (the first frame at once); new
    // data is drawn with the tick.
    let mut due = Some(Instant::now());
    let schedule = |due: &mut Option<Instant>, at: Instant| *due = Some(due.map_or(at, |d| d.min(at)));
    // A frame for the tick: drawn at the tick's instant, from the verdicts it brought there.
    let mut ticked: Option<SystemTime> = None;
    loop {
        if ticked.is_some() || due.is_some_and(|d| Instant::now() >= d) {
            let now = ticked.take().unwrap_or_else(SystemTime::now);
            collector.refresh_verdicts(now);
            let scene = Scene::with_verdicts(&collector.state, &view, &opts.look, now, collector.verdicts());
            // Only changed cells are written; an unchanged frame writes nothing at all.
            tui.terminal.draw(|f| ui::render(f, &scene))?;
            if let Some(start) = first_frame.take() {
                tracing::info!(ms = start.elapsed().as_secs_f64() * 1000.0, "first frame drawn");
            }
            due = None;
            last_draw = Instant::now();
        }
        let wake = due.map(tokio::time::Instant::from_std);
        tokio::select! {
            // New data waits for the next tick's frame.
            () = collector.next_batch() => {}
            Some(term) = input.next() => match term {
                Ok(TermEvent::Key(key)) => {
                    if let Some(action) = keymap::action_for(key, &view) {
                        match view.handle(action, &collector.state, SystemTime::now()) {
                            Outcome::Quit => break,
                            Outcome::Run(request) => collector.start_action(*request, &opts.audit, &operator),
                            Outcome::Mark(marking) => {
                                view.flash = Some(collector.mark(&marking, &opts.audit, &operator, opts.look.utc_offset_secs));
                            }
                            Outcome::ReloadConfig => {
                                view.flash = Some(if collector.reload_config() {
                                    "reloading the config…".into()
                                } else {
                                    "no config file to reload".into()
                                });
                            }
                            Outcome::Nothing => {}
                        }
                        schedule(&mut due, last_draw + frame_every);
                    }
                }
                Ok(TermEvent::Resize(cols, rows)) => {
                    tui.terminal.backend_mut().resized(ratatui::layout::Size::new(cols, rows));
                    schedule(&mut due, last_draw + frame_every);
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(error = %e, "reading terminal input failed");
                    break;
                }
            },
            _ = tick.tick() => {
                let now = SystemTime::now();
                collector.tick(now);
                let silences = &collector.state.silences;
                let ring = alerts.due(&collector.notifier.tracker, &|item| silences.get(item).is_some(), now);
                if !ring.is_empty() {
                    use std::io::Write;
                    let mut out = std::io::stdout().lock();
                    if let Err(e) = out.write_all(ring.as_bytes()).and_then(|()| out.flush()) {
                        tracing::warn!(error = %e, "terminal notification not written");
                    }
                }
                ticked = Some(now);
            }
            _ = pages.tick(), if view.wall.is_some() => {
                let _ = view.handle(Action::NextPage, &collector.state, SystemTime::now());
                schedule(&mut due, last_draw + frame_every);
            }
            () = async { tokio::time::sleep_until(wake.unwrap_or_else(tokio::time::Instant::now)).await }, if wake.is_some() => {}
            () = &mut shutdown => break,
        }
    }
    Ok(())
}
