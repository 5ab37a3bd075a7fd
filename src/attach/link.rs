//! One connection to a running `serve`: the upgrade to the attach protocol, the hello, then
//! messages from the server on a channel and lines to it.

use super::wire::{self, Down, Up};
use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper::header::{AUTHORIZATION, CONNECTION, HOST, UPGRADE};
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use std::time::Duration;
use tokio::io::{AsyncWriteExt, BufReader, WriteHalf};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// How long reaching the server and its answer to the upgrade may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// A line to the server that cannot be written in this long ends the connection.
const WRITE_TIMEOUT: Duration = Duration::from_secs(3);
/// Messages read ahead of the loop.
const QUEUE: usize = 64;

/// Where the server is: `http://host:port` or `https://host:port` (a path after it is kept as
/// its prefix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub authority: String,
    pub prefix: String,
    /// As the person wrote it, for messages.
    pub url: String,
    /// Whether it speaks TLS, and the CA its certificate is checked against (the system's roots
    /// without one).
    pub tls: bool,
    pub ca_file: Option<std::path::PathBuf>,
    /// `unix:/run/opsboard/board.sock`: the server's Unix socket on this machine.
    pub unix: Option<std::path::PathBuf>,
}

impl Target {
    pub fn parse(url: &str) -> Result<Self, String> {
        if let Some(path) = url.strip_prefix("unix:") {
            let path = path.trim_start_matches("//");
            if path.is_empty() {
                return Err(format!("{url}: no path; write unix:/run/opsboard/board.sock"));
            }
            let unix = Some(std::path::PathBuf::from(path));
            return Ok(Self {
                authority: "localhost".into(),
                prefix: String::new(),
                url: url.into(),
                tls: false,
                ca_file: None,
                unix,
            });
        }
        let (rest, tls) = match url.split_once("://") {
            Some(("http", rest)) => (rest, false),
            Some(("https", rest)) => (rest, true),
            Some((scheme, _)) => {
                return Err(format!("{url}: `{scheme}` is not a scheme attach speaks; write http:// or https://"));
            }
            None => (url, false),
        };
        let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
        if authority.is_empty() {
            return Err(format!("{url}: no host; write http://host:port"));
        }
        let authority = if authority.rsplit_once(':').is_some_and(|(_, p)| p.parse::<u16>().is_ok()) {
            authority.to_string()
        } else {
            format!("{authority}:{}", if tls { 443 } else { 80 })
        };
        let prefix = path.trim_end_matches('/');
        let prefix = if prefix.is_empty() { String::new() } else { format!("/{prefix}") };
        Ok(Self { authority, prefix, url: url.to_string(), tls, ca_file: None, unix: None })
    }

    /// The host the certificate must name.
    fn host(&self) -> &str {
        let host = self.authority.rsplit_once(':').map_or(self.authority.as_str(), |(h, _)| h);
        host.trim_start_matches('[').trim_end_matches(']')
    }

    /// The TLS connector for this server: its CA file's roots, or the system's.
    fn connector(&self) -> Result<tokio_rustls::TlsConnector, String> {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        crate::sources::http::install_crypto();
        let config = match &self.ca_file {
            Some(path) => {
                let mut roots = rustls::RootCertStore::empty();
                let certs = CertificateDer::pem_file_iter(path).map_err(|e| format!("{}: {e}", path.display()))?;
                for cert in certs {
                    let cert = cert.map_err(|e| format!("{}: {e}", path.display()))?;
                    roots.add(cert).map_err(|e| format!("{}: {e}", path.display()))?;
                }
                rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth()
            }
            None => {
                use rustls_platform_verifier::ConfigVerifierExt;
                rustls::ClientConfig::with_platform_verifier().map_err(|e| format!("the system's roots: {e}"))?
            }
        };
        Ok(tokio_rustls::TlsConnector::from(std::sync::Arc::new(config)))
    }
}

/// What a connection to the server runs over: plain TCP, or TLS over it.
trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static> Io for T {}

/// A live connection: what the server says, and the way to tell it things.
pub struct Link {
    pub down: mpsc::Receiver<Down>,
    up: WriteHalf<TokioIo<hyper::upgrade::Upgraded>>,
    reader: tokio::task::JoinHandle<()>,
}

impl Drop for Link {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl Link {
    /// Connects, upgrades and says hello; every way this fails is an error in words.
    pub async fn open(
        target: &Target,
        token: Option<&str>,
        operator: Option<&str>,
        hello: &Up,
    ) -> Result<Self, String> {
        tokio::time::timeout(CONNECT_TIMEOUT, Self::open_now(target, token, operator, hello))
            .await
            .unwrap_or_else(|_| Err(format!("{} did not answer within {}s", target.url, CONNECT_TIMEOUT.as_secs())))
    }

    async fn open_now(
        target: &Target,
        token: Option<&str>,
        operator: Option<&str>,
        hello: &Up,
    ) -> Result<Self, String> {
        let url = &target.url;
        if let Some(path) = &target.unix {
            let stream = tokio::net::UnixStream::connect(path).await.map_err(|e| format!("cannot reach {url}: {e}"))?;
            return Self::upgrade(Box::new(stream), target, token, operator, hello).await;
        }
        let stream = TcpStream::connect(&target.authority).await.map_err(|e| format!("cannot reach {url}: {e}"))?;
        let _ = stream.set_nodelay(true);
        let stream: Box<dyn Io> = if target.tls {
            let name = rustls::pki_types::ServerName::try_from(target.host().to_string())
                .map_err(|e| format!("{url}: {e}"))?;
            let tls = target.connector()?.connect(name, stream).await.map_err(|e| format!("{url}: TLS: {e}"))?;
            Box::new(tls)
        } else {
            Box::new(stream)
        };
        Self::upgrade(stream, target, token, operator, hello).await
    }

    /// The upgrade to the attach protocol over `stream`, and the hello.
    async fn upgrade(
        stream: Box<dyn Io>,
        target: &Target,
        token: Option<&str>,
        operator: Option<&str>,
        hello: &Up,
    ) -> Result<Self, String> {
        let url = &target.url;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| format!("{url}: {e}"))?;
        tokio::spawn(async move {
            let _ = conn.with_upgrades().await;
        });
        let mut req = Request::get(format!("{}/attach", target.prefix))
            .header(HOST, &target.authority)
            .header(CONNECTION, "upgrade")
            .header(UPGRADE, wire::UPGRADE)
            .header(wire::VERSION_HEADER, wire::PROTOCOL.to_string());
        if let Some(t) = token {
            req = req.header(AUTHORIZATION, format!("Bearer {t}"));
        }
        if let Some(t) = operator {
            req = req.header(wire::OPERATOR_HEADER, t);
        }
        let req = req.body(Empty::<Bytes>::new()).map_err(|e| format!("{url}: {e}"))?;
        let resp = sender.send_request(req).await.map_err(|e| format!("{url}: {e}"))?;
        let status = resp.status();
        if status != StatusCode::SWITCHING_PROTOCOLS {
            let body = Limited::new(resp.into_body(), 4096).collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            let words = String::from_utf8_lossy(&body).trim().to_string();
            return Err(match status {
                StatusCode::NOT_FOUND => format!("{url} is not an opsboard serve that takes terminals (404)"),
                _ if words.is_empty() => format!("{url} refused to attach: {status}"),
                _ => format!("{url} refused to attach: {words}"),
            });
        }
        let theirs = resp.headers().get(wire::VERSION_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("none");
        if theirs != wire::PROTOCOL.to_string() {
            return Err(format!(
                "{url} speaks attach protocol {theirs} and this terminal {}: attach with the same opsboard version as the server's",
                wire::PROTOCOL
            ));
        }
        let io = hyper::upgrade::on(resp).await.map_err(|e| format!("{url}: {e}"))?;
        let (rd, up) = tokio::io::split(TokioIo::new(io));
        let (tx, down) = mpsc::channel(QUEUE);
        let reader = tokio::spawn(read(BufReader::new(rd), tx));
        let mut link = Self { down, up, reader };
        link.send(hello).await.map_err(|()| format!("{url} closed the connection"))?;
        Ok(link)
    }

    /// Writes one message; an error means the connection is gone.
    pub async fn send(&mut self, msg: &Up) -> Result<(), ()> {
        let mut line = serde_json::to_string(msg).map_err(|_| ())?;
        line.push('\n');
        match tokio::time::timeout(WRITE_TIMEOUT, self.up.write_all(line.as_bytes())).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(()),
        }
    }
}

/// The server's messages onto the channel, until the connection ends or says something that is
/// not the protocol.
async fn read(mut rd: BufReader<tokio::io::ReadHalf<TokioIo<hyper::upgrade::Upgraded>>>, tx: mpsc::Sender<Down>) {
    while let Ok(Some(line)) = crate::serve::read_line(&mut rd, wire::MAX_DOWN_LINE).await {
        match serde_json::from_str::<Down>(&line) {
            Ok(msg) => {
                if tx.send(msg).await.is_err() {
                    return;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "the server sent what is not the attach protocol");
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Target;

    #[test]
    fn addresses_are_read_as_people_write_them() {
        let t = Target::parse("http://127.0.0.1:7878/").unwrap();
        assert_eq!((t.authority.as_str(), t.prefix.as_str()), ("127.0.0.1:7878", ""));
        let t = Target::parse("bastion:7878").unwrap();
        assert_eq!(t.authority, "bastion:7878");
        let t = Target::parse("http://ops.example/board/").unwrap();
        assert_eq!((t.authority.as_str(), t.prefix.as_str()), ("ops.example:80", "/board"));
        let t = Target::parse("unix:/run/opsboard/board.sock").unwrap();
        assert_eq!(t.unix.as_deref(), Some(std::path::Path::new("/run/opsboard/board.sock")));
        let t = Target::parse("https://ops.example/").unwrap();
        assert_eq!((t.authority.as_str(), t.tls, t.host()), ("ops.example:443", true, "ops.example"));
        assert!(Target::parse("ftp://x:1").unwrap_err().contains("`ftp`"));
        assert!(Target::parse("http://").unwrap_err().contains("no host"));
    }
}
