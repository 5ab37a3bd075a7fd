//! Every poller of a collector, by what it polls: started, stopped and restarted as the fleet
//! changes shape, while the rest keep their schedules.
//!
//! A poller is kept under its job (the instance, service, account or backup job it polls) with a
//! print of its settings, a hash of their `Debug` form, which names every field: the same job with
//! the same print is left running; the same job with another print is restarted; a job no longer wanted is
//! stopped. An aborted poller drops its round counter, which then no longer holds a one-shot run.

use super::rounds::Rounds;
use super::schedule::{Grid, Schedule};
use super::{
    Start, aws, backups, deploy_log, discovery, header_map, health, http_client, http_client_builder, promql_client,
};
use super::{scrape, tls};
use crate::config::schema::Polling;
use crate::config::{CheckSpec, InstanceSpec, Loaded, ServiceSpec};
use crate::state::{Event, HealthSample, InstanceKey, ServiceKey};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::{AbortHandle, JoinSet};

/// Declares [`Source`] and its list together, so that no kind is left off the list.
macro_rules! sources {
    ($($(#[$doc:meta])* $kind:ident),* $(,)?) => {
        /// Every kind of source a collector polls: each [`Job`] is one of them, and the report
        /// has a part for each (`report::part`, an exhaustive match).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Source {
            $($(#[$doc])* $kind),*
        }

        impl Source {
            /// Every kind, in the order declared.
            pub const ALL: &[Source] = &[$(Source::$kind),*];
        }
    };
}

sources! {
    /// Health checks of instances (HTTP and TCP).
    Health,
    /// Scrapes of instances' `/metrics`.
    Scrape,
    /// Prometheus' `up`, giving a service's instances.
    Up,
    /// PromQL queries giving a service's signals.
    Promql,
    /// An AWS account: Auto Scaling groups and CloudWatch.
    Aws,
    /// A backup job.
    Backup,
    /// The deploy log.
    DeployLog,
    /// A service's sources of instances (`instances_from`).
    Discovery,
}

/// What one poller polls.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Job {
    Health(InstanceKey),
    Scrape(InstanceKey),
    /// The node exporter beside an instance.
    HostScrape(InstanceKey),
    /// A service's hosts in CloudWatch.
    HostCloudWatch(ServiceKey),
    /// A service's `up` query: its instances from Prometheus.
    Up(ServiceKey),
    /// A service's PromQL signals.
    Promql(ServiceKey),
    Aws(Arc<str>),
    Backup(Arc<str>),
    DeployLog,
    /// A service's sources of instances.
    Discover(ServiceKey),
}

impl Job {
    /// The kind of source this job is.
    pub fn source(&self) -> Source {
        match self {
            Job::Health(_) => Source::Health,
            Job::Scrape(_) | Job::HostScrape(_) => Source::Scrape,
            Job::Up(_) => Source::Up,
            Job::Promql(_) => Source::Promql,
            Job::Aws(_) | Job::HostCloudWatch(_) => Source::Aws,
            Job::Backup(_) => Source::Backup,
            Job::DeployLog => Source::DeployLog,
            Job::Discover(_) => Source::Discovery,
        }
    }
}

/// The running pollers. Dropping this stops them all.
pub struct Pollers {
    set: JoinSet<()>,
    running: HashMap<Job, (Print, AbortHandle)>,
    tx: mpsc::Sender<Event>,
    start: Start,
    rounds: Rounds,
    /// The polling settings the pace was made for; other settings restart every poller.
    polling: Print,
    pace: Pace,
    health_client: reqwest::Client,
    metrics_client: reqwest::Client,
}

/// What paces the health checks and scrapes: the limit of checks in flight board-wide, and the
/// grid they wake on.
type Pace = (Arc<Semaphore>, Grid);

fn pace(polling: &Polling) -> Pace {
    (Arc::new(Semaphore::new(polling.max_in_flight)), Grid::new(tokio::time::Instant::now()))
}

impl Pollers {
    /// Starts every poller `loaded` asks for, each counting its rounds in `rounds`.
    pub fn start(loaded: &Loaded, tx: mpsc::Sender<Event>, start: Start, rounds: &Rounds) -> Self {
        let mut pollers = Self {
            set: JoinSet::new(),
            running: HashMap::new(),
            tx,
            start,
            rounds: rounds.clone(),
            polling: print_of(&[&loaded.config.polling]),
            pace: pace(&loaded.config.polling),
            health_client: http_client(),
            metrics_client: scrape::metrics_client(),
        };
        pollers.follow(loaded);
        pollers
    }

    /// Brings the pollers to what `loaded` asks for: new jobs start, jobs gone stop, jobs whose
    /// settings changed start again; the rest keep running untouched.
    pub fn follow(&mut self, loaded: &Loaded) {
        let polling = &loaded.config.polling;
        let settings = print_of(&[polling]);
        if settings != self.polling {
            // A new limit of checks in flight is a new semaphore: every poller takes it up.
            self.stop_all();
            self.pace = pace(polling);
            self.polling = settings;
        }
        let mut wanted = HashSet::new();
        for svc in &loaded.fleet.services {
            self.follow_service(svc, polling, &mut wanted);
            if !svc.discovery.is_empty() {
                let job = Job::Discover(svc.name.as_str().into());
                // Not the instances: those are what it gives.
                let (listed, paths) = (&svc.listed, (&svc.health_path, &svc.metrics_path));
                let accounts = discovery::accounts(svc, &loaded.fleet.aws);
                let server = &loaded.fleet.prometheus;
                let print = print_of(&[&svc.discovery, listed, &paths, &svc.max_instances, server, &accounts]);
                if !self.keeps(&job, print, &mut wanted) {
                    let round = self.rounds.register_once();
                    let (spec, server) = (Arc::new(svc.clone()), server.clone());
                    self.run(job, print, discovery::run(spec, server, accounts, self.tx.clone(), round));
                }
            }
        }
        self.follow_promql(loaded, &mut wanted);
        for spec in &loaded.fleet.aws {
            let job = Job::Aws(spec.name.as_str().into());
            let print = print_of(&[spec]);
            if !self.keeps(&job, print, &mut wanted) {
                let round = self.rounds.register_once();
                let (spec, tx) = (spec.clone(), self.tx.clone());
                self.run(job, print, aws::run_account(spec, polling.jitter, polling.backoff_max, tx, round));
            }
        }
        for svc in loaded.fleet.services.iter().filter(|s| s.check.hosts.cloudwatch) {
            let Some(spec) = loaded.fleet.aws.iter().find(|a| Some(&a.name) == svc.check.hosts.aws.as_ref()) else {
                continue;
            };
            let targets: Vec<(InstanceKey, String)> = (svc.instances.iter())
                .filter_map(|i| {
                    crate::state::host::instance_id(&i.label).map(|id| (InstanceKey::new(&svc.name, i), id.to_string()))
                })
                .collect();
            let job = Job::HostCloudWatch(svc.name.as_str().into());
            let print = print_of(&[spec, &targets]);
            if !targets.is_empty() && !self.keeps(&job, print, &mut wanted) {
                let round = self.rounds.register_once();
                let (spec, tx, service) = (spec.clone(), self.tx.clone(), svc.name.as_str().into());
                let interval = spec.interval;
                self.run(job, print, aws::run_hosts(spec, service, targets, interval, tx, round));
            }
        }
        for job_spec in &loaded.config.backups {
            let job = Job::Backup(job_spec.name.as_str().into());
            let print = print_of(&[job_spec, &loaded.fleet.aws]);
            if !self.keeps(&job, print, &mut wanted) {
                let round = self.rounds.register_once();
                let (spec, aws, tx) = (job_spec.clone(), loaded.fleet.aws.clone(), self.tx.clone());
                self.run(job, print, backups::run(spec, aws, tx, round));
            }
        }
        let deploys = &loaded.config.deploys;
        if let Some(log) = &deploys.log {
            let print = print_of(&[deploys]);
            if !self.keeps(&Job::DeployLog, print, &mut wanted) {
                let round = self.rounds.register_once();
                let future = deploy_log::run(log.clone(), deploys.interval, self.tx.clone(), round);
                self.run(Job::DeployLog, print, future);
            }
        }
        self.running.retain(|job, (_, handle)| {
            let keep = wanted.contains(job);
            if !keep {
                handle.abort();
            }
            keep
        });
        // Stopped pollers are reaped here, so a fleet that churns all day holds no dead tasks.
        while self.set.try_join_next().is_some() {}
        let mut by_source: Vec<(Source, usize)> = Source::ALL.iter().map(|&s| (s, 0)).collect();
        for job in self.running.keys() {
            if let Some((_, n)) = by_source.iter_mut().find(|(s, _)| *s == job.source()) {
                *n += 1;
            }
        }
        tracing::info!(pollers = ?by_source, "polling");
    }

    /// A service's instance pollers: a health check each, and a scrape where scraping is on.
    fn follow_service(&mut self, svc: &ServiceSpec, polling: &Polling, wanted: &mut HashSet<Job>) {
        let headers = header_map(&svc.check);
        // One copy of what the service's pollers need, made when the first needs it, and one
        // print of the service's settings.
        let (mut probe_spec, mut scrape_spec) = (None, None);
        let check_print = print_of(&[&svc.check]);
        // Built at most once a call, and only when one of its instances needs a new poller.
        let mut own_client: Option<reqwest::Client> = None;
        for inst in &svc.instances {
            let key = InstanceKey::new(&svc.name, inst);
            let print = print_of(&[inst, &check_print]);
            if !self.keeps(&Job::Health(key.clone()), print, wanted) {
                let client = own_client.get_or_insert_with(|| {
                    tls::client_for(&svc.check.tls, http_client_builder()).unwrap_or_else(|| self.health_client.clone())
                });
                let spec = probe_spec.get_or_insert_with(|| Arc::new(ProbeSpec::of(&svc.check))).clone();
                let (client, headers) = (client.clone(), headers.clone());
                self.start_health((Job::Health(key.clone()), print), key.clone(), spec, inst, client, headers, polling);
            }
            if svc.check.scrape
                && let Ok(url) = reqwest::Url::parse(&inst.metrics_url)
                && !self.keeps(&Job::Scrape(key.clone()), print, wanted)
            {
                let check = scrape_spec.get_or_insert_with(|| Arc::new(svc.check.clone())).clone();
                let future = self.scraper(key.clone(), check, url, headers.clone(), polling, false);
                self.run(Job::Scrape(key.clone()), print, future);
            }
            if let Some(url) = svc.check.hosts.node_exporter_port.and_then(|port| node_exporter_url(inst, port))
                && !self.keeps(&Job::HostScrape(key.clone()), print, wanted)
            {
                let check = scrape_spec.get_or_insert_with(|| Arc::new(svc.check.clone())).clone();
                let future = self.scraper(key.clone(), check, url, reqwest::header::HeaderMap::new(), polling, true);
                self.run(Job::HostScrape(key), print, future);
            }
        }
    }

    /// Starts one instance's health poller as `job`; none (with a log line) for an address that
    /// is no URL. TCP and HTTP pollers are separate futures: a TCP check's read buffer is no
    /// part of every HTTP poller's task.
    #[allow(clippy::too_many_arguments)]
    fn start_health(
        &mut self,
        (job, print): (Job, Print),
        key: InstanceKey,
        check: Arc<ProbeSpec>,
        inst: &InstanceSpec,
        client: reqwest::Client,
        headers: reqwest::header::HeaderMap,
        polling: &Polling,
    ) {
        let schedule = health_schedule(check.interval, polling, self.start);
        let at_once = (schedule, self.start != Start::Spread, self.rounds.register(0));
        let event = move |sample, next_in| Event::Health { key: key.clone(), sample, next_in };
        let (pace, tx) = (self.pace.clone(), self.tx.clone());
        if let Some(target) = inst.health_url.strip_prefix("tcp://") {
            let target = target.to_string();
            let check_once = async move || {
                let (send, expect) = (check.tcp_send.as_deref(), check.tcp_expect.as_deref());
                health::probe_tcp(&target, send, expect, check.timeout).await
            };
            let future = poll_forever(at_once, pace, tx, check_once, HealthSample::is_failure, event);
            return self.run(job, print, future);
        }
        let Ok(url) = reqwest::Url::parse(&inst.health_url) else {
            tracing::error!(url = %inst.health_url, "not a URL; not polled");
            return;
        };
        let target = health::Target::new(url, headers);
        let check_once =
            async move || health::probe_target(&client, &target, check.timeout, &check.tls, &check.answer).await;
        let future = poll_forever(at_once, pace, tx, check_once, HealthSample::is_failure, event);
        self.run(job, print, future);
    }

    /// One instance's metrics scraper, or of the node exporter beside it (`host`).
    fn scraper(
        &self,
        key: InstanceKey,
        check: Arc<CheckSpec>,
        url: reqwest::Url,
        headers: reqwest::header::HeaderMap,
        polling: &Polling,
        host: bool,
    ) -> impl Future<Output = ()> + Send + 'static {
        let mut scraper = scrape::Scraper::new(url, headers);
        let client = self.metrics_client.clone();
        let every = match self.start {
            Start::Spread => check.interval,
            Start::AtOnce { scrape_every } => scrape_every,
        };
        // Scrapes of a one-shot run are `scrape_every` apart exactly: that is the rate's window.
        let (jitter, backoff_max) =
            if self.start == Start::Spread { (polling.jitter, polling.backoff_max) } else { (0.0, every) };
        let schedule = Schedule::new(every, jitter, backoff_max);
        poll_forever(
            // A rate needs two scrapes: the first round does not count.
            (schedule, self.start != Start::Spread, self.rounds.register(1)),
            self.pace.clone(),
            self.tx.clone(),
            async move || scraper.scrape(&client, check.timeout, &check.names).await,
            |r: &crate::state::ScrapeResult| r.outcome.is_err(),
            move |result, _| match host {
                true => Event::HostScrape { key: key.clone(), result },
                false => Event::Scrape { key: key.clone(), result },
            },
        )
    }

    /// The PromQL pollers: a service's `up` query, and its signals.
    fn follow_promql(&mut self, loaded: &Loaded, wanted: &mut HashSet<Job>) {
        let Some(server) = &loaded.fleet.prometheus else { return };
        let polling = &loaded.config.polling;
        let mut client = None;
        for svc in &loaded.fleet.services {
            let Some(queries) = svc.promql.clone() else { continue };
            let service: ServiceKey = svc.name.as_str().into();
            let print = print_of(&[server, &queries, &svc.check.interval]);
            let up = queries.up.clone().filter(|_| !self.keeps(&Job::Up(service.clone()), print, wanted));
            let signals = queries.has_signals() && !self.keeps(&Job::Promql(service.clone()), print, wanted);
            if up.is_none() && !signals {
                continue;
            }
            if client.is_none() {
                client = match promql_client(server) {
                    Ok(c) => Some(c),
                    Err(e) => {
                        tracing::error!(error = %e, "prometheus client");
                        return;
                    }
                };
            }
            let Some(client) = client.clone() else { return };
            if let Some(up) = up {
                let label = queries.instance_label.clone().unwrap_or_else(|| "instance".into());
                let (client, tx, key) = (client.clone(), self.tx.clone(), service.clone());
                let mut schedule = Schedule::new(svc.check.interval, polling.jitter, polling.backoff_max);
                let mut round = self.rounds.register_once();
                let future = async move {
                    loop {
                        let at = std::time::SystemTime::now();
                        let result = client.series(&up, &label, at).await;
                        schedule.record(result.is_err());
                        if tx.send(Event::Up { service: key.clone(), at, result }).await.is_err() {
                            return;
                        }
                        round.done();
                        tokio::time::sleep(schedule.next_delay(fastrand::f64())).await;
                    }
                };
                self.run(Job::Up(service.clone()), print, future);
            }
            if signals {
                let (tx, interval) = (self.tx.clone(), svc.check.interval);
                let mut schedule = Schedule::new(interval, polling.jitter, polling.backoff_max);
                let history = polling.history.min(u32::MAX as usize) as u32;
                let mut round = self.rounds.register_once();
                let key = service.clone();
                let future = async move {
                    let result = client.backfill(&queries, std::time::SystemTime::now(), interval, history).await;
                    if tx.send(Event::Signals { service: key.clone(), result }).await.is_err() {
                        return;
                    }
                    round.done();
                    loop {
                        tokio::time::sleep(schedule.next_delay(fastrand::f64())).await;
                        let result = client.point(&queries, std::time::SystemTime::now()).await.map(|p| vec![p]);
                        schedule.record(result.is_err());
                        if tx.send(Event::Signals { service: key.clone(), result }).await.is_err() {
                            return;
                        }
                        round.done();
                    }
                };
                self.run(Job::Promql(service), print, future);
            }
        }
    }

    /// Marks `job` wanted; whether it runs already with these settings (`print`).
    fn keeps(&self, job: &Job, print: Print, wanted: &mut HashSet<Job>) -> bool {
        wanted.insert(job.clone());
        self.running.get(job).is_some_and(|(p, _)| *p == print)
    }

    /// Starts `future` as the poller of `job`, in place of the one running, if any.
    fn run(&mut self, job: Job, print: Print, future: impl Future<Output = ()> + Send + 'static) {
        if let Some((_, old)) = self.running.remove(&job) {
            old.abort();
        }
        let handle = self.set.spawn(future);
        self.running.insert(job, (print, handle));
    }

    fn stop_all(&mut self) {
        for (_, (_, handle)) in self.running.drain() {
            handle.abort();
        }
    }

    /// The jobs running now.
    pub fn jobs(&self) -> impl Iterator<Item = &Job> {
        self.running.keys()
    }
}

/// A print of settings: a hash of their `Debug` form, made without building the text (a service's
/// settings are kilobytes, and a print is kept for each of thousands of pollers).
type Print = u64;

/// `/metrics` on `port` of the instance's host, over plain HTTP as node exporters serve it.
fn node_exporter_url(inst: &InstanceSpec, port: u16) -> Option<reqwest::Url> {
    let base = if inst.base_url.is_empty() { &inst.health_url } else { &inst.base_url };
    let host = reqwest::Url::parse(base).ok()?.host_str()?.to_string();
    let host = if host.contains(':') && !host.starts_with('[') { format!("[{host}]") } else { host };
    reqwest::Url::parse(&format!("http://{host}:{port}/metrics")).ok()
}

fn print_of(parts: &[&dyn std::fmt::Debug]) -> Print {
    use std::fmt::Write;
    use std::hash::Hasher;
    struct Feed(std::collections::hash_map::DefaultHasher);
    impl Write for Feed {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            self.0.write(s.as_bytes());
            Ok(())
        }
    }
    let mut feed = Feed(Default::default());
    for part in parts {
        // A separator, so that ("ab", "c") and ("a", "bc") differ.
        let _ = write!(feed, "{part:?}\u{1f}");
    }
    feed.0.finish()
}

/// What a service's health checks need of its settings, shared by its instances' pollers.
struct ProbeSpec {
    interval: std::time::Duration,
    timeout: std::time::Duration,
    tls: crate::config::TlsSpec,
    answer: super::answer::AnswerSpec,
    tcp_send: Option<String>,
    tcp_expect: Option<String>,
}

impl ProbeSpec {
    fn of(check: &CheckSpec) -> Self {
        Self {
            interval: check.interval,
            timeout: check.timeout,
            tls: check.tls.clone(),
            answer: check.answer.clone(),
            tcp_send: check.tcp_send.clone(),
            tcp_expect: check.tcp_expect.clone(),
        }
    }
}

/// A health poller's schedule: its interval on the board; in a one-shot run, rounds no further
/// apart than the scrapes (`snapshot --rounds`: every service polled once a round), without jitter.
fn health_schedule(interval: std::time::Duration, polling: &Polling, start: Start) -> Schedule {
    match start {
        Start::Spread => Schedule::new(interval, polling.jitter, polling.backoff_max),
        // No backoff either: a failing instance must not make the run wait for its rounds.
        Start::AtOnce { scrape_every } => {
            let every = interval.min(scrape_every);
            Schedule::new(every, 0.0, every)
        }
    }
}

/// The loop every poller runs: a random first delay (none `at_once`), then check, report, count
/// the round, wait — at most `limit` checks in flight board-wide, waking on the board's grid,
/// backing off while checks fail. Ends when the board does, or when its job is stopped.
async fn poll_forever<R>(
    (mut schedule, at_once, mut round): (Schedule, bool, super::rounds::Round),
    (limit, grid): Pace,
    tx: mpsc::Sender<Event>,
    mut check: impl AsyncFnMut() -> R,
    failed: impl Fn(&R) -> bool,
    event: impl Fn(R, std::time::Duration) -> Event,
) {
    let wake = |delay, step| grid.wake_at(tokio::time::Instant::now(), delay, step);
    if !at_once {
        tokio::time::sleep_until(wake(schedule.first_delay(fastrand::f64()), schedule.grid_step())).await;
    }
    loop {
        let result = {
            let Ok(_permit) = limit.acquire().await else { return };
            check().await
        };
        schedule.record(failed(&result));
        let next_in = schedule.next_delay(fastrand::f64());
        if tx.send(event(result, next_in)).await.is_err() {
            return;
        }
        round.done();
        tokio::time::sleep_until(wake(next_in, schedule.grid_step())).await;
    }
}
