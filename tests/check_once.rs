//! `opsboard check` runs the same collector as the board, once: every source at once and
//! concurrently (four AWS accounts behind a proxy that answers each request 1 s late are asked
//! together, not in turn), no webhook sent and no deploy history written.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_opsboard");

/// `opsboard check --json --config <path>` with only test credentials for AWS; its JSON and how
/// long it took.
fn check(dir: &Path, config: &str) -> (serde_json::Value, Duration) {
    let path = dir.join("board.toml");
    std::fs::write(&path, config).unwrap();
    let mut cmd = Command::new(BIN);
    cmd.args(["check", "--json", "--config"]).arg(&path);
    for var in ["AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION"] {
        cmd.env_remove(var);
    }
    cmd.env("AWS_ACCESS_KEY_ID", "test").env("AWS_SECRET_ACCESS_KEY", "test");
    cmd.env("AWS_CONFIG_FILE", dir.join("no-config")).env("AWS_SHARED_CREDENTIALS_FILE", dir.join("no-credentials"));
    cmd.env("AWS_EC2_METADATA_DISABLED", "true").env("XDG_DATA_HOME", dir.join("data"));
    let t0 = Instant::now();
    let out = cmd.output().unwrap();
    let took = t0.elapsed();
    let json =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (json, took)
}

#[tokio::test]
async fn a_check_sends_no_webhook_and_writes_no_deploy_history() {
    let receiver = common::receiver::start(&[], false).await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("deploys-from-ci.jsonl");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    std::fs::write(&log, format!("{{\"service\":\"web\",\"version\":\"2.0.0\",\"when\":{now},\"who\":\"ci\"}}\n"))
        .unwrap();
    let config = format!(
        "[defaults]\ntimeout = \"1s\"\n[services.web]\ninstances = [\"http://127.0.0.1:9\"]\n\
         [deploys]\nlog = \"{}\"\n[[notify]]\nurl = \"{}\"\ngroup_wait = \"0s\"\n",
        log.display(),
        receiver.url()
    );
    let (report, _) = {
        let dir = dir.path().to_path_buf();
        tokio::task::spawn_blocking(move || check(&dir, &config)).await.unwrap()
    };
    assert_eq!(report["status"], "crit", "the instance cannot be reached: {report}");
    assert!(
        report["deploys"].as_array().unwrap().iter().any(|d| d["version"] == "2.0.0"),
        "the deploy log was read: {report}"
    );
    // Time for a webhook to have arrived had one been sent.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(receiver.bodies().is_empty(), "check sent a webhook: {:?}", receiver.bodies());
    let history = dir.path().join("data/opsboard/deploys.jsonl");
    assert!(
        !history.exists(),
        "check wrote the deploy history: {}",
        std::fs::read_to_string(&history).unwrap_or_default()
    );
}

/// Accounts asked together, through a proxy that holds each request back.
#[cfg(feature = "aws")]
mod accounts {
    use super::check;
    use std::net::SocketAddr;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    /// Counts requests held back at once, and the most ever held.
    #[derive(Clone, Default)]
    struct Held {
        now: Arc<AtomicUsize>,
        most: Arc<AtomicUsize>,
    }

    /// Copies `from` to `to`, holding each piece `delay` first: a server that answers late.
    async fn copy_late(
        mut from: tokio::net::tcp::OwnedReadHalf,
        mut to: tokio::net::tcp::OwnedWriteHalf,
        delay: Duration,
        held: Held,
    ) {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match from.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            let now = held.now.fetch_add(1, Ordering::SeqCst) + 1;
            held.most.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(delay).await;
            held.now.fetch_sub(1, Ordering::SeqCst);
            if to.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    }

    /// A proxy on 127.0.0.1 in front of `upstream` that forwards every request `delay` late.
    async fn late_proxy(upstream: SocketAddr, delay: Duration, held: Held) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(upstream).await else { continue };
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                tokio::spawn(copy_late(cr, sw, delay, held.clone()));
                tokio::spawn(async move {
                    let (mut sr, mut cw) = (sr, cw);
                    let _ = tokio::io::copy(&mut sr, &mut cw).await;
                });
            }
        });
        addr
    }

    fn accounts(n: usize, endpoint: &str) -> String {
        let mut config =
            "[defaults]\ntimeout = \"1s\"\n[services.web]\ninstances = [\"http://127.0.0.1:9\"]\n".to_string();
        for i in 0..n {
            config.push_str(&format!(
                "[aws.account{i}]\nregion = \"eu-west-1\"\nendpoint_url = \"{endpoint}\"\nasgs = [\"web-asg\"]\n"
            ));
        }
        config
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn four_late_accounts_are_asked_together_not_in_turn() {
        let moto = crate::common::moto::start();
        crate::common::moto::seed_group(&moto, "web-asg", 1, 2, 5);
        let held = Held::default();
        let proxy =
            late_proxy(format!("127.0.0.1:{}", moto.port).parse().unwrap(), Duration::from_secs(1), held.clone()).await;
        let endpoint = format!("http://{proxy}");
        let dir = tempfile::tempdir().unwrap();

        let (one, one_took) = {
            let (dir, endpoint) = (dir.path().to_path_buf(), endpoint.clone());
            tokio::task::spawn_blocking(move || check(&dir, &accounts(1, &endpoint))).await.unwrap()
        };
        assert_eq!(held.most.load(Ordering::SeqCst), 1, "one account asks one thing at a time");
        let (four, four_took) = {
            let (dir, endpoint) = (dir.path().to_path_buf(), endpoint.clone());
            tokio::task::spawn_blocking(move || check(&dir, &accounts(4, &endpoint))).await.unwrap()
        };
        eprintln!("check --json, each AWS request 1 s late: one account {one_took:?}, four accounts {four_took:?}");
        for report in [&one, &four] {
            for account in report["aws_accounts"].as_array().unwrap() {
                assert!(account["error"].is_null(), "{account}");
            }
        }
        assert_eq!(four["asgs"].as_array().unwrap().len(), 4, "each account's group: {four}");
        assert!(four["asgs"].as_array().unwrap().iter().all(|g| g["in_service"] == 2), "{four}");
        assert_eq!(held.most.load(Ordering::SeqCst), 4, "the four accounts' requests were held at the same time");
    }
}
