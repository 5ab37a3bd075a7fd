//! The connection: a non-blocking connect that sends the request as soon as it is up, and a
//! close that leaves no TIME_WAIT behind.

use crate::state::ProbeError;
use reqwest::Url;
use std::net::SocketAddr;
use tokio::net::TcpStream;

/// Makes dropping `stream` end the connection with a reset when the server has already closed
/// its side (as one answering `Connection: close` does, and as the runtime saw it without
/// another system call): the answer is in and the server's program is done with the socket, so
/// nothing is lost and nobody is told of a reset; and neither end keeps the connection in
/// TIME_WAIT for a minute (without it, every check leaves one on the checked server). A server
/// not seen to close gets the usual close. Load balancers end their checks with a reset too.
pub(super) fn let_go(stream: &TcpStream) {
    use futures_util::FutureExt;
    let closed = stream.ready(tokio::io::Interest::READABLE).now_or_never().and_then(Result::ok);
    if closed.is_some_and(|ready| ready.is_read_closed()) {
        let _ = socket2::SockRef::from(stream).set_linger(Some(std::time::Duration::ZERO));
    }
}

/// Connects to the URL's host, trying each of its addresses in turn, and sends what it can of
/// `early` at once (see [`open`]); gives the stream and how many bytes of `early` went out.
pub(super) async fn connect(url: &Url, early: &[u8]) -> Result<(TcpStream, usize), ProbeError> {
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
pub(super) async fn open(addr: SocketAddr, early: &[u8]) -> std::io::Result<(TcpStream, usize)> {
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
