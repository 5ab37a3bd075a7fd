//! A lean HTTP/1.1 GET for plain-http health checks: one fresh connection, one request written
//! in one call, the head parsed in place and at most `cap` bytes of body read. No pool, no
//! per-request client, no URL re-parsing: on loopback this costs close to what the connection
//! itself costs (`cargo bench --bench health_cost`). https goes through reqwest, which reads the
//! certificate.

use crate::state::ProbeError;
use reqwest::Url;
use reqwest::header::{AUTHORIZATION, HeaderMap};
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A head longer than this is not an answer a health check should wait for.
const MAX_HEAD_BYTES: usize = 16 * 1024;
const MAX_HEADERS: usize = 64;
const READ_CHUNK: usize = 8 * 1024;
/// The first read's room: a health answer's head and body fit, and a buffer this small is
/// reused by the allocator from a per-thread cache, where 8 KiB would take its slow path on
/// every check. Longer answers grow it by `READ_CHUNK` at a time.
const FIRST_READ: usize = 1024;
/// A read is given at least this much room.
const MIN_ROOM: usize = 512;
/// A request this long goes out in one TCP segment on any path (IPv6's minimum MTU, 1280, less
/// the IPv6 and TCP headers and the timestamp option). Nagle's algorithm holds back only a
/// segment sent while an earlier one is unacknowledged, so a fresh connection sending such a
/// request in one write needs no TCP_NODELAY: a system call a check saved. Longer requests (a
/// large bearer token) and kept connections set it.
const ONE_SEGMENT: usize = 1200;

/// What one GET came back with.
#[derive(Debug)]
pub enum Answer {
    Done {
        code: u16,
        body: Vec<u8>,
        truncated: bool,
    },
    /// A 301/302/303/307/308 with a Location, resolved against the URL asked.
    Redirect(Url),
}

/// The request bytes for a health check of `url`: request line, Host, User-Agent, basic auth
/// from the URL's user part, the configured headers, and `Connection: close`.
pub fn request(url: &Url, headers: &HeaderMap) -> Vec<u8> {
    build(url, headers, "Accept: */*\r\nConnection: close\r\n")
}

/// The request bytes for a scrape of `url`: the text format asked for, gzip accepted, and the
/// connection kept for the next scrape, as Prometheus asks.
pub fn scrape_request(url: &Url, headers: &HeaderMap) -> Vec<u8> {
    build(url, headers, "Accept: text/plain;version=0.0.4;q=1,*/*;q=0.1\r\nAccept-Encoding: gzip\r\n")
}

fn build(url: &Url, headers: &HeaderMap, fixed: &str) -> Vec<u8> {
    use std::fmt::Write;
    let mut head = String::with_capacity(192);
    let target = &url[url::Position::BeforePath..url::Position::AfterQuery];
    let host = &url[url::Position::BeforeHost..url::Position::AfterPort];
    let _ = write!(
        head,
        "GET {} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {}\r\n{fixed}",
        if target.is_empty() { "/" } else { target },
        super::http::USER_AGENT
    );
    if !url.username().is_empty() && !headers.contains_key(AUTHORIZATION) {
        use base64::Engine;
        let user = percent_decode(url.username());
        let pass = url.password().map(percent_decode).unwrap_or_default();
        let creds = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        let _ = write!(head, "Authorization: Basic {creds}\r\n");
    }
    let mut bytes = head.into_bytes();
    for (name, value) in headers {
        bytes.extend_from_slice(name.as_str().as_bytes());
        bytes.extend_from_slice(b": ");
        bytes.extend_from_slice(value.as_bytes());
        bytes.extend_from_slice(b"\r\n");
    }
    bytes.extend_from_slice(b"\r\n");
    bytes
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// GETs `url` (scheme http) on a fresh connection; the caller bounds the time.
pub async fn get(url: &Url, request: &[u8], cap: usize) -> Result<Answer, ProbeError> {
    let (mut stream, sent) = fresh(url, request).await?;
    match exchange(&mut stream, url, &request[sent..], cap).await {
        Ok((answer, _)) => {
            let_go(&stream);
            Ok(answer)
        }
        Err(Failure::Stale(e) | Failure::Failed(e)) => Err(e),
    }
}

/// Makes dropping `stream` end the connection with a reset when the server has already closed
/// its side (as one answering `Connection: close` does, and as the runtime saw it without
/// another system call): the answer is in and the server's program is done with the socket, so
/// nothing is lost and nobody is told of a reset; and neither end keeps the connection in
/// TIME_WAIT for a minute (without it, every check leaves one on the checked server). A server
/// not seen to close gets the usual close. Load balancers end their checks with a reset too.
fn let_go(stream: &TcpStream) {
    use futures_util::FutureExt;
    let closed = stream.ready(tokio::io::Interest::READABLE).now_or_never().and_then(Result::ok);
    if closed.is_some_and(|ready| ready.is_read_closed()) {
        let _ = socket2::SockRef::from(stream).set_linger(Some(std::time::Duration::ZERO));
    }
}

/// GETs `url` on `kept` while it is open (again on a fresh connection when the server had
/// closed it in between), else on a fresh one; gives back the connection when it can carry the
/// next request. The caller bounds the time, and drops the connection if time runs out.
pub async fn get_keep_alive(
    kept: Option<TcpStream>,
    url: &Url,
    request: &[u8],
    cap: usize,
) -> (Result<Answer, ProbeError>, Option<TcpStream>) {
    if let Some(mut stream) = kept {
        match exchange(&mut stream, url, request, cap).await {
            Ok((answer, reusable)) => return (Ok(answer), reusable.then_some(stream)),
            Err(Failure::Failed(e)) => return (Err(e), None),
            Err(Failure::Stale(_)) => {}
        }
    }
    let (mut stream, sent) = match fresh(url, request).await {
        Ok(opened) => opened,
        Err(e) => return (Err(e), None),
    };
    // The requests that follow on this connection go out at once too.
    let _ = stream.set_nodelay(true);
    match exchange(&mut stream, url, &request[sent..], cap).await {
        Ok((answer, reusable)) => (Ok(answer), reusable.then_some(stream)),
        Err(Failure::Stale(e) | Failure::Failed(e)) => (Err(e), None),
    }
}

/// A fresh connection to `url` with as much of `request` sent as could go at once: a request of
/// one segment goes out with the connection (Nagle's algorithm cannot hold it back); a longer
/// one waits for TCP_NODELAY. Gives the stream and the bytes sent.
async fn fresh(url: &Url, request: &[u8]) -> Result<(TcpStream, usize), ProbeError> {
    if request.len() <= ONE_SEGMENT {
        return connect(url, request).await;
    }
    let (stream, _) = connect(url, &[]).await?;
    let _ = stream.set_nodelay(true);
    Ok((stream, 0))
}

/// Why an exchange failed: on a kept connection, `Stale` (closed before any answer) is worth
/// one more try on a fresh one.
enum Failure {
    Stale(ProbeError),
    Failed(ProbeError),
}

/// One request and its answer on `stream`; whether the connection can carry another.
async fn exchange(stream: &mut TcpStream, url: &Url, request: &[u8], cap: usize) -> Result<(Answer, bool), Failure> {
    if let Err(e) = stream.write_all(request).await {
        return Err(Failure::Stale(ProbeError::Connect(format!("sending the request: {e}"))));
    }
    let mut buf = Vec::with_capacity(FIRST_READ);
    let (code, length, chunked, location, gzip, close, head_len) = loop {
        let read = match read_more(stream, &mut buf).await {
            Ok(n) => n,
            Err(e) if buf.is_empty() => return Err(Failure::Stale(e)),
            Err(e) => return Err(Failure::Failed(e)),
        };
        if read == 0 {
            return Err(if buf.is_empty() {
                Failure::Stale(ProbeError::Other("connection closed before an answer".into()))
            } else {
                Failure::Failed(ProbeError::Other("connection closed in the middle of the answer's head".into()))
            });
        }
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut headers);
        match response.parse(&buf) {
            Ok(httparse::Status::Complete(len)) => {
                let code = response.code.unwrap_or(0);
                if (100..200).contains(&code) {
                    // An interim answer (100 Continue, 103 Early Hints): the real one follows.
                    buf.drain(..len);
                    continue;
                }
                let mut length = None;
                let (mut chunked, mut location, mut gzip) = (false, None, false);
                let mut close = response.version != Some(1);
                for h in response.headers.iter() {
                    let value = std::str::from_utf8(h.value).unwrap_or("").trim();
                    if h.name.eq_ignore_ascii_case("content-length") {
                        length = value.parse::<u64>().ok();
                    } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                        chunked = value.to_ascii_lowercase().ends_with("chunked");
                    } else if h.name.eq_ignore_ascii_case("location") {
                        location = Some(value.to_string());
                    } else if h.name.eq_ignore_ascii_case("content-encoding") {
                        gzip = value.eq_ignore_ascii_case("gzip");
                    } else if h.name.eq_ignore_ascii_case("connection") {
                        close |= value.eq_ignore_ascii_case("close");
                    }
                }
                break (code, length, chunked, location, gzip, close, len);
            }
            Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD_BYTES => {}
            Ok(httparse::Status::Partial) => {
                let e = ProbeError::Other(format!("answer head over {} KiB", MAX_HEAD_BYTES / 1024));
                return Err(Failure::Failed(e));
            }
            Err(e) => return Err(Failure::Failed(ProbeError::Other(format!("not an HTTP answer ({e})")))),
        }
    };
    if matches!(code, 301 | 302 | 303 | 307 | 308)
        && let Some(location) = location
    {
        // The redirect's own body is not read, so the connection goes.
        return match url.join(&location) {
            Ok(next) => Ok((Answer::Redirect(next), false)),
            Err(e) => {
                Err(Failure::Failed(ProbeError::Other(format!("redirect to {location:?}, which is not a URL ({e})"))))
            }
        };
    }
    buf.drain(..head_len);
    let delimited = chunked || length.is_some() || matches!(code, 204 | 304);
    let (body, truncated, leftover) = if matches!(code, 204 | 304) {
        (Vec::new(), false, !buf.is_empty())
    } else if chunked {
        read_chunked(stream, buf, cap).await.map_err(Failure::Failed)?
    } else {
        let (body, truncated) = read_plain(stream, buf, length, cap).await.map_err(Failure::Failed)?;
        (body, truncated, false)
    };
    let (body, truncated) = if gzip {
        let (plain, over) = gunzip(&body, cap).map_err(Failure::Failed)?;
        (plain, truncated || over)
    } else {
        (body, truncated)
    };
    let reusable = delimited && !close && !truncated && !leftover;
    Ok((Answer::Done { code, body, truncated }, reusable))
}

/// Connects to the URL's host, trying each of its addresses in turn, and sends what it can of
/// `early` at once (see [`open`]); gives the stream and how many bytes of `early` went out.
async fn connect(url: &Url, early: &[u8]) -> Result<(TcpStream, usize), ProbeError> {
    let port = url.port_or_known_default().unwrap_or(80);
    let addrs: Vec<SocketAddr> = match url.host() {
        Some(url::Host::Ipv4(ip)) => vec![SocketAddr::from((ip, port))],
        Some(url::Host::Ipv6(ip)) => vec![SocketAddr::from((ip, port))],
        Some(url::Host::Domain(name)) => match tokio::net::lookup_host((name, port)).await {
            Ok(found) => found.collect(),
            Err(e) => return Err(ProbeError::Dns(e.to_string())),
        },
        None => return Err(ProbeError::Other("the URL has no host".into())),
    };
    let mut last = None;
    for addr in addrs {
        match open(addr, early).await {
            Ok(opened) => return Ok(opened),
            Err(e) => last = Some(e),
        }
    }
    Err(match last {
        Some(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => ProbeError::Refused,
        Some(e) if e.kind() == std::io::ErrorKind::ConnectionReset => ProbeError::Connect("connection reset".into()),
        Some(e) => ProbeError::Connect(e.to_string()),
        None => ProbeError::Dns("no address found".into()),
    })
}

/// Connects to `addr` and hands the socket `early` at once if the connection is already up, as
/// it is on loopback and often on a near network, where the handshake is over before the
/// connect call returns. That spares waiting for the runtime to report the socket writable (a
/// wake-up and a system call a check). Otherwise it waits for the connection as a plain connect
/// does, and learns how it went the same way. Gives the stream and how much of `early` went out.
async fn open(addr: SocketAddr, early: &[u8]) -> std::io::Result<(TcpStream, usize)> {
    use std::io::ErrorKind;
    let socket = stream_socket(addr)?;
    match socket.connect(&addr.into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return Err(e),
    }
    let sent = match early {
        [] => 0,
        // Still connecting: "would block". Refused at once (loopback): that error, as a connect gives it.
        _ => match socket.send_with_flags(early, SEND_FLAGS) {
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => 0,
            Err(e) => return Err(e),
        },
    };
    let stream = TcpStream::from_std(socket.into())?;
    if sent == 0 {
        stream.writable().await?;
        if let Some(e) = stream.take_error()? {
            return Err(e);
        }
    }
    Ok((stream, sent))
}

/// Writing to a connection the peer closed gives an error, never SIGPIPE.
#[cfg(any(target_os = "linux", target_os = "android"))]
const SEND_FLAGS: libc::c_int = libc::MSG_NOSIGNAL;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const SEND_FLAGS: libc::c_int = 0;

/// A non-blocking TCP socket for `addr`'s family, made so in the one system call where the
/// platform allows.
fn stream_socket(addr: SocketAddr) -> std::io::Result<socket2::Socket> {
    use socket2::{Domain, Protocol, Socket, Type};
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM.nonblocking(), Some(Protocol::TCP))?;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let socket = {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        socket.set_nonblocking(true)?;
        socket
    };
    Ok(socket)
}

/// Appends what the next read brings; 0 at the end of the stream.
async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<usize, ProbeError> {
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
async fn read_plain(
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
async fn read_chunked(
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
fn gunzip(body: &[u8], cap: usize) -> Result<(Vec<u8>, bool), ProbeError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn request_has_the_path_query_host_and_headers() {
        let url = Url::parse("http://10.0.0.5:8080/health/ready?deep=1").unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-probe", HeaderValue::from_static("board"));
        let text = String::from_utf8(request(&url, &headers)).unwrap();
        assert!(text.starts_with("GET /health/ready?deep=1 HTTP/1.1\r\nHost: 10.0.0.5:8080\r\n"), "{text}");
        assert!(text.contains("\r\nx-probe: board\r\n"), "{text}");
        assert!(text.contains("\r\nConnection: close\r\n"), "{text}");
        assert!(text.ends_with("\r\n\r\n"));
    }

    #[test]
    fn user_part_of_the_url_is_basic_auth_and_not_sent_in_the_line() {
        let url = Url::parse("http://ops:p%40ss@127.0.0.1/health").unwrap();
        let text = String::from_utf8(request(&url, &HeaderMap::new())).unwrap();
        // base64("ops:p@ss")
        assert!(text.contains("Authorization: Basic b3BzOnBAc3M=\r\n"), "{text}");
        assert!(text.starts_with("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"), "{text}");
    }
}
