//! `opsboard attach URL`: the interactive board in this terminal, fed by a running `serve`.
//!
//! ```text
//!  keys ─▶ Link ─▶ serve: this terminal's own View ─▶ its frame, drawn there with this theme
//!  frames ◀─ Link ◀─┘   kept here as a Buffer ─▶ ratatui writes only the cells that changed
//!  quiet for two heartbeats, or gone ─▶ the alarm over the last frame, reconnecting by itself
//! ```
//!
//! The server polls the fleet once for every screen; this end only draws and sends keys, so it
//! needs no config of its own (its theme and colours are its own).

pub mod link;
pub mod wire;

use crate::input::Input;
use crate::terminal::{Tui, shutdown_signal};
use crate::ui::theme::Theme;
use crossterm::event::{Event as TermEvent, KeyCode, KeyModifiers};
use link::{Link, Target};
use ratatui::buffer::Buffer;
use std::time::{Duration, Instant, SystemTime};
use wire::{Down, Up};

/// How often a lost server is tried again.
const RETRY: Duration = Duration::from_secs(2);
/// The alarm's clock ticks this often.
const TICK: Duration = Duration::from_secs(1);
/// Until the server says its own.
const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct AttachOptions {
    pub url: String,
    pub token: Option<String>,
    /// An operator's token: with it, this terminal may run the server's actions and silences.
    pub operator_token: Option<String>,
    pub theme: Theme,
    pub utc_offset_secs: i32,
    pub max_fps: u32,
    /// The CA an `https://` server's certificate is checked against.
    pub ca_file: Option<std::path::PathBuf>,
}

impl AttachOptions {
    fn target(&self) -> Result<Target, String> {
        Target::parse(&self.url).map(|t| Target { ca_file: self.ca_file.clone(), ..t })
    }
}

/// What this terminal knows of the server: its last frame and when it last heard from it.
struct Screen {
    frame: Buffer,
    heartbeat: Duration,
    heard: Instant,
    frame_at: Option<SystemTime>,
    /// Why the last connection ended or the last try failed.
    why: Option<String>,
}

impl Screen {
    fn take(&mut self, msg: Down) {
        self.heard = Instant::now();
        match msg {
            Down::Full { cols, rows, hb, runs } => {
                self.frame = wire::blank(cols, rows);
                wire::apply(&mut self.frame, &runs);
                self.heartbeat = Duration::from_millis(hb.max(100));
                self.frame_at = Some(SystemTime::now());
            }
            Down::Diff { runs } => {
                wire::apply(&mut self.frame, &runs);
                self.frame_at = Some(SystemTime::now());
            }
            Down::Hb | Down::Bye { .. } => {}
        }
    }

    /// Silent for two heartbeats: the frame cannot be trusted.
    fn quiet(&self) -> bool {
        self.heard.elapsed() > 2 * self.heartbeat
    }

    /// The alarm's words when the frame cannot be trusted, at `now`.
    fn alarm(&self, url: &str, offset_secs: i32, connected: bool) -> Option<(String, Vec<String>)> {
        if connected && !self.quiet() {
            return None;
        }
        let title = format!("board offline for {}", crate::format::age(self.heard.elapsed()));
        let mut lines = vec![match self.frame_at {
            Some(at) => format!("showing the last frame, from {} — reconnecting to {url}", clock(at, offset_secs)),
            None => format!("waiting for the board's server at {url}"),
        }];
        lines.extend(self.why.clone());
        Some((title, lines))
    }
}

/// `HH:MM:SS` at the terminal's offset from UTC.
fn clock(at: SystemTime, offset_secs: i32) -> String {
    let secs = at.duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs() as i64;
    let local = (secs + i64::from(offset_secs)).rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}", local / 3600, local / 60 % 60, local % 60)
}

/// Copies the server's frame into the terminal's, and the alarm over it when there is one.
fn paint(out: &mut Buffer, frame: &Buffer, alarm: Option<&(String, Vec<String>)>, theme: &Theme) {
    let area = out.area.intersection(frame.area);
    for y in area.top()..area.bottom() {
        for x in area.left()..area.right() {
            out[(x, y)] = frame[(x, y)].clone();
        }
    }
    if let Some((title, lines)) = alarm {
        crate::ui::offline::render(out, out.area, theme, title, lines);
    }
}

fn hello(opts: &AttachOptions, (cols, rows): (u16, u16)) -> Up {
    Up::Hello { cols, rows, theme: opts.theme.to_toml(), utc_offset_secs: opts.utc_offset_secs }
}

/// The first connection, before the terminal is taken over: a server that cannot be reached or
/// refuses is an error in words.
pub async fn connect(opts: &AttachOptions) -> Result<Link, String> {
    let target = opts.target()?;
    let size = crossterm::terminal::size().unwrap_or((80, 24));
    Link::open(&target, opts.token.as_deref(), opts.operator_token.as_deref(), &hello(opts, size)).await
}

/// Attaches: [`connect`], then [`run_on`].
pub async fn run(opts: &AttachOptions) -> anyhow::Result<()> {
    let link = connect(opts).await.map_err(anyhow::Error::msg)?;
    run_on(link, opts).await
}

/// The board on `link`, until the person quits. The server may come and go: the board says so
/// and reconnects by itself.
pub async fn run_on(link: Link, opts: &AttachOptions) -> anyhow::Result<()> {
    let target = opts.target().map_err(anyhow::Error::msg)?;
    let (cols, rows) = crossterm::terminal::size().unwrap_or((80, 24));
    let mut link = Some(link);
    tracing::info!(url = %target.url, "attached");

    let mut tui = Tui::enter(false)?;
    let mut input = Input::start()?;
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let frame_every = Duration::from_secs(1) / opts.max_fps.max(1);
    let mut screen = Screen {
        frame: wire::blank(1, 1),
        heartbeat: DEFAULT_HEARTBEAT,
        heard: Instant::now(),
        frame_at: None,
        why: None,
    };
    let mut size = (cols, rows);
    let mut connecting: Option<tokio::task::JoinHandle<Result<Link, String>>> = None;
    let mut next_try = Instant::now();
    let mut due: Option<Instant> = None;
    let mut last_draw = Instant::now() - frame_every;
    let mut was_alarmed = false;
    loop {
        if due.is_some_and(|d| Instant::now() >= d) {
            let alarm = screen.alarm(&target.url, opts.utc_offset_secs, link.is_some());
            tui.terminal.draw(|f| paint(f.buffer_mut(), &screen.frame, alarm.as_ref(), &opts.theme))?;
            was_alarmed = alarm.is_some();
            due = None;
            last_draw = Instant::now();
        }
        let schedule = |due: &mut Option<Instant>| {
            let at = last_draw + frame_every;
            *due = Some(due.map_or(at, |d| d.min(at)));
        };
        let wake = due.map(tokio::time::Instant::from_std);
        tokio::select! {
            msg = async { link.as_mut()?.down.recv().await }, if link.is_some() => match msg {
                Some(Down::Bye { why }) if why == "quit" => break,
                Some(Down::Bye { why }) => {
                    screen.why = Some(why);
                    link = None;
                    schedule(&mut due);
                }
                Some(msg) => {
                    screen.take(msg);
                    screen.why = None;
                    schedule(&mut due);
                }
                None => {
                    tracing::info!(url = %target.url, "the server closed the connection");
                    screen.why = Some("the server closed the connection".into());
                    link = None;
                    next_try = Instant::now() + RETRY;
                    schedule(&mut due);
                }
            },
            Some(term) = input.next() => match term {
                Ok(TermEvent::Key(key)) => {
                    let ctrl_c = key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c');
                    match link.as_mut() {
                        _ if ctrl_c => break,
                        Some(l) => {
                            if let Some(up) = wire::key_up(key)
                                && l.send(&up).await.is_err()
                            {
                                link = None;
                                schedule(&mut due);
                            }
                        }
                        // Without a server, q still quits.
                        None if matches!(key.code, KeyCode::Char('q')) => break,
                        None => {}
                    }
                }
                Ok(TermEvent::Resize(c, r)) => {
                    size = (c, r);
                    tui.terminal.backend_mut().resized(ratatui::layout::Size::new(c, r));
                    if let Some(l) = link.as_mut()
                        && l.send(&Up::Size { cols: c, rows: r }).await.is_err()
                    {
                        link = None;
                    }
                    schedule(&mut due);
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(error = %e, "reading terminal input failed");
                    break;
                }
            },
            _ = tick.tick() => {
                // A server that went quiet without closing (stopped, or the link is cut) is
                // given up on and tried again.
                if link.is_some() && screen.quiet() {
                    screen.why = Some("no word from the server".into());
                    link = None;
                }
                if link.is_none() && connecting.is_none() && Instant::now() >= next_try {
                    let (target, token, hello) = (target.clone(), opts.token.clone(), hello(opts, size));
                    let operator = opts.operator_token.clone();
                    connecting = Some(tokio::spawn(async move {
                        Link::open(&target, token.as_deref(), operator.as_deref(), &hello).await
                    }));
                }
                if was_alarmed || link.is_none() || screen.quiet() {
                    schedule(&mut due);
                }
            }
            done = async { connecting.as_mut().expect("guarded").await }, if connecting.is_some() => {
                connecting = None;
                match done {
                    Ok(Ok(l)) => {
                        tracing::info!(url = %target.url, "attached again");
                        link = Some(l);
                    }
                    Ok(Err(why)) => {
                        screen.why = Some(why);
                        next_try = Instant::now() + RETRY;
                    }
                    Err(_) => next_try = Instant::now() + RETRY,
                }
                schedule(&mut due);
            }
            () = async { tokio::time::sleep_until(wake.unwrap_or_else(tokio::time::Instant::now)).await }, if wake.is_some() => {}
            () = &mut shutdown => break,
        }
    }
    if let Some(task) = connecting {
        task.abort();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_alarm_shows_when_the_server_is_gone_or_quiet_and_names_the_last_frame() {
        let mut s = Screen {
            frame: wire::blank(1, 1),
            heartbeat: Duration::from_millis(100),
            heard: Instant::now(),
            frame_at: None,
            why: None,
        };
        assert_eq!(s.alarm("http://b:1", 0, true), None);
        let (title, lines) = s.alarm("http://b:1", 0, false).unwrap();
        assert_eq!(title, "board offline for 0s");
        assert_eq!(lines, ["waiting for the board's server at http://b:1"]);
        s.frame_at = Some(std::time::UNIX_EPOCH + Duration::from_secs(3 * 3600 + 12 * 60 + 5));
        s.heard = Instant::now() - Duration::from_millis(250);
        s.why = Some("connection refused".into());
        let (_, lines) = s.alarm("http://b:1", 3600, true).expect("quiet past two heartbeats");
        assert_eq!(lines, ["showing the last frame, from 04:12:05 — reconnecting to http://b:1", "connection refused"]);
    }
}
