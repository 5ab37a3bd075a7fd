//! TLS for https instances: a client per private CA or unverified service, the peer
//! certificate's expiry and names, and TLS failures in words a person can act on.

use crate::config::TlsSpec;
use crate::state::{CertSeen, Status};
use rustls::CertificateError;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A client of its own for a service that trusts a private CA or verifies nothing; `None` uses
/// the shared one.
pub fn client_for(tls: &TlsSpec, base: reqwest::ClientBuilder) -> Option<reqwest::Client> {
    if tls.verify && tls.ca_pem.is_none() {
        return None;
    }
    let mut b = base.tls_info(true);
    if let Some(pem) = &tls.ca_pem {
        for cert in reqwest::Certificate::from_pem_bundle(pem).unwrap_or_default() {
            b = b.add_root_certificate(cert);
        }
    }
    if !tls.verify {
        b = b.danger_accept_invalid_certs(true);
    }
    match b.build() {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::error!(error = %e, "TLS client not built; the shared one is used");
            None
        }
    }
}

/// The peer certificate of an https response, judged against the expiry thresholds at `now`.
pub fn cert_seen(resp: &reqwest::Response, tls: &TlsSpec, now: SystemTime) -> Option<CertSeen> {
    let info = resp.extensions().get::<reqwest::tls::TlsInfo>()?;
    let der = info.peer_certificate()?;
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let not_after = UNIX_EPOCH + Duration::from_secs(cert.validity().not_after.timestamp().max(0) as u64);
    let left = not_after.duration_since(now).ok();
    let (level, words) = match left {
        None => {
            let ago = now.duration_since(not_after).unwrap_or_default();
            (Status::Crit, format!("certificate expired {} ago", crate::format::elapsed(ago)))
        }
        Some(d) if d <= tls.expiry_crit => {
            (Status::Crit, format!("certificate expires in {}", crate::format::elapsed(d)))
        }
        Some(d) if d <= tls.expiry_warn => {
            (Status::Warn, format!("certificate expires in {}", crate::format::elapsed(d)))
        }
        Some(d) => (Status::Ok, format!("certificate valid for {}", crate::format::elapsed(d))),
    };
    Some(CertSeen {
        not_after,
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        verified: tls.verify,
        level,
        words,
    })
}

/// Words for a TLS failure anywhere in an error's chain, if it is one.
pub fn failure(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut source = Some(e);
    while let Some(s) = source {
        if let Some(t) = wrapped(s) {
            return Some(words(t));
        }
        source = s.source();
    }
    None
}

/// The rustls error in `e`, also through io::Errors wrapping it (as hyper hands it on), whose
/// `source` skips the error they wrap.
fn wrapped<'a>(mut e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    loop {
        if let Some(t) = e.downcast_ref::<rustls::Error>() {
            return Some(t);
        }
        e = e.downcast_ref::<std::io::Error>()?.get_ref()?;
    }
}

fn words(e: &rustls::Error) -> String {
    use rustls::Error as E;
    match e {
        E::InvalidCertificate(c) => match c {
            CertificateError::Expired => "certificate expired".into(),
            CertificateError::ExpiredContext { time, not_after } => {
                let ago = time.as_secs().saturating_sub(not_after.as_secs());
                format!("certificate expired {} ago", crate::format::elapsed(Duration::from_secs(ago)))
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "certificate not yet valid (or this machine's clock is wrong)".into()
            }
            CertificateError::UnknownIssuer => {
                "certificate from an unknown issuer (self-signed or a private CA: set ca_file)".into()
            }
            CertificateError::NotValidForName => "certificate is for another name".into(),
            CertificateError::NotValidForNameContext { expected, presented } => {
                let wanted = match expected {
                    rustls::pki_types::ServerName::DnsName(d) => d.as_ref().to_string(),
                    rustls::pki_types::ServerName::IpAddress(ip) => std::net::IpAddr::from(*ip).to_string(),
                    other => format!("{other:?}"),
                };
                // rustls names each presented name as `DnsName("a.example")`: keep the name.
                let names: Vec<&str> = presented
                    .iter()
                    .map(|p| {
                        p.split_once('(').map_or(p.as_str(), |(_, rest)| rest.trim_end_matches(')').trim_matches('"'))
                    })
                    .collect();
                format!("certificate is for {}, not {wanted}", names.join(", "))
            }
            CertificateError::Revoked => "certificate revoked".into(),
            CertificateError::BadSignature | CertificateError::BadEncoding => "certificate is malformed".into(),
            other => {
                let text = format!("{other:?}");
                if text.contains("CaUsedAsEndEntity") {
                    "self-signed certificate (a CA certificate used by the server): set ca_file".into()
                } else {
                    format!("certificate rejected: {other}")
                }
            }
        },
        E::AlertReceived(alert) => format!("handshake failure: the server sent {alert:?}"),
        E::InvalidMessage(_) | E::InappropriateMessage { .. } | E::InappropriateHandshakeMessage { .. } => {
            "handshake failure: the server does not speak TLS here".into()
        }
        E::NoCertificatesPresented => "handshake failure: the server presented no certificate".into(),
        other => format!("handshake failure: {other}"),
    }
}
