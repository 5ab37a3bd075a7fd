//! One attached terminal's connection, after the upgrade: its hello, then its keys and sizes in
//! and its frames out, until either side ends it.
//!
//! A terminal is a client like any other and may be hostile: its hello must come within the head
//! timeout and every line within [`wire::MAX_UP_LINE`]; keys past a person's typing rate are
//! dropped; a write that stalls ends the connection; a terminal that stops reading is dropped by
//! the publisher when its outbox fills.

use super::admission::Ticket;
use super::publisher::Request as Ask;
use super::refusals::{Reason, Refusals};
use super::viewers::Hello;
use crate::attach::wire::{self, Up};
use crate::ui::theme::Theme;
use hyper::body::Bytes;
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

/// A frame that cannot be written in this long ends the connection.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Keys past a person's typing rate are dropped here too, before they reach the publisher.
use super::viewers::{KEY_BURST, KEYS_PER_SEC};

/// Why a line could not be read.
#[derive(Debug, PartialEq, Eq)]
pub enum LineError {
    TooLong,
    Io,
}

/// The next line (without its newline), `None` at the end of the stream; a line over `max`
/// bytes is an error, and nothing past `max` is kept.
pub async fn read_line(r: &mut (impl AsyncBufRead + Unpin), max: usize) -> Result<Option<String>, LineError> {
    let mut line = Vec::new();
    loop {
        let buf = r.fill_buf().await.map_err(|_| LineError::Io)?;
        if buf.is_empty() {
            return Ok(if line.is_empty() { None } else { Some(String::from_utf8_lossy(&line).into_owned()) });
        }
        let (take, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        if line.len() + take > max + 1 {
            return Err(LineError::TooLong);
        }
        line.extend_from_slice(&buf[..take]);
        r.consume(take);
        if done {
            line.pop();
            return Ok(Some(String::from_utf8_lossy(&line).into_owned()));
        }
    }
}

/// Serves one attached terminal until it leaves, misbehaves or is dropped.
pub async fn session(
    io: Upgraded,
    ask: mpsc::Sender<Ask>,
    (peer, terminal): (SocketAddr, String),
    operator: Option<String>,
    hello_within: Duration,
    refusals: Arc<Refusals>,
    _ticket: Arc<Ticket>,
) {
    let (rd, mut wr) = tokio::io::split(TokioIo::new(io));
    let mut rd = BufReader::new(rd);
    let hello = match tokio::time::timeout(hello_within, read_line(&mut rd, wire::MAX_UP_LINE)).await {
        Ok(Ok(Some(line))) => serde_json::from_str::<Up>(&line).map_err(|e| format!("not a hello: {e}")),
        Ok(Err(LineError::TooLong)) => Err("the hello is too long".to_string()),
        Ok(_) => return,
        Err(_) => {
            refusals.note(peer.ip(), Reason::HeadTimeout);
            Err("no hello in time".to_string())
        }
    };
    let hello = hello.and_then(|up| match up {
        Up::Hello { cols, rows, theme, utc_offset_secs } => {
            let theme = Theme::parse(std::path::Path::new("the terminal's theme"), &theme)
                .map_err(|e| format!("not a theme: {e}"))?;
            Ok(Hello { cols, rows, theme, utc_offset_secs, peer, terminal, operator })
        }
        _ => Err("the first line must be the hello".to_string()),
    });
    let attached = match hello {
        Ok(hello) => {
            let (reply, answer) = oneshot::channel();
            if ask.send(Ask::Attach { hello, reply }).await.is_err() {
                return;
            }
            answer.await.unwrap_or_else(|_| Err("the board is stopping".into()))
        }
        Err(e) => Err(e),
    };
    let (id, mut frames) = match attached {
        Ok(a) => a,
        Err(why) => {
            refusals.note(peer.ip(), Reason::BadRequest);
            let _ = write(&mut wr, Bytes::from(format!("{}\n", wire::bye(&why)))).await;
            return;
        }
    };
    let mut keys = tokio::spawn(forward(rd, ask.clone(), id));
    loop {
        tokio::select! {
            msg = frames.recv() => match msg {
                Some(line) => if write(&mut wr, line).await.is_err() { break },
                // Dropped by the publisher (behind, or it said goodbye).
                None => break,
            },
            _ = &mut keys => break,
        }
    }
    keys.abort();
    let _ = wr.shutdown().await;
    let _ = ask.send(Ask::Detach { id }).await;
}

async fn write(wr: &mut (impl AsyncWriteExt + Unpin), line: Bytes) -> Result<(), ()> {
    match tokio::time::timeout(WRITE_TIMEOUT, wr.write_all(&line)).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(()),
    }
}

/// The terminal's keys and sizes, to the publisher, until the terminal ends or sends something
/// that is not the protocol.
async fn forward(mut rd: impl AsyncBufRead + Unpin, ask: mpsc::Sender<Ask>, id: u64) {
    let mut bucket = KEY_BURST;
    let mut filled = Instant::now();
    while let Ok(Some(line)) = read_line(&mut rd, wire::MAX_UP_LINE).await {
        let ask_for = match serde_json::from_str::<Up>(&line) {
            Ok(Up::Key { code, mods }) => {
                let now = Instant::now();
                bucket = (bucket + now.duration_since(filled).as_secs_f64() * KEYS_PER_SEC).min(KEY_BURST);
                filled = now;
                if bucket < 1.0 {
                    continue;
                }
                bucket -= 1.0;
                match wire::key_down(&code, mods) {
                    Some(key) => Ask::Key { id, key },
                    None => continue,
                }
            }
            Ok(Up::Size { cols, rows }) => Ask::Resize { id, cols, rows },
            Ok(Up::Hello { .. }) => continue,
            Err(e) => {
                tracing::info!(id, error = %e, "attached terminal sent what is not the protocol; closed");
                return;
            }
        };
        if ask.send(ask_for).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lines_are_read_whole_and_a_long_one_is_refused() {
        let mut r = BufReader::with_capacity(4, &b"ab\ncdef\n0123456789\nlast"[..]);
        assert_eq!(read_line(&mut r, 8).await, Ok(Some("ab".into())));
        assert_eq!(read_line(&mut r, 8).await, Ok(Some("cdef".into())));
        assert_eq!(read_line(&mut r, 8).await, Err(LineError::TooLong));
        let mut r = BufReader::new(&b"last"[..]);
        assert_eq!(read_line(&mut r, 8).await, Ok(Some("last".into())));
        assert_eq!(read_line(&mut r, 8).await, Ok(None));
    }
}
