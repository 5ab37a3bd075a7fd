//! The routes. None of them runs an action: the server only reads.

use super::admission::{Admission, Ticket};
use super::auth::{self, Access};
use super::exposition::ServeStats;
use super::publisher::Request as Ask;
use super::refusals::{Reason, Refusals};
use futures_util::StreamExt;
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::{Bytes, Frame, Incoming};
use hyper::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue, LOCATION, SET_COOKIE};
use hyper::{Method, Request, Response, StatusCode};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc, oneshot};

pub type Body = BoxBody<Bytes, Infallible>;

/// What every connection shares.
pub struct Routes {
    pub ask: mpsc::Sender<Ask>,
    pub token: Option<String>,
    /// The page, with its defaults filled in.
    pub page: String,
    pub admission: Arc<Admission>,
    pub refusals: Arc<Refusals>,
    /// `[[serve.operators]]`: (name, token).
    pub operators: Vec<(String, String)>,
    /// Why operator tokens are refused on this listener (it is not loopback), if they are.
    pub operators_refused: Option<String>,
    /// The public status page's listener: `/status` and `/status.json` alone, with no token.
    pub public: bool,
}

fn full(code: StatusCode, ctype: &str, body: impl Into<Bytes>) -> Response<Body> {
    let mut r = Response::new(Full::new(body.into()).boxed());
    *r.status_mut() = code;
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_str(ctype).unwrap_or(HeaderValue::from_static("text/plain")));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    r
}

fn text(code: StatusCode, body: &str) -> Response<Body> {
    full(code, "text/plain; charset=utf-8", format!("{body}\n"))
}

/// The query's parameters, decoded.
fn params(req: &Request<Incoming>) -> Vec<(String, String)> {
    let q = req.uri().query().unwrap_or_default();
    form_urlencoded::parse(q.as_bytes()).into_owned().collect()
}

fn param<T: std::str::FromStr>(params: &[(String, String)], key: &str) -> Option<T> {
    params.iter().find(|(k, _)| k == key).and_then(|(_, v)| v.parse().ok())
}

/// The address without `token`, to send a browser to once the cookie is set.
fn without_token(req: &Request<Incoming>, params: &[(String, String)]) -> String {
    let rest = params.iter().filter(|(k, _)| k != "token");
    let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(rest).finish();
    match query.as_str() {
        "" => req.uri().path().to_string(),
        q => format!("{}?{q}", req.uri().path()),
    }
}

impl Routes {
    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Ask) -> Option<T> {
        let (tx, rx) = oneshot::channel();
        self.ask.send(make(tx)).await.ok()?;
        rx.await.ok()
    }

    /// Answers one request. A connection whose request is let in is trusted by `ticket`: it is not
    /// closed to make room for others.
    /// `local` names the bastion user of a connection on the Unix socket.
    pub async fn handle(
        &self,
        req: Request<Incoming>,
        peer: SocketAddr,
        local: Option<&str>,
        ticket: &Arc<Ticket>,
    ) -> Response<Body> {
        let path = req.uri().path().to_string();
        if req.method() != Method::GET && req.method() != Method::HEAD {
            self.refusals.note(peer.ip(), Reason::Method);
            return text(StatusCode::METHOD_NOT_ALLOWED, "this server only reads: GET");
        }
        if self.public {
            ticket.trust();
            return self.status(&path).await;
        }
        let params = params(&req);
        let query_token = params.iter().find(|(k, _)| k == "token").map(|(_, v)| v.as_str());
        let access = auth::check(self.token.as_deref(), req.headers(), query_token);
        if access == Access::Refused {
            self.refusals.note(peer.ip(), Reason::Unauthorized);
            let mut r = text(StatusCode::UNAUTHORIZED, "a token is required: Authorization: Bearer …, or ?token=…");
            r.headers_mut().insert("www-authenticate", HeaderValue::from_static("Bearer"));
            return r;
        }
        ticket.trust();
        let mut resp = match path.as_str() {
            "/" if access == Access::GrantedByQuery => {
                let mut r = text(StatusCode::SEE_OTHER, "signed in");
                if let Ok(v) = HeaderValue::from_str(&without_token(&req, &params)) {
                    r.headers_mut().insert(LOCATION, v);
                }
                r
            }
            "/" => full(StatusCode::OK, "text/html; charset=utf-8", self.page.clone()),
            "/events" if param::<String>(&params, "view").as_deref() == Some("new") => {
                self.own_view(&params, peer).await
            }
            "/key" => self.page_key(&params).await,
            "/events" => {
                let gzip = req
                    .headers()
                    .get_all(hyper::header::ACCEPT_ENCODING)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .any(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
                self.events(&params, gzip, peer).await
            }
            "/api/state" => match self.ask(|reply| Ask::State { reply }).await {
                Some(json) => full(StatusCode::OK, "application/json", json),
                None => text(StatusCode::SERVICE_UNAVAILABLE, "the board is stopping"),
            },
            "/api/frame.txt" => {
                let (cols, rows) = (param(&params, "cols").unwrap_or(120), param(&params, "rows").unwrap_or(40));
                match self.ask(|reply| Ask::Text { cols, rows, reply }).await {
                    Some(t) => full(StatusCode::OK, "text/plain; charset=utf-8", t),
                    None => text(StatusCode::SERVICE_UNAVAILABLE, "the board is stopping"),
                }
            }
            "/metrics" => match self.ask(|reply| Ask::Metrics { serve: self.stats(), reply }).await {
                Some(m) => full(StatusCode::OK, "text/plain; version=0.0.4; charset=utf-8", m),
                None => text(StatusCode::SERVICE_UNAVAILABLE, "the board is stopping"),
            },
            "/healthz" => text(StatusCode::OK, "ok"),
            "/attach" => return self.attach(req, peer, local, ticket),
            _ => text(StatusCode::NOT_FOUND, "not found; try /, /api/state, /metrics or /healthz"),
        };
        if access == Access::GrantedByQuery
            && let Some(t) = &self.token
            && let Ok(v) = HeaderValue::from_str(&auth::set_cookie(t))
        {
            resp.headers_mut().insert(SET_COOKIE, v);
        }
        resp
    }

    /// The public status page's routes: nothing else is served on its listener.
    async fn status(&self, path: &str) -> Response<Body> {
        if !matches!(path, "/" | "/status" | "/status.json") {
            return text(StatusCode::NOT_FOUND, "not found; the status page is at /status");
        }
        let Some(report) = self.ask(|reply| Ask::Status { reply }).await else {
            return text(StatusCode::SERVICE_UNAVAILABLE, "the status page is stopping");
        };
        let mut r = match path {
            "/status.json" => {
                full(StatusCode::OK, "application/json", serde_json::to_string(&report).unwrap_or_default())
            }
            _ => full(StatusCode::OK, "text/html; charset=utf-8", super::status::html(&report)),
        };
        // Public, and cheap to serve from a cache for a few seconds.
        r.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=10"));
        r.headers_mut().insert(
            "content-security-policy",
            HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
        );
        r
    }

    /// `opsboard attach`: the upgrade to the attach protocol, when the terminal speaks this
    /// server's version; the session runs on its own task from there.
    fn attach(
        &self,
        mut req: Request<Incoming>,
        peer: SocketAddr,
        local: Option<&str>,
        ticket: &Arc<Ticket>,
    ) -> Response<Body> {
        use crate::attach::wire::{OPERATOR_HEADER, PROTOCOL, UPGRADE, VERSION_HEADER};
        let header = |name: &str| req.headers().get(name).and_then(|v: &HeaderValue| v.to_str().ok());
        if !header(hyper::header::UPGRADE.as_str()).is_some_and(|u| u.eq_ignore_ascii_case(UPGRADE)) {
            self.refusals.note(peer.ip(), Reason::BadRequest);
            return text(StatusCode::BAD_REQUEST, "/attach is for a terminal: run `opsboard attach URL`");
        }
        let theirs = header(VERSION_HEADER).unwrap_or("none").to_string();
        if theirs != PROTOCOL.to_string() {
            self.refusals.note(peer.ip(), Reason::BadRequest);
            let words = format!(
                "this server speaks attach protocol {PROTOCOL} and the terminal {theirs}: attach with the same opsboard version as the server's"
            );
            let mut r = text(StatusCode::BAD_REQUEST, &words);
            r.headers_mut().insert(VERSION_HEADER, HeaderValue::from(PROTOCOL));
            return r;
        }
        let operator = match header(OPERATOR_HEADER).map(str::to_string) {
            None => None,
            Some(presented) => match self.operator(&req, &presented) {
                Ok(name) => Some(name),
                Err(why) => {
                    self.refusals.note(peer.ip(), Reason::Unauthorized);
                    tracing::warn!(%peer, why, "operator access refused");
                    return text(StatusCode::FORBIDDEN, &why);
                }
            },
        };
        let upgrade = hyper::upgrade::on(&mut req);
        let (ask, refusals, ticket) = (self.ask.clone(), self.refusals.clone(), ticket.clone());
        let terminal = local.map_or_else(|| peer.to_string(), str::to_string);
        tokio::spawn(async move {
            match upgrade.await {
                Ok(io) => {
                    let who = (peer, terminal);
                    super::attach::session(io, ask, who, operator, super::HEAD_TIMEOUT, refusals, ticket).await;
                }
                Err(e) => tracing::info!(%peer, error = %e, "attach upgrade failed"),
            }
        });
        let mut r = Response::new(http_body_util::Empty::new().boxed());
        *r.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let h = r.headers_mut();
        h.insert(hyper::header::CONNECTION, HeaderValue::from_static("upgrade"));
        h.insert(hyper::header::UPGRADE, HeaderValue::from_static(UPGRADE));
        h.insert(VERSION_HEADER, HeaderValue::from(PROTOCOL));
        r
    }

    /// The operator an attach request's token names, or why it is refused: never over a plain
    /// network listener (the token would cross it in clear), never with the page's cookie (a
    /// browser's request, which another site could have made, runs nothing).
    fn operator(&self, req: &Request<Incoming>, presented: &str) -> Result<String, String> {
        if let Some(why) = &self.operators_refused {
            return Err(why.clone());
        }
        if super::auth::has_page_cookie(req.headers()) {
            return Err("operator access is refused with the page's cookie: a browser's request runs no action".into());
        }
        super::auth::operator(&self.operators, presented)
            .map(str::to_string)
            .ok_or_else(|| "no operator of this server has that token".into())
    }

    /// The server's own numbers for `/metrics`; the publisher adds the viewers and frame sizes.
    fn stats(&self) -> ServeStats {
        let occupancy = self.admission.occupancy();
        ServeStats {
            connections: occupancy.open,
            waiting: occupancy.waiting,
            refusals: self.refusals.counts().into_iter().map(|(r, n)| (r.label(), n)).collect(),
            ..ServeStats::default()
        }
    }

    /// A page's own view: its name first, its whole frame, then what changes, as events; it ends
    /// with a `bye` (q, or idle) and the page goes back to the shared stream.
    async fn own_view(&self, params: &[(String, String)], peer: SocketAddr) -> Response<Body> {
        let (cols, rows) = (param(params, "cols").unwrap_or(120u16), param(params, "rows").unwrap_or(40u16));
        let rx = match self.ask(|reply| Ask::OpenPage { cols, rows, peer, reply }).await {
            Some(Ok(rx)) => rx,
            Some(Err(why)) => return text(StatusCode::SERVICE_UNAVAILABLE, &why),
            None => return text(StatusCode::SERVICE_UNAVAILABLE, "the board is stopping"),
        };
        let stream = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|b| (b, rx)) })
            .map(|b| Ok::<_, Infallible>(Frame::data(b)));
        let mut r = Response::new(BodyExt::boxed(StreamBody::new(stream)));
        r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
        r.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        r
    }

    /// A key on a page's own view: `?view=NAME&code=Down&mods=0`, codes as `opsboard attach`
    /// sends them.
    async fn page_key(&self, params: &[(String, String)]) -> Response<Body> {
        let (Some(view), Some(code)) = (param::<String>(params, "view"), param::<String>(params, "code")) else {
            return text(StatusCode::BAD_REQUEST, "a key needs view= and code=");
        };
        let Some(key) = crate::attach::wire::key_down(&code, param(params, "mods").unwrap_or(0)) else {
            return text(StatusCode::BAD_REQUEST, "not a key this board knows");
        };
        match self.ask(|reply| Ask::PageKey { view, key, reply }).await {
            Some(true) => text(StatusCode::OK, "ok"),
            Some(false) => text(StatusCode::NOT_FOUND, "that view is closed: the page goes back to the shared one"),
            None => text(StatusCode::SERVICE_UNAVAILABLE, "the board is stopping"),
        }
    }

    /// The live stream of a page: its whole frame, then the changed cells and heartbeats.
    async fn events(&self, params: &[(String, String)], gzip: bool, peer: SocketAddr) -> Response<Body> {
        let (cols, rows) = (param(params, "cols").unwrap_or(120u16), param(params, "rows").unwrap_or(40u16));
        let Some((first, rx)) = self.ask(|reply| Ask::Join { cols, rows, reply }).await else {
            return text(StatusCode::SERVICE_UNAVAILABLE, "the board is stopping");
        };
        let refusals = self.refusals.clone();
        let rest = futures_util::stream::unfold(rx, move |mut rx| {
            let refusals = refusals.clone();
            async move {
                match rx.recv().await {
                    Ok(msg) => Some((msg, rx)),
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        // A page this far behind reconnects and starts again from a whole frame.
                        refusals.note(peer.ip(), Reason::StreamBehind);
                        None
                    }
                    Err(broadcast::error::RecvError::Closed) => None,
                }
            }
        });
        // The bytes are deflated once per page size by the publisher (`deflate`); a page takes its kind.
        let stream = futures_util::stream::once(async move { first })
            .chain(rest)
            .map(move |chunk| chunk.for_page(gzip).clone())
            .filter(|b| std::future::ready(!b.is_empty()))
            .map(|b| Ok::<_, Infallible>(Frame::data(b)));
        let mut r = Response::new(BodyExt::boxed(StreamBody::new(stream)));
        let h = r.headers_mut();
        if gzip {
            h.insert(hyper::header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            h.insert(hyper::header::VARY, HeaderValue::from_static("accept-encoding"));
        }
        h.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        r
    }
}
