//! Instances found where the fleet is already described, and followed as they come and go:
//! file_sd files replaced by rename, Prometheus' own targets (Debian's `prometheus` with a
//! file_sd job), and DNS records served by `dnsmasq` on a loopback port. New instances are
//! "starting" for their grace, those that leave are "gone"; an empty fleet is critical.

mod common;

use common::rows::{checked_ok, gone, polled, present, rows, status, worst_within};
use common::{Reply, TestServer, drive, serve_at};
use opsboard::collector::Collector;
use opsboard::config::{self, Loaded};
use opsboard::history::DeployHistory;
use opsboard::state::{Life, Status};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

const WAIT: Duration = Duration::from_secs(20);

/// A server on `at` answering its health with `version`.
async fn app(at: &str, version: &'static str) -> TestServer {
    serve_at(at.parse().unwrap(), move |_| Reply::json(200, &format!(r#"{{"status":"UP","version":"{version}"}}"#)))
        .await
}

/// Checks every 200 ms, two failures in a row to go CRIT, nothing scraped; then `services`.
fn board(services: &str) -> Loaded {
    let toml = format!(
        "[polling]\njitter = 0.0\n[defaults]\ninterval = \"200ms\"\ntimeout = \"150ms\"\nscrape = false\n\
         unhealthy_after = 2\nhealthy_after = 2\n{services}"
    );
    config::load_str("discovery.toml", &toml).unwrap()
}

fn start(loaded: Loaded, dir: &Path) -> Collector {
    common::own_data_dir();
    let mut c = Collector::start(&Arc::new(loaded), DeployHistory::new(dir.join("deploys.jsonl")));
    c.keep_silences_in(dir.join("silences.json"));
    c
}

/// Writes a file_sd file the way editors and Ansible do: a new file renamed over the old one.
fn replace(path: &Path, groups: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, groups).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// One group of targets, each `(address, instance label)`.
fn groups(targets: &[(&TestServer, &str)]) -> String {
    let each: Vec<String> = targets
        .iter()
        .map(|(s, name)| format!(r#"{{"targets":["{}"],"labels":{{"instance":"{name}"}}}}"#, s.addr))
        .collect();
    format!("[{}]", each.join(","))
}

#[tokio::test]
async fn a_file_sd_file_replaced_by_rename_is_followed_and_churn_is_not_an_outage() {
    let dir = tempfile::tempdir().unwrap();
    let a = app("127.0.0.1:0", "1.0.0").await;
    let b = app("127.0.0.1:0", "1.0.0").await;
    let sd = dir.path().join("api-prod.json");
    replace(&sd, &groups(&[(&a, "api-a"), (&b, "api-b")]));
    let glob = dir.path().join("api-*.json");
    let loaded =
        board(&format!("[services.api]\ninstances_from = [{{ file_sd = \"{}\", grace = \"30s\" }}]\n", glob.display()));
    let mut c = start(loaded, dir.path());
    assert!(
        drive(&mut c, WAIT, |c| checked_ok(c, "api", "api-a") && checked_ok(c, "api", "api-b")).await,
        "the file's two instances are found, named by their instance label, and checked: {:?}",
        rows(&c, "api")
    );
    assert!(rows(&c, "api").iter().all(|(_, l)| *l == Life::Serving), "the first list was there before the board");

    // b leaves; a new instance arrives that refuses connections while it boots.
    let booting: SocketAddr = format!("127.0.0.7:{}", common::closed_port().port()).parse().unwrap();
    let groups_now = format!(
        r#"[{{"targets":["{}"],"labels":{{"instance":"api-a"}}}},{{"targets":["{booting}"],"labels":{{"instance":"api-new"}}}}]"#,
        a.addr
    );
    replace(&sd, &groups_now);
    assert!(
        drive(&mut c, WAIT, |c| gone(c, "api", "api-b") && present(c, "api") == ["api-a", "api-new"]).await,
        "the rename is followed: {:?}",
        rows(&c, "api")
    );
    assert!(!polled(&c, "api", b.addr), "a gone instance is no longer checked");
    assert!(polled(&c, "api", booting), "the new one is");
    // Without the grace, two refused checks (400 ms) would make it, and the service, CRIT.
    let worst = worst_within(&mut c, "api", Duration::from_millis(1500)).await;
    assert!(worst < Status::Warn, "a booting instance within its grace and a departed one never alarm: {worst:?}");
    let si = c.state.service_position("api").unwrap();
    let new = c.state.services[si].instances.iter().find(|i| i.spec.label == "api-new").unwrap();
    assert!(matches!(new.life, Life::Starting { .. }), "{:?}", new.life);
    // Failed checks back off (200 ms, 400 ms, 800 ms …): two at least in the window, and they did not count.
    assert!(new.consecutive_failures() >= 2, "it was checked meanwhile: {}", new.consecutive_failures());

    // It comes up: it counts from its first answer.
    let _up = app(&booting.to_string(), "1.0.0").await;
    assert!(
        drive(&mut c, WAIT, |c| checked_ok(c, "api", "api-new")).await,
        "the booted instance serves: {:?}",
        rows(&c, "api")
    );
    assert_eq!(status(&mut c, "api"), Status::Ok);
    assert_eq!(c.state.deploys.recent().count(), 0, "instances of the same version coming and going are no deploy");

    // A file caught half-written fails the read: the list stands, and the board says why.
    std::fs::write(&sd, "[{\"targets\": [").unwrap();
    assert!(
        drive(&mut c, WAIT, |c| c
            .state
            .discovery_note(si, SystemTime::now())
            .is_some_and(|n| n.contains("api-prod.json")))
        .await,
        "the broken file is named"
    );
    assert_eq!(present(&c, "api"), ["api-a", "api-new"], "and no instance went");

    // An emptied file empties the fleet: that is an outage.
    replace(&sd, "[]");
    assert!(
        drive(&mut c, WAIT, |c| present(c, "api").is_empty()).await,
        "the empty file is followed: {:?}",
        rows(&c, "api")
    );
    assert_eq!(status(&mut c, "api"), Status::Crit);
    let v = opsboard::state::named_worst(&c.state.services[si], &c.verdicts().services[si]);
    assert!(v.reason.starts_with("no instances: no target in"), "{}", v.reason);
}

#[tokio::test]
async fn a_new_version_on_new_instances_is_one_deploy_with_progress() {
    let dir = tempfile::tempdir().unwrap();
    let old1 = app("127.0.0.1:0", "1.0.0").await;
    let old2 = app("127.0.0.1:0", "1.0.0").await;
    let new1 = app("127.0.0.1:0", "2.0.0").await;
    let sd = dir.path().join("web.json");
    replace(&sd, &groups(&[(&old1, "old-1"), (&old2, "old-2")]));
    let loaded =
        board(&format!("[services.web]\ninstances_from = [{{ file_sd = \"{}\", grace = \"5s\" }}]\n", sd.display()));
    let mut c = start(loaded, dir.path());
    assert!(drive(&mut c, WAIT, |c| checked_ok(c, "web", "old-1") && checked_ok(c, "web", "old-2")).await);
    // Blue-green: a 2.0.0 instance arrives while an old one leaves.
    replace(&sd, &groups(&[(&old2, "old-2"), (&new1, "new-1")]));
    assert!(
        drive(&mut c, WAIT, |c| checked_ok(c, "web", "new-1") && c.state.deploys.recent().count() > 0).await,
        "the new version is seen: {:?}",
        rows(&c, "web")
    );
    let recent: Vec<_> = c.state.deploys.recent().collect();
    assert_eq!(recent.len(), 1, "one deploy: {recent:?}");
    assert_eq!(recent[0].version, "2.0.0");
}

#[tokio::test]
async fn prometheus_targets_are_followed_as_its_own_discovery_changes() {
    let dir = tempfile::tempdir().unwrap();
    let a = app("127.0.0.1:0", "1.0.0").await;
    let b = app("127.0.0.1:0", "1.0.0").await;
    let cc = app("127.0.0.1:0", "1.0.0").await;
    let sd = dir.path().join("targets.json");
    replace(&sd, &groups(&[(&a, "api-a"), (&b, "api-b")]));
    let prom = common::prometheus::start_file_sd("api", &sd);
    let loaded = board(&format!(
        "[prometheus]\nurl = \"{}\"\n[services.api]\nhealth_path = \"/health\"\n\
         instances_from = [{{ prometheus = 'job=\"api\"', interval = \"1s\" }}]\n",
        prom.url
    ));
    let mut c = start(loaded, dir.path());
    assert!(
        drive(&mut c, WAIT, |c| checked_ok(c, "api", "api-a") && checked_ok(c, "api", "api-b")).await,
        "Prometheus' active targets are the rows, named by their instance label: {:?}",
        rows(&c, "api")
    );
    replace(&sd, &groups(&[(&b, "api-b"), (&cc, "api-c")]));
    let changed = tokio::time::Instant::now();
    assert!(
        drive(&mut c, WAIT, |c| gone(c, "api", "api-a") && checked_ok(c, "api", "api-c")).await,
        "the board follows Prometheus' discovery: {:?}",
        rows(&c, "api")
    );
    assert!(!polled(&c, "api", a.addr));
    // Prometheus reads the file within its refresh (1 s), the board asks every second.
    assert!(changed.elapsed() < Duration::from_secs(10), "followed in {:?}", changed.elapsed());
}

/// `dnsmasq` on 127.0.0.1:`port` answering from `hosts` and with `srv` records; ended on drop.
struct Dnsmasq(std::process::Child);

impl Dnsmasq {
    fn start(port: u16, hosts: &Path, srv: &str) -> Self {
        let child = std::process::Command::new("dnsmasq")
            .args(["-d", "--conf-file=/dev/null", "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv"])
            .args(["--no-hosts", "--pid-file=", "--user=root"])
            .arg(format!("--port={port}"))
            .arg(format!("--addn-hosts={}", hosts.display()))
            .arg(format!("--srv-host={srv}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("Debian's dnsmasq-base must be installed (scripts/test installs it)");
        std::thread::sleep(Duration::from_millis(300));
        Self(child)
    }

    fn reread_hosts(&self) {
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(self.0.id() as i32, libc::SIGHUP) };
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn dns_a_and_srv_records_are_followed() {
    let dir = tempfile::tempdir().unwrap();
    let port = common::closed_port().port();
    let (two, three, four) = (
        app(&format!("127.0.0.2:{port}"), "1.0.0").await,
        app(&format!("127.0.0.3:{port}"), "1.0.0").await,
        app(&format!("127.0.0.4:{port}"), "1.0.0").await,
    );
    let srv_port = common::closed_port().port();
    let srv_app = app(&format!("127.0.0.5:{srv_port}"), "1.0.0").await;
    let hosts = dir.path().join("hosts");
    std::fs::write(&hosts, "127.0.0.2 api.test\n127.0.0.3 api.test\n127.0.0.5 srv-1.test\n").unwrap();
    let dns_port = common::closed_port().port();
    let dns = Dnsmasq::start(dns_port, &hosts, &format!("_http._tcp.api.test,srv-1.test,{srv_port}"));
    let loaded = board(&format!(
        "[services.api]\ninstances_from = [{{ dns = \"api.test\", port = {port}, dns_server = \"127.0.0.1:{dns_port}\", interval = \"1s\" }}]\n\
         [services.srv]\ninstances_from = [{{ dns_srv = \"_http._tcp.api.test\", dns_server = \"127.0.0.1:{dns_port}\", interval = \"1s\" }}]\n"
    ));
    let mut c = start(loaded, dir.path());
    let (n2, n3, n4) = (two.addr.to_string(), three.addr.to_string(), four.addr.to_string());
    let srv_name = format!("srv-1.test:{srv_port}");
    assert!(
        drive(&mut c, WAIT, |c| checked_ok(c, "api", &n2)
            && checked_ok(c, "api", &n3)
            && checked_ok(c, "srv", &srv_name))
        .await,
        "A records with the port, and the SRV record's target and port: {:?} {:?}",
        rows(&c, "api"),
        rows(&c, "srv")
    );
    assert!(polled(&c, "srv", srv_app.addr), "the SRV target is checked at its address");
    std::fs::write(&hosts, "127.0.0.2 api.test\n127.0.0.4 api.test\n127.0.0.5 srv-1.test\n").unwrap();
    dns.reread_hosts();
    assert!(
        drive(&mut c, WAIT, |c| gone(c, "api", &n3) && checked_ok(c, "api", &n4)).await,
        "the changed records are followed: {:?}",
        rows(&c, "api")
    );
    // SIGHUP does not reread --srv-host: a new SRV record needs dnsmasq started again.
    drop(dns);
    let other_port = common::closed_port().port();
    let _other = app(&format!("127.0.0.5:{other_port}"), "1.0.0").await;
    let _dns = Dnsmasq::start(dns_port, &hosts, &format!("_http._tcp.api.test,srv-1.test,{other_port}"));
    let other_name = format!("srv-1.test:{other_port}");
    assert!(
        drive(&mut c, WAIT, |c| gone(c, "srv", &srv_name) && checked_ok(c, "srv", &other_name)).await,
        "the new SRV record is followed: {:?}",
        rows(&c, "srv")
    );
}

#[tokio::test]
async fn a_change_in_the_count_of_instances_is_an_info_notice() {
    let dir = tempfile::tempdir().unwrap();
    let a = app("127.0.0.1:0", "1.0.0").await;
    let b = app("127.0.0.1:0", "1.0.0").await;
    let sd = dir.path().join("web.json");
    replace(&sd, &groups(&[(&a, "web-a")]));
    let info = common::receiver::start(&[], false).await;
    let warn = common::receiver::start(&[], false).await;
    let hook = |r: &common::receiver::Receiver, min: &str| {
        format!("[[notify]]\nurl = \"{}\"\nformat = \"json\"\nmin_state = \"{min}\"\ngroup_wait = \"500ms\"\n", r.url())
    };
    let loaded = board(&format!(
        "[services.web]\ninstances_from = [{{ file_sd = \"{}\" }}]\n{}{}",
        sd.display(),
        hook(&info, "info"),
        hook(&warn, "warn")
    ));
    let mut c = start(loaded, dir.path());
    assert!(drive(&mut c, WAIT, |c| checked_ok(c, "web", "web-a")).await);
    replace(&sd, &groups(&[(&a, "web-a"), (&b, "web-b")]));
    assert!(
        drive(&mut c, WAIT, |_| info.bodies().iter().any(|b| b.contains("1 → 2 instances"))).await,
        "the info destination is told: {:?}",
        info.bodies()
    );
    assert!(checked_ok(&c, "web", "web-b"));
    assert!(warn.bodies().is_empty(), "a warn destination is not: {:?}", warn.bodies());
}

#[tokio::test]
async fn check_reports_the_instances_its_sources_find() {
    let dir = tempfile::tempdir().unwrap();
    let a = app("127.0.0.1:0", "1.0.0").await;
    let sd = dir.path().join("api.json");
    replace(&sd, &groups(&[(&a, "api-a")]));
    let loaded = Arc::new(board(&format!("[services.api]\ninstances_from = [{{ file_sd = \"{}\" }}]\n", sd.display())));
    let c = opsboard::check::gather(&loaded, Duration::from_millis(500), 1).await;
    let report = opsboard::report::report(&c.state, SystemTime::now());
    let api = &report.services[0];
    assert_eq!(api.instances.len(), 1, "{api:?}");
    assert_eq!((api.instances[0].name.as_str(), api.instances[0].status), ("api-a", Status::Ok), "{api:?}");
    let from = api.instances_from.as_ref().expect("the sources are reported");
    assert_eq!((from.sources[0].instances, from.sources[0].error.as_deref()), (1, None));
}
