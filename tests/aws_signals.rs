//! Service signals fed by CloudWatch, read through the SDK from a real moto server on
//! 127.0.0.1: fresh for what CloudWatch promises, scrapes kept for the rest, failures in words.
#![cfg(feature = "aws")]

mod common;

use common::moto::{self, boto3};
use common::{Reply, serve_with};
use opsboard::config;
use opsboard::sources;
use opsboard::state::{Event, InstanceId, ScrapeResult, State, Status};
use std::time::{Duration, SystemTime};

/// Static test credentials for moto, for this process only (this file holds the only tests
/// that read them in-process).
fn credentials() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: set once, before any test in this binary starts an SDK client.
        unsafe {
            std::env::set_var("AWS_ACCESS_KEY_ID", "test");
            std::env::set_var("AWS_SECRET_ACCESS_KEY", "test");
            std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        }
    });
}

/// A metrics body with a latency histogram: 100 requests so far, 90 under 100 ms.
fn exposition(requests: u64) -> String {
    let fast = requests * 9 / 10;
    format!(
        "# TYPE http_requests_total counter\nhttp_requests_total{{code=\"200\"}} {requests}\n\
         # TYPE http_request_duration_seconds histogram\n\
         http_request_duration_seconds_bucket{{le=\"0.1\"}} {fast}\n\
         http_request_duration_seconds_bucket{{le=\"1\"}} {requests}\n\
         http_request_duration_seconds_bucket{{le=\"+Inf\"}} {requests}\n\
         http_request_duration_seconds_count {requests}\nhttp_request_duration_seconds_sum 1\n\
         # TYPE app_build_info gauge\napp_build_info{{version=\"3.1.0\"}} 1\n"
    )
}

fn seed_alb(m: &moto::Moto, requests: f64, errors: f64) {
    boto3(
        m,
        &format!(
            "cw = boto3.client('cloudwatch', **kw)\n\
             t = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0) - datetime.timedelta(minutes=1)\n\
             dims = [{{'Name': 'LoadBalancer', 'Value': 'app/web/1'}}]\n\
             cw.put_metric_data(Namespace='AWS/ApplicationELB', MetricData=[\n\
               {{'MetricName': 'RequestCount', 'Dimensions': dims, 'Timestamp': t, 'Value': {requests}}},\n\
               {{'MetricName': 'HTTPCode_Target_5XX_Count', 'Dimensions': dims, 'Timestamp': t, 'Value': {errors}}}])"
        ),
    );
}

fn fleet_config(endpoint: &str, instance: &str) -> String {
    format!(
        "[defaults]\ninterval = \"5s\"\n[services.web]\ninstances = [\"{instance}\"]\n\
         [aws.test]\nregion = \"eu-west-1\"\nendpoint_url = \"{endpoint}\"\ninterval = \"60s\"\n\
         [[aws.test.metrics]]\nnamespace = \"AWS/ApplicationELB\"\nmetric = \"RequestCount\"\n\
         dimensions = {{ LoadBalancer = \"app/web/1\" }}\nstat = \"Sum\"\nservice = \"web\"\nrole = \"requests\"\n\
         [[aws.test.metrics]]\nnamespace = \"AWS/ApplicationELB\"\nmetric = \"HTTPCode_Target_5XX_Count\"\n\
         dimensions = {{ LoadBalancer = \"app/web/1\" }}\nstat = \"Sum\"\nservice = \"web\"\nrole = \"errors\"\n"
    )
}

/// One AWS poll into a fresh state, as the board's task does it.
async fn poll_aws(state: &mut State, loaded: &config::Loaded) {
    let spec = &loaded.fleet.aws[0];
    let clients = sources::aws::clients(spec).await;
    for e in sources::aws::poll_account(&clients, spec).await.0 {
        state.apply(e);
    }
}

fn scrape(state: &mut State, at: SystemTime, body: &str) {
    let names = state.services[0].check.names.clone();
    let counts = opsboard::metrics::extract(body, &names).unwrap();
    let key = state.instance_key(InstanceId { service: 0, instance: 0 }).unwrap();
    state.apply(Event::Scrape { key, result: ScrapeResult { at, outcome: Ok(counts) } });
}

#[tokio::test]
async fn cloudwatch_signals_stay_fresh_between_polls_and_scrapes_keep_p95_and_versions() {
    credentials();
    let m = moto::start();
    seed_alb(&m, 1200.0, 24.0);
    let target = serve_with(|_| Reply::text(200, "ok")).await;
    let loaded = config::load_str("cw.toml", &fleet_config(&m.url, &target.url(""))).unwrap();
    let mut state = State::new(&loaded.fleet, 120, 3);
    let now = SystemTime::now();
    poll_aws(&mut state, &loaded).await;
    // The scrapes of the instance keep p95, p99 and the version.
    scrape(&mut state, now, &exposition(1000));
    scrape(&mut state, now + Duration::from_secs(5), &exposition(1100));
    let p = state.current_signals(0, now + Duration::from_secs(5)).expect("signals");
    assert_eq!(p.rate, Some(20.0), "1200 requests a minute from the ALB, not the scraped 20/s: {p:?}");
    assert_eq!(p.error_ratio, Some(0.02));
    assert!(p.p95.is_some_and(|v| v > 0.1 && v <= 1.0), "p95 from the scraped histogram: {p:?}");
    assert_eq!(state.services[0].instances[0].metrics.version.as_deref(), Some("3.1.0"));
    let sources = state.services[0].signal_sources();
    assert!(sources.contains(&("errors", "CloudWatch")) && sources.contains(&("p95", "scrape")), "{sources:?}");
    // A minute after the poll, before the next one, the CloudWatch numbers are still there.
    for later in [30, 59, 90] {
        let at = now + Duration::from_secs(later);
        let p = state.current_signals(0, at).map(|p| p.error_ratio);
        assert_eq!(p, Some(Some(0.02)), "at +{later}s");
        // (The scrapes of this test stopped after two; the note may say so, not that CloudWatch is gone.)
        let note = state.signals_note(0, at);
        assert!(note.as_deref().is_none_or(|n| !n.contains("CloudWatch")), "at +{later}s: {note:?}");
    }
    // Long after CloudWatch's period, interval and delay, they are gone, and the note says why.
    let late = now + Duration::from_secs(600);
    assert!(state.current_signals(0, late).and_then(|p| p.error_ratio).is_none());
}

#[tokio::test]
async fn a_failing_cloudwatch_call_is_the_services_note() {
    credentials();
    let broken = serve_with(|_| Reply::text(500, "internal error")).await;
    let target = serve_with(|_| Reply::text(200, "ok")).await;
    let loaded = config::load_str("cw.toml", &fleet_config(&broken.url(""), &target.url(""))).unwrap();
    let mut state = State::new(&loaded.fleet, 120, 3);
    poll_aws(&mut state, &loaded).await;
    let note = state.signals_note(0, SystemTime::now()).expect("a note");
    assert!(note.starts_with("CloudWatch: ") && note.contains("500"), "{note}");
}

/// Puts minutes of requests and 5xx into moto, each `(minutes before this one, requests, errors)`.
fn seed_minutes(m: &moto::Moto, minutes: &[(u32, f64, f64)]) {
    let data: Vec<String> =
        minutes.iter().map(|(ago, r, e)| format!("(t0 - datetime.timedelta(minutes={ago}), {r}, {e})")).collect();
    boto3(
        m,
        &format!(
            "cw = boto3.client('cloudwatch', **kw)\n\
             t0 = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0)\n\
             dims = [{{'Name': 'LoadBalancer', 'Value': 'app/web/1'}}]\n\
             for t, r, e in [{}]:\n\
             \x20   cw.put_metric_data(Namespace='AWS/ApplicationELB', MetricData=[\n\
             \x20     {{'MetricName': 'RequestCount', 'Dimensions': dims, 'Timestamp': t, 'Value': r}},\n\
             \x20     {{'MetricName': 'HTTPCode_Target_5XX_Count', 'Dimensions': dims, 'Timestamp': t, 'Value': e}}])",
            data.join(", ")
        ),
    );
}

/// Waits for the next minute when this one has too little left for a test that counts minutes.
async fn early_in_a_minute() {
    let secs = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs() % 60;
    if secs > 35 {
        tokio::time::sleep(Duration::from_secs(61 - secs)).await;
    }
}

#[tokio::test]
async fn one_bad_minute_among_good_ones_is_no_alarm_two_of_three_are() {
    credentials();
    let m = moto::start();
    let target = serve_with(|_| Reply::text(200, "ok")).await;
    let loaded = config::load_str("cw.toml", &fleet_config(&m.url, &target.url(""))).unwrap();
    early_in_a_minute().await;
    // Minutes 4, 3 and 2 ago were good, the last complete one had 20% 5xx; the minute under
    // way (0 ago) is worse still, but partial and not counted.
    seed_minutes(&m, &[(4, 1200.0, 0.0), (3, 1200.0, 0.0), (2, 1200.0, 0.0), (1, 1200.0, 240.0), (0, 100.0, 100.0)]);
    let mut state = State::new(&loaded.fleet, 120, 3);
    poll_aws(&mut state, &loaded).await;
    let now = SystemTime::now();
    let p = state.current_signals(0, now).expect("signals");
    assert_eq!(p.error_ratio, Some(0.2), "the newest complete minute, not the partial one: {p:?}");
    let v = state.signal_verdict(0, now).unwrap();
    assert_eq!(v.status, Status::Ok, "{v:?}");
    assert_eq!(v.reason, "errors 20% ≥ 5.0%: CRIT at 2 of 3 periods (1 so far)");
    // Scrapes every few seconds re-judge the same minute: still one bad period, still OK.
    for s in [0, 10, 20, 40] {
        scrape(&mut state, now + Duration::from_secs(s), &exposition(1000 + s * 10));
    }
    // (Their own p95, judged with `for`, may warn; the error level is the periods'.)
    assert_eq!(state.services[0].errors.level, Status::Ok);
    // Minute 3 ago was bad too (moto sums the two datapoints: 480 of 2,400): two of the last three.
    seed_minutes(&m, &[(3, 1200.0, 480.0)]);
    poll_aws(&mut state, &loaded).await;
    let v = state.signal_verdict(0, SystemTime::now()).unwrap();
    assert_eq!((v.status, v.reason.as_str()), (Status::Crit, "errors 20% ≥ 5.0%"), "{v:?}");
}
