//! Hosts from node exporters: CPU, memory, the fullest real filesystem and load, judged
//! against thresholds; from a captured exposition (a real host's values vary) and from
//! Debian's prometheus-node-exporter on loopback, as a service of its own and beside an app.

mod common;

use opsboard::config;
use opsboard::metrics::{MetricNames, extract};
use opsboard::state::{Event, InstanceId, ScrapeResult, State, Status};
use std::process::Command;
use std::time::{Duration, SystemTime};

const CAPTURED: &str = include_str!("fixtures/node-exporter.prom");

/// What a desktop or a snap-using server adds to the same exposition: snaps (squashfs, always
/// 100%), tmpfs, an overlay of a container, and a nearly full `/boot` on a real disk.
const MOUNTS: &str = "\
node_filesystem_avail_bytes{device=\"/dev/loop3\",fstype=\"squashfs\",mountpoint=\"/snap/core22/1380\"} 0
node_filesystem_size_bytes{device=\"/dev/loop3\",fstype=\"squashfs\",mountpoint=\"/snap/core22/1380\"} 7.7725696e+07
node_filesystem_avail_bytes{device=\"tmpfs\",fstype=\"tmpfs\",mountpoint=\"/run\"} 0
node_filesystem_size_bytes{device=\"tmpfs\",fstype=\"tmpfs\",mountpoint=\"/run\"} 1.6e+09
node_filesystem_avail_bytes{device=\"overlay\",fstype=\"overlay\",mountpoint=\"/var/lib/docker/overlay2/x/merged\"} 1e+06
node_filesystem_size_bytes{device=\"overlay\",fstype=\"overlay\",mountpoint=\"/var/lib/docker/overlay2/x/merged\"} 2.70553174016e+11
";

#[test]
fn the_captured_host_reads_as_a_host_and_pseudo_filesystems_are_skipped() {
    let text = format!("{CAPTURED}{MOUNTS}");
    let c = extract(&text, &MetricNames::default()).unwrap();
    assert_eq!(c.requests, None);
    let host = c.host.expect("node exporter numbers");
    assert_eq!(host.cpus, 2);
    let fs = host.fullest.clone().expect("a real filesystem");
    assert_eq!(fs.mountpoint, "/", "snaps, tmpfs and overlays are not disks: {fs:?}");
    assert!((fs.used() - (1.0 - 8.0060657664e10 / 2.70553174016e11)).abs() < 1e-9);
    assert!((host.memory_used().unwrap() - (1.0 - 2.4843177984e10 / 2.5276502016e10)).abs() < 1e-9);
    assert_eq!(host.load1, Some(0.57));
    // A real disk nearly full is the fullest.
    let boot = "node_filesystem_avail_bytes{device=\"/dev/vda1\",fstype=\"vfat\",mountpoint=\"/boot/efi\"} 1e+06\n\
                node_filesystem_size_bytes{device=\"/dev/vda1\",fstype=\"vfat\",mountpoint=\"/boot/efi\"} 1e+08\n";
    let c = extract(&format!("{text}{boot}"), &MetricNames::default()).unwrap();
    assert_eq!(c.host.unwrap().fullest.unwrap().mountpoint, "/boot/efi");
}

#[test]
fn thresholds_judge_the_captured_host_with_memory() {
    // The captured root filesystem is 70.4% used.
    let toml = "[services.nodes]\ninstances = [\"http://127.0.0.1:9100\"]\nscrape = true\n\
                [services.nodes.hosts]\ndisk_warn = 60\ndisk_crit = 70\n";
    let loaded = config::load_str("hosts.toml", toml).unwrap();
    let mut state = State::new(&loaded.fleet, 120, 3);
    let names = state.services[0].check.names.clone();
    let key = state.instance_key(InstanceId { service: 0, instance: 0 }).unwrap();
    let t0 = SystemTime::now();
    let scrape = |state: &mut State, s: u64| {
        let counts = extract(CAPTURED, &names).unwrap();
        let at = t0 + Duration::from_secs(s);
        state.apply(Event::HostScrape { key: key.clone(), result: ScrapeResult { at, outcome: Ok(counts) } });
    };
    scrape(&mut state, 0);
    let host = &state.services[0].instances[0].host;
    let v = host.verdict(&state.services[0].check.hosts, t0, Duration::from_secs(60)).unwrap();
    assert_eq!((v.status, v.reason.as_str()), (Status::Ok, "disk / 70% ≥ 70% (75G left): CRIT if it holds"));
    scrape(&mut state, 40);
    let host = &state.services[0].instances[0].host;
    let v = host.verdict(&state.services[0].check.hosts, t0 + Duration::from_secs(40), Duration::from_secs(60));
    assert_eq!(v.map(|v| (v.status, v.reason)), Some((Status::Crit, "disk / 70% ≥ 70% (75G left)".to_string())));
    // The same counters twice: no CPU time passed, no rate.
    assert_eq!(host.point.cpu, None);
    assert_eq!(
        opsboard::state::host::summary(&state.services[0]).unwrap(),
        "hosts: memory 2% · disk 70% / · load 0.28/CPU"
    );
}

/// Debian's node exporter on a free loopback port.
struct NodeExporter {
    child: std::process::Child,
    port: u16,
}

impl Drop for NodeExporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn node_exporter() -> NodeExporter {
    let port = common::closed_port().port();
    let mut child = Command::new("prometheus-node-exporter")
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("Debian's prometheus-node-exporter (scripts/test installs it)");
    for _ in 0..50 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return NodeExporter { child, port };
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("node exporter did not start");
}

#[tokio::test]
async fn a_real_node_exporter_as_a_service_and_beside_an_app() {
    let ne = node_exporter();
    let app = common::serve_with(|_| common::Reply::text(200, "ok")).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("board.toml");
    let config = format!(
        "[defaults]\ntimeout = \"2s\"\n\
         [services.nodes]\ninstances = [\"http://127.0.0.1:{port}\"]\nhealth_path = \"/\"\nscrape = true\n\
         [services.api]\ninstances = [\"{app}\"]\n[services.api.hosts]\nnode_exporter_port = {port}\n",
        port = ne.port,
        app = app.url("")
    );
    std::fs::write(&path, config).unwrap();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_opsboard"))
            .args(["check", "--json", "--config"])
            .arg(&path)
            .env("XDG_DATA_HOME", dir.path().join("data"))
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let service =
        |name: &str| report["services"].as_array().unwrap().iter().find(|s| s["name"] == name).unwrap().clone();
    for name in ["nodes", "api"] {
        let host = &service(name)["instances"][0]["host"];
        assert!(host["cpus"].as_u64().is_some_and(|n| n >= 1), "{name}: {host}");
        assert!(host["memory"].as_f64().is_some_and(|m| m > 0.0 && m < 1.0), "{name}: {host}");
        // Two scrapes a check: CPU is a rate between them.
        assert!(host["cpu"].as_f64().is_some_and(|c| (0.0..=1.0).contains(&c)), "{name}: {host}");
        assert!(host["load1"].as_f64().is_some(), "{name}: {host}");
        assert!(host["error"].is_null(), "{name}: {host}");
    }
    // Its own service tells of the host, not of a missing request counter.
    let note = service("nodes")["signals_note"].as_str().unwrap_or_default().to_string();
    assert!(note.starts_with("hosts: cpu "), "{note}");
}
