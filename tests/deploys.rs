//! Deploys: versions changing on real loopback servers, the deploy log from a file and a URL,
//! and the history file across restarts, torn last line included.

mod common;

use common::{Reply, serve_with};
use opsboard::config;
use opsboard::history::DeployHistory;
use opsboard::sources::{deploy_log, health, http_client};
use opsboard::state::deploys::DeployState;
use opsboard::state::{Event, InstanceKey, State};
use std::io::Write;
use std::sync::{Arc, Mutex};

/// One health check of every instance, each applied as it comes.
async fn check_all(loaded: &config::Loaded, state: &mut State, client: &reqwest::Client) {
    for svc in &loaded.fleet.services {
        for inst in &svc.instances {
            let check = &svc.check;
            let headers = reqwest::header::HeaderMap::new();
            let sample =
                health::probe(client, &inst.health_url, &headers, check.timeout, &check.tls, &check.answer).await;
            state.apply(Event::Health { key: InstanceKey::new(&svc.name, inst), sample, next_in: check.interval });
        }
    }
}

#[tokio::test]
async fn rollout_progress_from_servers_changing_version() {
    let versions: Vec<Arc<Mutex<&'static str>>> = (0..3).map(|_| Arc::new(Mutex::new("1.4.1"))).collect();
    let mut servers = Vec::new();
    for v in &versions {
        let v = v.clone();
        servers.push(
            serve_with(move |_| Reply::json(200, &format!(r#"{{"status":"UP","version":"{}"}}"#, v.lock().unwrap())))
                .await,
        );
    }
    let urls: Vec<String> = servers.iter().map(|s| format!("\"{}\"", s.url(""))).collect();
    let toml = format!("[defaults]\nscrape = false\n[services.api]\ninstances = [{}]\n", urls.join(", "));
    let loaded = config::load_str("deploys.toml", &toml).unwrap();
    let mut state = State::new(&loaded.fleet, 20, 3);
    let client = http_client();
    let poll = async |state: &mut State| check_all(&loaded, state, &client).await;
    poll(&mut state).await;
    assert_eq!(state.rollout(0), vec![("1.4.1".to_string(), 3)]);
    assert!(state.deploys.list.is_empty());

    *versions[0].lock().unwrap() = "1.4.2";
    poll(&mut state).await;
    let d = state.deploys.list.back().expect("a deploy started");
    assert_eq!((d.state, d.from.as_deref(), d.version.as_str()), (DeployState::Rolling, Some("1.4.1"), "1.4.2"));
    assert_eq!(opsboard::ui::deploys::progress(&state, d), "1/3");

    *versions[1].lock().unwrap() = "1.4.2";
    *versions[2].lock().unwrap() = "1.4.2";
    poll(&mut state).await;
    let d = state.deploys.list.back().unwrap();
    assert_eq!(d.state, DeployState::Done);
    assert!(d.ended.is_some());
    assert_eq!(state.deploys.list.len(), 1);
}

const LINES: &str = "{\"service\":\"api\",\"version\":\"2.0\",\"who\":\"alice\",\"when\":\"2026-11-25T10:00:00Z\",\"link\":\"https://ci/1\"}\n\
{\"service\":\"web\",\"version\":\"7\",\"when\":1795600000,\"status\":\"failed\"}\n";

#[test]
fn deploy_log_file_is_followed_and_a_torn_last_line_waits() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deploys.jsonl");
    std::fs::write(&path, format!("{LINES}not json at all\n{{\"service\":\"api\",\"vers")).unwrap();
    let p = path.display().to_string();
    let (entries, offset) = deploy_log::read_new_lines(&p, 0).unwrap();
    assert_eq!(entries.len(), 2, "the bad line is skipped, the torn one waits");
    assert_eq!(entries[0].who.as_deref(), Some("alice"));
    let mut f = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
    writeln!(f, "ion\":\"2.1\",\"when\":1795600100}}").unwrap();
    let (entries, _) = deploy_log::read_new_lines(&p, offset).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].version, "2.1");
}

#[tokio::test]
async fn deploy_log_from_a_url() {
    let server = serve_with(|_| Reply::text(200, LINES)).await;
    let entries = deploy_log::fetch(&opsboard::sources::http::client(), &server.url("/deploys.jsonl")).await.unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1].status.as_deref(), Some("failed"));
    let server = serve_with(|_| Reply::text(500, "down")).await;
    let e = deploy_log::fetch(&opsboard::sources::http::client(), &server.url("/deploys.jsonl")).await.unwrap_err();
    assert_eq!(e, "deploy log: HTTP 500");
}

#[test]
fn history_survives_a_restart_and_a_torn_last_line() {
    let dir = tempfile::tempdir().unwrap();
    let history = DeployHistory::new(dir.path().join("data/deploys.jsonl"));
    let loaded = config::load_str("h.toml", "[services.api]\ninstances = [\"http://127.0.0.1:9\"]\n").unwrap();
    let mut state = State::new(&loaded.fleet, 10, 3);
    state.apply(opsboard::state::Event::DeployLog { entries: deploy_log::parse_lines(LINES, "test") });
    history.append(&std::mem::take(&mut state.deploys.changed)).unwrap();

    // A crash mid-write leaves half a line.
    let mut f = std::fs::OpenOptions::new().append(true).open(history.path()).unwrap();
    write!(f, "{{\"id\":\"api@3.0@17").unwrap();
    drop(f);

    // "Restart": a new state from the file.
    let records = history.load();
    assert_eq!(records.len(), 2);
    assert_eq!(records.iter().find(|d| d.service == "web").unwrap().state, DeployState::Failed);

    // Appending after a torn line still gives whole lines.
    let mut more = records[0].clone();
    more.state = DeployState::RolledBack;
    history.append(&[more]).unwrap();
    let records = history.load();
    assert_eq!(records.len(), 2, "the update replaced its deploy");
    assert!(records.iter().any(|d| d.state == DeployState::RolledBack));
}

#[tokio::test]
async fn a_mixed_fleet_across_two_restarts_records_no_deploy() {
    // A canary: two instances on 2.0.1, one on 2.0.0, and nothing changes.
    let mut servers = Vec::new();
    for v in ["2.0.1", "2.0.0", "2.0.1"] {
        servers.push(serve_with(move |_| Reply::json(200, &format!(r#"{{"status":"UP","version":"{v}"}}"#))).await);
    }
    let urls: Vec<String> = servers.iter().map(|s| format!("\"{}\"", s.url(""))).collect();
    let toml = format!("[defaults]\nscrape = false\n[services.api]\ninstances = [{}]\n", urls.join(", "));
    let loaded = config::load_str("deploys.toml", &toml).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let history = DeployHistory::new(dir.path().join("deploys.jsonl"));
    let client = http_client();
    for run in 0..3 {
        // Each run is a board start: history from disk, a few rounds of polling, history back to disk.
        let mut state = State::new(&loaded.fleet, 20, 3);
        state.deploys = opsboard::state::deploys::Deploys::new(history.load());
        for _ in 0..3 {
            check_all(&loaded, &mut state, &client).await;
        }
        history.append(&std::mem::take(&mut state.deploys.changed)).unwrap();
        assert!(state.deploys.list.is_empty(), "run {run}: {:?}", state.deploys.list);
        assert_eq!(state.mixed_versions(0).as_deref(), Some("2.0.1 on 2, 2.0.0 on 1"));
    }
    assert!(history.load().is_empty());
}
