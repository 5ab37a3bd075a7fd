//! The web server's one loop: it owns the collector, draws the board for each browser size that
//! is watched, and pushes each frame's changed cells to the pages of that size.
//!
//! HTTP handlers never touch the state: they ask this loop through [`Request`]s and get text
//! back. A page that falls behind is dropped from its feed, never buffered without bound.

use crate::check;
use crate::collector::Collector;
use crate::redact::Secrets;
use crate::ui::view::{Action, View};
use crate::ui::{self, Look, Scene};
use hyper::body::Bytes;
use ratatui::buffer::Buffer;
use std::collections::HashMap;
use std::time::{Duration, SystemTime};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::time::{Instant, MissedTickBehavior, interval};

use super::frame;

/// How often a page hears from the server even when nothing changed.
pub const HEARTBEAT: Duration = Duration::from_secs(5);
/// Messages a page may fall behind by before its stream is dropped (it reconnects and gets a
/// whole frame).
const FEED_BACKLOG: usize = 32;
/// New data redraws at most this often.
const FRAME_EVERY: Duration = Duration::from_millis(500);
/// Time-driven changes (ages, the clock) are looked at this often.
const TICK: Duration = Duration::from_secs(1);
/// Page sizes are kept within this, so a request cannot make the server draw a huge frame.
pub const MAX_COLS: u16 = 400;
pub const MAX_ROWS: u16 = 200;

/// What an HTTP handler can ask of the loop.
pub enum Request {
    /// A page joins the feed of its size: the whole frame first, then the changes.
    Join { cols: u16, rows: u16, reply: oneshot::Sender<(Bytes, broadcast::Receiver<Bytes>)> },
    /// The frame at that size as text, as `snapshot --format text` writes it.
    Text { cols: u16, rows: u16, reply: oneshot::Sender<String> },
    /// The JSON of `check --json`, now.
    State { reply: oneshot::Sender<String> },
    /// The Prometheus metrics, now.
    Metrics { reply: oneshot::Sender<String> },
}

struct Feed {
    last: Buffer,
    tx: broadcast::Sender<Bytes>,
}

/// One server-sent event carrying `data`; the first tells the page how soon to retry.
fn event(data: &str, first: bool) -> Bytes {
    let retry = if first { "retry: 2000\n" } else { "" };
    Bytes::from(format!("{retry}data: {data}\n\n"))
}

pub struct Publisher {
    pub collector: Collector,
    pub look: Look,
    pub view: View,
    pub page_every: Duration,
    pub secrets: Secrets,
}

impl Publisher {
    /// The frame's scene at `now`, from the collector's verdicts brought there by the caller.
    fn scene(&self, now: SystemTime) -> Scene<'_> {
        Scene::with_verdicts(&self.collector.state, &self.view, &self.look, now, self.collector.verdicts())
    }

    fn draw(&self, cols: u16, rows: u16, now: SystemTime) -> Buffer {
        ui::render_to_buffer(&self.scene(now), cols, rows)
    }

    fn scrub(&self) -> impl Fn(&str) -> String + '_ {
        |s: &str| self.secrets.scrub(s)
    }

    fn answer(&mut self, feeds: &mut HashMap<(u16, u16), Feed>, request: Request) {
        let now = SystemTime::now();
        self.collector.refresh_verdicts(now);
        match request {
            Request::Join { cols, rows, reply } => {
                let size = (cols.clamp(1, MAX_COLS), rows.clamp(1, MAX_ROWS));
                let feed = feeds.entry(size).or_insert_with(|| Feed {
                    last: self.draw(size.0, size.1, now),
                    tx: broadcast::channel(FEED_BACKLOG).0,
                });
                let first = event(&frame::full(&feed.last, HEARTBEAT.as_millis() as u64, &self.scrub()), true);
                let _ = reply.send((first, feed.tx.subscribe()));
            }
            Request::Text { cols, rows, reply } => {
                let size = (cols.clamp(1, MAX_COLS), rows.clamp(1, MAX_ROWS));
                let text = match feeds.get(&size) {
                    Some(feed) => crate::snapshot::text(&feed.last),
                    None => crate::snapshot::text(&self.draw(size.0, size.1, now)),
                };
                let _ = reply.send(self.secrets.scrub(&text));
            }
            Request::State { reply } => {
                let json = serde_json::to_string_pretty(&check::report(&self.collector.state, now)).unwrap_or_default();
                let _ = reply.send(self.secrets.scrub(&json));
            }
            Request::Metrics { reply } => {
                let viewers = feeds.values().map(|f| f.tx.receiver_count()).sum();
                let text = super::exposition::render(&check::report(&self.collector.state, now), viewers);
                let _ = reply.send(self.secrets.scrub(&text));
            }
        }
    }

    /// Draws every watched size and sends what changed; feeds nobody watches are dropped.
    fn publish(&mut self, feeds: &mut HashMap<(u16, u16), Feed>) {
        feeds.retain(|_, f| f.tx.receiver_count() > 0);
        if feeds.is_empty() {
            return;
        }
        let now = SystemTime::now();
        self.collector.refresh_verdicts(now);
        let scene = self.scene(now);
        let scrub = self.scrub();
        for (&(cols, rows), feed) in feeds.iter_mut() {
            let next = ui::render_to_buffer(&scene, cols, rows);
            if let Some(msg) = frame::diff(&feed.last, &next, &scrub) {
                let _ = feed.tx.send(event(&msg, false));
            }
            feed.last = next;
        }
    }

    /// Runs until `requests` closes (the server stopped).
    pub async fn run(mut self, mut requests: mpsc::Receiver<Request>) {
        let mut feeds: HashMap<(u16, u16), Feed> = HashMap::new();
        let mut tick = interval(TICK);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut heartbeat = interval(HEARTBEAT);
        heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut pages = interval(self.page_every);
        pages.set_missed_tick_behavior(MissedTickBehavior::Delay);
        pages.tick().await;
        let mut due: Option<Instant> = None;
        let mut last_frame = Instant::now();
        loop {
            if due.is_some_and(|d| Instant::now() >= d) {
                self.publish(&mut feeds);
                due = None;
                last_frame = Instant::now();
            }
            let next = last_frame + FRAME_EVERY;
            let schedule = |due: &mut Option<Instant>| *due = Some(due.map_or(next, |d| d.min(next)));
            tokio::select! {
                () = self.collector.next_batch() => schedule(&mut due),
                _ = tick.tick() => {
                    self.collector.tick(SystemTime::now());
                    schedule(&mut due);
                }
                _ = pages.tick(), if self.view.wall.is_some() => {
                    let _ = self.view.handle(Action::NextPage, &self.collector.state, SystemTime::now());
                    due = Some(Instant::now());
                }
                _ = heartbeat.tick() => {
                    let beat = event(r#"{"t":"hb"}"#, false);
                    for feed in feeds.values() {
                        let _ = feed.tx.send(beat.clone());
                    }
                }
                request = requests.recv() => match request {
                    Some(r) => self.answer(&mut feeds, r),
                    None => break,
                },
                () = tokio::time::sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => {}
            }
        }
    }
}
