//! Sources: async tasks that poll the fleet on their own schedules and send [`Event`]s.
//! A source knows its config, a client and a sender; it knows nothing of the board.

/// What a health answer must hold: configured in `config::answer`, where it is parsed.
pub use crate::config::answer;
pub mod aws;
pub mod backups;
pub mod deploy_log;
pub mod health;
pub mod health_body;
pub mod http;
pub mod plain_http;
pub mod promql;
pub mod rounds;
pub mod schedule;
pub mod scrape;
pub mod tls;

use crate::config::schema::{BackupJob, DeployLogConfig, Polling};
use crate::config::{CheckSpec, Fleet};
use crate::state::{Event, HealthSample, InstanceId};
use futures_util::StreamExt;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use rounds::{Round, Rounds};
use schedule::{Grid, Schedule};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

/// The HTTP client for health checks. Each check opens a fresh connection, as a load balancer's
/// does: a server that stopped accepting is caught, no idle socket is held per instance
/// (measured: 1,000 pooled connections cost ~20 MiB of RSS), and no server's idle timeout
/// turns into a spurious reset.
pub fn http_client() -> reqwest::Client {
    http_client_builder().build().unwrap_or_default()
}

/// The health client's settings: fresh connections, three redirects, certificates kept for
/// their expiry.
pub fn http_client_builder() -> reqwest::ClientBuilder {
    crate::sources::http::client_builder()
        .pool_max_idle_per_host(0)
        .redirect(reqwest::redirect::Policy::limited(3))
        .tls_info(true)
}

/// The configured extra headers; names or values that HTTP cannot carry are skipped with a log line.
pub fn header_map(check: &CheckSpec) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (k, v) in &check.headers {
        match (HeaderName::try_from(k.as_str()), HeaderValue::try_from(v.as_str())) {
            (Ok(name), Ok(value)) => {
                map.insert(name, value);
            }
            _ => tracing::warn!(header = %k, "header name or value is not valid HTTP; skipped"),
        }
    }
    map
}

/// How pollers begin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// The board: each first poll lands somewhere in its first interval, so a fleet's checks
    /// spread out.
    Spread,
    /// `check` and `snapshot`: every first poll at once, and scrapes `scrape_every` apart (two
    /// make a rate).
    AtOnce { scrape_every: Duration },
}

/// Starts every poller: health for each instance, metrics where scraping is on, PromQL,
/// AWS and the deploy log, each counting its rounds in `rounds`. Dropping the returned set stops
/// them all.
pub fn spawn_all(
    fleet: &Fleet,
    polling: &Polling,
    deploys: &DeployLogConfig,
    jobs: &[BackupJob],
    tx: mpsc::Sender<Event>,
    start: Start,
    rounds: &Rounds,
) -> JoinSet<()> {
    let pace = pace(polling);
    let mut set = JoinSet::new();
    spawn_health(&mut set, fleet, polling, http_client(), (pace.clone(), start, rounds), tx.clone());
    spawn_scrapers(&mut set, fleet, polling, scrape::metrics_client(), (pace, start, rounds), tx.clone());
    spawn_promql(&mut set, fleet, polling, tx.clone(), rounds);
    for (i, spec) in fleet.aws.iter().enumerate() {
        let round = rounds.register_once();
        set.spawn(aws::run_account(i, spec.clone(), polling.jitter, polling.backoff_max, tx.clone(), round));
    }
    for (i, job) in jobs.iter().enumerate() {
        set.spawn(backups::run(i, job.clone(), fleet.aws.clone(), tx.clone(), rounds.register_once()));
    }
    if let Some(log) = &deploys.log {
        set.spawn(deploy_log::run(log.clone(), deploys.interval, tx, rounds.register_once()));
    }
    set
}

/// The headers configured for the Prometheus server.
pub fn promql_client(server: &crate::config::schema::PrometheusServer) -> Result<promql::Promql, String> {
    let mut headers = HeaderMap::new();
    for (k, v) in &server.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(k.as_str()), HeaderValue::try_from(v.as_str())) {
            headers.insert(name, value);
        }
    }
    promql::Promql::new(server, headers)
}

fn spawn_promql(set: &mut JoinSet<()>, fleet: &Fleet, polling: &Polling, tx: mpsc::Sender<Event>, rounds: &Rounds) {
    let Some(server) = &fleet.prometheus else { return };
    let client = match promql_client(server) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "prometheus client");
            return;
        }
    };
    for (si, svc) in fleet.services.iter().enumerate() {
        let Some(queries) = svc.promql.clone() else { continue };
        if let Some(up) = queries.up.clone() {
            let label = queries.instance_label.clone().unwrap_or_else(|| "instance".into());
            let (client, tx) = (client.clone(), tx.clone());
            let mut schedule = Schedule::new(svc.check.interval, polling.jitter, polling.backoff_max);
            let mut round = rounds.register_once();
            set.spawn(async move {
                loop {
                    let at = std::time::SystemTime::now();
                    let result = client.series(&up, &label, at).await;
                    schedule.record(result.is_err());
                    if tx.send(Event::Up { service: si, at, result }).await.is_err() {
                        return;
                    }
                    round.done();
                    tokio::time::sleep(schedule.next_delay(fastrand::f64())).await;
                }
            });
        }
        if !queries.has_signals() {
            continue;
        }
        let (client, tx, interval) = (client.clone(), tx.clone(), svc.check.interval);
        let mut schedule = Schedule::new(interval, polling.jitter, polling.backoff_max);
        let history = polling.history.min(u32::MAX as usize) as u32;
        let mut round = rounds.register_once();
        set.spawn(async move {
            let result = client.backfill(&queries, std::time::SystemTime::now(), interval, history).await;
            if tx.send(Event::Signals { service: si, result }).await.is_err() {
                return;
            }
            round.done();
            loop {
                tokio::time::sleep(schedule.next_delay(fastrand::f64())).await;
                let result = client.point(&queries, std::time::SystemTime::now()).await.map(|p| vec![p]);
                schedule.record(result.is_err());
                if tx.send(Event::Signals { service: si, result }).await.is_err() {
                    return;
                }
                round.done();
            }
        });
    }
}

fn spawn_health(
    set: &mut JoinSet<()>,
    fleet: &Fleet,
    polling: &Polling,
    client: reqwest::Client,
    (pace, start, rounds): (Pace, Start, &Rounds),
    tx: mpsc::Sender<Event>,
) {
    for (si, svc) in fleet.services.iter().enumerate() {
        let headers = header_map(&svc.check);
        let client = tls::client_for(&svc.check.tls, http_client_builder()).unwrap_or_else(|| client.clone());
        let tls = Arc::new((svc.check.tls.clone(), svc.check.answer.clone()));
        for (ii, inst) in svc.instances.iter().enumerate() {
            let id = InstanceId { service: si, instance: ii };
            if let Some(target) = inst.health_url.strip_prefix("tcp://") {
                let (target, pace, tx) = (target.to_string(), pace.clone(), tx.clone());
                let (send, expect, timeout) =
                    (svc.check.tcp_send.clone(), svc.check.tcp_expect.clone(), svc.check.timeout);
                let schedule = health_schedule(svc.check.interval, polling, start);
                set.spawn(poll_forever(
                    (schedule, start != Start::Spread, rounds.register(0)),
                    pace,
                    tx,
                    async move || health::probe_tcp(&target, send.as_deref(), expect.as_deref(), timeout).await,
                    HealthSample::is_failure,
                    move |sample, next_in| Event::Health { id, sample, next_in },
                ));
                continue;
            }
            let Ok(url) = reqwest::Url::parse(&inst.health_url) else {
                tracing::error!(url = %inst.health_url, "not a URL; not polled");
                continue;
            };
            let target = health::Target::new(url, headers.clone());
            let (client, pace, tx, tls) = (client.clone(), pace.clone(), tx.clone(), tls.clone());
            let timeout = svc.check.timeout;
            let schedule = health_schedule(svc.check.interval, polling, start);
            set.spawn(poll_forever(
                (schedule, start != Start::Spread, rounds.register(0)),
                pace,
                tx,
                async move || health::probe_target(&client, &target, timeout, &tls.0, &tls.1).await,
                HealthSample::is_failure,
                move |sample, next_in| Event::Health { id, sample, next_in },
            ));
        }
    }
}

/// A health poller's schedule: its interval on the board; in a one-shot run, rounds no further
/// apart than the scrapes (`snapshot --rounds`: every service polled once a round), without jitter.
fn health_schedule(interval: Duration, polling: &Polling, start: Start) -> Schedule {
    match start {
        Start::Spread => Schedule::new(interval, polling.jitter, polling.backoff_max),
        // No backoff either: a failing instance must not make the run wait for its rounds.
        Start::AtOnce { scrape_every } => {
            let every = interval.min(scrape_every);
            Schedule::new(every, 0.0, every)
        }
    }
}

/// Starts only the metrics scrapers (benchmarks compare them with Prometheus scraping alone).
pub fn spawn_scrapers_only(fleet: &Fleet, polling: &Polling, tx: mpsc::Sender<Event>) -> JoinSet<()> {
    let mut set = JoinSet::new();
    spawn_scrapers(
        &mut set,
        fleet,
        polling,
        scrape::metrics_client(),
        (pace(polling), Start::Spread, &Rounds::default()),
        tx,
    );
    set
}

fn spawn_scrapers(
    set: &mut JoinSet<()>,
    fleet: &Fleet,
    polling: &Polling,
    client: reqwest::Client,
    (pace, start, rounds): (Pace, Start, &Rounds),
    tx: mpsc::Sender<Event>,
) {
    for (si, svc) in fleet.services.iter().enumerate().filter(|(_, s)| s.check.scrape) {
        let headers = header_map(&svc.check);
        for (ii, inst) in svc.instances.iter().enumerate() {
            let Ok(url) = reqwest::Url::parse(&inst.metrics_url) else { continue };
            let id = InstanceId { service: si, instance: ii };
            let mut scraper = scrape::Scraper::new(url, headers.clone());
            let (client, check) = (client.clone(), svc.check.clone());
            let every = match start {
                Start::Spread => svc.check.interval,
                Start::AtOnce { scrape_every } => scrape_every,
            };
            // Scrapes of a one-shot run are `scrape_every` apart exactly: that is the rate's window.
            let (jitter, backoff_max) =
                if start == Start::Spread { (polling.jitter, polling.backoff_max) } else { (0.0, every) };
            let schedule = Schedule::new(every, jitter, backoff_max);
            set.spawn(poll_forever(
                // A rate needs two scrapes: the first round does not count.
                (schedule, start != Start::Spread, rounds.register(1)),
                pace.clone(),
                tx.clone(),
                async move || scraper.scrape(&client, check.timeout, &check.names).await,
                |r: &crate::state::ScrapeResult| r.outcome.is_err(),
                move |result, _| Event::Scrape { id, result },
            ));
        }
    }
}

/// What paces the health checks and scrapes: the limit of checks in flight board-wide, and the
/// grid they wake on.
type Pace = (Arc<Semaphore>, Grid);

fn pace(polling: &Polling) -> Pace {
    (Arc::new(Semaphore::new(polling.max_in_flight)), Grid::new(tokio::time::Instant::now()))
}

/// The loop every poller runs: a random first delay (none `at_once`), then check, report, count
/// the round, wait — at most `limit` checks in flight board-wide, waking on the board's grid,
/// backing off while checks fail. Ends when the board does.
async fn poll_forever<R>(
    (mut schedule, at_once, mut round): (Schedule, bool, Round),
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

/// Scrapes every instance of every scraped service once, at most `max_in_flight` at a time.
pub async fn scrape_once(fleet: &Fleet, polling: &Polling, client: &reqwest::Client) -> Vec<Event> {
    let jobs: Vec<_> = fleet
        .services
        .iter()
        .enumerate()
        .filter(|(_, s)| s.check.scrape)
        .flat_map(|(si, svc)| {
            let headers = header_map(&svc.check);
            svc.instances.iter().enumerate().filter_map(move |(ii, inst)| {
                let url = reqwest::Url::parse(&inst.metrics_url).ok()?;
                Some((InstanceId { service: si, instance: ii }, url, headers.clone(), svc.check.clone()))
            })
        })
        .collect();
    futures_util::stream::iter(jobs)
        .map(|(id, url, headers, check)| async move {
            let result = scrape::scrape(client, url, &headers, check.timeout, &check.names).await;
            Event::Scrape { id, result }
        })
        .buffer_unordered(polling.max_in_flight)
        .collect()
        .await
}

/// Checks every instance once, at most `max_in_flight` at a time (for `check` and `snapshot`).
pub async fn poll_once(fleet: &Fleet, polling: &Polling, client: &reqwest::Client) -> Vec<Event> {
    let jobs: Vec<_> = fleet
        .services
        .iter()
        .enumerate()
        .flat_map(|(si, svc)| {
            let headers = header_map(&svc.check);
            let own = tls::client_for(&svc.check.tls, http_client_builder());
            svc.instances.iter().enumerate().map(move |(ii, inst)| {
                let id = InstanceId { service: si, instance: ii };
                (id, inst.health_url.clone(), headers.clone(), svc.check.clone(), own.clone())
            })
        })
        .collect();
    futures_util::stream::iter(jobs)
        .map(|(id, url, headers, check, own)| async move {
            let client = own.as_ref().unwrap_or(client);
            let sample: HealthSample = match url.strip_prefix("tcp://") {
                Some(target) => {
                    let (send, expect) = (check.tcp_send.as_deref(), check.tcp_expect.as_deref());
                    health::probe_tcp(target, send, expect, check.timeout).await
                }
                None => health::probe(client, url.as_str(), &headers, check.timeout, &check.tls, &check.answer).await,
            };
            Event::Health { id, sample, next_in: check.interval }
        })
        .buffer_unordered(polling.max_in_flight)
        .collect()
        .await
}
