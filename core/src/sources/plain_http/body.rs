//! The body: read plain or chunked up to its cap, and gunzipped.

use super::{MAX_HEAD_BYTES, MIN_ROOM, READ_CHUNK};
use crate::state::ProbeError;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

/// Appends what the next read brings; 0 at the end of the stream.
pub(super) async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<usize, ProbeError> {
    if buf.capacity() - buf.len() < MIN_ROOM {
        buf.reserve(READ_CHUNK);
    }
    match stream.read_buf(buf).await {
        Ok(n) => Ok(n),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
            Err(ProbeError::Connect("connection reset".into()))
        }
        Err(e) => Err(ProbeError::Body(e.to_string())),
    }
}

/// A body delimited by Content-Length, or by the end of the connection.
pub(super) async fn read_plain(
    stream: &mut TcpStream,
    mut buf: Vec<u8>,
    length: Option<u64>,
    cap: usize,
) -> Result<(Vec<u8>, bool), ProbeError> {
    // Without a length, one byte past the cap tells that there was more.
    let limit = length.map_or(cap + 1, |l| l.min(cap as u64) as usize);
    while buf.len() < limit {
        if read_more(stream, &mut buf).await? == 0 {
            if let Some(len) = length {
                return Err(ProbeError::Body(format!("connection closed after {} of {len} bytes", buf.len())));
            }
            break;
        }
    }
    let truncated = length.map_or(buf.len() > cap, |l| l > cap as u64);
    buf.truncate(limit.min(cap));
    Ok((buf, truncated))
}

/// A chunked body: the chunks' data joined, at most `cap` bytes of it; and whether bytes past
/// its end came (the connection is then not used again).
pub(super) async fn read_chunked(
    stream: &mut TcpStream,
    mut raw: Vec<u8>,
    cap: usize,
) -> Result<(Vec<u8>, bool, bool), ProbeError> {
    let mut body = Vec::new();
    let mut at = 0;
    loop {
        // The size line.
        let line_end = loop {
            if let Some(i) = raw[at..].windows(2).position(|w| w == b"\r\n") {
                break at + i;
            }
            if raw.len() - at > 1024 {
                return Err(ProbeError::Body("a chunk size line over 1 KiB".into()));
            }
            if read_more(stream, &mut raw).await? == 0 {
                return Err(ProbeError::Body("connection closed inside a chunked body".into()));
            }
        };
        let line = std::str::from_utf8(&raw[at..line_end]).unwrap_or("");
        let size_text = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| ProbeError::Body(format!("{size_text:?} is not a chunk size")))?;
        if size == 0 {
            // Trailers, if any, then the empty line that ends the body.
            let mut at = line_end + 2;
            loop {
                match raw[at..].windows(2).position(|w| w == b"\r\n") {
                    Some(0) => return Ok((body, false, raw.len() > at + 2)),
                    Some(i) => at += i + 2,
                    None if raw.len() - at > MAX_HEAD_BYTES => {
                        return Err(ProbeError::Body("trailers over 16 KiB".into()));
                    }
                    None => {
                        if read_more(stream, &mut raw).await? == 0 {
                            // Closed right after the last chunk: the body is whole.
                            return Ok((body, false, true));
                        }
                    }
                }
            }
        }
        let start = line_end + 2;
        let room = cap - body.len();
        let take = size.min(room);
        while raw.len() < start + take {
            if read_more(stream, &mut raw).await? == 0 {
                return Err(ProbeError::Body("connection closed inside a chunked body".into()));
            }
        }
        body.extend_from_slice(&raw[start..start + take]);
        if size > room || body.len() == cap {
            return Ok((body, true, true));
        }
        // The chunk's data and its CRLF.
        while raw.len() < start + size + 2 {
            if read_more(stream, &mut raw).await? == 0 {
                return Err(ProbeError::Body("connection closed inside a chunked body".into()));
            }
        }
        at = start + size + 2;
        if at > READ_CHUNK * 4 {
            raw.drain(..at);
            at = 0;
        }
    }
}

/// The body inflated, at most `cap` bytes of it; whether there was more. The gzip trailer's
/// size (the last four bytes) sizes the buffer once.
pub(super) fn gunzip(body: &[u8], cap: usize) -> Result<(Vec<u8>, bool), ProbeError> {
    use std::io::Read;
    let stated = body
        .len()
        .checked_sub(4)
        .map_or(0, |at| u32::from_le_bytes([body[at], body[at + 1], body[at + 2], body[at + 3]]) as usize);
    let mut out = Vec::with_capacity(stated.min(cap) + 1);
    flate2::bufread::GzDecoder::new(body)
        .take(cap as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| ProbeError::Body(format!("gzip: {e}")))?;
    let over = out.len() > cap;
    out.truncate(cap);
    Ok((out, over))
}
