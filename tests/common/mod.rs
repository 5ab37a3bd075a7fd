//! Test helpers: real HTTP servers on 127.0.0.1 whose behaviour each test chooses.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How the server answers every request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Status code, content type, body, after a delay.
    Body { code: u16, ctype: &'static str, body: String, delay: Duration },
    /// Accept the connection, read the request, never answer.
    Hang,
    /// Announce `len` bytes and stream them in chunks until done or the client leaves.
    Huge { len: u64 },
    /// Raw bytes with extra headers (e.g. a gzip body with `content-encoding: gzip`).
    Raw { headers: &'static str, body: Vec<u8> },
    /// A redirect with this code to this Location.
    Redirect { code: u16, location: String },
    /// A chunked body of `count` chunks of `size` bytes each (`x`), as Go and others stream.
    Chunked { size: usize, count: usize, last_line: &'static str },
    /// Announce `announced` bytes, send `body`, then close: a truncated response.
    Truncated { announced: usize, body: String },
}

impl Reply {
    pub fn text(code: u16, body: &str) -> Self {
        Reply::Body { code, ctype: "text/plain", body: body.into(), delay: Duration::ZERO }
    }

    pub fn json(code: u16, body: &str) -> Self {
        Reply::Body { code, ctype: "application/json", body: body.into(), delay: Duration::ZERO }
    }

    pub fn slow(code: u16, body: &str, delay: Duration) -> Self {
        Reply::Body { code, ctype: "text/plain", body: body.into(), delay }
    }
}

/// A running loopback server. `bytes_sent` counts body bytes written.
pub struct TestServer {
    pub addr: SocketAddr,
    pub bytes_sent: Arc<AtomicU64>,
    pub requests: Arc<AtomicU64>,
    /// Connections accepted and not yet closed by the server.
    pub open: Arc<AtomicU64>,
    /// The client end of every connection accepted, in order.
    pub peers: Arc<std::sync::Mutex<Vec<SocketAddr>>>,
    task: tokio::task::JoinHandle<()>,
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Waits until the server has closed every connection it accepted (its counts are final
    /// then), for at most `within`.
    pub async fn closed_all(&self, within: Duration) {
        let deadline = tokio::time::Instant::now() + within;
        while self.open.load(Ordering::SeqCst) > 0 {
            assert!(tokio::time::Instant::now() < deadline, "the server kept a connection for {within:?}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A health endpoint that answers 200 "OK" while its flag holds, 503 "DOWN" when not.
pub async fn switchable() -> (TestServer, Arc<std::sync::atomic::AtomicBool>) {
    let up = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let flag = up.clone();
    let reply =
        move |_: &str| if flag.load(Ordering::SeqCst) { Reply::text(200, "OK") } else { Reply::text(503, "DOWN") };
    (serve_with(reply).await, up)
}

/// Loads `text` as the user's config file (`board.toml`) and returns the error it must give,
/// which names that file.
pub fn rejected(text: &str) -> opsboard::config::ConfigError {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("board.toml");
    std::fs::write(&path, text).unwrap();
    let sources = opsboard::config::Sources { user: Some(path.clone()), explicit: true, override_file: None };
    let err = opsboard::config::load(&sources, &|_| None).expect_err("the config should be refused");
    assert_eq!(err.file, path, "{err}");
    err
}

/// Starts a server on 127.0.0.1 that answers every request with `reply`.
pub async fn serve(reply: Reply) -> TestServer {
    serve_with(move |_| reply.clone()).await
}

/// Starts a server whose reply depends on the request head (request line and headers).
pub async fn serve_with(reply: impl Fn(&str) -> Reply + Send + Sync + 'static) -> TestServer {
    serve_at("127.0.0.1:0".parse().unwrap(), reply).await
}

/// Starts a server on `at` (any loopback address and port) whose reply depends on the request head.
pub async fn serve_at(at: SocketAddr, reply: impl Fn(&str) -> Reply + Send + Sync + 'static) -> TestServer {
    let listener = TcpListener::bind(at).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let bytes_sent = Arc::new(AtomicU64::new(0));
    let requests = Arc::new(AtomicU64::new(0));
    let reply = Arc::new(reply);
    let open = Arc::new(AtomicU64::new(0));
    let peers = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (sent, reqs, conns, seen) = (bytes_sent.clone(), requests.clone(), open.clone(), peers.clone());
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, peer)) = listener.accept().await else { return };
            seen.lock().unwrap().push(peer);
            let (reply, sent, reqs, conns) = (reply.clone(), sent.clone(), reqs.clone(), conns.clone());
            conns.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                // The stream is dropped (closed) when `handle` returns.
                let _ = handle(stream, &*reply, &sent, &reqs).await;
                conns.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    TestServer { addr, bytes_sent, requests, open, peers, task }
}

async fn handle(
    mut stream: TcpStream,
    reply: &(dyn Fn(&str) -> Reply + Send + Sync),
    sent: &AtomicU64,
    reqs: &AtomicU64,
) -> std::io::Result<()> {
    let mut buf = vec![0u8; 8192];
    let mut have = 0;
    loop {
        let n = stream.read(&mut buf[have..]).await?;
        if n == 0 {
            return Ok(());
        }
        have += n;
        if buf[..have].windows(4).any(|w| w == b"\r\n\r\n") || have == buf.len() {
            break;
        }
    }
    reqs.fetch_add(1, Ordering::SeqCst);
    let head = String::from_utf8_lossy(&buf[..have]);
    match reply(&head) {
        Reply::Body { code, ctype, body, delay } => {
            tokio::time::sleep(delay).await;
            let head = format!(
                "HTTP/1.1 {code} X\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(body.as_bytes()).await?;
            sent.fetch_add(body.len() as u64, Ordering::SeqCst);
        }
        Reply::Raw { headers, body } => {
            let head =
                format!("HTTP/1.1 200 OK\r\n{headers}content-length: {}\r\nconnection: close\r\n\r\n", body.len());
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(&body).await?;
            sent.fetch_add(body.len() as u64, Ordering::SeqCst);
        }
        Reply::Truncated { announced, body } => {
            let head = format!("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {announced}\r\n\r\n");
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(body.as_bytes()).await?;
        }
        Reply::Redirect { code, location } => {
            let head = format!("HTTP/1.1 {code} Moved\r\nlocation: {location}\r\ncontent-length: 0\r\n\r\n");
            stream.write_all(head.as_bytes()).await?;
        }
        Reply::Chunked { size, count, last_line } => {
            stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n")
                .await?;
            let data = vec![b'x'; size];
            for _ in 0..count {
                stream.write_all(format!("{size:x}\r\n").as_bytes()).await?;
                stream.write_all(&data).await?;
                stream.write_all(b"\r\n").await?;
                sent.fetch_add(size as u64, Ordering::SeqCst);
            }
            stream.write_all(format!("{:x};ext=1\r\n{last_line}\r\n0\r\n\r\n", last_line.len()).as_bytes()).await?;
        }
        Reply::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        Reply::Huge { len } => {
            let head = format!("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {len}\r\n\r\n");
            stream.write_all(head.as_bytes()).await?;
            let chunk = vec![b'x'; 64 * 1024];
            let mut left = len;
            while left > 0 {
                let n = left.min(chunk.len() as u64) as usize;
                stream.write_all(&chunk[..n]).await?;
                sent.fetch_add(n as u64, Ordering::SeqCst);
                left -= n as u64;
            }
        }
    }
    stream.shutdown().await
}

/// Asks `probe` every 50 ms until it gives `Some`, for at most `within`; panics naming `what`
/// otherwise. Tests wait on conditions with this, never on a fixed time.
pub fn eventually<T>(within: Duration, what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + within;
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(std::time::Instant::now() < deadline, "{what}: not within {within:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The loop every screen runs on a collector: events in, a tick every 250 ms; until `done` holds
/// or `within` passes. Whether `done` held.
pub async fn drive(
    c: &mut opsboard::collector::Collector,
    within: Duration,
    done: impl Fn(&opsboard::collector::Collector) -> bool,
) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    while tokio::time::Instant::now() < deadline {
        tokio::select! {
            () = c.next_batch() => {}
            _ = tick.tick() => c.tick(std::time::SystemTime::now()),
            () = tokio::time::sleep_until(deadline) => {}
        }
        if done(c) {
            return true;
        }
    }
    false
}

/// Waits until something accepts connections on 127.0.0.1:`port`.
pub fn listening(port: u16, within: Duration, what: &str) {
    eventually(within, &format!("{what} listening on {port}"), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).ok().map(drop)
    });
}

/// A port on 127.0.0.1 with nothing listening.
pub fn closed_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

/// The path of a request head: `GET /health HTTP/1.1` gives `/health`.
pub fn path_of(head: &str) -> &str {
    head.split_whitespace().nth(1).unwrap_or("/")
}
/// Points the data dir of collectors started in this test's own process (the counts' store,
/// silences …) at a directory of the test binary's, never the machine's real one.
pub fn own_data_dir() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("data-{}", std::process::id()));
    opsboard::store::override_data_dir(dir);
}

pub mod browser;
pub mod fixtures;
pub mod flood;
pub mod moto;
pub mod prometheus;
pub mod receiver;
pub mod rows;
pub mod served;
pub mod tmux;
pub mod versioned;

/// The audit log a board (or server) with `XDG_DATA_HOME={dir}/data` keeps, one JSON value a line.
pub fn audit(dir: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("data/opsboard/audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}
