//! The web server's one loop: it owns the collector, draws the board for each browser size that
//! is watched, and pushes each frame's changed cells to the pages of that size.
//!
//! HTTP handlers never touch the state: they ask this loop through [`Request`]s and get text
//! back. A page that falls behind is dropped from its feed, never buffered without bound.

use crate::collector::Collector;
use crate::redact::Secrets;
use crate::report;
use crate::ui::view::{Action, View};
use crate::ui::{self, Look, Scene};
use hyper::body::Bytes;
use ratatui::buffer::Buffer;
use std::collections::HashMap;
use std::time::{Duration, SystemTime};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::time::{Instant, MissedTickBehavior, interval};

use super::deflate::{self, Chunk, SharedGzip};
use super::exposition::ServeStats;
use super::frame;
use super::viewers::{Ctx, Effect, Hello, Viewers};
use crossterm::event::KeyEvent;

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
/// Distinct page sizes drawn at once; past this a new page shares the nearest size already drawn.
/// A size costs its last frame and the next while drawing (≤ 2 × 400 × 200 cells of ~40 B, 6.4 MB)
/// and its backlog of messages, so the frames of all sizes stay under ~100 MB at the largest size.
pub const MAX_SIZES: usize = 8;

/// What an HTTP handler can ask of the loop.
pub enum Request {
    /// A page joins the feed of its size (or the nearest drawn, past [`MAX_SIZES`]): the whole
    /// frame first, then the changes.
    Join { cols: u16, rows: u16, reply: oneshot::Sender<(Chunk, broadcast::Receiver<Chunk>)> },
    /// The frame at that size as text, as `snapshot --format text` writes it.
    Text { cols: u16, rows: u16, reply: oneshot::Sender<String> },
    /// The JSON of `check --json`, now.
    State { reply: oneshot::Sender<String> },
    /// The public status page's content, now.
    Status { reply: oneshot::Sender<crate::status_page::StatusReport> },
    /// The Prometheus metrics, now, with the server's own numbers so far.
    Metrics { serve: ServeStats, reply: oneshot::Sender<String> },
    /// A terminal attaches: its id and its outbox, the whole first frame in it; or why not.
    Attach { hello: Hello, reply: oneshot::Sender<Result<(u64, mpsc::Receiver<Bytes>), String>> },
    /// A key from an attached terminal.
    Key { id: u64, key: KeyEvent },
    /// An attached terminal's new size.
    Resize { id: u64, cols: u16, rows: u16 },
    /// An attached terminal left.
    Detach { id: u64 },
    /// A page someone pressed a key on opens its own view: its events, or why not.
    OpenPage {
        cols: u16,
        rows: u16,
        peer: std::net::SocketAddr,
        reply: oneshot::Sender<Result<mpsc::Receiver<Bytes>, String>>,
    },
    /// A key on a page's own view (by its name); whether that view is open.
    PageKey { view: String, key: KeyEvent, reply: oneshot::Sender<bool> },
}

struct Feed {
    last: Buffer,
    tx: broadcast::Sender<Chunk>,
    gzip: SharedGzip,
    /// The first message for a page joining now (`last`, whole), made once for all who join
    /// before the next frame.
    first: Option<Chunk>,
}

impl Feed {
    fn new(last: Buffer) -> Self {
        Self { last, tx: broadcast::channel(FEED_BACKLOG).0, gzip: SharedGzip::default(), first: None }
    }

    /// A new page's first message and its place in the feed.
    fn join(&mut self, scrub: &dyn Fn(&str) -> String) -> (Chunk, broadcast::Receiver<Chunk>) {
        let last = &self.last;
        let first = self
            .first
            .get_or_insert_with(|| deflate::first(event(&frame::full(last, HEARTBEAT.as_millis() as u64, scrub), true)))
            .clone();
        if let Some(restart) = self.gzip.restart() {
            let _ = self.tx.send(restart);
        }
        (first, self.tx.subscribe())
    }

    /// Sends one message to every page of this size.
    fn send(&mut self, plain: Bytes) {
        let _ = self.tx.send(self.gzip.chunk(plain));
    }
}

/// One server-sent event carrying `data`; the first tells the page how soon to retry.
fn event(data: &str, first: bool) -> Bytes {
    let retry = if first { "retry: 2000\n" } else { "" };
    Bytes::from(format!("{retry}data: {data}\n\n"))
}

/// The size among `drawn` that a page asking for `asked` should share: the largest that fits in
/// it, else the one that overflows it least (the page shows its top left).
pub fn nearest(drawn: impl Iterator<Item = (u16, u16)>, asked: (u16, u16)) -> Option<(u16, u16)> {
    let area = |(c, r): (u16, u16)| u32::from(c) * u32::from(r);
    let overflow = |(c, r): (u16, u16)| u32::from(c.saturating_sub(asked.0)) + u32::from(r.saturating_sub(asked.1));
    drawn.min_by_key(|&s| (overflow(s), std::cmp::Reverse(area(s))))
}

pub struct Publisher {
    pub collector: Collector,
    pub look: Look,
    pub view: View,
    pub page_every: Duration,
    pub secrets: Secrets,
    /// The config's actions: an attached terminal's view names them (and says why they are off).
    pub actions: crate::actions::ActionSpecs,
    /// Whether operators may run them (not when the config or the flags make the board read-only).
    pub may_act: bool,
    /// Where an operator's actions and silences are recorded.
    pub audit: crate::actions::audit::AuditLog,
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

    /// What every attached terminal's frame is drawn from, at `now`.
    fn ctx<'a>(&'a self, now: SystemTime, scrub: &'a dyn Fn(&str) -> String) -> Ctx<'a> {
        Ctx {
            state: &self.collector.state,
            verdicts: self.collector.verdicts(),
            look: &self.look,
            actions: &self.actions,
            may_act: self.may_act,
            now,
            scrub,
        }
    }

    fn answer(&mut self, feeds: &mut HashMap<(u16, u16), Feed>, viewers: &mut Viewers, request: Request) {
        let now = SystemTime::now();
        self.collector.refresh_verdicts(now);
        // Borrows the secrets alone: an operator's key changes the collector meanwhile.
        let secrets = &self.secrets;
        let scrub = |s: &str| secrets.scrub(s);
        match request {
            Request::Attach { hello, reply } => {
                let _ = reply.send(viewers.attach(hello, &self.ctx(now, &scrub)));
            }
            Request::Key { id, key } => {
                let Some(effect) = viewers.key(id, key, &self.ctx(now, &scrub)) else { return };
                let (id, flash) = match effect {
                    Effect::Run { id, request, operator } => {
                        self.collector.start_action(*request, &self.audit, &operator);
                        (id, None)
                    }
                    Effect::Mark { id, marking, operator } => {
                        let offset = viewers.utc_offset_secs(id).unwrap_or(0);
                        (id, Some(self.collector.mark(&marking, &self.audit, &operator, offset)))
                    }
                };
                self.collector.refresh_verdicts(now);
                viewers.show(id, flash, &self.ctx(now, &scrub));
            }
            Request::Resize { id, cols, rows } => viewers.resize(id, cols, rows, &self.ctx(now, &scrub)),
            Request::Detach { id } => viewers.detach(id),
            Request::OpenPage { cols, rows, peer, reply } => {
                let _ = reply.send(viewers.open_page(cols, rows, peer, &self.ctx(now, &scrub)));
            }
            Request::PageKey { view, key, reply } => {
                let Some(id) = viewers.page(&view) else {
                    let _ = reply.send(false);
                    return;
                };
                let _ = reply.send(true);
                // A page's view is read-only: a key asks nothing of the collector.
                let _ = viewers.key(id, key, &self.ctx(now, &scrub));
            }
            Request::Join { cols, rows, reply } => {
                feeds.retain(|_, f| f.tx.receiver_count() > 0);
                let asked = (cols.clamp(1, MAX_COLS), rows.clamp(1, MAX_ROWS));
                let size = if feeds.len() < MAX_SIZES {
                    asked
                } else {
                    nearest(feeds.keys().copied(), asked).unwrap_or(asked)
                };
                let feed = feeds.entry(size).or_insert_with(|| Feed::new(self.draw(size.0, size.1, now)));
                let _ = reply.send(feed.join(&scrub));
            }
            Request::Text { cols, rows, reply } => {
                let size = (cols.clamp(1, MAX_COLS), rows.clamp(1, MAX_ROWS));
                let text = match feeds.get(&size) {
                    Some(feed) => crate::snapshot::text(&feed.last),
                    None => crate::snapshot::text(&self.draw(size.0, size.1, now)),
                };
                let _ = reply.send(scrub(&text));
            }
            Request::State { reply } => {
                let json =
                    serde_json::to_string_pretty(&report::report(&self.collector.state, now)).unwrap_or_default();
                let _ = reply.send(scrub(&json));
            }
            Request::Status { reply } => {
                let page = &self.collector.loaded().config.status;
                let (title, days) = (page.title.clone(), page.days);
                let state = &self.collector.state;
                let _ = reply.send(crate::status_page::report(state, self.collector.verdicts(), &title, days, now));
            }
            Request::Metrics { mut serve, reply } => {
                serve.viewers = feeds.values().map(|f| f.tx.receiver_count()).sum();
                serve.frame_sizes = feeds.len();
                serve.attached = viewers.len();
                serve.attached_behind = viewers.behind;
                let text = super::exposition::render(&report::report(&self.collector.state, now), &serve);
                let _ = reply.send(scrub(&text));
            }
        }
    }

    /// Draws every watched size and every attached terminal, and sends what changed; feeds
    /// nobody watches are dropped.
    fn publish(&mut self, feeds: &mut HashMap<(u16, u16), Feed>, viewers: &mut Viewers) {
        feeds.retain(|_, f| f.tx.receiver_count() > 0);
        if feeds.is_empty() && viewers.is_empty() {
            return;
        }
        let now = SystemTime::now();
        self.collector.refresh_verdicts(now);
        let scrub = self.scrub();
        viewers.publish(&self.ctx(now, &scrub));
        let scene = self.scene(now);
        for (&(cols, rows), feed) in feeds.iter_mut() {
            let next = ui::render_to_buffer(&scene, cols, rows);
            if let Some(msg) = frame::diff(&feed.last, &next, &scrub) {
                feed.send(event(&msg, false));
                feed.first = None;
            }
            feed.last = next;
        }
    }

    /// Runs until `requests` closes (the server stopped).
    pub async fn run(mut self, mut requests: mpsc::Receiver<Request>) {
        let mut feeds: HashMap<(u16, u16), Feed> = HashMap::new();
        let mut viewers = Viewers::default();
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
                self.publish(&mut feeds, &mut viewers);
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
                    for feed in feeds.values_mut() {
                        feed.send(beat.clone());
                    }
                    viewers.heartbeat();
                }
                request = requests.recv() => match request {
                    Some(r) => self.answer(&mut feeds, &mut viewers, r),
                    None => break,
                },
                () = tokio::time::sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::nearest;

    #[test]
    fn a_page_shares_the_largest_drawn_size_that_fits_it_else_the_least_overflowing() {
        let drawn = [(80, 24), (160, 45), (400, 200), (120, 40)];
        assert_eq!(nearest(drawn.into_iter(), (170, 50)), Some((160, 45)));
        assert_eq!(nearest(drawn.into_iter(), (130, 41)), Some((120, 40)));
        assert_eq!(nearest(drawn.into_iter(), (60, 20)), Some((80, 24)));
        assert_eq!(nearest(std::iter::empty(), (60, 20)), None);
    }
}
