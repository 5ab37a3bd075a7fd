//! The fleet config: schema, layering (defaults < file < override), validation with line numbers.

pub mod answer;
pub mod aws;
pub mod dependencies;
pub mod discovery;
mod duration;
mod error;
mod interpolate;
mod layers;
mod locate;
pub mod maintenance;
mod resolve;
pub mod review;
pub mod schema;

pub use duration::parse as parse_duration;
pub use error::ConfigError;
pub use layers::{Layer, parse_checked};
pub use resolve::{CheckSpec, EnvSpec, Fleet, InstanceSpec, MAX_EVALUATION_PERIODS, ServiceSpec, TlsSpec};
pub use schema::{Config, Mode, Slo};

use std::path::{Path, PathBuf};

/// The built-in lowest layer.
pub const DEFAULTS_TOML: &str = include_str!("defaults.toml");
/// Names the override file, the highest layer.
pub const OVERRIDE_ENV: &str = "OPSBOARD_CONFIG_OVERRIDE";
const DEFAULTS_NAME: &str = "<built-in defaults>";

/// A config merged from its layers and checked.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    pub fleet: Fleet,
    /// The files that were read, lowest layer first.
    pub files: Vec<PathBuf>,
}

impl Loaded {
    /// Every secret the config holds (header values, passwords in URLs, webhook URLs), to keep
    /// out of every output.
    pub fn secrets(&self) -> crate::redact::Secrets {
        let loaded = self;
        let mut s = crate::redact::Secrets::default();
        for svc in &loaded.fleet.services {
            for (_, v) in &svc.check.headers {
                s.add_header(v);
            }
            for inst in &svc.instances {
                s.add_url(&inst.base_url);
            }
        }
        if let Some(p) = &loaded.fleet.prometheus {
            s.add_url(&p.url);
            for v in p.headers.values() {
                s.add_header(v);
            }
        }
        // A webhook URL is its own credential (Slack's carries the token in its path).
        for n in &loaded.config.notify {
            s.add(&n.url);
            if let Ok(u) = reqwest::Url::parse(&n.url) {
                s.add(u.path().trim_start_matches('/'));
            }
        }
        if let Some(log) = &loaded.config.deploys.log {
            s.add_url(log);
        }
        s
    }
}

/// Where the layers come from.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// The user's file: `--config PATH`, or the XDG config file when it exists.
    pub user: Option<PathBuf>,
    /// Whether `user` was named explicitly (then it must exist).
    pub explicit: bool,
    /// The override file named by `OPSBOARD_CONFIG_OVERRIDE`.
    pub override_file: Option<PathBuf>,
}

impl Sources {
    /// `--config` if given, else the XDG config file; plus the override from the environment.
    pub fn discover(explicit: Option<PathBuf>, env: &dyn Fn(&str) -> Option<String>) -> Self {
        let override_file = env(OVERRIDE_ENV).filter(|s| !s.is_empty()).map(PathBuf::from);
        match explicit {
            Some(path) => Self { user: Some(path), explicit: true, override_file },
            None => Self { user: default_config_path().filter(|p| p.exists()), explicit: false, override_file },
        }
    }
}

/// `$XDG_CONFIG_HOME/opsboard/config.toml` or the platform's equivalent.
pub fn default_config_path() -> Option<PathBuf> {
    config_dir().map(|d| d.join("config.toml"))
}

/// The directory for the user's config and themes.
pub fn config_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "opsboard").map(|d| d.config_dir().to_path_buf())
}

/// Reads every layer from disk and merges them.
pub fn load(sources: &Sources, env: &dyn Fn(&str) -> Option<String>) -> Result<Loaded, ConfigError> {
    let mut layers = vec![Layer::parse(DEFAULTS_NAME, DEFAULTS_TOML.to_string(), env)?];
    if let Some(user) = &sources.user {
        layers.push(Layer::read(user, env)?);
    }
    if let Some(over) = &sources.override_file {
        layers.push(Layer::read(over, env)?);
    }
    merge_layers(layers)
}

/// Loads a config given as text on top of the built-in defaults (tests, the demo).
pub fn load_str(name: &str, text: &str) -> Result<Loaded, ConfigError> {
    let env = |k: &str| std::env::var(k).ok();
    let layers = vec![
        Layer::parse(DEFAULTS_NAME, DEFAULTS_TOML.to_string(), &env)?,
        Layer::parse(name, text.to_string(), &env)?,
    ];
    merge_layers(layers)
}

/// Merges parsed layers, lowest first, and resolves the result into a fleet.
pub fn merge_layers(layers: Vec<Layer>) -> Result<Loaded, ConfigError> {
    let mut merged = toml::Table::new();
    for layer in &layers {
        layers::merge(&mut merged, &layer.table);
    }
    let top = layers.last().map_or_else(|| Path::new(DEFAULTS_NAME).to_path_buf(), |l| l.file.clone());
    let config: Config = toml::Value::Table(merged)
        .try_into()
        .map_err(|e: toml::de::Error| ConfigError::new(&top, e.message().to_string()))?;
    let fleet = resolve::resolve(&config, &layers)?;
    let files = layers.iter().skip(1).map(|l| l.file.clone()).collect();
    Ok(Loaded { config, fleet, files })
}
