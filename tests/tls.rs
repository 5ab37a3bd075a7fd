//! https instances against loopback TLS servers with certificates made here (rcgen): expiry
//! against the thresholds, and every TLS failure in words.

use opsboard::config::TlsSpec;
use opsboard::sources::health::probe;
use opsboard::sources::{http_client, http_client_builder, tls};
use opsboard::state::{HealthOutcome, HealthSample, Status};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use reqwest::header::HeaderMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const DAY: i64 = 86400;
const SLOW: Duration = Duration::from_secs(5);

struct Ca {
    params: CertificateParams,
    key: KeyPair,
    pem: String,
}

fn ca() -> Ca {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, "opsboard test CA");
    let key = KeyPair::generate().unwrap();
    let pem = params.self_signed(&key).unwrap().pem();
    Ca { params, key, pem }
}

/// A leaf for `names`, valid from a day ago until `left` seconds from now, signed by `ca` (or by
/// itself, as a CA when `self_ca`).
fn leaf(names: &[&str], left: i64, ca: Option<&Ca>, self_ca: bool) -> (Vec<u8>, Vec<u8>) {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    let when = |secs: i64| rcgen::date_time_ymd(1970, 1, 1) + Duration::from_secs((now + secs) as u64);
    let mut params = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    params.distinguished_name.push(DnType::CommonName, names[0]);
    params.not_before = when(-2 * DAY);
    params.not_after = when(left);
    if self_ca {
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    }
    let key = KeyPair::generate().unwrap();
    let cert = match ca {
        Some(ca) => params.signed_by(&key, &Issuer::from_params(&ca.params, &ca.key)).unwrap(),
        None => params.self_signed(&key).unwrap(),
    };
    (cert.der().to_vec(), key.serialize_der())
}

/// An https server on 127.0.0.1 answering every request `200 OK`.
async fn serve((cert, key): (Vec<u8>, Vec<u8>)) -> SocketAddr {
    use tokio_rustls::rustls::{self, pki_types};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![pki_types::CertificateDer::from(cert)],
            pki_types::PrivateKeyDer::Pkcs8(pki_types::PrivatePkcs8KeyDer::from(key)),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { return };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut s) = acceptor.accept(tcp).await else { return };
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\nconnection: close\r\n\r\nOK\n").await;
                let _ = s.shutdown().await;
            });
        }
    });
    addr
}

async fn check(addr: SocketAddr, tls: TlsSpec) -> HealthSample {
    let client = tls::client_for(&tls, http_client_builder()).unwrap_or_else(http_client);
    probe(
        &client,
        format!("https://{addr}/health").as_str(),
        &HeaderMap::new(),
        Duration::from_secs(5),
        &tls,
        &Default::default(),
    )
    .await
}

fn with_ca(ca: &Ca) -> TlsSpec {
    TlsSpec { ca_pem: Some(ca.pem.clone().into_bytes()), ..TlsSpec::default() }
}

#[tokio::test]
async fn expiry_is_judged_against_the_thresholds() {
    let ca = ca();
    for (left, status, words) in [
        (2 * DAY, Status::Crit, "certificate expires in 1d 23h"),
        (10 * DAY, Status::Warn, "certificate expires in 9d 23h"),
        (20 * DAY, Status::Ok, ""),
    ] {
        let addr = serve(leaf(&["127.0.0.1"], left, Some(&ca), false)).await;
        let s = check(addr, with_ca(&ca)).await;
        let v = s.verdict(SLOW);
        assert_eq!((v.status, v.reason.as_str()), (status, words), "{left}s left: {s:?}");
        let cert = s.cert().expect("the certificate is kept");
        assert!(cert.subject.contains("CN=127.0.0.1") && cert.issuer.contains("CN=opsboard test CA"), "{cert:?}");
        assert!(cert.verified);
    }
}

#[tokio::test]
async fn tls_failures_in_words() {
    let ca = ca();
    let expired = serve(leaf(&["127.0.0.1"], -DAY, Some(&ca), false)).await;
    let wrong_name = serve(leaf(&["other.example", "www.other.example"], 30 * DAY, Some(&ca), false)).await;
    let self_signed = serve(leaf(&["127.0.0.1"], 30 * DAY, None, false)).await;
    let ca_as_leaf = serve(leaf(&["127.0.0.1"], 30 * DAY, None, true)).await;
    for (addr, tls, words) in [
        (expired, with_ca(&ca), "certificate expired 1d 0h ago"),
        (wrong_name, with_ca(&ca), "certificate is for other.example, www.other.example, not 127.0.0.1"),
        (
            self_signed,
            TlsSpec::default(),
            "certificate from an unknown issuer (self-signed or a private CA: set ca_file)",
        ),
        (ca_as_leaf, TlsSpec::default(), "self-signed certificate (a CA certificate used by the server): set ca_file"),
    ] {
        let default_trust = tls.ca_pem.is_none();
        let s = check(addr, tls).await;
        let v = s.verdict(SLOW);
        assert_eq!(v.status, Status::Crit, "{s:?}");
        assert!(v.reason.starts_with(words), "{:?} vs {words:?}", v.reason);
        assert!(!v.reason.contains("Other(") && !v.reason.contains("Error"), "no debug strings: {}", v.reason);
        if default_trust {
            // A scrape of the same server words it the same way.
            let url = format!("https://{addr}/metrics").parse().unwrap();
            let client = opsboard::sources::scrape::metrics_client();
            let scraped = opsboard::sources::scrape::scrape(
                &client,
                url,
                &HeaderMap::new(),
                Duration::from_secs(5),
                &Default::default(),
            )
            .await;
            let err = scraped.outcome.expect_err("the scrape fails too");
            assert!(err.contains(words), "the scrape's words: {err:?}, the health check's: {words:?}");
        }
    }
    // Not speaking TLS at all.
    let plain = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let plain_addr = plain.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = plain.accept().await {
            let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
        }
    });
    let v = check(plain_addr, TlsSpec::default()).await.verdict(SLOW);
    assert!(v.reason.starts_with("handshake failure"), "{v:?}");
}

#[tokio::test]
async fn a_private_ca_as_ca_file_and_tls_verify_false() {
    let ca = ca();
    let addr = serve(leaf(&["127.0.0.1"], 30 * DAY, Some(&ca), false)).await;
    let trusted = check(addr, with_ca(&ca)).await;
    assert_eq!(trusted.verdict(SLOW).status, Status::Ok, "{trusted:?}");
    let untrusted = check(addr, TlsSpec::default()).await;
    assert!(untrusted.verdict(SLOW).reason.contains("unknown issuer"), "{untrusted:?}");
    // Not verified: it answers, the certificate is still read (and its expiry still judged).
    let expired = serve(leaf(&["127.0.0.1"], -3 * DAY, None, true)).await;
    let s = check(expired, TlsSpec { verify: false, ..TlsSpec::default() }).await;
    assert!(matches!(s.outcome, HealthOutcome::Response { code: 200, .. }), "{s:?}");
    let cert = s.cert().expect("read even when not verified");
    assert!(!cert.verified);
    let v = s.verdict(SLOW);
    assert_eq!((v.status, v.reason.as_str()), (Status::Crit, "certificate expired 3d 0h ago"));
}

#[test]
fn a_ca_file_that_is_not_pem_is_named_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("ca.pem");
    std::fs::write(&bad, "not a certificate").unwrap();
    let text = format!("[services.api]\ninstances = [\"https://127.0.0.1:9\"]\nca_file = \"{}\"\n", bad.display());
    let err = opsboard::config::load_str("tls.toml", &text).unwrap_err();
    assert_eq!((err.line, err.key.as_deref()), (Some(3), Some("services.api.ca_file")), "{err}");
    assert!(err.message.contains("holds no PEM certificate"), "{err}");
}
