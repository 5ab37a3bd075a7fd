//! Backup sources against real files, a loopback /metrics and real commands.

mod common;

use common::{Reply, serve};
use opsboard::config::schema::{BackupJob, BackupMetric};
use opsboard::sources::backups::check;
use opsboard::state::Status;
use opsboard::state::backups::BackupState;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn job(max_age_h: u64) -> BackupJob {
    BackupJob {
        name: "db".into(),
        max_age: Duration::from_secs(max_age_h * 3600),
        interval: Duration::from_secs(60),
        glob: None,
        metric: None,
        command: None,
        s3: None,
        rds: None,
    }
}

fn file(dir: &std::path::Path, name: &str, size: u64, age: Duration) {
    let f = std::fs::File::create(dir.join(name)).unwrap();
    f.set_len(size).unwrap();
    f.set_modified(SystemTime::now() - age).unwrap();
}

async fn state_after(job: &BackupJob, rounds: usize) -> BackupState {
    let mut state = BackupState::new(job);
    for _ in 0..rounds {
        state.samples.push(check(job, &opsboard::sources::http::client(), &[]).await);
    }
    state
}

#[tokio::test]
async fn glob_finds_the_newest_file_with_its_size() {
    let dir = tempfile::tempdir().unwrap();
    file(dir.path(), "dump-1.gz", 5_000_000, Duration::from_secs(30 * 3600));
    file(dir.path(), "dump-2.gz", 6_000_000, Duration::from_secs(2 * 3600));
    file(dir.path(), "notes.txt", 10, Duration::from_secs(60));
    let mut j = job(24);
    j.glob = Some(format!("{}/*.gz", dir.path().display()));
    let state = state_after(&j, 1).await;
    let s = state.samples.latest().unwrap();
    assert_eq!((s.what.as_str(), s.size), ("dump-2.gz", Some(6_000_000)));
    let age = state.age(SystemTime::now()).unwrap();
    assert!((age.as_secs() as i64 - 7200).abs() < 60, "{age:?}");
    assert_eq!(state.verdict(SystemTime::now()).status, Status::Ok);
}

#[tokio::test]
async fn too_old_is_critical_and_much_smaller_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = job(24);
    j.glob = Some(format!("{}/*.gz", dir.path().display()));
    file(dir.path(), "a.gz", 50 << 20, Duration::from_secs(30 * 3600));
    let mut state = state_after(&j, 1).await;
    let v = state.verdict(SystemTime::now());
    assert_eq!((v.status, v.reason.as_str()), (Status::Crit, "30h old > 24h allowed"));
    file(dir.path(), "b.gz", 5 << 20, Duration::from_secs(60));
    state.samples.push(check(&j, &opsboard::sources::http::client(), &[]).await);
    let v = state.verdict(SystemTime::now());
    assert_eq!((v.status, v.reason.as_str()), (Status::Warn, "5.0M, the one before was 50M"));
}

#[tokio::test]
async fn no_matching_file_is_critical() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = job(24);
    j.glob = Some(format!("{}/*.gz", dir.path().display()));
    let v = state_after(&j, 1).await.verdict(SystemTime::now());
    assert_eq!((v.status, v.reason.as_str()), (Status::Crit, "no backup found"));
}

#[tokio::test]
async fn last_success_metric_from_a_loopback_exporter() {
    let ts = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() - 3 * 3600;
    let body = format!(
        "# TYPE backup_last_success_timestamp_seconds gauge\n\
         backup_last_success_timestamp_seconds{{job=\"other\"}} 1\n\
         backup_last_success_timestamp_seconds{{job=\"orders\"}} {ts}\n"
    );
    let server = serve(Reply::text(200, &body)).await;
    let mut j = job(24);
    let metric = |job: &str| BackupMetric {
        url: server.url("/metrics"),
        name: "backup_last_success_timestamp_seconds".into(),
        labels: [("job".to_string(), job.to_string())].into_iter().collect(),
    };
    j.metric = Some(metric("orders"));
    let state = state_after(&j, 1).await;
    assert_eq!(state.age(SystemTime::now()).map(|a| a.as_secs() / 3600), Some(3));
    j.metric = Some(metric("missing"));
    let v = state_after(&j, 1).await.verdict(SystemTime::now());
    assert_eq!(v.status, Status::Unknown);
    assert!(v.reason.starts_with("can't check: no `backup_last_success_timestamp_seconds`"), "{}", v.reason);
}

#[tokio::test]
async fn command_prints_a_timestamp_and_a_size() {
    let mut j = job(24);
    j.command = Some("echo 2020-01-01T00:00:00Z 1234".into());
    let state = state_after(&j, 1).await;
    let s = state.samples.latest().unwrap();
    assert_eq!(s.size, Some(1234));
    assert_eq!(s.newest, Some(UNIX_EPOCH + Duration::from_secs(1_577_836_800)));
    assert_eq!(state.verdict(SystemTime::now()).status, Status::Crit);

    j.command = Some("echo nope >&2; exit 3".into());
    let v = state_after(&j, 1).await.verdict(SystemTime::now());
    assert_eq!(v.reason, "can't check: command failed (exit status: 3): nope");

    j.command = Some("echo yesterday".into());
    let v = state_after(&j, 1).await.verdict(SystemTime::now());
    assert_eq!(v.reason, "can't check: `yesterday` is not a timestamp (RFC 3339 or unix seconds)");
}

#[test]
fn a_job_needs_exactly_one_source() {
    let text = "[[backups]]\nname = \"x\"\nmax_age = \"1h\"\nglob = \"/a\"\ncommand = \"true\"\n";
    let err = opsboard::config::load_str("b.toml", text).unwrap_err();
    assert!(err.message.contains("exactly one of glob, metric, command, s3, rds"), "{err}");
    assert_eq!(err.line, Some(2));
}
