//! The request bytes: written once per instance, handed to the socket whole.

use reqwest::Url;
use reqwest::header::{AUTHORIZATION, HeaderMap};

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
        crate::sources::http::USER_AGENT
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
