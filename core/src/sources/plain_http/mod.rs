//! A lean HTTP/1.1 GET for plain-http health checks: one fresh connection, one request written
//! in one call, the head parsed in place and at most `cap` bytes of body read. No pool, no
//! per-request client, no URL re-parsing: on loopback this costs close to what the connection
//! itself costs (`cargo bench --bench health_cost`). https goes through reqwest, which reads the
//! certificate.

mod body;
mod connect;
mod request;

pub use request::{request, scrape_request};

use crate::state::ProbeError;
use body::{gunzip, read_chunked, read_more, read_plain};
use connect::{connect, let_go};
use reqwest::Url;
use tokio::io::AsyncWriteExt;
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

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};

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
