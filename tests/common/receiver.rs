//! A webhook receiver on 127.0.0.1: it keeps every body it is sent and answers with the codes a
//! test scripts (200 once the script runs out), or never answers.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[derive(Clone, Default)]
pub struct Receiver {
    pub addr: Option<SocketAddr>,
    pub bodies: Arc<Mutex<Vec<String>>>,
    codes: Arc<Mutex<VecDeque<u16>>>,
    hang: bool,
}

impl Receiver {
    pub fn url(&self) -> String {
        format!("http://{}/hooks/T000/B000/s3cr3t-hook-path", self.addr.expect("started"))
    }

    pub fn bodies(&self) -> Vec<String> {
        self.bodies.lock().unwrap().clone()
    }
}

/// Starts a receiver answering `codes` in turn, then 200; `hang` never answers at all.
pub async fn start(codes: &[u16], hang: bool) -> Receiver {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut r = Receiver {
        addr: Some(listener.local_addr().unwrap()),
        codes: Arc::new(Mutex::new(codes.iter().copied().collect())),
        hang,
        ..Receiver::default()
    };
    let shared = r.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else { return };
            let me = shared.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let body = loop {
                    let Ok(n) = stream.read(&mut chunk).await else { return };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let len: usize = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string())
                            })
                            .and_then(|v| v.parse().ok())
                            .unwrap_or(0);
                        if body.len() >= len {
                            break body.to_string();
                        }
                    }
                };
                me.bodies.lock().unwrap().push(body);
                if me.hang {
                    std::future::pending::<()>().await;
                }
                let code = me.codes.lock().unwrap().pop_front().unwrap_or(200);
                let reply = format!("HTTP/1.1 {code} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                let _ = stream.write_all(reply.as_bytes()).await;
            });
        }
    });
    r.hang = hang;
    r
}
