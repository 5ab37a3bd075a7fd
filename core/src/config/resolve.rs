//! Turns the merged config into a fleet with every default applied, and checks what serde cannot.

use super::aws::{AwsSpec, resolve_account};
use super::discovery::DiscoverySpec;
use super::error::ConfigError;
use super::layers::Layer;
use super::locate::find_key_line;
use super::schema::{Config, MetricNamesConfig, PrometheusServer, PromqlQueries, Thresholds};
use crate::metrics::MetricNames;
use std::time::Duration;

/// The fleet to watch, with defaults applied.
#[derive(Debug, Clone, Default)]
pub struct Fleet {
    pub services: Vec<ServiceSpec>,
    pub prometheus: Option<PrometheusServer>,
    pub aws: Vec<AwsSpec>,
}

/// How an environment is shown and guarded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvSpec {
    pub name: String,
    pub label: String,
    pub color: Option<String>,
    pub read_only: bool,
}

#[derive(Debug, Clone)]
pub struct ServiceSpec {
    pub name: String,
    pub env: EnvSpec,
    /// The instances polled: those the config lists, and with `discovery` those its sources
    /// gave last.
    pub instances: Vec<InstanceSpec>,
    /// The instances the config lists itself.
    pub listed: Vec<InstanceSpec>,
    pub check: CheckSpec,
    pub promql: Option<PromqlQueries>,
    /// Where more instances come from (`instances_from`).
    pub discovery: Vec<DiscoverySpec>,
    /// At most this many instances.
    pub max_instances: usize,
    /// The paths a discovered instance is checked and scraped on.
    pub health_path: String,
    pub metrics_path: String,
    /// What it needs to work (`depends_on`), checked against the config.
    pub depends_on: Vec<super::dependencies::Dependency>,
    /// How long its failure waits for a cause to be seen failing before it notifies on its own.
    pub dependency_wait: Duration,
    /// The planned windows (`[[maintenance]]`) that cover it.
    pub maintenance: Vec<std::sync::Arc<super::maintenance::MaintenanceSpec>>,
    /// Its objective and error budget, when it has one.
    pub slo: Option<super::schema::Slo>,
}

/// The most instances a service has unless it says otherwise.
pub const DEFAULT_MAX_INSTANCES: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceSpec {
    /// Short name for the board: `host:port`.
    pub label: String,
    pub base_url: String,
    pub health_url: String,
    pub metrics_url: String,
}

impl InstanceSpec {
    /// An instance found by a source: `scheme://host:port` with the service's paths on it, named
    /// `name` (else `host:port`).
    pub fn discovered(scheme: &str, host_port: &str, name: Option<&str>, svc: &ServiceSpec) -> Self {
        let base = format!("{scheme}://{host_port}");
        Self {
            label: name.map_or_else(|| host_port.to_string(), str::to_string),
            health_url: join_path(&base, &svc.health_path),
            metrics_url: join_path(&base, &svc.metrics_path),
            base_url: base,
        }
    }

    /// What names the instance for as long as it exists, whatever its position: its address,
    /// or for a row from Prometheus' `up` (which has none) its `instance` label.
    pub fn key(&self) -> &str {
        if self.base_url.is_empty() { &self.label } else { &self.base_url }
    }
}

/// How an https instance's certificate is checked.
#[derive(Debug, Clone, PartialEq)]
pub struct TlsSpec {
    /// False accepts any certificate.
    pub verify: bool,
    /// PEM of a private CA, read at load.
    pub ca_pem: Option<Vec<u8>>,
    pub expiry_warn: Duration,
    pub expiry_crit: Duration,
}

impl Default for TlsSpec {
    /// Verified against the system's roots; warn at 14 days left, crit at 3.
    fn default() -> Self {
        Self {
            verify: true,
            ca_pem: None,
            expiry_warn: Duration::from_secs(14 * 86400),
            expiry_crit: Duration::from_secs(3 * 86400),
        }
    }
}

/// How one service is checked.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckSpec {
    pub interval: Duration,
    pub timeout: Duration,
    pub slow_after: Duration,
    pub headers: Vec<(String, String)>,
    pub scrape: bool,
    pub names: MetricNames,
    pub thresholds: Thresholds,
    /// Signals are taken over this much of the latest scrapes.
    pub window: Duration,
    /// Consecutive failed checks before an instance is down, passing ones before it is up.
    pub unhealthy_after: u32,
    pub healthy_after: u32,
    pub tls: TlsSpec,
    /// For `tcp://` instances: what to write once connected, and what the answer must contain.
    pub tcp_send: Option<String>,
    pub tcp_expect: Option<String>,
    /// Conditions on the health answer.
    pub answer: super::answer::AnswerSpec,
    /// The hosts' node exporter and thresholds.
    pub hosts: super::schema::HostsTable,
}

const MIN_INTERVAL: Duration = Duration::from_millis(100);
/// The most periods a signal with a period may be judged over: the board reads ten back, one of
/// which may be partial and one not yet published.
pub const MAX_EVALUATION_PERIODS: u32 = 8;

pub fn resolve(config: &Config, layers: &[Layer]) -> Result<Fleet, ConfigError> {
    let err = |table: &str, name: &str, message: String| locate(layers, table, name, message);
    let p = &config.polling;
    if p.max_in_flight == 0 {
        return Err(err("polling", "max_in_flight", "must be at least 1".into()));
    }
    if !(0.0..=0.5).contains(&p.jitter) {
        return Err(err("polling", "jitter", format!("{} is outside 0.0..=0.5", p.jitter)));
    }
    for n in &config.notify {
        let ok =
            reqwest::Url::parse(&n.url).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
        if !ok {
            let shown = crate::redact::url(&n.url);
            return Err(err("notify", "url", format!("`{shown}` is not an http(s) URL")));
        }
        if n.repeat.is_some_and(|r| r.is_zero()) {
            return Err(err("notify", "repeat", "0s would remind on every tick: give a period such as \"30m\"".into()));
        }
    }
    if let Some(url) = &config.attach.url {
        let ok = url.strip_prefix("unix:").is_some_and(|p| !p.is_empty())
            || reqwest::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
        if !ok {
            return Err(err(
                "attach",
                "url",
                format!("`{url}` is not an http:// or https:// URL, e.g. \"http://127.0.0.1:7878\""),
            ));
        }
    }
    if config.serve.listen.parse::<std::net::SocketAddr>().is_err() {
        return Err(err(
            "serve",
            "listen",
            format!("`{}` is not host:port, e.g. \"0.0.0.0:7878\"", config.serve.listen),
        ));
    }
    status_page(config, layers)?;
    match (&config.serve.tls_cert, &config.serve.tls_key) {
        (Some(_), None) => {
            return Err(err("serve", "tls_cert", "needs tls_key too: the certificate's private key".into()));
        }
        (None, Some(_)) => return Err(err("serve", "tls_key", "needs tls_cert too: the certificate chain".into())),
        _ => {}
    }
    let mut names = std::collections::HashSet::new();
    for op in &config.serve.operators {
        if op.name.trim().is_empty() {
            return Err(err("serve.operators", "name", "an operator needs a name, for the audit log".into()));
        }
        if !names.insert(op.name.as_str()) {
            return Err(err("serve.operators", "name", format!("operator `{}` is named twice", op.name)));
        }
        match (op.token.as_deref(), &op.token_file) {
            (Some(t), None) if t.trim().len() < 16 => {
                return Err(err(
                    "serve.operators",
                    "token",
                    format!("operator `{}`'s token is shorter than 16 characters", op.name),
                ));
            }
            (Some(_), None) | (None, Some(_)) => {}
            _ => {
                return Err(err(
                    "serve.operators",
                    "token",
                    format!("operator `{}` needs one of token or token_file", op.name),
                ));
            }
        }
    }
    if !(6..=200).contains(&config.serve.font_size) {
        return Err(err("serve", "font_size", format!("{} is outside 6..=200 pixels", config.serve.font_size)));
    }
    if p.stale_after_intervals == 0 {
        return Err(err("polling", "stale_after_intervals", "must be at least 1".into()));
    }
    if p.history < 2 {
        return Err(err("polling", "history", "must keep at least 2 samples".into()));
    }
    if config.board.wall.pages.is_empty() {
        return Err(err("board.wall", "pages", "the wall needs at least one page".into()));
    }
    if config.board.wall.page_interval < Duration::from_secs(1) {
        return Err(err("board.wall", "page_interval", "must be at least 1s".into()));
    }
    if !(1..=60).contains(&config.board.max_fps) {
        return Err(err("board", "max_fps", format!("{} is outside 1..=60", config.board.max_fps)));
    }
    let d = &config.defaults;
    let mut services = Vec::with_capacity(config.services.len());
    for (name, svc) in &config.services {
        let table = format!("services.{name}");
        let check = CheckSpec {
            interval: svc.interval.unwrap_or(d.interval),
            timeout: svc.timeout.unwrap_or(d.timeout),
            slow_after: svc.slow_after.unwrap_or(d.slow_after),
            headers: d
                .headers
                .iter()
                .filter(|(k, _)| !svc.headers.contains_key(*k))
                .chain(&svc.headers)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            scrape: svc.scrape.unwrap_or(d.scrape),
            names: metric_names(&svc.metrics, &d.metrics),
            thresholds: thresholds(&svc.thresholds, &d.thresholds),
            window: svc.window.unwrap_or(d.window),
            unhealthy_after: svc.unhealthy_after.unwrap_or(d.unhealthy_after),
            healthy_after: svc.healthy_after.unwrap_or(d.healthy_after),
            tls: TlsSpec {
                verify: svc.tls_verify.unwrap_or(true),
                ca_pem: match &svc.ca_file {
                    Some(path) => Some(read_ca(path).map_err(|m| err(&table, "ca_file", m))?),
                    None => None,
                },
                expiry_warn: svc.tls_expiry_warn.unwrap_or(d.tls_expiry_warn),
                expiry_crit: svc.tls_expiry_crit.unwrap_or(d.tls_expiry_crit),
            },
            tcp_send: svc.send.clone(),
            tcp_expect: svc.expect.clone(),
            answer: answer_spec(svc).map_err(|(key, m)| err(&table, key, m))?,
            hosts: svc.hosts.clone(),
        };
        let h = &check.hosts;
        for (key, warn, crit) in [
            ("cpu_warn", h.cpu_warn, h.cpu_crit),
            ("memory_warn", h.memory_warn, h.memory_crit),
            ("disk_warn", h.disk_warn, h.disk_crit),
        ] {
            if !(0.0..=100.0).contains(&warn) || !(0.0..=100.0).contains(&crit) || warn > crit {
                return Err(err(
                    &format!("{table}.hosts"),
                    key,
                    format!("{warn} and {crit} must be percents, warn ≤ crit"),
                ));
            }
        }
        if h.load_warn < 0.0 || h.load_warn > h.load_crit {
            return Err(err(&format!("{table}.hosts"), "load_warn", "must be ≥ 0 and ≤ load_crit".into()));
        }
        let t = &check.thresholds;
        for (key, v) in [("error_rate_warn", t.error_rate_warn), ("error_rate_crit", t.error_rate_crit)] {
            if !(0.0..=1.0).contains(&v) {
                return Err(err(
                    &format!("{table}.thresholds"),
                    key,
                    format!("{v} is outside 0..=1 (a share, not a percent)"),
                ));
            }
        }
        if !(0.0..1.0).contains(&t.clear_margin) {
            return Err(err(
                &format!("{table}.thresholds"),
                "clear_margin",
                format!("{} is outside 0..1", t.clear_margin),
            ));
        }
        if !(1..=MAX_EVALUATION_PERIODS).contains(&t.evaluation_periods) {
            return Err(err(
                &format!("{table}.thresholds"),
                "evaluation_periods",
                format!(
                    "{} is outside 1..={MAX_EVALUATION_PERIODS} (the periods the board reads back)",
                    t.evaluation_periods
                ),
            ));
        }
        if !(1..=t.evaluation_periods).contains(&t.datapoints_to_alarm) {
            return Err(err(
                &format!("{table}.thresholds"),
                "datapoints_to_alarm",
                format!("{} is outside 1..={} (evaluation_periods)", t.datapoints_to_alarm, t.evaluation_periods),
            ));
        }
        if check.interval < MIN_INTERVAL {
            return Err(err(&table, "interval", format!("{:?} is shorter than {MIN_INTERVAL:?}", check.interval)));
        }
        if check.timeout.is_zero() {
            return Err(err(&table, "timeout", "must be above zero".into()));
        }
        if check.timeout > check.interval {
            // Prometheus refuses a scrape_timeout longer than its scrape_interval for the same reason:
            // checks would pile up behind each other.
            let (key, at) =
                if svc.timeout.is_some() { (table.clone(), "timeout") } else { ("defaults".into(), "timeout") };
            return Err(err(
                &key,
                at,
                format!(
                    "timeout {} is longer than the interval {}: checks would overlap",
                    crate::format::duration(check.timeout),
                    crate::format::duration(check.interval)
                ),
            ));
        }
        if check.window < check.interval {
            let key = if svc.window.is_some() { table.clone() } else { "defaults".into() };
            return Err(err(
                &key,
                "window",
                format!(
                    "window {} is shorter than the interval {}: it would never hold a scrape",
                    crate::format::duration(check.window),
                    crate::format::duration(check.interval)
                ),
            ));
        }
        for (key, v) in [("unhealthy_after", check.unhealthy_after), ("healthy_after", check.healthy_after)] {
            if v == 0 {
                return Err(err(&table, key, "must be at least 1".into()));
            }
        }
        let from_up = svc.promql.as_ref().is_some_and(|q| q.up.is_some());
        let accounts: Vec<&str> = config.aws.keys().map(String::as_str).collect();
        let mut discovery = Vec::with_capacity(svc.instances_from.len());
        for (i, src) in svc.instances_from.iter().enumerate() {
            let spec = super::discovery::resolve(src, config.prometheus.is_some(), &accounts)
                .map_err(|m| err(&table, "instances_from", format!("entry {}: {m}", i + 1)))?;
            discovery.push(spec);
        }
        if from_up && !discovery.is_empty() {
            return Err(err(
                &table,
                "instances_from",
                "a service gets its instances from promql.up or instances_from, not both".into(),
            ));
        }
        let max_instances = svc.max_instances.unwrap_or(DEFAULT_MAX_INSTANCES);
        if max_instances == 0 {
            return Err(err(&table, "max_instances", "must be at least 1".into()));
        }
        if svc.instances.is_empty() && !from_up && discovery.is_empty() {
            return Err(err("services", name, format!("service `{name}` has no instances"))
                .hint(Some("add instances = [\"http://host:port\"] or instances_from = [...]".into())));
        }
        let health_path = svc.health_path.as_deref().unwrap_or(&d.health_path);
        let metrics_path = svc.metrics_path.as_deref().unwrap_or(&d.metrics_path);
        let mut instances = Vec::with_capacity(svc.instances.len());
        for entry in &svc.instances {
            let url = &entry.url;
            let parsed = reqwest::Url::parse(url)
                .ok()
                .filter(|u| match u.scheme() {
                    "http" | "https" => u.host_str().is_some(),
                    // A TCP check needs the port: there is no default to fall back on.
                    "tcp" => u.host_str().is_some() && u.port().is_some(),
                    _ => false,
                })
                .ok_or_else(|| {
                    err(&table, "instances", format!("`{url}` is not an http(s) or tcp://host:port URL"))
                        .hint(Some("write it like \"http://10.0.3.7:8080\" or \"tcp://10.0.3.9:6379\"".into()))
                })?;
            let host = parsed.host_str().unwrap_or_default();
            let label = match (&entry.name, parsed.port()) {
                (Some(name), _) => name.clone(),
                (None, Some(port)) => format!("{host}:{port}"),
                (None, None) => host.to_string(),
            };
            let base = url.trim_end_matches('/');
            if instances.iter().any(|i: &InstanceSpec| i.base_url == base) {
                // The address names the instance: two of the same would be one row polled twice.
                return Err(err(&table, "instances", format!("`{url}` is listed twice")));
            }
            let tcp = parsed.scheme() == "tcp";
            instances.push(InstanceSpec {
                label,
                base_url: base.to_string(),
                // A TCP instance is checked by connecting, and has no metrics to scrape.
                health_url: if tcp { base.to_string() } else { join_path(base, health_path) },
                metrics_url: if tcp { String::new() } else { join_path(base, metrics_path) },
            });
        }
        let env_name = svc.env.clone().unwrap_or_else(|| "default".into());
        if svc.env.is_some() && !config.environments.contains_key(&env_name) {
            // A typo here would silently drop the environment's guards (read_only).
            let known: Vec<&str> = config.environments.keys().map(String::as_str).collect();
            let hint = super::layers::did_you_mean(&env_name, known.iter().copied()).or_else(|| {
                Some(if known.is_empty() {
                    format!("add [environments.{env_name}]")
                } else {
                    format!("environments are {}", known.join(", "))
                })
            });
            return Err(err(&table, "env", format!("`{env_name}` is not a table in [environments]")).hint(hint));
        }
        let env_cfg = config.environments.get(&env_name).cloned().unwrap_or_default();
        let mut check = check;
        if (!instances.is_empty() && instances.iter().all(|i| i.metrics_url.is_empty())) || from_up {
            // Only TCP instances, or instances from Prometheus' `up`: nothing to scrape.
            check.scrape = false;
        }
        services.push(ServiceSpec {
            name: name.clone(),
            env: EnvSpec {
                label: env_cfg.label.unwrap_or_else(|| env_name.clone()),
                name: env_name,
                color: env_cfg.color,
                read_only: env_cfg.read_only,
            },
            listed: instances.clone(),
            instances,
            check,
            promql: svc.promql.clone(),
            discovery,
            max_instances,
            health_path: health_path.to_string(),
            metrics_path: metrics_path.to_string(),
            depends_on: Vec::new(),
            dependency_wait: Duration::ZERO,
            maintenance: Vec::new(),
            slo: match &svc.slo {
                None => None,
                Some(s) => {
                    let table = format!("services.{name}");
                    let objective = s.objective.value().map_err(|m| err(&table, "slo", m))?;
                    if s.window < Duration::from_secs(3600) || s.window > Duration::from_secs(90 * 86_400) {
                        return Err(err(
                            &table,
                            "slo",
                            "an SLO window is from 1h to 90d, e.g. window = \"30d\"".into(),
                        ));
                    }
                    Some(super::schema::Slo { objective, window: s.window })
                }
            },
        });
        if svc.promql.is_some() && config.prometheus.is_none() {
            return Err(err(
                "services",
                name,
                format!("service `{name}` has promql queries but no [prometheus] server is configured"),
            )
            .hint(Some("add [prometheus] url = \"http://prometheus:9090\"".into())));
        }
    }
    if let Some(p) = &config.prometheus
        && reqwest::Url::parse(&p.url).map(|u| !matches!(u.scheme(), "http" | "https")).unwrap_or(true)
    {
        return Err(err("prometheus", "url", format!("`{}` is not an http(s) URL", p.url)));
    }
    for (i, job) in config.backups.iter().enumerate() {
        let sources =
            [job.glob.is_some(), job.metric.is_some(), job.command.is_some(), job.s3.is_some(), job.rds.is_some()];
        if sources.iter().filter(|s| **s).count() != 1 {
            return Err(err(
                "backups",
                "name",
                format!("backup `{}` (#{}) needs exactly one of glob, metric, command, s3, rds", job.name, i + 1),
            ));
        }
        let account = job.s3.as_ref().map(|s| &s.account).or(job.rds.as_ref().map(|r| &r.account));
        if let Some(a) = account.filter(|a| !config.aws.contains_key(*a)) {
            return Err(err(
                "backups",
                "name",
                format!("backup `{}` names AWS account `{a}`, which is not in [aws]", job.name),
            ));
        }
    }
    for (name, action) in &config.actions {
        if crate::bindings::board_chars().any(|c| c == action.key) {
            return Err(err(
                &format!("actions.{name}"),
                "key",
                format!(
                    "`{}` is one of the board's own keys: {}",
                    action.key,
                    crate::bindings::char_meaning(action.key).unwrap_or_default()
                ),
            )
            .hint(Some(format!("the board uses {}", crate::bindings::board_chars().collect::<String>()))));
        }
        let table = format!("actions.{name}");
        match (action.kind.native(), action.command.trim().is_empty()) {
            (false, true) => {
                return Err(err(&table, "command", "needs a command (or a `kind` such as \"ecs_rollback\")".into()));
            }
            (true, false) => {
                return Err(err(&table, "command", "an ecs_rollback or codedeploy_rollback runs no command".into())
                    .hint(Some("leave `command` out, or drop `kind` to run it".into())));
            }
            (true, true) if action.needs_version => {
                return Err(err(
                    &table,
                    "needs_version",
                    "a native rollback finds the revision to go back to itself".into(),
                ));
            }
            _ => {}
        }
        if let Some(bad) = unknown_placeholder(&action.command) {
            return Err(err(&format!("actions.{name}"), "command", format!("unknown placeholder `{{{bad}}}`")).hint(
                super::layers::did_you_mean(&bad, PLACEHOLDERS).or_else(|| {
                    Some(format!("placeholders are {}", PLACEHOLDERS.map(|p| format!("{{{p}}}")).join(" ")))
                }),
            ));
        }
    }
    let names: Vec<String> = services.iter().map(|s| s.name.clone()).collect();
    let index = |name: &str| names.iter().position(|n| n == name);
    let mut aws = Vec::new();
    for (name, account) in &config.aws {
        let spec = resolve_account(name, account, &index, &names)
            .map_err(|(key, msg)| err(&format!("aws.{name}"), &key, msg))?;
        aws.push(spec);
    }
    deploy_sources(config, layers, &mut aws)?;
    hosts_accounts(layers, &mut services, &aws)?;
    super::dependencies::resolve(config, &mut services, &aws)
        .map_err(|(service, m)| err(&format!("services.{service}"), "depends_on", m))?;
    let windows =
        super::maintenance::resolve(config).map_err(|(i, key, m)| locate_entry(layers, "maintenance", i, key, m))?;
    for w in windows.into_iter().map(std::sync::Arc::new) {
        for svc in services.iter_mut().filter(|s| w.services.contains(&s.name)) {
            svc.maintenance.push(w.clone());
        }
    }
    Ok(Fleet { services, prometheus: config.prometheus.clone(), aws })
}

/// The account each service's hosts are read from in CloudWatch (`hosts.cloudwatch`): the one
/// named, or the only one.
fn hosts_accounts(layers: &[Layer], services: &mut [ServiceSpec], aws: &[AwsSpec]) -> Result<(), ConfigError> {
    for svc in services.iter_mut().filter(|s| s.check.hosts.cloudwatch) {
        let table = format!("services.{}.hosts", svc.name);
        let h = &mut svc.check.hosts;
        if h.node_exporter_port.is_some() {
            let m = "a host is read from a node exporter or from CloudWatch, not both".to_string();
            return Err(locate(layers, &table, "cloudwatch", m));
        }
        let i = account_of(layers, &table, "cloudwatch", h.aws.as_deref(), aws)?;
        h.aws = Some(aws[i].name.clone());
    }
    Ok(())
}

/// The account a table names in `aws` (the only one, when it names none), by its position in
/// `aws`; an error at `key` of `table` otherwise, listing the accounts.
fn account_of(
    layers: &[Layer],
    table: &str,
    key: &str,
    named: Option<&str>,
    aws: &[AwsSpec],
) -> Result<usize, ConfigError> {
    let names: Vec<&str> = aws.iter().map(|a| a.name.as_str()).collect();
    let hint = || {
        Some(if names.is_empty() {
            "no [aws.NAME] account is configured".into()
        } else {
            format!("accounts: {}", names.join(", "))
        })
    };
    match (named, names.as_slice()) {
        (Some(a), _) => match names.iter().position(|n| *n == a) {
            Some(i) => Ok(i),
            None => Err(locate(layers, table, "aws", format!("AWS account `{a}` is not in [aws]")).hint(hint())),
        },
        (None, [_]) => Ok(0),
        (None, []) => Err(locate(layers, table, key, "needs an [aws.NAME] account".into())),
        (None, _) => Err(locate(layers, table, key, "name the account: `aws = \"…\"`".into()).hint(hint())),
    }
}

/// Each service's ECS service and CodeDeploy group, given to the account that reads them; a
/// native rollback needs a service with its source.
fn deploy_sources(config: &Config, layers: &[Layer], aws: &mut [AwsSpec]) -> Result<(), ConfigError> {
    let err = |table: &str, name: &str, message: String| locate(layers, table, name, message);
    use super::aws::{CodeDeployWatch, EcsWatch};
    use super::schema::ActionKind;
    for (name, svc) in &config.services {
        if let Some(e) = &svc.ecs {
            let i = account_of(layers, &format!("services.{name}.ecs"), "aws", Some(&e.aws), aws)?;
            aws[i].ecs.push(EcsWatch {
                service: name.clone(),
                cluster: e.cluster.clone(),
                ecs_service: e.service.clone(),
            });
        }
        if let Some(c) = &svc.codedeploy {
            let i = account_of(layers, &format!("services.{name}.codedeploy"), "aws", Some(&c.aws), aws)?;
            aws[i].codedeploy.push(CodeDeployWatch {
                service: name.clone(),
                application: c.application.clone(),
                group: c.group.clone(),
            });
        }
    }
    for (name, action) in &config.actions {
        let (has, table) = match action.kind {
            ActionKind::Command => continue,
            ActionKind::EcsRollback => (config.services.values().any(|s| s.ecs.is_some()), "ecs"),
            ActionKind::CodedeployRollback => (config.services.values().any(|s| s.codedeploy.is_some()), "codedeploy"),
        };
        if !has {
            return Err(err(
                &format!("actions.{name}"),
                "kind",
                format!("no service has a [services.NAME.{table}] to roll back"),
            ));
        }
    }
    Ok(())
}

/// The service's conditions on its health answer, each checked here so a mistake names its key.
fn answer_spec(svc: &super::schema::Service) -> Result<super::answer::AnswerSpec, (&'static str, String)> {
    use super::answer::{AnswerSpec, JsonCondition};
    let regex = match &svc.body_regex {
        Some(r) => Some(regex::Regex::new(r).map_err(|e| ("body_regex", format!("not a regular expression: {e}")))?),
        None => None,
    };
    let mut json = Vec::new();
    for c in svc.conditions.iter().flatten() {
        json.push(JsonCondition::parse(c).map_err(|m| ("conditions", format!("`{c}`: {m}")))?);
    }
    if let Some(bad) = svc.expect_status.iter().flatten().find(|c| !(100..=599).contains(*c)) {
        return Err(("expect_status", format!("{bad} is not an HTTP status code")));
    }
    Ok(AnswerSpec {
        expect_status: svc.expect_status.clone().unwrap_or_default(),
        contains: svc.body_contains.clone(),
        regex,
        json,
    })
}

/// A CA file's PEM, checked to hold at least one certificate.
fn read_ca(path: &std::path::Path) -> Result<Vec<u8>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    match reqwest::Certificate::from_pem_bundle(&pem) {
        Ok(certs) if !certs.is_empty() => Ok(pem),
        _ => Err(format!("{} holds no PEM certificate", path.display())),
    }
}

/// What an action's command may name; each is filled in shell-quoted.
pub const PLACEHOLDERS: [&str; 4] = ["service", "env", "version", "from_version"];

/// The first `{word}` in `command` that is not a known placeholder.
fn unknown_placeholder(command: &str) -> Option<String> {
    let mut rest = command;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after.find('}')?;
        let name = &after[..close];
        // Only `{word}` can be meant as a placeholder: `awk '{print $1}'` and `{a,b}` are shell.
        let word = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if word && !PLACEHOLDERS.contains(&name) {
            return Some(name.to_string());
        }
        rest = &after[close + 1..];
    }
    None
}

/// A service's thresholds over the defaults'.
fn thresholds(o: &super::schema::ThresholdsOverride, d: &Thresholds) -> Thresholds {
    Thresholds {
        error_rate_warn: o.error_rate_warn.unwrap_or(d.error_rate_warn),
        error_rate_crit: o.error_rate_crit.unwrap_or(d.error_rate_crit),
        p95_warn: o.p95_warn.unwrap_or(d.p95_warn),
        p95_crit: o.p95_crit.unwrap_or(d.p95_crit),
        min_requests: o.min_requests.unwrap_or(d.min_requests),
        hold: o.hold.unwrap_or(d.hold),
        clear_for: o.clear_for.unwrap_or(d.clear_for),
        clear_margin: o.clear_margin.unwrap_or(d.clear_margin),
        datapoints_to_alarm: o.datapoints_to_alarm.unwrap_or(d.datapoints_to_alarm),
        evaluation_periods: o.evaluation_periods.unwrap_or(d.evaluation_periods),
        treat_missing_data: o.treat_missing_data.unwrap_or(d.treat_missing_data),
    }
}

/// The service's names, else the defaults' names, else the built-in candidates.
fn metric_names(svc: &MetricNamesConfig, defaults: &MetricNamesConfig) -> MetricNames {
    let builtin = MetricNames::default();
    let pick = |s: &Option<Vec<String>>, d: &Option<Vec<String>>, b: Vec<String>| s.clone().or(d.clone()).unwrap_or(b);
    MetricNames {
        requests: pick(&svc.requests, &defaults.requests, builtin.requests),
        status_labels: pick(&svc.status_labels, &defaults.status_labels, builtin.status_labels),
        durations: pick(&svc.durations, &defaults.durations, builtin.durations),
    }
}

fn join_path(base: &str, path: &str) -> String {
    if path.starts_with("http://") || path.starts_with("https://") {
        path.to_string()
    } else {
        format!("{base}/{}", path.trim_start_matches('/'))
    }
}

/// An error about `key` of the `index`th `[[array]]` entry, in the highest layer that has the array.
fn locate_entry(layers: &[Layer], array: &str, index: usize, key: &str, message: String) -> ConfigError {
    let header = format!("[[{array}]]");
    let layer = layers.iter().rev().find(|l| l.text.lines().any(|line| line.trim() == header));
    let full = format!("{array}[{index}].{key}");
    match layer {
        Some(l) => {
            let e = ConfigError::new(&l.file, message).key(full);
            match super::locate::find_entry_key_line(&l.text, array, index, key) {
                Some(line) => e.at(line, 1),
                None => e,
            }
        }
        None => ConfigError::new(layers.last().map(|l| l.file.clone()).unwrap_or_default(), message).key(full),
    }
}

/// An error about `table.name`, located in the highest layer that mentions it.
fn locate(layers: &[Layer], table: &str, name: &str, message: String) -> ConfigError {
    let key = if table.is_empty() { name.to_string() } else { format!("{table}.{name}") };
    for layer in layers.iter().rev() {
        if let Some(line) = find_key_line(&layer.text, table, name) {
            return ConfigError::new(&layer.file, message).at(line, 1).key(key);
        }
    }
    // A key left out: the table it belongs in.
    let header = format!("[{table}]");
    for layer in layers.iter().rev() {
        if let Some(i) = layer.text.lines().position(|l| l.trim() == header) {
            return ConfigError::new(&layer.file, message).at(i + 1, 1).key(key);
        }
    }
    let file = layers.last().map(|l| l.file.clone()).unwrap_or_default();
    ConfigError::new(file, message).key(key)
}

/// `[status]` and `serve.status_listen`: components name services of this config, once each name.
fn status_page(config: &Config, layers: &[Layer]) -> Result<(), ConfigError> {
    let err = |table: &str, name: &str, message: String| locate(layers, table, name, message);
    let status = &config.status;
    if let Some(listen) = &config.serve.status_listen {
        if listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(err("serve", "status_listen", format!("`{listen}` is not host:port, e.g. \"0.0.0.0:8080\"")));
        }
        if status.components.is_empty() {
            return Err(err(
                "serve",
                "status_listen",
                "the status page has nothing to show: add [[status.components]] with a name and services".into(),
            ));
        }
    }
    if !(1..=90).contains(&status.days) {
        return Err(err("status", "days", format!("{} is outside 1..=90 days", status.days)));
    }
    let mut names = std::collections::HashSet::new();
    for c in &status.components {
        if c.name.trim().is_empty() || !names.insert(c.name.as_str()) {
            let why = if c.name.trim().is_empty() {
                "a component needs a public name".into()
            } else {
                format!("component `{}` is named twice", c.name)
            };
            return Err(err("status.components", "name", why));
        }
        if c.services.is_empty() {
            return Err(err("status.components", "services", format!("component `{}` names no service", c.name)));
        }
        if let Some(s) = c.services.iter().find(|s| !config.services.contains_key(s.as_str())) {
            return Err(err(
                "status.components",
                "services",
                format!("component `{}` names service `{s}`, which is not in [services]", c.name),
            ));
        }
    }
    Ok(())
}
