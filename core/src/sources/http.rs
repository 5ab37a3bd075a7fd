//! HTTP helpers shared by the sources: the client builder, capped body reads and transport
//! errors in words.

use crate::state::ProbeError;

/// The User-Agent of every request the board makes.
pub const USER_AGENT: &str = concat!("opsboard/", env!("CARGO_PKG_VERSION"));

/// A reqwest client builder that names itself [`USER_AGENT`], with TLS ready: rustls with ring's
/// cryptography, made the process default the first time. Every client the board makes starts here.
pub fn client_builder() -> reqwest::ClientBuilder {
    install_crypto();
    reqwest::Client::builder().user_agent(USER_AGENT)
}

/// Makes rustls with ring's cryptography the process default, once; every TLS config the board
/// builds (its clients', `serve`'s, `attach`'s) stands on it.
pub fn install_crypto() {
    static CRYPTO: std::sync::Once = std::sync::Once::new();
    CRYPTO.call_once(|| {
        // Fails only when a provider is already installed, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A client with reqwest's defaults otherwise, as [`client_builder`] makes it.
pub fn client() -> reqwest::Client {
    client_builder().build().expect("an HTTP client with default settings")
}

/// Reads at most `cap` bytes of a body; the rest is never read. Returns the bytes and whether it was cut.
pub async fn read_capped(resp: &mut reqwest::Response, cap: usize) -> Result<(Vec<u8>, bool), reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        let room = cap - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            return Ok((body, true));
        }
        body.extend_from_slice(&chunk);
        if body.len() == cap {
            return Ok((body, true));
        }
    }
    Ok((body, false))
}

/// Turns a transport error into words a person can act on.
pub fn classify(e: &reqwest::Error) -> ProbeError {
    if e.is_timeout() {
        return ProbeError::Other("timeout".into());
    }
    // Before the io::Error that wraps it, whose words are rustls' debug string.
    if let Some(words) = super::tls::failure(e) {
        return ProbeError::Tls(words);
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                std::io::ErrorKind::ConnectionRefused => ProbeError::Refused,
                std::io::ErrorKind::ConnectionReset => ProbeError::Connect("connection reset".into()),
                _ => ProbeError::Connect(io.to_string()),
            };
        }
        source = s.source();
    }
    let text = short_error(e);
    if text.contains("dns error") || text.contains("failed to lookup") {
        ProbeError::Dns(text)
    } else if e.is_connect() {
        ProbeError::Connect(text)
    } else {
        ProbeError::Other(text)
    }
}

/// The innermost message of an error chain: the one that says what happened.
pub fn short_error(e: &(dyn std::error::Error + 'static)) -> String {
    let mut last = e;
    while let Some(next) = last.source() {
        last = next;
    }
    last.to_string()
}
