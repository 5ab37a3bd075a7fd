//! What a source can tell the board, and the stable names events use for what they are about.
//!
//! Events name services, instances, accounts and backup jobs by key (config names and
//! addresses), never by position: the fleet can change shape between an event's sending and its
//! applying, and an instance that came or went moves every position after it.

use super::{ActionEvent, HealthSample, ScrapeResult, SignalPoint, aws, backups, deploys, silences};
use crate::config::{InstanceSpec, Loaded};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// A service: its name.
pub type ServiceKey = Arc<str>;

/// An instance: its service's name and its own key ([`InstanceSpec::key`]: its address).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InstanceKey {
    pub service: ServiceKey,
    pub instance: Arc<str>,
}

impl InstanceKey {
    pub fn new(service: &str, instance: &InstanceSpec) -> Self {
        Self { service: service.into(), instance: instance.key().into() }
    }
}

/// One instance's series of an `up` query.
#[derive(Debug, Clone, PartialEq)]
pub struct UpSeries {
    pub instance: String,
    pub value: f64,
    /// `up`, `probe_success` …: how the reason names it.
    pub metric: String,
}

/// Everything a source can tell the board.
#[derive(Debug, Clone)]
pub enum Event {
    /// A health check finished; the next one is due in `next_in`.
    Health { key: InstanceKey, sample: HealthSample, next_in: Duration },
    /// A metrics scrape finished.
    Scrape { key: InstanceKey, result: ScrapeResult },
    /// A scrape of the node exporter beside an instance finished.
    HostScrape { key: InstanceKey, result: ScrapeResult },
    /// Hosts' numbers read from CloudWatch for a service's instances (by key), current for
    /// `fresh_for`; or why they could not be read.
    HostPoints {
        service: ServiceKey,
        at: SystemTime,
        fresh_for: Duration,
        result: Result<Vec<(InstanceKey, super::host::HostPoint)>, String>,
    },
    /// Service-level signal points from PromQL or CloudWatch, oldest first, or why they failed.
    Signals { service: ServiceKey, result: Result<Vec<SignalPoint>, String> },
    /// Something from one AWS account (by name).
    Aws { account: Arc<str>, event: aws::AwsEvent },
    /// Something from an action running against a service.
    Action { service: ServiceKey, event: ActionEvent },
    /// An ECS service's or CodeDeploy group's deployments (`source`: `ecs`, `codedeploy`), or why
    /// they could not be read.
    DeploySource { service: ServiceKey, source: &'static str, result: Result<super::rollouts::SourceRead, String> },
    /// New lines of the deploy log.
    DeployLog { entries: Vec<deploys::LogEntry> },
    /// A backup job (by name) was checked.
    Backup { job: Arc<str>, sample: backups::BackupSample },
    /// The instances of a service whose health comes from Prometheus' `up`, or why not.
    Up { service: ServiceKey, at: SystemTime, result: Result<Vec<UpSeries>, String> },
    /// A notification went out to webhook `target`, or could not.
    Delivery { target: usize, label: String, error: Option<String> },
    /// The counts' store works again (`None`), or why it does not: they are kept in memory.
    CountsKept(Option<String>),
    /// An item's notifications muted (from the board).
    Silenced(silences::Silence),
    /// Silences lifted, or over (by time, or their item is OK again).
    Unsilenced { items: Vec<String> },
    /// A maintenance window set on an item from the board (its `until` is when it ends).
    Maintenance(silences::Silence),
    /// Maintenance windows ended from the board, or over.
    MaintenanceOver { items: Vec<String> },
    /// An item taken by someone (from a screen of the collector).
    Taken(super::taken::Taking),
    /// Items handed back, or whose incident is over (they are OK again).
    HandedBack { items: Vec<String> },
    /// A note for the public status page.
    StatusNote(super::status_notes::StatusNote),
    /// A service's instances are now these, in this order: instances that stay keep their
    /// history, new ones start unchecked, the rest are gone.
    Instances { service: ServiceKey, instances: Vec<InstanceSpec> },
    /// What a service's sources of instances (`instances_from`) list now, at `at`: listed
    /// instances that stay keep their history, new ones start ("starting"), the rest are gone.
    Discovered { service: ServiceKey, at: SystemTime, found: super::Found },
    /// What became of loading the config again (its refusal, what needs a restart).
    Config(crate::config::review::ConfigNote),
    /// The config was loaded again: services, backups and accounts that stay (by name) keep
    /// what they know, new ones start empty, the rest are gone.
    Reload(Arc<Loaded>),
}

impl Event {
    /// The service the event is about, if it is about one.
    pub(super) fn service(&self) -> Option<&str> {
        match self {
            Event::Health { key, .. } | Event::Scrape { key, .. } | Event::HostScrape { key, .. } => Some(&key.service),
            Event::Signals { service, .. }
            | Event::Up { service, .. }
            | Event::Action { service, .. }
            | Event::Instances { service, .. }
            | Event::Discovered { service, .. }
            | Event::DeploySource { service, .. }
            | Event::HostPoints { service, .. } => Some(service),
            Event::Aws { .. }
            | Event::DeployLog { .. }
            | Event::Backup { .. }
            | Event::Delivery { .. }
            | Event::CountsKept(_)
            | Event::Silenced(_)
            | Event::Unsilenced { .. }
            | Event::Maintenance(_)
            | Event::MaintenanceOver { .. }
            | Event::Taken(_)
            | Event::HandedBack { .. }
            | Event::StatusNote(_)
            | Event::Reload(_)
            | Event::Config(_) => None,
        }
    }
}
