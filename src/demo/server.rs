//! One simulated instance: a real HTTP server on 127.0.0.1 serving `/health` and `/metrics`.

use super::exposition::Counters;
use super::story::{self, BodyStyle, DemoService, HealthMode};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

/// The story's clock: story time = offset + time since start.
#[derive(Debug, Clone, Copy)]
pub struct StoryClock {
    started: Instant,
    offset: Duration,
}

impl StoryClock {
    pub fn new(offset: Duration) -> Self {
        Self { started: Instant::now(), offset }
    }

    pub fn now(&self) -> Duration {
        self.offset + self.started.elapsed()
    }
}

/// One simulated instance and its counters.
pub struct SimInstance {
    pub service: &'static DemoService,
    pub index: usize,
    pub clock: StoryClock,
    counters: Mutex<Counters>,
    /// The version it runs: the service's own until a deploy or rollback changes it.
    version: Mutex<String>,
}

/// Share of requests failing on a version other than the service's good one.
const BAD_VERSION_ERRORS: f64 = 0.08;

impl SimInstance {
    pub fn new(service: &'static DemoService, index: usize, clock: StoryClock) -> Self {
        Self {
            service,
            index,
            clock,
            counters: Mutex::new(Counters::default()),
            version: Mutex::new(service.version.into()),
        }
    }

    pub fn version(&self) -> String {
        self.version.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn set_version(&self, v: &str) {
        *self.version.lock().unwrap_or_else(|e| e.into_inner()) = v.to_string();
    }

    fn behavior(&self) -> story::Behavior {
        let mut b = story::behavior(self.service, self.index, self.clock.now());
        if self.version() != self.service.version {
            b.error_ratio = b.error_ratio.max(BAD_VERSION_ERRORS);
        }
        b
    }

    fn metrics(&self) -> String {
        let t = self.clock.now();
        let b = self.behavior();
        let mut c = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        c.advance(t, &b, Some(story::host(self.service, self.index, t)));
        let mut text = c.render(self.service, self.index, &self.version());
        if self.service.name == story::BACKED_UP && self.index == 0 {
            // The textfile-collector convention: when the last backup succeeded.
            let last = std::time::SystemTime::now() - story::BACKUP_AGE;
            let secs = last.duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs();
            text.push_str(&format!(
                "# TYPE backup_last_success_timestamp_seconds gauge\nbackup_last_success_timestamp_seconds{{job=\"{}-db\"}} {secs}\n",
                self.service.name
            ));
        }
        text
    }

    async fn health(&self) -> (StatusCode, String) {
        let b = self.behavior();
        tokio::time::sleep(b.latency).await;
        let (code, word) = match b.health {
            HealthMode::Healthy | HealthMode::Refuse => (StatusCode::OK, Word::Good),
            HealthMode::Degraded => (StatusCode::OK, Word::Degraded),
            HealthMode::Failing => (StatusCode::SERVICE_UNAVAILABLE, Word::Bad),
            HealthMode::Hang => {
                // Accept, then never answer: the poller's timeout must catch this.
                std::future::pending::<()>().await;
                unreachable!()
            }
        };
        (code, health_body(self.service.style, word, &self.version()))
    }
}

#[derive(Clone, Copy)]
enum Word {
    Good,
    Degraded,
    Bad,
}

fn health_body(style: BodyStyle, word: Word, version: &str) -> String {
    match (style, word) {
        (BodyStyle::Plain, Word::Good) => "OK\n".into(),
        (BodyStyle::Plain, Word::Degraded) => "DEGRADED\n".into(),
        (BodyStyle::Plain, Word::Bad) => "DOWN\n".into(),
        (BodyStyle::Spring, w) => {
            let s = match w {
                Word::Good => "UP",
                Word::Degraded => "UNKNOWN",
                Word::Bad => "DOWN",
            };
            format!(r#"{{"status":"{s}","components":{{"db":{{"status":"{s}"}}}},"build":{{"version":"{version}"}}}}"#)
        }
        (BodyStyle::Ietf, w) => {
            let s = match w {
                Word::Good => "pass",
                Word::Degraded => "warn",
                Word::Bad => "fail",
            };
            format!(r#"{{"status":"{s}","version":"1","releaseId":"{version}"}}"#)
        }
        (BodyStyle::Simple, w) => {
            let s = match w {
                Word::Good => "ok",
                Word::Degraded => "degraded",
                Word::Bad => "down",
            };
            format!(r#"{{"status":"{s}","version":"{version}"}}"#)
        }
    }
}

/// Binds 127.0.0.1 on a free port and serves until the task is dropped.
/// While the story says `Refuse`, the listener is closed, so connections are refused.
pub async fn spawn(sim: Arc<SimInstance>) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let handle = tokio::spawn(serve(listener, addr, sim));
    Ok((addr, handle))
}

const RECHECK: Duration = Duration::from_millis(250);

async fn serve(listener: TcpListener, addr: SocketAddr, sim: Arc<SimInstance>) {
    let mut listener = Some(listener);
    loop {
        let refuse = sim.behavior().health == HealthMode::Refuse;
        match (&listener, refuse) {
            (Some(_), true) => listener = None,
            (None, true) => tokio::time::sleep(RECHECK).await,
            (None, false) => match TcpListener::bind(addr).await {
                Ok(l) => listener = Some(l),
                Err(_) => tokio::time::sleep(RECHECK).await,
            },
            (Some(l), false) => {
                tokio::select! {
                    accepted = l.accept() => {
                        if let Ok((stream, _)) = accepted {
                            tokio::spawn(connection(stream, sim.clone()));
                        }
                    }
                    () = tokio::time::sleep(RECHECK) => {}
                }
            }
        }
    }
}

async fn connection(stream: tokio::net::TcpStream, sim: Arc<SimInstance>) {
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let sim = sim.clone();
        async move { Ok::<_, std::convert::Infallible>(route(&sim, req.uri().path(), req.uri().query()).await) }
    });
    let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
}

async fn route(sim: &SimInstance, path: &str, query: Option<&str>) -> Response<Full<Bytes>> {
    let (code, ctype, body) = match path {
        // The demo's deploy hook: what its rollback command calls.
        "/admin/deploy" => match query.and_then(|q| q.strip_prefix("version=")).filter(|v| !v.is_empty()) {
            Some(v) => {
                sim.set_version(v);
                (StatusCode::OK, "text/plain", format!("{} now runs {v}\n", sim.service.name))
            }
            None => (StatusCode::BAD_REQUEST, "text/plain", "version=… is required\n".into()),
        },
        "/health" => {
            let (code, body) = sim.health().await;
            let ctype = if body.starts_with('{') { "application/json" } else { "text/plain" };
            (code, ctype, body)
        }
        "/metrics" => (StatusCode::OK, "text/plain; version=0.0.4", sim.metrics()),
        _ => (StatusCode::NOT_FOUND, "text/plain", "not found\n".into()),
    };
    Response::builder()
        .status(code)
        .header("content-type", ctype)
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_default()
}
