//! A service's sources of instances (`instances_from`), read on their intervals and merged into
//! one list: what [`Event::Discovered`] carries to the state, and what the pollers follow.
//!
//! A source that fails keeps its last list (the board shows its age and why); an empty answer
//! from a source that had instances (but a file) needs two in a row before its rows go; the merged list is
//! cut at the service's `max_instances`. Only a list that differs from the last one sent is sent.

#[cfg(feature = "aws")]
mod aws;
mod dns;
mod file_sd;
pub mod prometheus;

use crate::config::aws::AwsSpec;
use crate::config::discovery::{DiscoverySpec, SourceKind};
use crate::config::schema::PrometheusServer;
use crate::config::{InstanceSpec, ServiceSpec};
use crate::sources::rounds::Round;
use crate::state::{Event, Found, FoundInstance, LbView, ServiceKey, SourceView};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// How often file_sd files are looked at for a change.
const FILES_LOOKED_AT: Duration = Duration::from_secs(1);
/// The longest one read of a source may take.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// One instance as a source gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// `host:port` (`[v6]:port`).
    pub host_port: String,
    /// The scheme the source says (a scrape URL's, file_sd's `__scheme__`), else the entry's.
    pub scheme: Option<String>,
    /// The row's name, from the source's `name_label`; else `host:port`.
    pub name: Option<String>,
    pub lb: Option<LbView>,
}

/// How one source is read.
enum Reader {
    Prometheus(crate::sources::promql::Promql, prometheus::Selector),
    FileSd(file_sd::Files),
    Dns(Box<dns::Records>),
    #[cfg(feature = "aws")]
    Aws(Box<aws::Fleet>),
}

impl Reader {
    async fn new(
        spec: &DiscoverySpec,
        server: Option<&PrometheusServer>,
        accounts: &[AwsSpec],
    ) -> Result<Self, String> {
        Ok(match &spec.kind {
            SourceKind::Prometheus { matchers } => {
                let server = server.ok_or("no [prometheus] server")?;
                Reader::Prometheus(crate::sources::promql_client(server)?, prometheus::Selector::new(matchers))
            }
            SourceKind::FileSd { glob } => Reader::FileSd(file_sd::Files::new(glob)),
            SourceKind::Dns { server, .. } | SourceKind::DnsSrv { server, .. } => {
                Reader::Dns(Box::new(dns::Records::new(*server, Duration::from_secs(5))?))
            }
            SourceKind::TargetGroup { account, .. } | SourceKind::Asg { account, .. } => {
                let spec = accounts.iter().find(|a| a.name == *account).ok_or("no such [aws] account")?;
                Self::aws(spec).await?
            }
        })
    }

    #[cfg(feature = "aws")]
    async fn aws(account: &AwsSpec) -> Result<Self, String> {
        Ok(Reader::Aws(Box::new(aws::Fleet::new(account).await)))
    }

    #[cfg(not(feature = "aws"))]
    async fn aws(_: &AwsSpec) -> Result<Self, String> {
        Err(crate::sources::aws::NOT_BUILT.into())
    }

    async fn list(&mut self, spec: &DiscoverySpec) -> Result<Vec<Target>, String> {
        match (self, &spec.kind) {
            (Reader::Prometheus(client, selector), _) => prometheus::list(client, selector, &spec.name_label).await,
            (Reader::FileSd(files), _) => files.list(&spec.name_label),
            (Reader::Dns(r), SourceKind::Dns { name, port, .. }) => r.addresses(name, *port).await,
            (Reader::Dns(r), SourceKind::DnsSrv { name, .. }) => r.services(name).await,
            (Reader::Dns(_), _) => Err("not a DNS source".into()),
            #[cfg(feature = "aws")]
            (Reader::Aws(fleet), kind) => fleet.list(kind).await,
        }
    }
}

/// One source as it stands.
struct Running {
    spec: DiscoverySpec,
    reader: Result<Reader, String>,
    list: Vec<Target>,
    listed_at: Option<SystemTime>,
    error: Option<String>,
    /// Whether the last answer was empty while the list was not (the next must agree).
    empty_once: bool,
    due: Instant,
}

impl Running {
    async fn read(&mut self) {
        let now = Instant::now();
        self.due = now + self.spec.interval;
        let reader = match &mut self.reader {
            Ok(r) => r,
            Err(e) => {
                self.error = Some(e.clone());
                return;
            }
        };
        let result = match tokio::time::timeout(READ_TIMEOUT, reader.list(&self.spec)).await {
            Ok(r) => r,
            Err(_) => Err(format!("no answer within {}", crate::format::duration(READ_TIMEOUT))),
        };
        // A file says what it says; an API or a resolver that answers empty once may be wrong.
        let file = matches!(self.reader, Ok(Reader::FileSd(_)));
        match result {
            Ok(list) if list.is_empty() && !self.list.is_empty() && !self.empty_once && !file => {
                // One empty answer is not yet the end of every instance: the next must agree.
                self.empty_once = true;
                self.error = None;
            }
            Ok(mut list) => {
                // Sources answer in no promised order (Prometheus' is its maps'): rows are by name.
                list.sort_by(|a, b| (&a.name, &a.host_port).cmp(&(&b.name, &b.host_port)));
                self.list = list;
                self.listed_at = Some(SystemTime::now());
                self.error = None;
                self.empty_once = false;
            }
            Err(e) => {
                tracing::warn!(source = %self.spec.describe(), error = %e, "instances not read");
                self.error = Some(e);
            }
        }
    }

    /// Whether the source should be read now: it is due, or its files changed.
    fn wanted(&self, now: Instant) -> bool {
        match &self.reader {
            Ok(Reader::FileSd(files)) => now >= self.due || files.changed(),
            _ => now >= self.due,
        }
    }

    fn next_look(&self) -> Instant {
        match &self.reader {
            Ok(Reader::FileSd(_)) => self.due.min(Instant::now() + FILES_LOOKED_AT),
            _ => self.due,
        }
    }

    fn view(&self) -> SourceView {
        SourceView {
            what: self.spec.describe(),
            count: self.list.len(),
            listed_at: self.listed_at,
            error: self.error.clone(),
            empty: self.spec.empty_words(),
        }
    }
}

/// Reads `svc`'s sources for as long as the board runs, sending the merged list when it changes.
pub async fn run(
    svc: Arc<ServiceSpec>,
    server: Option<PrometheusServer>,
    accounts: Vec<AwsSpec>,
    tx: mpsc::Sender<Event>,
    mut round: Round,
) {
    let start = Instant::now();
    let mut sources: Vec<Running> = Vec::new();
    for spec in &svc.discovery {
        sources.push(Running {
            reader: Reader::new(spec, server.as_ref(), &accounts).await,
            spec: spec.clone(),
            list: Vec::new(),
            listed_at: None,
            error: None,
            empty_once: false,
            due: start,
        });
    }
    let service: ServiceKey = svc.name.as_str().into();
    let mut sent: Option<Found> = None;
    loop {
        let now = Instant::now();
        let mut read = false;
        for s in sources.iter_mut().filter(|s| s.wanted(now)) {
            s.read().await;
            read = true;
        }
        // file_sd's look each second mostly finds nothing changed: nothing to merge then.
        if read {
            let found = merge(&svc, &sources);
            if sent.as_ref().is_none_or(|was| !same(was, &found)) {
                let at = SystemTime::now();
                let event = Event::Discovered { service: service.clone(), at, found: found.clone() };
                if tx.send(event).await.is_err() {
                    return;
                }
                sent = Some(found);
            }
            round.done();
        }
        let next = sources.iter().map(Running::next_look).min().unwrap_or(now + Duration::from_secs(60));
        tokio::time::sleep_until(next).await;
    }
}

/// The `[aws]` accounts `svc`'s sources read through.
pub fn accounts(svc: &ServiceSpec, all: &[AwsSpec]) -> Vec<AwsSpec> {
    let named = |a: &AwsSpec| {
        svc.discovery.iter().any(|d| match &d.kind {
            SourceKind::TargetGroup { account, .. } | SourceKind::Asg { account, .. } => *account == a.name,
            _ => false,
        })
    };
    all.iter().filter(|a| named(a)).cloned().collect()
}

/// Whether two lists say the same, apart from when unchanged lists were read.
fn same(a: &Found, b: &Found) -> bool {
    let views = |f: &Found| -> Vec<(String, usize, Option<String>)> {
        f.sources.iter().map(|s| (s.what.clone(), s.count, s.error.clone())).collect()
    };
    a.instances == b.instances && a.capped == b.capped && views(a) == views(b)
}

/// The service's listed instances, then each source's, each address once, at most
/// `max_instances`.
fn merge(svc: &ServiceSpec, sources: &[Running]) -> Found {
    let mut seen: HashSet<String> = HashSet::new();
    let mut instances = Vec::new();
    let mut total = 0usize;
    let configured =
        svc.listed.iter().map(|spec| FoundInstance { spec: spec.clone(), grace: Duration::ZERO, lb: None });
    let discovered = sources.iter().flat_map(|s| {
        s.list.iter().map(|t| {
            let scheme = t.scheme.as_deref().unwrap_or(&s.spec.scheme);
            let spec = InstanceSpec::discovered(scheme, &t.host_port, t.name.as_deref(), svc);
            FoundInstance { spec, grace: s.spec.grace, lb: t.lb.clone() }
        })
    });
    for f in configured.chain(discovered) {
        if !seen.insert(f.spec.key().to_string()) {
            continue;
        }
        total += 1;
        if instances.len() < svc.max_instances {
            instances.push(f);
        }
    }
    let capped = (total > instances.len()).then_some(total);
    Found { instances, sources: sources.iter().map(Running::view).collect(), capped }
}
