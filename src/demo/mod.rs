//! The built-in demo fleet: simulated services on 127.0.0.1, polled through the real code path.

#[cfg(feature = "aws")]
pub mod aws;
pub mod exposition;
pub mod incidents;
pub mod server;
pub mod story;

use crate::actions::template;
use server::{SimInstance, StoryClock};
use std::fmt::Write;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// A running demo fleet. Dropping it stops every server.
pub struct DemoFleet {
    /// The config that points the board at the fleet.
    pub config_toml: String,
    servers: Vec<JoinHandle<()>>,
    /// Holds the targets file of the rollback command.
    dir: std::path::PathBuf,
}

impl DemoFleet {
    /// A throwaway data dir for the demo's deploy history and audit log.
    pub fn data_dir(&self) -> std::path::PathBuf {
        self.dir.join("data")
    }

    /// The demo's config, loaded. Its AWS account is the demo's own endpoint, which checks no
    /// credentials, so it is given fixed ones instead of the machine's.
    pub fn load(&self) -> Result<crate::config::Loaded, crate::config::ConfigError> {
        let mut loaded = crate::config::load_str("<demo>", &self.config_toml)?;
        for account in &mut loaded.fleet.aws {
            account.static_credentials = true;
        }
        Ok(loaded)
    }
}

impl Drop for DemoFleet {
    fn drop(&mut self) {
        for s in &self.servers {
            s.abort();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts every simulated instance, with the story `offset` into its cycle.
pub async fn start(offset: Duration) -> std::io::Result<DemoFleet> {
    let clock = StoryClock::new(offset);
    let mut servers = Vec::new();
    let mut toml = String::from(
        "[board]\ntitle = \"opsboard demo\"\n\n[defaults]\ninterval = \"2s\"\ntimeout = \"1s\"\nslow_after = \"500ms\"\n\n\
         [environments.prod]\nlabel = \"prod\"\ncolor = \"lightred\"\n\n\
         [environments.staging]\nlabel = \"staging\"\ncolor = \"lightblue\"\n\n\
         [status]\ntitle = \"Demo shop status\"\n\
         [[status.components]]\nname = \"Website\"\nservices = [\"web-frontend\"]\n\
         [[status.components]]\nname = \"Checkout\"\nservices = [\"checkout-api\", \"payments\"]\n\
         [[status.components]]\nname = \"Search\"\nservices = [\"search\"]\n\
         [[status.components]]\nname = \"Sign-in\"\nservices = [\"auth\"]\n",
    );
    let mut rollout: Vec<Arc<SimInstance>> = Vec::new();
    let mut urls_of: Vec<(String, Vec<String>)> = Vec::new();
    // Instances a target group of the demo account holds: by ID, the port each answers on.
    let mut ports: std::collections::HashMap<String, u16> = std::collections::HashMap::new();
    for svc in story::SERVICES {
        let _ = write!(toml, "\n[services.{}]\nenv = \"{}\"\n", svc.name, svc.env);
        toml.push_str(&incidents::service_lines(svc));
        let grouped = group_of(svc.name);
        // A grouped service runs the most instances its group ever holds; the group says which serve.
        let count = grouped.map_or(svc.instances, |(_, most)| most);
        match grouped {
            Some((target_group, _)) => toml.push_str(&instances_from(target_group)),
            None => toml.push_str("instances = [\n"),
        }
        let mut urls = Vec::new();
        for i in 0..count {
            let sim = Arc::new(SimInstance::new(svc, i, clock));
            if svc.name == story::DEPLOYED {
                rollout.push(sim.clone());
            }
            let (addr, handle) = server::spawn(sim).await?;
            servers.push(handle);
            urls.push(format!("http://{addr}"));
            match grouped {
                Some(_) => _ = ports.insert(instance_id(svc.name, i), addr.port()),
                None => _ = writeln!(toml, "  {{ url = \"http://{addr}\", name = \"{}-{}\" }},", svc.name, i + 1),
            }
        }
        if grouped.is_none() {
            toml.push_str("]\n");
        }
        urls_of.push((svc.name.to_string(), urls));
    }
    // Rollback really rolls back: it calls each instance's deploy hook through this binary.
    let exe = std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_else(|_| "opsboard".into());
    let targets: Vec<String> =
        urls_of.iter().flat_map(|(name, urls)| urls.iter().map(move |u| format!("{name}={u}"))).collect();
    // One dir per fleet: two fleets in one process (tests) must not remove each other's files.
    let dir = std::env::temp_dir().join(format!("opsboard-demo-{}-{:08x}", std::process::id(), fastrand::u32(..)));
    std::fs::create_dir_all(&dir)?;
    // Weeks of error budgets, as if a board had watched the fleet before the demo started.
    if let Err(e) = incidents::seed_store(&dir.join("data").join("budgets.redb"), std::time::SystemTime::now()) {
        tracing::warn!(error = %e, "the demo's budgets start empty");
    }
    toml.push_str(&incidents::maintenance(clock.now(), std::time::SystemTime::now()));
    let targets_file = dir.join("targets");
    std::fs::write(&targets_file, targets.join("\n"))?;
    let command = format!(
        "{} demo-deploy --targets {} --service {{service}} --version {{version}}",
        template::quote(&exe),
        template::quote(&targets_file.display().to_string())
    );
    let _ = write!(
        toml,
        "\n[actions.rollback]\nkey = \"R\"\nneeds_version = true\ntimeout = \"60s\"\ncommand = {}\n",
        toml::Value::String(command)
    );
    let deploy_log = dir.join("deploys.jsonl");
    let _ = write!(
        toml,
        "\n[deploys]\nlog = {}\ninterval = \"2s\"\n",
        toml::Value::String(deploy_log.display().to_string())
    );
    history(&deploy_log)?;
    servers.push(tokio::spawn(deployer(rollout, clock, deploy_log)));
    // The demo's AWS account needs the SDK to be read; a build without it leaves the account out.
    #[cfg(feature = "aws")]
    {
        let (aws_addr, aws_server) = aws::spawn(clock, Arc::new(ports)).await?;
        servers.push(aws_server);
        toml.push_str(&aws::config(aws_addr));
    }
    backups(&dir, &mut toml, urls_of.iter().find(|(n, _)| n == story::BACKED_UP).map(|(_, u)| u[0].as_str()))?;
    Ok(DemoFleet { config_toml: toml, servers, dir })
}

/// The target group a service's instances come from, and the most it holds: with AWS built in,
/// the demo account's groups scale and replace instances and the board follows them.
#[cfg(feature = "aws")]
fn group_of(service: &str) -> Option<(&'static str, usize)> {
    aws::target_group(service)
}

#[cfg(not(feature = "aws"))]
fn group_of(_: &str) -> Option<(&'static str, usize)> {
    None
}

#[cfg(feature = "aws")]
fn instances_from(target_group: &str) -> String {
    aws::instances_from(target_group)
}

#[cfg(not(feature = "aws"))]
fn instances_from(_: &str) -> String {
    String::new()
}

#[cfg(feature = "aws")]
fn instance_id(service: &str, index: usize) -> String {
    aws::instance_id(service, index)
}

#[cfg(not(feature = "aws"))]
fn instance_id(_: &str, index: usize) -> String {
    index.to_string()
}

/// Every cycle, at `story::DEPLOY_AT`, rolls the deployed service to a bad version, one
/// instance every few seconds, so the board shows a rolling deploy and rising errors.
async fn deployer(instances: Vec<Arc<SimInstance>>, clock: StoryClock, log: std::path::PathBuf) {
    loop {
        let into_cycle = Duration::from_millis((clock.now().as_millis() % story::CYCLE.as_millis()) as u64);
        // Inside the deploy window (e.g. the demo started there) the deploy begins at once.
        let window_end = story::DEPLOY_AT + story::DEPLOY_STEP * 5;
        let wait = if into_cycle <= story::DEPLOY_AT {
            story::DEPLOY_AT - into_cycle
        } else if into_cycle < window_end {
            Duration::ZERO
        } else {
            story::CYCLE - into_cycle + story::DEPLOY_AT
        };
        tokio::time::sleep(wait).await;
        // What CI would append: who shipped it, and where to read more.
        let line = serde_json::json!({
            "service": story::DEPLOYED,
            "version": story::BAD_VERSION,
            "who": "ci-bot",
            "when": chrono::Utc::now().to_rfc3339(),
            "status": "started",
            "link": "https://ci.example/pipelines/1450",
        });
        if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(&log) {
            use std::io::Write;
            let _ = writeln!(f, "{line}");
        }
        for sim in &instances {
            sim.set_version(story::BAD_VERSION);
            tokio::time::sleep(story::DEPLOY_STEP).await;
        }
        // Past the window, so the next round waits for the next cycle.
        tokio::time::sleep(story::DEPLOY_STEP * 5).await;
    }
}

/// What CI logged before the demo started: each service's previous version two days ago and
/// its current one yesterday, so the board knows where a rollback goes from its first second.
fn history(log: &std::path::Path) -> std::io::Result<()> {
    let now = chrono::Utc::now();
    let mut lines = String::new();
    for svc in story::SERVICES {
        for (version, days) in [(previous_version(svc.version), 2), (svc.version.to_string(), 1)] {
            let line = serde_json::json!({
                "service": svc.name,
                "version": version,
                "who": "ci-bot",
                "when": (now - chrono::Duration::days(days)).to_rfc3339(),
                "status": "success",
            });
            let _ = writeln!(lines, "{line}");
        }
    }
    std::fs::write(log, lines)
}

/// The version before `v`: `1.4.2` → `1.4.1`, `2.14.0` → `2.13.0`.
fn previous_version(v: &str) -> String {
    let mut parts: Vec<u64> = v.split('.').filter_map(|p| p.parse().ok()).collect();
    match parts.iter().rposition(|p| *p > 0) {
        Some(i) => {
            parts[i] -= 1;
            parts[i + 1..].iter_mut().for_each(|p| *p = 0);
        }
        None => return format!("{v}-rc.1"),
    }
    parts.iter().map(u64::to_string).collect::<Vec<_>>().join(".")
}

/// Backup jobs for the demo: a fresh dump, a late one, and one read from a metric.
fn backups(dir: &std::path::Path, toml: &mut String, metrics_of: Option<&str>) -> std::io::Result<()> {
    let now = std::time::SystemTime::now();
    let file = |sub: &str, name: &str, size: u64, age_hours: u64| -> std::io::Result<()> {
        std::fs::create_dir_all(dir.join(sub))?;
        // Sparse: the size shows, the disk stays empty.
        let f = std::fs::File::create(dir.join(sub).join(name))?;
        f.set_len(size)?;
        f.set_modified(now - Duration::from_secs(age_hours * 3600))
    };
    file("mongo", "dump-previous.archive.gz", 48 << 20, 27)?;
    file("mongo", "dump-latest.archive.gz", 51 << 20, 3)?;
    file("postgres", "base-backup.tar.zst", 310 << 20, 30)?;
    let glob = |sub: &str, pattern: &str| toml::Value::String(dir.join(sub).join(pattern).display().to_string());
    let _ = write!(
        toml,
        "\n[[backups]]\nname = \"mongodump nightly\"\nmax_age = \"26h\"\nglob = {}\n\
         \n[[backups]]\nname = \"postgres base\"\nmax_age = \"26h\"\nglob = {}\n",
        glob("mongo", "*.gz"),
        glob("postgres", "*.tar.zst")
    );
    if let Some(url) = metrics_of {
        let _ = write!(
            toml,
            "\n[[backups]]\nname = \"payments db\"\nmax_age = \"24h\"\nmetric = {{ url = \"{url}/metrics\", name = \"backup_last_success_timestamp_seconds\" }}\n"
        );
    }
    Ok(())
}

/// What `opsboard demo-deploy` does: sets the version on each instance of `service`.
/// `targets_file` holds `service=url` lines.
pub async fn deploy(service: &str, version: &str, targets_file: &std::path::Path) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(targets_file).map_err(|e| format!("{}: {e}", targets_file.display()))?;
    let targets: Vec<String> = text.lines().map(str::to_string).collect();
    let client = crate::sources::http::client();
    let mut done = Vec::new();
    for url in targets.iter().filter_map(|t| t.strip_prefix(&format!("{service}="))) {
        let resp = client
            .post(format!("{url}/admin/deploy?version={version}"))
            .send()
            .await
            .map_err(|e| format!("{url}: {e}"))?;
        done.push(resp.text().await.unwrap_or_default().trim().to_string());
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    if done.is_empty() {
        return Err(format!("no instances of `{service}` among the targets"));
    }
    Ok(done)
}
