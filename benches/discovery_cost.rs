//! One service discovered from a Prometheus targets answer of 5,000 targets, served on loopback
//! (`cargo bench --bench discovery_cost`). Prints:
//! - the CPU of one parse of that answer (label filter, scrape URLs), over 30 parses;
//! - the live collector's CPU per discovery round, reading it every second for 10 s (health
//!   checks every 10 minutes, so that the rounds dominate);
//! - the process' RSS with 5,000 discovered rows;
//! - the time from a change in the answer (100 targets replaced) to the rows on the board.
//!
//! The answer has every field Prometheus 2.x/3.x writes for an active target (discovered labels,
//! labels, scrape pool, URLs, last scrape, health, intervals), about 1.1 KB a target.

use opsboard::collector::Collector;
use opsboard::history::DeployHistory;
use opsboard::sources::discovery::prometheus::{Selector, parse};
use opsboard::state::Life;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TARGETS: usize = 5_000;

fn target(i: usize, generation: usize) -> String {
    let (a, b) = (1 + i / 250, 1 + i % 250);
    let addr = format!("127.0.{a}.{b}:{}", 9100 + generation);
    format!(
        r#"{{"discoveredLabels":{{"__address__":"{addr}","__meta_ec2_instance_id":"i-{i:017x}","__meta_ec2_availability_zone":"eu-west-1a","__meta_ec2_instance_state":"running","__meta_ec2_private_ip":"127.0.{a}.{b}","__meta_ec2_tag_Name":"api-{i}","__metrics_path__":"/metrics","__scheme__":"http","__scrape_interval__":"15s","__scrape_timeout__":"10s","job":"api"}},"labels":{{"instance":"api-{i}","job":"api","zone":"eu-west-1a"}},"scrapePool":"api","scrapeUrl":"http://{addr}/metrics","globalUrl":"http://{addr}/metrics","lastError":"","lastScrape":"2026-12-02T10:00:00.123456789Z","lastScrapeDuration":0.004123,"health":"up","scrapeInterval":"15s","scrapeTimeout":"10s"}}"#
    )
}

fn answer(generation_of: impl Fn(usize) -> usize) -> String {
    let targets: Vec<String> = (0..TARGETS).map(|i| target(i, generation_of(i))).collect();
    format!(r#"{{"status":"success","data":{{"activeTargets":[{}],"droppedTargets":[]}}}}"#, targets.join(","))
}

/// Serves the current answer to every request, counting them.
async fn serve(body: Arc<RwLock<String>>, served: Arc<AtomicU64>) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else { return };
            let (body, served) = (body.clone(), served.clone());
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let _ = s.read(&mut buf).await;
                let text = body.read().unwrap().clone();
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    text.len()
                );
                let _ = s.write_all(head.as_bytes()).await;
                let _ = s.write_all(text.as_bytes()).await;
                served.fetch_add(1, Ordering::Relaxed);
            });
        }
    });
    addr
}

fn cpu_seconds() -> f64 {
    let mut u = std::mem::MaybeUninit::<libc::rusage>::uninit();
    // SAFETY: getrusage fills the struct it is given.
    let u = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, u.as_mut_ptr());
        u.assume_init()
    };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    t(u.ru_utime) + t(u.ru_stime)
}

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

fn present(c: &Collector) -> Vec<&str> {
    let svc = &c.state.services[0];
    svc.instances.iter().filter(|i| !matches!(i.life, Life::Gone { .. })).map(|i| i.spec.base_url.as_str()).collect()
}

async fn drive_until(c: &mut Collector, within: Duration, done: impl Fn(&Collector) -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    while tokio::time::Instant::now() < deadline {
        tokio::select! {
            () = c.next_batch() => {}
            _ = tick.tick() => c.tick(SystemTime::now()),
        }
        if done(c) {
            return true;
        }
    }
    false
}

#[tokio::main]
async fn main() {
    let first = answer(|_| 0);
    println!("answer: {TARGETS} targets, {:.1} MB", first.len() as f64 / 1e6);
    let selector = Selector::new(&opsboard::config::discovery::parse_matchers(r#"job="api""#).unwrap());
    let runs = 30;
    let t = Instant::now();
    for _ in 0..runs {
        let found = parse(first.as_bytes(), 200, &selector, "instance").unwrap();
        assert_eq!(found.len(), TARGETS);
    }
    println!("parse + filter: {:.1} ms per answer", t.elapsed().as_secs_f64() * 1000.0 / runs as f64);

    let body = Arc::new(RwLock::new(first));
    let served = Arc::new(AtomicU64::new(0));
    let addr = serve(body.clone(), served.clone()).await;
    let toml = format!(
        "[polling]\nmax_in_flight = 64\n[defaults]\ninterval = \"10m\"\nwindow = \"10m\"\ntimeout = \"1s\"\nscrape = false\n\
         [prometheus]\nurl = \"http://{addr}\"\ntimeout = \"10s\"\n\
         [services.api]\ninstances_from = [{{ prometheus = 'job=\"api\"', interval = \"1s\" }}]\n"
    );
    let loaded = Arc::new(opsboard::config::load_str("bench.toml", &toml).unwrap());
    let dir = tempfile::tempdir().unwrap();
    opsboard::store::override_data_dir(dir.path().join("data"));
    let mut c = Collector::start(&loaded, DeployHistory::new(dir.path().join("deploys.jsonl")));
    c.keep_silences_in(dir.path().join("silences.json"));
    let t = Instant::now();
    assert!(drive_until(&mut c, Duration::from_secs(60), |c| present(c).len() == TARGETS).await);
    println!("first list to {TARGETS} rows: {:.0} ms", t.elapsed().as_secs_f64() * 1000.0);
    // Steady state: the answer does not change; each round fetches, parses and compares.
    let _ = drive_until(&mut c, Duration::from_secs(3), |_| false).await;
    let (cpu0, rounds0) = (cpu_seconds(), served.load(Ordering::Relaxed));
    let _ = drive_until(&mut c, Duration::from_secs(10), |_| false).await;
    let (cpu, rounds) = (cpu_seconds() - cpu0, served.load(Ordering::Relaxed) - rounds0);
    println!(
        "steady rounds: {rounds} in 10 s, {:.1} ms CPU per round (whole process, health checks included)",
        cpu * 1000.0 / rounds.max(1) as f64
    );
    println!("RSS with {TARGETS} rows: {:.1} MiB", rss_mib());
    // 100 targets replaced by others (new ports).
    *body.write().unwrap() = answer(|i| usize::from(i < 100));
    let changed = Instant::now();
    let moved = |c: &Collector| present(c).iter().filter(|u| u.ends_with(":9101")).count() == 100;
    assert!(drive_until(&mut c, Duration::from_secs(30), moved).await);
    println!("change in the answer to rows on the board: {:.0} ms", changed.elapsed().as_secs_f64() * 1000.0);
}
