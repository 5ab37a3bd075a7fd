//! A hostile client of `opsboard serve`, from an address of its own on loopback: half-sent heads
//! renewed as the server closes them, live streams at distinct sizes, huge heads and bodies.
//! Shared by `tests/serve_flood.rs` and `benches/serve_viewers.rs` (`-- flood`).
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

pub async fn connect_from(ip: &str, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(format!("{ip}:0").parse().unwrap())?;
    socket.connect(to).await
}

/// Keeps `count` connections that each sent half a head; one the server closes is replaced
/// `renew_after` later.
pub async fn half_open_heads(
    from: &'static str,
    to: SocketAddr,
    (count, renew_after): (usize, Duration),
    stop: Arc<AtomicBool>,
    opened: Arc<AtomicU64>,
) {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..count {
        let (stop, opened) = (stop.clone(), opened.clone());
        tasks.spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let Ok(mut s) = connect_from(from, to).await else {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                };
                opened.fetch_add(1, Ordering::Relaxed);
                let _ = s.write_all(b"GET /metrics HTTP/1.1\r\nHost: board\r\nUser-Agent: half").await;
                let mut buf = [0u8; 512];
                // Held until the server closes it (or the flood ends).
                while !stop.load(Ordering::Relaxed) {
                    let read = tokio::time::timeout(Duration::from_millis(200), s.read(&mut buf)).await;
                    if let Ok(Ok(0) | Err(_)) = read {
                        break;
                    }
                }
                tokio::time::sleep(renew_after).await;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
}

/// One live stream at `cols`x`rows`, reconnecting as a page does when it is closed; reads it
/// (counting bytes) unless `read` is false.
pub async fn stream(
    from: &'static str,
    to: SocketAddr,
    cols: u16,
    rows: u16,
    read: bool,
    stop: Arc<AtomicBool>,
    bytes: Arc<AtomicU64>,
) {
    let head = format!("GET /events?cols={cols}&rows={rows} HTTP/1.1\r\nHost: board\r\nAccept-Encoding: gzip\r\n\r\n");
    let mut buf = vec![0u8; 64 * 1024];
    while !stop.load(Ordering::Relaxed) {
        if let Ok(mut s) = connect_from(from, to).await
            && s.write_all(head.as_bytes()).await.is_ok()
        {
            while !stop.load(Ordering::Relaxed) {
                if !read {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
                match tokio::time::timeout(Duration::from_millis(200), s.read(&mut buf)).await {
                    Ok(Ok(0) | Err(_)) => break,
                    Ok(Ok(n)) => {
                        bytes.fetch_add(n as u64, Ordering::Relaxed);
                    }
                    Err(_) => {}
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Sends `head`, then `body_len` bytes of body unless the server answers first; the status code.
pub async fn send_big(from: &'static str, to: SocketAddr, head: Vec<u8>, body_len: usize) -> u16 {
    let Ok(mut s) = connect_from(from, to).await else { return 0 };
    let (mut rd, mut wr) = s.split();
    let writing = async {
        let _ = wr.write_all(&head).await;
        let chunk = vec![b'x'; 64 * 1024];
        let mut sent = 0;
        while sent < body_len {
            if wr.write_all(&chunk).await.is_err() {
                break;
            }
            sent += chunk.len();
        }
        std::future::pending::<()>().await;
    };
    let mut answer = Vec::new();
    let reading = async {
        let mut buf = [0u8; 4096];
        while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
            match rd.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        tokio::select! {
            () = writing => {}
            () = reading => {}
        }
    })
    .await;
    String::from_utf8_lossy(&answer).split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0)
}

/// One `GET /healthz` from 127.0.0.1 on a new connection: how long the answer took, if it came.
pub fn healthz(to: SocketAddr) -> Result<Duration, String> {
    use std::io::{Read, Write};
    let t0 = Instant::now();
    let mut s =
        std::net::TcpStream::connect_timeout(&to, Duration::from_secs(2)).map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(2))).map_err(|e| e.to_string())?;
    write!(s, "GET /healthz HTTP/1.1\r\nHost: board\r\nConnection: close\r\n\r\n")
        .map_err(|e| format!("write: {e}"))?;
    let mut out = String::new();
    let read = s.read_to_string(&mut out);
    if out.starts_with("HTTP/1.1 200") {
        Ok(t0.elapsed())
    } else {
        Err(format!("after {:?}: {read:?} {out:?}", t0.elapsed()))
    }
}
