//! The config file schema. Every table is optional in a file; defaults fill the rest.

use super::duration;
use indexmap::IndexMap;
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// One whole config, as one file or as the merge of all layers.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub board: Board,
    pub polling: Polling,
    pub defaults: CheckDefaults,
    pub environments: IndexMap<String, Environment>,
    pub services: IndexMap<String, Service>,
    /// A Prometheus-compatible server that services with `promql` queries read from.
    pub prometheus: Option<PrometheusServer>,
    /// AWS accounts and regions: Auto Scaling groups and CloudWatch metrics.
    pub aws: IndexMap<String, AwsAccount>,
    /// Commands the board can run against a service: `rollback`, `restart`, …
    pub actions: IndexMap<String, ActionConfig>,
    /// Where CI records deploys.
    pub deploys: DeployLogConfig,
    /// Backup jobs and how fresh each must be.
    pub backups: Vec<BackupJob>,
    /// `opsboard serve`: the board as a web page.
    pub serve: Serve,
    /// Webhooks told when a state changes.
    pub notify: Vec<NotifyConfig>,
    /// The team's running `opsboard serve`, which a plain `opsboard` attaches to.
    pub attach: Attach,
    /// The public status page (`serve.status_listen`): what the team's customers see.
    pub status: StatusPage,
    /// Planned windows: inside one a service sends nothing and shows "maintenance until 03:30".
    pub maintenance: Vec<MaintenanceWindow>,
}

/// A service's objective, resolved: `slo = { objective = "99.9%", window = "30d" }`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Slo {
    /// The share that must be good, 0 to 1 (0.999).
    pub objective: f64,
    pub window: Duration,
}

/// A service's objective, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SloConfig {
    /// The share that must be good: `"99.9%"` or `0.999`.
    pub objective: Ratio,
    /// The window it is judged over (default 30 days).
    #[serde(default = "default_slo_window", deserialize_with = "duration::required")]
    pub window: Duration,
}

fn default_slo_window() -> Duration {
    Duration::from_secs(30 * 86_400)
}

/// A share written as a percentage (`"99.9%"`) or a fraction (`0.999`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Ratio {
    Text(String),
    Number(f64),
}

impl Ratio {
    /// The share, 0 to 1.
    pub fn value(&self) -> Result<f64, String> {
        let v = match self {
            Ratio::Number(n) => *n,
            Ratio::Text(t) => match t.trim().strip_suffix('%') {
                Some(p) => {
                    p.trim().parse::<f64>().map(|p| p / 100.0).map_err(|_| format!("`{t}` is not a percentage"))?
                }
                None => {
                    t.trim().parse::<f64>().map_err(|_| format!("`{t}` is not a share: write \"99.9%\" or 0.999"))?
                }
            },
        };
        if v > 0.0 && v < 1.0 {
            Ok(v)
        } else {
            Err(format!("{v} is not a share between 0 and 1 (both excluded): write \"99.9%\" or 0.999"))
        }
    }
}

/// `[[maintenance]]`: a planned window, weekly or by cron, in a named time zone.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceWindow {
    /// What the board calls it; default what it was written as.
    #[serde(default)]
    pub name: String,
    /// Days and a wall-clock time: `"sun 02:00"`, `"mon-fri 22:30"`, `"daily 04:00"` …
    pub weekly: Option<String>,
    /// … or a cron line (`"0 2 * * 0"`; six fields with seconds first).
    pub cron: Option<String>,
    /// The zone its times are in (`"Europe/Tallinn"`); default the machine's.
    pub tz: Option<String>,
    /// How long each window lasts.
    #[serde(deserialize_with = "duration::required")]
    pub duration: Duration,
    /// The services it covers; with `envs`, those of these environments; with neither, all.
    #[serde(default)]
    pub services: Vec<String>,
    #[serde(default)]
    pub envs: Vec<String>,
    /// What the rows and the detail view say it is for.
    #[serde(default)]
    pub reason: String,
}

/// `[status]`: the public status page, for chosen services under public names.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StatusPage {
    /// The page's heading: "Acme status".
    pub title: String,
    /// Past days in the strip under each component (1 to 90).
    pub days: u16,
    /// What the page shows, in order; nothing else is ever on it.
    pub components: Vec<StatusComponent>,
}

impl Default for StatusPage {
    fn default() -> Self {
        Self { title: "Status".into(), days: 30, components: Vec::new() }
    }
}

/// `[[status.components]]`: a public name for one or more services, judged by the worst.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusComponent {
    /// "Website", "Checkout": what customers call it.
    pub name: String,
    /// The services behind it, by their names in this config.
    pub services: Vec<String>,
}

/// `[attach]`: a plain `opsboard` shows the board of the server at `url` when it answers, and
/// polls the fleet by itself when it does not.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Attach {
    /// `http://host:port` of the server.
    pub url: Option<String>,
    /// The server's token; write it as `"${OPSBOARD_TOKEN}"` to keep it out of the file.
    pub token: Option<String>,
    /// An operator's token (`[[serve.operators]]` on the server), e.g. `"${OPSBOARD_OPERATOR_TOKEN}"`:
    /// with it this terminal may run the server's actions and silences.
    pub operator_token: Option<String>,
    /// Whether a board polling by itself (the server did not answer) sends the `[[notify]]`
    /// messages too. Off: the server sends them, and they would go out twice.
    pub notify: bool,
    /// The CA (PEM) an `https://` server's certificate is checked against, for a certificate of
    /// the team's own; the system's roots without it.
    pub ca_file: Option<PathBuf>,
}

/// What an error budget's burn-rate rules raise: a ticket (WARN) or a page (CRIT).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SloAlert {
    Ticket,
    Page,
}

fn both_alerts() -> Vec<SloAlert> {
    vec![SloAlert::Page, SloAlert::Ticket]
}

/// The least a change must reach to notify.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MinState {
    /// Warnings and worse, and notices below them: a service's count of instances changing.
    Info,
    #[default]
    Warn,
    Crit,
}

/// How a webhook's body is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookFormat {
    #[default]
    Json,
    Slack,
}

/// The terminal bell on a change: off, or from this state up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Bell {
    #[default]
    Off,
    Warn,
    Crit,
}

/// One `[[notify]]` webhook.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyConfig {
    /// What the board and the log call it (default: the URL's host).
    #[serde(default)]
    pub name: Option<String>,
    /// Write it as `"${SLACK_WEBHOOK_URL}"`: it is never drawn or logged whole.
    pub url: String,
    #[serde(default)]
    pub format: WebhookFormat,
    #[serde(default)]
    pub min_state: MinState,
    /// Only these services; empty for all (ASGs, backups and the board always pass).
    #[serde(default)]
    pub services: Vec<String>,
    /// Only services in these environments; empty for all.
    #[serde(default)]
    pub envs: Vec<String>,
    /// At most one message per item this often (a recovery always goes out).
    #[serde(default = "default_cooldown", deserialize_with = "duration::required")]
    pub cooldown: Duration,
    /// Changes within this of each other go out as one message.
    #[serde(default = "default_group_wait", deserialize_with = "duration::required")]
    pub group_wait: Duration,
    /// Remind this often while an item stays bad and nobody has taken it (`"30m"`); never by
    /// default.
    #[serde(default, deserialize_with = "duration::optional")]
    pub repeat: Option<Duration>,
    /// Which error-budget alerts this destination takes: `["page"]`, `["ticket"]` or both (the
    /// default); a service in a state only because of an alert left out is OK here.
    #[serde(default = "both_alerts")]
    pub budget_alerts: Vec<SloAlert>,
    #[serde(default = "default_notify_timeout", deserialize_with = "duration::required")]
    pub timeout: Duration,
    /// Tries after the first, on errors, 5xx and 429.
    #[serde(default = "default_retries")]
    pub retries: u32,
}

fn default_cooldown() -> Duration {
    Duration::from_secs(300)
}

fn default_group_wait() -> Duration {
    Duration::from_secs(5)
}

fn default_notify_timeout() -> Duration {
    Duration::from_secs(10)
}

fn default_retries() -> u32 {
    4
}

/// `opsboard serve`: where it listens, who may read it, how the page looks.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Serve {
    /// `host:port`; anything but loopback needs `token`.
    pub listen: String,
    /// The token readers must present; write it as `"${OPSBOARD_TOKEN}"` to keep it out of the file.
    pub token: Option<String>,
    /// The page's font size in CSS pixels; `?font=` in the address overrides it.
    pub font_size: u16,
    /// The wall's rotating pages (true) or the overview (false).
    pub wall: bool,
    /// People whose attached terminals may run the actions and silences, each by a token of
    /// their own. Only over loopback: a token never crosses a network in clear.
    pub operators: Vec<OperatorConfig>,
    /// `host:port` of the public status page (`[status]`): `/status` alone, with no token.
    pub status_listen: Option<String>,
    /// A certificate chain and its key (PEM) to serve over TLS: then operators may attach from
    /// other machines, their tokens no longer crossing the network in clear.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// A Unix socket the board is served on too (`attach unix:PATH`): who may connect is the
    /// socket file's permissions, and the audit log names the bastion user by the peer's uid.
    pub unix_socket: Option<PathBuf>,
}

impl Default for Serve {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:7878".into(),
            token: None,
            font_size: 18,
            wall: true,
            operators: Vec::new(),
            status_listen: None,
            tls_cert: None,
            tls_key: None,
            unix_socket: None,
        }
    }
}

/// `[[serve.operators]]`: a name for the audit log and the token that proves it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorConfig {
    pub name: String,
    /// Written as `"${ALICE_TOKEN}"` to keep it out of the file; or `token_file`.
    pub token: Option<String>,
    pub token_file: Option<PathBuf>,
}

/// A backup job: the newest artefact must be younger than `max_age` (the RPO).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupJob {
    pub name: String,
    #[serde(deserialize_with = "duration::required")]
    pub max_age: Duration,
    #[serde(default = "default_backup_interval", deserialize_with = "duration::required")]
    pub interval: Duration,
    /// Newest file matching this glob (with its size), e.g. `/var/backups/mongo/*.gz`.
    pub glob: Option<String>,
    /// A metric holding the last success as unix seconds (the textfile-collector convention).
    pub metric: Option<BackupMetric>,
    /// A command whose first output line is a timestamp (RFC 3339 or unix seconds),
    /// optionally followed by a size in bytes.
    pub command: Option<String>,
    /// The newest object under an S3 prefix, through an `[aws.NAME]` account.
    pub s3: Option<BackupS3>,
    /// The newest RDS snapshot of a DB instance, through an `[aws.NAME]` account.
    pub rds: Option<BackupRds>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupS3 {
    pub account: String,
    pub bucket: String,
    #[serde(default)]
    pub prefix: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupRds {
    pub account: String,
    pub db_instance: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupMetric {
    pub url: String,
    pub name: String,
    #[serde(default)]
    pub labels: IndexMap<String, String>,
}

fn default_backup_interval() -> Duration {
    Duration::from_secs(60)
}

/// The deploy log that CI appends to: a JSON-lines file or an HTTP URL.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeployLogConfig {
    /// A path, or an `http(s)://` URL.
    pub log: Option<String>,
    #[serde(deserialize_with = "duration::required")]
    pub interval: Duration,
}

impl Default for DeployLogConfig {
    fn default() -> Self {
        Self { log: None, interval: Duration::from_secs(30) }
    }
}

/// An ECS service, in an account of `[aws]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EcsTable {
    pub aws: String,
    pub cluster: String,
    pub service: String,
}

/// A CodeDeploy application's deployment group, in an account of `[aws]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeDeployTable {
    pub aws: String,
    pub application: String,
    pub group: String,
}

/// What an action does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// Runs `command` with `sh -c`.
    #[default]
    Command,
    /// The service's ECS service back to the task definition it ran before (`UpdateService`).
    EcsRollback,
    /// The service's CodeDeploy group back to its last successful revision (`CreateDeployment`,
    /// or `StopDeployment` with auto-rollback for one in progress).
    CodedeployRollback,
}

impl ActionKind {
    pub fn native(self) -> bool {
        self != ActionKind::Command
    }
}

/// An action run against one service, after a typed confirmation: a command template, or a
/// rollback through ECS's or CodeDeploy's API.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionConfig {
    #[serde(default)]
    pub kind: ActionKind,
    /// Run with `sh -c`; `{service}`, `{env}`, `{version}` and `{from_version}` are filled in.
    #[serde(default)]
    pub command: String,
    /// The key that opens the dialog, e.g. "R".
    pub key: char,
    /// Killed after this long.
    #[serde(default = "default_action_timeout", deserialize_with = "duration::required")]
    pub timeout: Duration,
    /// Whether the dialog asks for a version (rollbacks do; restarts do not).
    #[serde(default)]
    pub needs_version: bool,
}

fn default_action_timeout() -> Duration {
    Duration::from_secs(600)
}

/// One AWS account in one region.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsAccount {
    pub region: String,
    /// A profile from ~/.aws/config; default: the standard credential chain.
    pub profile: Option<String>,
    /// For LocalStack, moto or VPC endpoints.
    pub endpoint_url: Option<String>,
    /// How often groups and metrics are read (never shorter than a metric's period).
    #[serde(default = "default_aws_interval", deserialize_with = "duration::required")]
    pub interval: Duration,
    /// Auto Scaling groups by name.
    #[serde(default)]
    pub asgs: Vec<String>,
    /// Also every group whose name starts with this.
    pub asg_prefix: Option<String>,
    /// In-service below desired for longer than this is a warning.
    #[serde(default = "default_asg_grace", deserialize_with = "duration::required")]
    pub grace: Duration,
    /// CloudWatch metrics, one table each (`[[aws.NAME.metrics]]`).
    #[serde(default)]
    pub metrics: Vec<CloudWatchMetric>,
    /// CloudWatch alarms, metric and composite, read as signals (`[aws.NAME.alarms]`).
    pub alarms: Option<AlarmsTable>,
    /// SQS queues, one table each (`[[aws.NAME.queues]]`).
    #[serde(default)]
    pub queues: Vec<QueueTable>,
    /// RDS instances and Aurora clusters, one table each (`[[aws.NAME.databases]]`).
    #[serde(default)]
    pub databases: Vec<DatabaseTable>,
}

/// One RDS instance or Aurora cluster: its state, its storage, and its copy in a DR region.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseTable {
    /// An RDS instance's identifier.
    pub id: Option<String>,
    /// An Aurora cluster's identifier.
    pub cluster: Option<String>,
    /// The service whose state the database's takes part in.
    pub service: Option<String>,
    /// The region its snapshots are copied to for disaster recovery.
    pub dr_region: Option<String>,
    /// The newest snapshot there must be younger than this (default 26h).
    #[serde(deserialize_with = "duration::optional")]
    pub dr_max_age: Option<Duration>,
    /// Free storage below this percentage of the allocated is a warning, below half of it
    /// critical (default 10; RDS instances, from CloudWatch's FreeStorageSpace).
    pub min_free_storage: Option<f64>,
}

/// One SQS queue: its depth and its oldest message's age against limits.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QueueTable {
    /// The queue's name.
    pub name: String,
    /// The service whose state the queue's takes part in.
    pub service: Option<String>,
    /// More visible messages than this is critical.
    pub max_depth: Option<u64>,
    /// An oldest message older than this is critical (CloudWatch's ApproximateAgeOfOldestMessage).
    #[serde(deserialize_with = "duration::optional")]
    pub max_age: Option<Duration>,
    /// Its dead-letter queue's name: any message there is a warning.
    pub dead_letter: Option<String>,
}

/// Which CloudWatch alarms the board reads, and whose they are.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlarmsTable {
    /// Every alarm whose name starts with this.
    pub prefix: Option<String>,
    /// These alarms, by name.
    pub names: Vec<String>,
    /// An alarm's service, by the alarm's name; otherwise the service whose name the alarm's
    /// contains (the longest such), else none (the AWS panel still shows it).
    pub services: IndexMap<String, String>,
    /// Alarms whose `ALARM` is a warning rather than critical.
    pub warn: Vec<String>,
}

fn default_aws_interval() -> Duration {
    Duration::from_secs(60)
}

fn default_asg_grace() -> Duration {
    Duration::from_secs(300)
}

/// A CloudWatch metric query, or a preset that expands to several.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CloudWatchMetric {
    /// `alb`, `ec2` or `rds`; fills namespace, metrics and statistics.
    pub preset: Option<String>,
    /// Shown on the board.
    pub label: Option<String>,
    pub namespace: Option<String>,
    pub metric: Option<String>,
    pub dimensions: IndexMap<String, String>,
    /// `Sum`, `Average`, `Maximum`, `Minimum`, `SampleCount`, or a percentile like `p95`.
    pub stat: Option<String>,
    #[serde(deserialize_with = "duration::optional")]
    pub period: Option<Duration>,
    /// Feeds this service's signals.
    pub service: Option<String>,
    /// With `service`: `requests`, `errors` or `p95`.
    pub role: Option<String>,
    /// `seconds`, `milliseconds`, `percent`, `bytes`, `count` (per period, shown per minute),
    /// `count/s` or `none`; presets know theirs.
    pub unit: Option<String>,
    /// Preset arguments.
    pub load_balancer: Option<String>,
    pub asg: Option<String>,
    pub db_instance: Option<String>,
}

/// A Prometheus HTTP API: Prometheus, Thanos, Mimir, VictoriaMetrics.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrometheusServer {
    /// Base URL, e.g. `http://prometheus:9090`.
    pub url: String,
    #[serde(default = "default_promql_timeout", deserialize_with = "duration::required")]
    pub timeout: Duration,
    #[serde(default)]
    pub headers: IndexMap<String, String>,
}

fn default_promql_timeout() -> Duration {
    Duration::from_secs(5)
}

/// PromQL that gives a service its signals instead of scraping its instances.
/// Each query must return one number (a one-element vector or a scalar).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PromqlQueries {
    /// Requests per second.
    pub rate: Option<String>,
    /// 5xx share of requests, 0..1.
    pub error_ratio: Option<String>,
    /// Latency quantiles, in seconds.
    pub p50: Option<String>,
    pub p95: Option<String>,
    pub p99: Option<String>,
    /// One series per instance, 1 up and 0 down (`probe_success{job="blackbox"}`, `up{job="api"}`):
    /// the service's instance rows come from it, and the board polls nothing for the service.
    pub up: Option<String>,
    /// The label that names each instance of `up` (default `instance`).
    pub instance_label: Option<String>,
}

impl PromqlQueries {
    /// Whether any query gives signals (rate, errors, latency), not only instance rows.
    pub fn has_signals(&self) -> bool {
        [&self.rate, &self.error_ratio, &self.p50, &self.p95, &self.p99].iter().any(|q| q.is_some())
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Interactive,
    Wall,
}

/// How the board looks and behaves.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Board {
    pub title: String,
    pub mode: Mode,
    /// Ring the terminal bell when a state rises to this (or falls back from it).
    pub bell: Bell,
    /// Desktop notifications through the terminal (OSC 777 / OSC 9).
    pub notify: bool,
    pub theme: Option<String>,
    pub read_only: bool,
    pub mouse: bool,
    pub max_fps: u32,
    pub log_file: Option<PathBuf>,
    pub wall: Wall,
}

/// A page of the wall.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Page {
    /// Every service on one screen, one line each, worst first.
    Overview,
    /// The instance-health panel.
    Health,
    /// The error-rate and latency panel.
    Errors,
    /// Auto Scaling groups and CloudWatch metrics.
    Aws,
    /// Recent deploys.
    Deploys,
    /// Backup jobs.
    Backups,
}

/// The wall: pages that rotate on a TV nobody touches.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Wall {
    #[serde(deserialize_with = "duration::required")]
    pub page_interval: Duration,
    pub pages: Vec<Page>,
}

impl Default for Wall {
    fn default() -> Self {
        Self {
            page_interval: Duration::from_secs(15),
            pages: vec![Page::Overview, Page::Health, Page::Errors, Page::Deploys, Page::Backups],
        }
    }
}

impl Default for Board {
    fn default() -> Self {
        Self {
            title: "opsboard".into(),
            mode: Mode::Interactive,
            bell: Bell::Off,
            notify: false,
            theme: None,
            read_only: false,
            mouse: false,
            max_fps: 10,
            log_file: None,
            wall: Wall::default(),
        }
    }
}

/// Limits shared by every poller.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Polling {
    /// Requests in flight across the whole board.
    pub max_in_flight: usize,
    /// Fraction of the interval by which each poll is randomly shifted.
    pub jitter: f64,
    /// Longest interval a failing instance backs off to.
    #[serde(deserialize_with = "duration::required")]
    pub backoff_max: Duration,
    /// Missed intervals after which a result counts as stale.
    pub stale_after_intervals: u32,
    /// How far back a service's trend reaches, in points (see `state::Trend`).
    pub history: usize,
}

impl Default for Polling {
    fn default() -> Self {
        Self {
            max_in_flight: 64,
            jitter: 0.1,
            backoff_max: Duration::from_secs(60),
            stale_after_intervals: 3,
            history: 120,
        }
    }
}

/// Per-check settings that a service inherits unless it sets its own.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CheckDefaults {
    #[serde(deserialize_with = "duration::required")]
    pub interval: Duration,
    #[serde(deserialize_with = "duration::required")]
    pub timeout: Duration,
    /// A health check slower than this is a warning.
    #[serde(deserialize_with = "duration::required")]
    pub slow_after: Duration,
    pub health_path: String,
    pub metrics_path: String,
    pub headers: IndexMap<String, String>,
    /// Scrape each instance's metrics path for request rate, errors and latency.
    pub scrape: bool,
    pub metrics: MetricNamesConfig,
    pub thresholds: Thresholds,
    /// Rates, error ratio and quantiles are taken over this much of the latest scrapes,
    /// as PromQL's `rate(x[1m])`.
    #[serde(deserialize_with = "duration::required")]
    pub window: Duration,
    /// Consecutive failed checks before an instance counts as down (an ALB's UnhealthyThresholdCount).
    pub unhealthy_after: u32,
    /// Consecutive passing checks before a down instance counts as up again.
    pub healthy_after: u32,
    /// An https instance's certificate expiring within this is a warning …
    #[serde(deserialize_with = "duration::required")]
    pub tls_expiry_warn: Duration,
    /// … and within this, critical.
    #[serde(deserialize_with = "duration::required")]
    pub tls_expiry_crit: Duration,
}

/// Which metrics carry the golden signals; each list is tried in order.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricNamesConfig {
    /// Request counters, e.g. `["http_requests_total"]`.
    pub requests: Option<Vec<String>>,
    /// Labels holding the status code, e.g. `["code", "status"]`.
    pub status_labels: Option<Vec<String>>,
    /// Latency histogram or summary base names, in seconds.
    pub durations: Option<Vec<String>>,
}

/// When error rate and latency turn a service yellow or red.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Thresholds {
    /// Share of requests answered with 5xx, 0..1.
    pub error_rate_warn: f64,
    pub error_rate_crit: f64,
    #[serde(deserialize_with = "duration::required")]
    pub p95_warn: Duration,
    #[serde(deserialize_with = "duration::required")]
    pub p95_crit: Duration,
    /// Fewer requests than this in the window and the error ratio does not judge the service:
    /// at 100 requests one error is already 1%, the default warn threshold.
    pub min_requests: u64,
    /// A threshold must be crossed this long before the state rises, and cleared this long
    /// before it falls.
    #[serde(rename = "for", deserialize_with = "duration::required")]
    pub hold: Duration,
    /// The value must stay clear of the threshold (by the margin) this long before the state
    /// falls: Prometheus' `keep_firing_for`. Longer than `for`, so that a noisy signal near its
    /// threshold stays on the side it settled on.
    #[serde(deserialize_with = "duration::required")]
    pub clear_for: Duration,
    /// To fall, a value must be this share below the threshold it crossed (0.2: 20% below).
    pub clear_margin: f64,
    /// For a source with a period (CloudWatch): the state rises when this many of the last
    /// `evaluation_periods` complete periods are past the threshold, as a CloudWatch alarm's M
    /// of N; `for` is for scrapes, whose points are seconds apart.
    pub datapoints_to_alarm: u32,
    pub evaluation_periods: u32,
    /// What a period with no datapoint counts as.
    pub treat_missing_data: MissingData,
}

/// CloudWatch's `TreatMissingData`, for a period with no datapoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MissingData {
    /// Skipped: the last N periods that have a datapoint are judged.
    #[default]
    Missing,
    /// A good period.
    NotBreaching,
    /// A bad period, at every level.
    Breaching,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            error_rate_warn: 0.01,
            error_rate_crit: 0.05,
            p95_warn: Duration::from_millis(500),
            p95_crit: Duration::from_secs(2),
            min_requests: 100,
            hold: Duration::from_secs(30),
            clear_for: Duration::from_secs(60),
            clear_margin: 0.2,
            datapoints_to_alarm: 2,
            evaluation_periods: 3,
            treat_missing_data: MissingData::Missing,
        }
    }
}

/// A service's own thresholds; unset keys come from `[defaults.thresholds]`.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ThresholdsOverride {
    pub error_rate_warn: Option<f64>,
    pub error_rate_crit: Option<f64>,
    #[serde(deserialize_with = "duration::optional")]
    pub p95_warn: Option<Duration>,
    #[serde(deserialize_with = "duration::optional")]
    pub p95_crit: Option<Duration>,
    pub min_requests: Option<u64>,
    #[serde(rename = "for", deserialize_with = "duration::optional")]
    pub hold: Option<Duration>,
    #[serde(deserialize_with = "duration::optional")]
    pub clear_for: Option<Duration>,
    pub clear_margin: Option<f64>,
    pub datapoints_to_alarm: Option<u32>,
    pub evaluation_periods: Option<u32>,
    pub treat_missing_data: Option<MissingData>,
}

impl Default for CheckDefaults {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(10),
            timeout: Duration::from_secs(2),
            slow_after: Duration::from_millis(750),
            health_path: "/health".into(),
            metrics_path: "/metrics".into(),
            headers: IndexMap::new(),
            scrape: true,
            metrics: MetricNamesConfig::default(),
            thresholds: Thresholds::default(),
            window: Duration::from_secs(60),
            unhealthy_after: 2,
            healthy_after: 2,
            tls_expiry_warn: Duration::from_secs(14 * 86400),
            tls_expiry_crit: Duration::from_secs(3 * 86400),
        }
    }
}

/// An environment such as `prod` or `staging`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Environment {
    /// Short label shown next to each service, e.g. `PROD`.
    pub label: Option<String>,
    /// Accent colour name or `#rrggbb`.
    pub color: Option<String>,
    /// No action may run against services of this environment.
    pub read_only: bool,
}

/// A service: a named set of instances that serve the same thing.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Service {
    pub env: Option<String>,
    /// Base URLs, e.g. `"http://10.0.3.7:8080"`, or tables `{ url = "…", name = "web-1" }`.
    pub instances: Vec<InstanceEntry>,
    /// Where more instances come from, followed as they come and go: Prometheus' targets,
    /// file_sd files, DNS, a target group, an Auto Scaling group.
    pub instances_from: Vec<super::discovery::InstanceSource>,
    /// At most this many instances (default 10,000): the rest are left out, and the board says so.
    pub max_instances: Option<usize>,
    pub health_path: Option<String>,
    pub metrics_path: Option<String>,
    #[serde(deserialize_with = "duration::optional")]
    pub interval: Option<Duration>,
    #[serde(deserialize_with = "duration::optional")]
    pub timeout: Option<Duration>,
    #[serde(deserialize_with = "duration::optional")]
    pub slow_after: Option<Duration>,
    pub headers: IndexMap<String, String>,
    pub scrape: Option<bool>,
    pub metrics: MetricNamesConfig,
    pub thresholds: ThresholdsOverride,
    /// The hosts the instances run on: a node exporter beside each, and when their CPU,
    /// memory, disk and load are too high.
    pub hosts: HostsTable,
    /// The ECS service it runs as: its deployments are deploys, `ecs_rollback` moves it back.
    pub ecs: Option<EcsTable>,
    /// The CodeDeploy deployment group it deploys through.
    pub codedeploy: Option<CodeDeployTable>,
    #[serde(deserialize_with = "duration::optional")]
    pub window: Option<Duration>,
    pub unhealthy_after: Option<u32>,
    pub healthy_after: Option<u32>,
    #[serde(deserialize_with = "duration::optional")]
    pub tls_expiry_warn: Option<Duration>,
    #[serde(deserialize_with = "duration::optional")]
    pub tls_expiry_crit: Option<Duration>,
    /// PEM file of the CA(s) that sign this service's certificates (a private CA).
    pub ca_file: Option<PathBuf>,
    /// What it needs to work: services by name, other items by `kind:name` (`asg:web-asg`,
    /// `queue:emails`, `database:orders-db`, `backup:postgres`). While one of them fails, this
    /// service's failure is shown and sent as blocked by it.
    pub depends_on: Vec<String>,
    /// How long its own failure waits for a cause to be seen failing before it is sent on its
    /// own (default: as long as the slowest cause takes to be judged down).
    #[serde(deserialize_with = "duration::optional")]
    pub dependency_wait: Option<Duration>,
    /// Its objective: `slo = { objective = "99.9%", window = "30d" }`, on its requests' error
    /// ratio, or on its health checks without request metrics.
    pub slo: Option<SloConfig>,
    /// For `tcp://` instances: what to write once connected, e.g. `"PING\r\n"` …
    pub send: Option<String>,
    /// … and what the answer must contain, e.g. `"+PONG"`.
    pub expect: Option<String>,
    /// Status codes that count as healthy, e.g. `[200, 204]` (default: any below 400).
    pub expect_status: Option<Vec<u16>>,
    /// Text the health body must contain.
    pub body_contains: Option<String>,
    /// A regular expression the health body must match.
    pub body_regex: Option<String>,
    /// JSON conditions by pointer: `'"/status" == "UP"'`, `'"/queue/depth" < 1000'`.
    pub conditions: Option<Vec<String>>,
    /// `false` accepts any certificate (shown as ⚠ on the service's row).
    pub tls_verify: Option<bool>,
    /// Signals from the `[prometheus]` server; scraping stays on for the signals it does not give.
    pub promql: Option<PromqlQueries>,
}

/// One instance: a bare URL, or a table with a display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceEntry {
    pub url: String,
    pub name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InstanceTable {
    url: String,
    name: Option<String>,
}

impl<'de> Deserialize<'de> for InstanceEntry {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = InstanceEntry;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a URL string or a table { url = \"…\", name = \"…\" }")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<InstanceEntry, E> {
                Ok(InstanceEntry { url: v.to_string(), name: None })
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<InstanceEntry, A::Error> {
                let t = InstanceTable::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(InstanceEntry { url: t.url, name: t.name })
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// `[services.NAME.hosts]`: thresholds in percent (load per CPU); a node exporter's own
/// exposition (a service of hosts) is read the same way without `node_exporter_port`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HostsTable {
    /// A node exporter on this port of each instance's host, scraped beside the app.
    pub node_exporter_port: Option<u16>,
    /// The numbers from CloudWatch instead: EC2's CPUUtilization and the CloudWatch agent's
    /// mem_used_percent and disk_used_percent, per instance ID.
    pub cloudwatch: bool,
    /// The `[aws.NAME]` account they are in (the only one, when there is one).
    pub aws: Option<String>,
    pub cpu_warn: f64,
    pub cpu_crit: f64,
    pub memory_warn: f64,
    pub memory_crit: f64,
    pub disk_warn: f64,
    pub disk_crit: f64,
    pub load_warn: f64,
    pub load_crit: f64,
}

impl Default for HostsTable {
    fn default() -> Self {
        Self {
            node_exporter_port: None,
            cloudwatch: false,
            aws: None,
            cpu_warn: 90.0,
            cpu_crit: 98.0,
            memory_warn: 90.0,
            memory_crit: 97.0,
            disk_warn: 85.0,
            disk_crit: 95.0,
            load_warn: 2.0,
            load_crit: 4.0,
        }
    }
}
