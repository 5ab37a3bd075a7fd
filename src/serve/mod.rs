//! `opsboard serve`: the board as a live web page, its state as JSON and as Prometheus metrics.
//!
//! ```text
//!  sources ─▶ Collector ─▶ Publisher loop ─┬─▶ /events   (per browser size: whole frame, then diffs)
//!                          (owns the state) ├─▶ /api/state, /api/frame.txt, /metrics (asked, answered)
//!                                           └─ pages rotate on the wall's clock
//!  TCP ─▶ limits (connections, header time/size) ─▶ token check ─▶ routes (read-only)
//! ```

mod auth;
pub mod exposition;
pub mod frame;
pub mod publisher;
mod routes;

use crate::collector::Collector;
use crate::config::schema::Page;
use crate::history::DeployHistory;
use crate::redact::Secrets;
use crate::terminal::shutdown_signal;
use crate::ui::Look;
use crate::ui::view::{View, WallPages};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use publisher::Publisher;
use routes::Routes;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, mpsc};

/// Connections served at once; more are closed at once.
const MAX_CONNECTIONS: usize = 256;
/// A request's head must arrive within this, and fit in [`MAX_HEAD_BYTES`].
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_HEAD_BYTES: usize = 16 * 1024;

const PAGE: &str = include_str!("page.html");

#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub listen: SocketAddr,
    pub token: Option<String>,
    pub look: Look,
    /// Wall pages and how long each shows; `None` draws the overview.
    pub wall: Option<(Vec<Page>, Duration)>,
    pub history: DeployHistory,
    /// The page's font size in CSS pixels, unless the address says `?font=`.
    pub font_px: u16,
    pub secrets: Secrets,
}

/// Why the server would not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(
        "{0} is reachable from other machines, so a token is required: pass --token-file FILE or set serve.token (e.g. \"${{OPSBOARD_TOKEN}}\")"
    )]
    TokenRequired(SocketAddr),
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
}

/// Refuses a non-loopback address without a token.
pub fn guard(listen: SocketAddr, token: Option<&str>) -> Result<(), ServeError> {
    if !listen.ip().is_loopback() && token.is_none_or(str::is_empty) {
        return Err(ServeError::TokenRequired(listen));
    }
    Ok(())
}

/// The page with its defaults filled in.
fn page(look: &Look, font_px: u16) -> String {
    PAGE.replace("__TITLE__", &look.title.replace(['<', '>', '&', '"'], "")).replace("__FONT__", &font_px.to_string())
}

/// Binds, then serves until SIGINT/SIGTERM. `bound` hears the address once listening (port 0 picks one).
pub async fn run(
    loaded: &crate::config::Loaded,
    opts: ServeOptions,
    bound: Option<tokio::sync::oneshot::Sender<SocketAddr>>,
) -> Result<(), ServeError> {
    guard(opts.listen, opts.token.as_deref())?;
    let listener = TcpListener::bind(opts.listen).await.map_err(|e| ServeError::Bind(opts.listen, e))?;
    let addr = listener.local_addr().map_err(|e| ServeError::Bind(opts.listen, e))?;
    tracing::info!(%addr, token = opts.token.is_some(), "serving the board");
    if let Some(tx) = bound {
        let _ = tx.send(addr);
    }
    let mut secrets = opts.secrets.clone();
    if let Some(t) = &opts.token {
        secrets.add(t);
    }
    let (ask, requests) = mpsc::channel(256);
    let publisher = Publisher {
        collector: Collector::start(loaded, opts.history.clone()),
        view: View {
            wall: opts.wall.as_ref().map(|(pages, _)| WallPages { pages: pages.clone(), current: 0 }),
            read_only: true,
            ..View::default()
        },
        page_every: opts.wall.as_ref().map_or(Duration::from_secs(3600), |(_, every)| *every),
        look: opts.look.clone(),
        secrets,
    };
    let publishing = tokio::spawn(publisher.run(requests));
    let routes = Arc::new(Routes { ask, token: opts.token.clone(), page: page(&opts.look, opts.font_px) });
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else { continue };
                let Ok(slot) = slots.clone().try_acquire_owned() else {
                    tracing::warn!(%peer, "refused: {MAX_CONNECTIONS} connections already open");
                    continue;
                };
                let routes = routes.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
                        let routes = routes.clone();
                        async move { Ok::<_, std::convert::Infallible>(routes.handle(req, peer).await) }
                    });
                    let conn = hyper::server::conn::http1::Builder::new()
                        .timer(TokioTimer::new())
                        .header_read_timeout(HEAD_TIMEOUT)
                        .max_buf_size(MAX_HEAD_BYTES)
                        .serve_connection(TokioIo::new(stream), service);
                    let _ = conn.await;
                    drop(slot);
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(routes);
    publishing.abort();
    Ok(())
}
