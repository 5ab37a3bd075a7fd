//! Terminals attached to the server (`opsboard attach`), and web pages someone pressed a key on:
//! each one its own view of the one state, drawn at its own size (a terminal with its own theme),
//! its keys handled as a local board handles them. A page's view is read-only, and goes back to
//! the shared rotation when `q` is pressed or after [`PAGE_IDLE`] without a key.
//!
//! The publisher owns them and draws for them; a terminal that does not keep up is dropped (it
//! reconnects and starts again from a whole frame), never buffered without bound.

use crate::actions::ActionSpecs;
use crate::actions::audit::Operator;
use crate::actions::runner::ActionRequest;
use crate::attach::wire;
use crate::keymap;
use crate::serve::frame::{self, Paint};
use crate::state::{State, Verdicts};
use crate::ui::theme::Theme;
use crate::ui::view::{Outcome, View};
use crate::ui::{self, Look, Scene};
use crossterm::event::KeyEvent;
use hyper::body::Bytes;
use ratatui::buffer::Buffer;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::SystemTime;
use tokio::sync::mpsc;

/// Terminals attached at once. Each costs a frame drawn per change (about a millisecond at
/// 160×45) and two frames kept; past this a new one is refused in words.
pub const MAX_VIEWERS: usize = 100;
/// Messages a terminal may fall behind by before it is dropped.
const OUTBOX: usize = 32;
/// A page's own view with no key for this long gives the page back to the shared rotation: a TV
/// someone looked at one service on does not stay there.
pub const PAGE_IDLE: std::time::Duration = std::time::Duration::from_secs(120);
/// Keys a view takes in a burst, and a second after it: faster than anyone types.
pub const KEY_BURST: f64 = 60.0;
pub const KEYS_PER_SEC: f64 = 30.0;

/// What a terminal says when it attaches.
#[derive(Debug, Clone)]
pub struct Hello {
    pub cols: u16,
    pub rows: u16,
    pub theme: Theme,
    pub utc_offset_secs: i32,
    pub peer: SocketAddr,
    /// The terminal as the audit log names it: its address, or the bastion user on the socket.
    pub terminal: String,
    /// The operator whose token the terminal presented (the route checked it), if any.
    pub operator: Option<String>,
}

/// What a key of an operator's terminal asks of the collector.
pub enum Effect {
    Run { id: u64, request: Box<ActionRequest>, operator: Operator },
    Mark { id: u64, marking: crate::notify::marks::Marking, operator: Operator },
}

/// What a frame is drawn from, the same for every terminal.
pub struct Ctx<'a> {
    pub state: &'a State,
    pub verdicts: &'a Verdicts,
    pub look: &'a Look,
    pub actions: &'a ActionSpecs,
    /// Whether an operator may run actions at all (not when the server's board is read-only).
    pub may_act: bool,
    pub now: SystemTime,
    pub scrub: &'a dyn Fn(&str) -> String,
}

struct Viewer {
    view: View,
    look: Look,
    last: Buffer,
    out: mpsc::Sender<Bytes>,
    peer: SocketAddr,
    operator: Option<Operator>,
    /// A web page's view (frames as the page paints them, as server-sent events), by its
    /// unguessable name; none for a terminal.
    page: Option<String>,
    /// The last key, and the keys it may still take now.
    last_key: std::time::Instant,
    bucket: f64,
}

impl Viewer {
    fn new(
        view: View,
        look: Look,
        out: mpsc::Sender<Bytes>,
        peer: SocketAddr,
        operator: Option<Operator>,
        page: Option<String>,
    ) -> Self {
        let last_key = std::time::Instant::now();
        Self { view, look, last: wire::blank(1, 1), out, peer, operator, page, last_key, bucket: KEY_BURST }
    }

    fn draw(&self, ctx: &Ctx, cols: u16, rows: u16) -> Buffer {
        let scene = Scene::with_verdicts(ctx.state, &self.view, &self.look, ctx.now, ctx.verdicts);
        ui::render_to_buffer(&scene, cols, rows)
    }

    /// Draws the frame again and sends what changed; false when the terminal cannot take it.
    fn refresh(&mut self, ctx: &Ctx) -> bool {
        let area = self.last.area;
        let next = self.draw(ctx, area.width, area.height);
        let sent = match frame::diff_for(self.paint(), &self.last, &next, ctx.scrub) {
            Some(msg) => self.send(msg),
            None => true,
        };
        self.last = next;
        sent
    }

    /// A whole frame at `cols`×`rows`.
    fn whole(&mut self, ctx: &Ctx, cols: u16, rows: u16) -> bool {
        self.last = self.draw(ctx, cols, rows);
        let hb = super::publisher::HEARTBEAT.as_millis() as u64;
        self.send(frame::full_for(self.paint(), &self.last, hb, ctx.scrub))
    }

    fn paint(&self) -> Paint {
        if self.page.is_some() { Paint::Page } else { Paint::Terminal }
    }

    /// One message: a line to a terminal, an event to a page.
    fn send(&self, line: String) -> bool {
        let bytes = match self.page {
            Some(_) => format!("data: {line}\n\n"),
            None => line + "\n",
        };
        self.out.try_send(Bytes::from(bytes)).is_ok()
    }

    /// Whether a key may be taken now (a token bucket: a flood is dropped, not drawn).
    fn take_key(&mut self) -> bool {
        let now = std::time::Instant::now();
        self.bucket = (self.bucket + now.duration_since(self.last_key).as_secs_f64() * KEYS_PER_SEC).min(KEY_BURST);
        self.last_key = now;
        if self.bucket < 1.0 {
            return false;
        }
        self.bucket -= 1.0;
        true
    }
}

#[derive(Default)]
pub struct Viewers {
    next: u64,
    map: HashMap<u64, Viewer>,
    /// Terminals dropped for falling behind, since the server started.
    pub behind: u64,
}

impl Viewers {
    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// A new terminal, its whole first frame already in its outbox.
    pub fn attach(&mut self, hello: Hello, ctx: &Ctx) -> Result<(u64, mpsc::Receiver<Bytes>), String> {
        if self.map.len() >= MAX_VIEWERS {
            return Err(format!("this server has {MAX_VIEWERS} terminals attached, its most; try again later"));
        }
        let (out, rx) = mpsc::channel(OUTBOX);
        let operator = hello.operator.as_deref().map(|name| Operator::attached(name, &hello.terminal));
        let read_only = operator.is_none() || !ctx.may_act;
        let read_only_why = match &operator {
            None => "this terminal has no operator token (attach --operator-token-file)",
            Some(_) => "the server's board is read-only",
        };
        // The header says whose keys these are, where they can act.
        let note = operator.as_ref().filter(|_| !read_only).map(|o| format!("operator {}", o.user));
        let look =
            Look { theme: hello.theme, utc_offset_secs: hello.utc_offset_secs, read_only, note, ..ctx.look.clone() };
        let view = View {
            actions: ctx.actions.clone(),
            read_only,
            read_only_why: read_only.then(|| read_only_why.to_string()),
            ..View::default()
        };
        let mut viewer = Viewer::new(view, look, out, hello.peer, operator, None);
        let (cols, rows) = clamp(hello.cols, hello.rows);
        viewer.whole(ctx, cols, rows);
        self.next += 1;
        self.map.insert(self.next, viewer);
        tracing::info!(id = self.next, peer = %hello.peer, cols, rows, operator = hello.operator.as_deref().unwrap_or("-"), "terminal attached");
        Ok((self.next, rx))
    }

    /// A web page's own view, read-only, at `cols`×`rows`: its name (for its keys) and its
    /// events, the name and the whole first frame already in them.
    pub fn open_page(
        &mut self,
        cols: u16,
        rows: u16,
        peer: SocketAddr,
        ctx: &Ctx,
    ) -> Result<mpsc::Receiver<Bytes>, String> {
        if self.map.len() >= MAX_VIEWERS {
            return Err(format!("this server has {MAX_VIEWERS} views open, its most"));
        }
        let (out, rx) = mpsc::channel(OUTBOX);
        let name = format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
        let view = View {
            actions: ctx.actions.clone(),
            read_only: true,
            read_only_why: Some("the web page is read-only".into()),
            ..View::default()
        };
        let look = Look { read_only: true, ..ctx.look.clone() };
        let mut viewer = Viewer::new(view, look, out, peer, None, Some(name.clone()));
        let _ = viewer.send(format!(r#"{{"t":"view","id":"{name}"}}"#));
        let (cols, rows) = clamp(cols, rows);
        viewer.whole(ctx, cols, rows);
        self.next += 1;
        self.map.insert(self.next, viewer);
        tracing::info!(id = self.next, %peer, cols, rows, "a page opened its own view");
        Ok(rx)
    }

    /// The view a page names, if it is open.
    pub fn page(&self, name: &str) -> Option<u64> {
        self.map.iter().find(|(_, v)| v.page.as_deref() == Some(name)).map(|(id, _)| *id)
    }

    /// Terminal `id`'s offset from UTC, for the times it is told.
    pub fn utc_offset_secs(&self, id: u64) -> Option<i32> {
        self.map.get(&id).map(|v| v.look.utc_offset_secs)
    }

    pub fn detach(&mut self, id: u64) {
        if let Some(v) = self.map.remove(&id) {
            tracing::info!(id, peer = %v.peer, "terminal detached");
        }
    }

    /// A key from terminal `id`, handled as a local board handles it; its frame is drawn at
    /// once, or, when the key asks the collector for something, once that is done ([`Self::show`]).
    pub fn key(&mut self, id: u64, key: KeyEvent, ctx: &Ctx) -> Option<Effect> {
        let v = self.map.get_mut(&id)?;
        if !v.take_key() {
            return None;
        }
        let action = keymap::action_for(key, &v.view)?;
        let operator = v.operator.clone();
        let effect = match v.view.handle(action, ctx.state, ctx.now) {
            Outcome::Quit => {
                let _ = v.send(wire::bye("quit"));
                self.detach(id);
                return None;
            }
            Outcome::ReloadConfig => {
                v.view.flash = Some("the config is the server's: it follows its own file".into());
                None
            }
            // A read-only view opens no dialog that ends in either; an operator's does.
            Outcome::Run(request) => operator.map(|operator| Effect::Run { id, request, operator }),
            Outcome::Mark(marking) => operator.map(|operator| Effect::Mark { id, marking, operator }),
            Outcome::Nothing => None,
        };
        if effect.is_none() {
            self.show(id, None, ctx);
        }
        effect
    }

    /// Terminal `id`'s frame drawn again, with `flash` when there is one to say.
    pub fn show(&mut self, id: u64, flash: Option<String>, ctx: &Ctx) {
        let Some(v) = self.map.get_mut(&id) else { return };
        if flash.is_some() {
            v.view.flash = flash;
        }
        if !v.refresh(ctx) {
            self.drop_behind(id);
        }
    }

    /// Terminal `id` changed size: a whole frame at the new one.
    pub fn resize(&mut self, id: u64, cols: u16, rows: u16, ctx: &Ctx) {
        let Some(v) = self.map.get_mut(&id) else { return };
        let (cols, rows) = clamp(cols, rows);
        if !v.whole(ctx, cols, rows) {
            self.drop_behind(id);
        }
    }

    /// Every terminal's frame drawn again, what changed sent.
    pub fn publish(&mut self, ctx: &Ctx) {
        let behind: Vec<u64> = self.map.iter_mut().filter_map(|(id, v)| (!v.refresh(ctx)).then_some(*id)).collect();
        for id in behind {
            self.drop_behind(id);
        }
    }

    /// A heartbeat to every view; pages idle for [`PAGE_IDLE`] go back to the shared rotation.
    pub fn heartbeat(&mut self) {
        let idle: Vec<u64> = self
            .map
            .iter()
            .filter(|(_, v)| v.page.is_some() && v.last_key.elapsed() >= PAGE_IDLE)
            .map(|(id, _)| *id)
            .collect();
        for id in idle {
            if let Some(v) = self.map.get(&id) {
                let _ = v.send(wire::bye("idle"));
            }
            self.detach(id);
        }
        let behind: Vec<u64> =
            self.map.iter().filter(|(_, v)| !v.send(r#"{"t":"hb"}"#.into())).map(|(id, _)| *id).collect();
        for id in behind {
            self.drop_behind(id);
        }
    }

    fn drop_behind(&mut self, id: u64) {
        if let Some(v) = self.map.remove(&id) {
            // A terminal that left has closed its end; only one still there fell behind.
            if !v.out.is_closed() {
                self.behind += 1;
            }
            tracing::info!(id, peer = %v.peer, "attached terminal fell behind or left; dropped");
        }
    }
}

fn clamp(cols: u16, rows: u16) -> (u16, u16) {
    use super::publisher::{MAX_COLS, MAX_ROWS};
    (cols.clamp(1, MAX_COLS), rows.clamp(1, MAX_ROWS))
}
