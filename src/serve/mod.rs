//! `opsboard serve`: the board as a live web page, its state as JSON and as Prometheus metrics.
//!
//! ```text
//!  sources ─▶ Collector ─▶ Publisher loop ─┬─▶ /events   (per browser size: whole frame, then diffs)
//!                          (owns the state) ├─▶ /api/state, /api/frame.txt, /metrics (asked, answered)
//!                                           └─ pages rotate on the wall's clock
//!  TCP ─▶ admission (per address, in all) ─▶ head (time, size) ─▶ token check ─▶ routes (read-only)
//!            └─ full: the oldest connection without a whole request is closed for the new one
//!  /attach ─▶ upgrade ─▶ session (hello, keys in, frames out) ◀─▶ Publisher: one view per terminal
//! ```

mod admission;
mod attach;
mod auth;
mod deflate;
pub mod exposition;
pub mod frame;
pub mod publisher;
mod refusals;
mod routes;
mod status;
pub mod tls;
pub mod viewers;

pub use attach::read_line;

use crate::collector::Collector;
use crate::config::schema::Page;
use crate::history::DeployHistory;
use crate::redact::Secrets;
use crate::terminal::shutdown_signal;
use crate::ui::Look;
use crate::ui::view::{View, WallPages};
use admission::{Admission, Limits, Ticket};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use publisher::Publisher;
use refusals::{Reason, Refusals};
use routes::Routes;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

/// Connections open at once. A connection waiting for its head costs its task and hyper's read
/// buffer, 15.4 KiB of RSS measured (`serve_viewers -- flood`), so 4,096 of them stay under 64 MiB.
const MAX_CONNECTIONS: usize = 4096;
/// Connections open at once from one address: an office behind one NAT address, 40 screens that
/// each hold a live page and a browser's 6 connections to a host, fits in 240.
const MAX_CONNECTIONS_PER_ADDRESS: usize = 256;
/// File descriptors kept free of connections, for the log, the data dir and the sources' sockets.
const RESERVED_FDS: usize = 512;
/// A request's head must arrive within this, and fit in [`MAX_HEAD_BYTES`]. A browser sends its
/// head in one packet; an idle keep-alive connection is closed after this too.
const HEAD_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_HEAD_BYTES: usize = 16 * 1024;
/// After a failed accept (out of file descriptors), a pause instead of a busy loop.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);
/// What a connection that cannot be given a place hears before it is closed.
const BUSY: &[u8] =
    b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 2\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

const PAGE: &str = include_str!("page.html");

#[derive(Clone)]
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
    /// The config's files, followed while serving (none for the demo).
    pub config_files: Option<crate::config::Sources>,
    /// `[[serve.operators]]` with their tokens read: (name, token).
    pub operators: Vec<(String, String)>,
    /// Whether operators may run actions (not when the config or flags make the board read-only).
    pub may_act: bool,
    pub audit: crate::actions::audit::AuditLog,
    /// Where the public status page listens (`serve.status_listen`), if it does.
    pub status_listen: Option<SocketAddr>,
    /// The board's listener speaks TLS with this (`serve.tls_cert`, `serve.tls_key`).
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    /// A Unix socket the board is served on too (`serve.unix_socket`).
    pub unix_socket: Option<std::path::PathBuf>,
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
    #[error("cannot listen on the Unix socket {0}: {1}")]
    BindUnix(std::path::PathBuf, std::io::Error),
}

/// A Unix socket at `path`; a file left there by a server that is gone is replaced, one in use
/// is not.
fn listen_unix(path: &std::path::Path) -> std::io::Result<std::os::unix::net::UnixListener> {
    if std::os::unix::net::UnixStream::connect(path).is_ok() {
        return Err(std::io::Error::new(std::io::ErrorKind::AddrInUse, "another server answers on it"));
    }
    let _ = std::fs::remove_file(path);
    let listener = std::os::unix::net::UnixListener::bind(path)?;
    listener.set_nonblocking(true)?;
    Ok(listener)
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

/// Connections waiting in the kernel to be accepted (capped by `net.core.somaxconn`).
const LISTEN_BACKLOG: i32 = 4096;

/// A listening socket on `addr`, bound before any thread starts so a failure is reported at once.
fn listen(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(LISTEN_BACKLOG)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// Binds, then serves until SIGINT/SIGTERM. `bound` hears the address once listening (port 0
/// picks one), and the status page's when it has one.
///
/// HTTP runs on a thread of its own: drawing a frame for a large page takes milliseconds, and a
/// `/healthz`, an accept or a page's stream must never wait behind it.
pub async fn run(
    loaded: &std::sync::Arc<crate::config::Loaded>,
    opts: ServeOptions,
    bound: Option<tokio::sync::oneshot::Sender<(SocketAddr, Option<SocketAddr>)>>,
) -> Result<(), ServeError> {
    guard(opts.listen, opts.token.as_deref())?;
    let listener = listen(opts.listen).map_err(|e| ServeError::Bind(opts.listen, e))?;
    let addr = listener.local_addr().map_err(|e| ServeError::Bind(opts.listen, e))?;
    let status_listener = match opts.status_listen {
        Some(at) => Some(listen(at).map_err(|e| ServeError::Bind(at, e))?),
        None => None,
    };
    let unix = match &opts.unix_socket {
        Some(path) => Some((listen_unix(path).map_err(|e| ServeError::BindUnix(path.clone(), e))?, path.clone())),
        None => None,
    };
    let status_addr = match &status_listener {
        Some(l) => Some(l.local_addr().map_err(|e| ServeError::Bind(addr, e))?),
        None => None,
    };
    tracing::info!(%addr, token = opts.token.is_some(), "serving the board");
    let mut secrets = opts.secrets.clone();
    if let Some(t) = &opts.token {
        secrets.add(t);
    }
    for (_, t) in &opts.operators {
        secrets.add(t);
    }
    // Operator tokens never cross a network in clear: only a loopback or TLS listener takes them.
    let operators_refused = (!addr.ip().is_loopback() && opts.tls.is_none()).then(|| {
        format!("operator access is refused on {addr}: a token would cross the network in clear; serve with tls_cert and tls_key, or listen on 127.0.0.1 and reach it through ssh -L")
    });
    let (ask, requests) = mpsc::channel(256);
    let mut collector = Collector::start(loaded, opts.history.clone());
    collector.watch_config(opts.config_files.clone().unwrap_or_default());
    let publisher = Publisher {
        collector,
        view: View {
            wall: opts.wall.as_ref().map(|(pages, _)| WallPages { pages: pages.clone(), current: 0 }),
            read_only: true,
            ..View::default()
        },
        page_every: opts.wall.as_ref().map_or(Duration::from_secs(3600), |(_, every)| *every),
        look: opts.look.clone(),
        secrets,
        actions: crate::actions::ActionSpecs { specs: loaded.config.actions.clone() },
        may_act: opts.may_act,
        audit: opts.audit.clone(),
    };
    let limits = connection_limits();
    tracing::info!(connections = limits.connections, per_address = limits.per_address, "connection limits");
    let refusals = Arc::new(Refusals::default());
    // The status page shares the bounds: one admission for every connection of the process.
    let admission = Admission::new(limits);
    let status_routes = status_listener.map(|l| {
        let routes = Routes {
            ask: ask.clone(),
            token: None,
            page: String::new(),
            admission: admission.clone(),
            refusals: refusals.clone(),
            operators: Vec::new(),
            operators_refused: Some("the status page takes no operator".into()),
            public: true,
        };
        (l, Arc::new(routes), None)
    });
    // On the Unix socket, who may connect is the file's permissions: operators are welcome.
    let unix_routes = unix.map(|(l, path)| {
        let routes = Routes {
            ask: ask.clone(),
            token: opts.token.clone(),
            page: page(&opts.look, opts.font_px),
            admission: admission.clone(),
            refusals: refusals.clone(),
            operators: opts.operators.clone(),
            operators_refused: None,
            public: false,
        };
        (l, Arc::new(routes), path)
    });
    let routes = Arc::new(Routes {
        ask,
        token: opts.token.clone(),
        page: page(&opts.look, opts.font_px),
        admission,
        refusals,
        operators: opts.operators.clone(),
        operators_refused,
        public: false,
    });
    if let Some(at) = status_addr {
        tracing::info!(addr = %at, "serving the status page");
    }
    let (stop, stopped) = oneshot::channel();
    let front = std::thread::Builder::new()
        .name("serve-http".into())
        .spawn(move || front((listener, routes, opts.tls.clone()), status_routes, unix_routes, stopped))
        .map_err(|e| ServeError::Bind(addr, e))?;
    if let Some(tx) = bound {
        let _ = tx.send((addr, status_addr));
    }
    tokio::select! {
        () = publisher.run(requests) => {}
        () = shutdown_signal() => {}
    }
    let _ = stop.send(());
    let _ = tokio::task::spawn_blocking(move || front.join()).await;
    Ok(())
}

/// The HTTP side: its own single-threaded runtime, accepting until `stop` (the status page's
/// listener too, when there is one).
/// A listener, its routes, and the TLS it speaks if it does.
type Front = (std::net::TcpListener, Arc<Routes>, Option<tokio_rustls::TlsAcceptor>);
/// The Unix socket's listener, its routes and its path.
type UnixFront = (std::os::unix::net::UnixListener, Arc<Routes>, std::path::PathBuf);

fn front((listener, routes, tls): Front, status: Option<Front>, unix: Option<UnixFront>, stop: oneshot::Receiver<()>) {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("serve: cannot start the HTTP runtime: {e}");
            return;
        }
    };
    runtime.block_on(async move {
        let listener = match TcpListener::from_std(listener) {
            Ok(l) => l,
            Err(e) => {
                tracing::error!("serve: cannot listen: {e}");
                return;
            }
        };
        let status = match status.map(|(l, r, t)| TcpListener::from_std(l).map(|l| (l, r, t))).transpose() {
            Ok(s) => s,
            Err(e) => {
                tracing::error!("serve: cannot listen for the status page: {e}");
                return;
            }
        };
        let public = async {
            match &status {
                Some((l, r, t)) => accept_loop(l, r, t.as_ref()).await,
                None => std::future::pending().await,
            }
        };
        let unix = match unix.map(|(l, r, p)| tokio::net::UnixListener::from_std(l).map(|l| (l, r, p))).transpose() {
            Ok(u) => u,
            Err(e) => {
                tracing::error!("serve: cannot listen on the Unix socket: {e}");
                return;
            }
        };
        let local = async {
            match &unix {
                Some((l, r, p)) => accept_unix(l, r, p).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = accept_loop(&listener, &routes, tls.as_ref()) => {}
            () = public => {}
            () = local => {}
            _ = stop => {}
        }
        if let Some((_, _, path)) = &unix {
            let _ = std::fs::remove_file(path);
        }
    });
}

async fn accept_loop(listener: &TcpListener, routes: &Arc<Routes>, tls: Option<&tokio_rustls::TlsAcceptor>) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!("accept: {e}");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        match routes.admission.admit(peer.ip()) {
            Ok((ticket, evicted)) => match tls {
                None => _ = tokio::spawn(connection(stream, peer, None, routes.clone(), ticket, evicted)),
                Some(tls) => {
                    let (tls, routes) = (tls.clone(), routes.clone());
                    tokio::spawn(async move {
                        // The handshake is bounded as a head is: a client that starts one and
                        // stalls holds a place for no longer.
                        match tokio::time::timeout(HEAD_TIMEOUT, tls.accept(stream)).await {
                            Ok(Ok(stream)) => connection(stream, peer, None, routes, ticket, evicted).await,
                            Ok(Err(e)) => {
                                tracing::info!(%peer, error = %e, "TLS handshake failed");
                                routes.refusals.note(peer.ip(), Reason::BadRequest);
                            }
                            Err(_) => {
                                routes.refusals.note(peer.ip(), Reason::HeadTimeout);
                            }
                        }
                    });
                }
            },
            Err(reason) => {
                routes.refusals.note(peer.ip(), reason);
                let _ = stream.try_write(BUSY);
            }
        }
    }
}

/// Accepts on the Unix socket: each connection named by its peer's uid (the bastion user), and
/// counted in the same bounds as the TCP ones, as one address.
async fn accept_unix(listener: &tokio::net::UnixListener, routes: &Arc<Routes>, path: &std::path::Path) {
    let peer = SocketAddr::from(([127, 0, 0, 1], 0));
    loop {
        let stream = match listener.accept().await {
            Ok((s, _)) => s,
            Err(e) => {
                tracing::warn!("accept on {}: {e}", path.display());
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let who = stream.peer_cred().ok().map(|c| crate::actions::audit::user_of(c.uid()));
        let local = format!("{} on {}", who.as_deref().unwrap_or("an unknown uid"), path.display());
        match routes.admission.admit(peer.ip()) {
            Ok((ticket, evicted)) => {
                tokio::spawn(connection(stream, peer, Some(local), routes.clone(), ticket, evicted));
            }
            Err(reason) => {
                routes.refusals.note(peer.ip(), reason);
                let _ = stream.try_write(BUSY);
            }
        }
    }
}

/// The bounds, lowered to what the process's file descriptor limit allows (raised to its hard
/// limit first).
fn connection_limits() -> Limits {
    let fds = raise_fd_limit();
    let connections = MAX_CONNECTIONS.min(fds.saturating_sub(RESERVED_FDS).max(64));
    Limits { connections, per_address: MAX_CONNECTIONS_PER_ADDRESS.min(connections) }
}

/// Raises the soft limit on open files to the hard one; the soft limit in force after.
fn raise_fd_limit() -> usize {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed to them.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 1024;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit { rlim_cur: lim.rlim_max, rlim_max: lim.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim = raised;
            }
        }
    }
    usize::try_from(lim.rlim_cur).unwrap_or(usize::MAX)
}

/// Serves one connection until it ends, its head is late or too large, or it is closed to make
/// room for another.
/// `local` names the bastion user of a connection on the Unix socket.
async fn connection<S>(
    stream: S,
    peer: SocketAddr,
    local: Option<String>,
    routes: Arc<Routes>,
    ticket: Ticket,
    evicted: oneshot::Receiver<()>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let ticket = Arc::new(ticket);
    let shared = routes.clone();
    let local = Arc::new(local);
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let (routes, ticket, local) = (shared.clone(), ticket.clone(), local.clone());
        async move { Ok::<_, std::convert::Infallible>(routes.handle(req, peer, local.as_deref(), &ticket).await) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEAD_TIMEOUT)
        .max_buf_size(MAX_HEAD_BYTES)
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    tokio::select! {
        served = conn => {
            if let Err(e) = served
                && let Some(reason) = refusal_of(&e)
            {
                routes.refusals.note(peer.ip(), reason);
            }
        }
        Ok(()) = evicted => {
            routes.refusals.note(peer.ip(), Reason::SlowHeadEvicted);
        }
    }
}

/// Which refusal a connection's error was, if it was one (a client that hangs up is not).
fn refusal_of(e: &hyper::Error) -> Option<Reason> {
    if e.is_timeout() {
        Some(Reason::HeadTimeout)
    } else if e.is_parse_too_large() {
        Some(Reason::HeadTooLarge)
    } else if e.is_parse() {
        Some(Reason::BadRequest)
    } else {
        None
    }
}
