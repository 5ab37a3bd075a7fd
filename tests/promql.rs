//! The PromQL source against a real Prometheus on 127.0.0.1 scraping a loopback target.

mod common;

use common::{Reply, prometheus, serve_with};
use opsboard::config;
use opsboard::sources::promql_client;
use opsboard::state::{Event, State, percent};
use opsboard::ui::theme::Theme;
use opsboard::ui::view::View;
use opsboard::ui::{Look, Scene, render_to_buffer};
use std::time::{Duration, Instant, SystemTime};

const RATE: &str = "sum(rate(http_requests_total[5s]))";
const ERRORS: &str = "sum(rate(http_requests_total{code=~\"5..\"}[5s])) / sum(rate(http_requests_total[5s]))";
const P95: &str = "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[5s])))";

/// Counters that grow with time: 50 req/s, 5% of them 5xx, 80% under 100 ms.
async fn target() -> common::TestServer {
    let started = Instant::now();
    serve_with(move |_| {
        let t = started.elapsed().as_secs_f64();
        let (req, err) = ((50.0 * t).floor(), (2.5 * t).floor());
        Reply::text(
            200,
            &format!(
                "http_requests_total{{code=\"200\"}} {}\nhttp_requests_total{{code=\"500\"}} {err}\n\
                 http_request_duration_seconds_bucket{{le=\"0.1\"}} {}\n\
                 http_request_duration_seconds_bucket{{le=\"0.5\"}} {req}\n\
                 http_request_duration_seconds_bucket{{le=\"+Inf\"}} {req}\n",
                req - err,
                (req * 0.8).floor()
            ),
        )
    })
    .await
}

/// A real Prometheus scraping `app` every second (started off the async threads).
async fn prometheus_scraping(app: &common::TestServer) -> prometheus::Prometheus {
    let addr = app.addr.to_string();
    tokio::task::spawn_blocking(move || prometheus::start(&[addr])).await.unwrap()
}

/// The board as text at `now`.
fn frame(state: &State, now: SystemTime, width: u16, height: u16) -> String {
    let view = View::default();
    let look = Look {
        title: "t".into(),
        theme: Theme::default(),
        utc_offset_secs: 0,
        read_only: false,
        started_at: now,
        note: None,
    };
    opsboard::snapshot::text(&render_to_buffer(&Scene::new(state, &view, &look, now), width, height))
}

/// Asks the query API directly, as a person would with curl.
async fn api_value(base: &str, query: &str, at: SystemTime) -> f64 {
    let time = at.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs_f64();
    let mut url = reqwest::Url::parse(&format!("{base}/api/v1/query")).unwrap();
    url.query_pairs_mut().append_pair("query", query).append_pair("time", &format!("{time:.3}"));
    let json: serde_json::Value =
        opsboard::sources::http::client().get(url).send().await.unwrap().json().await.unwrap();
    json["data"]["result"][0]["value"][1].as_str().unwrap().parse().unwrap()
}

fn board_config(prom_url: &str, rate: &str) -> String {
    format!(
        "[prometheus]\nurl = \"{prom_url}\"\ntimeout = \"3s\"\n\n[environments.prod]\n[services.app]\nenv = \"prod\"\nscrape = false\n\
         instances = [\"http://127.0.0.1:9\"]\n[services.app.promql]\nrate = '{rate}'\nerror_ratio = '{ERRORS}'\np95 = '{P95}'\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panel_numbers_match_the_query_api() {
    let app = target().await;
    let prom = prometheus_scraping(&app).await;

    // Wait (bounded) until Prometheus has enough samples for a 5s rate.
    let deadline = Instant::now() + Duration::from_secs(40);
    let loaded = config::load_str("board.toml", &board_config(&prom.url, RATE)).unwrap();
    let client = promql_client(loaded.fleet.prometheus.as_ref().unwrap()).unwrap();
    let queries = loaded.fleet.services[0].promql.clone().unwrap();
    let point = loop {
        let at = SystemTime::now() - Duration::from_secs(1);
        let samples = client.instant("count_over_time(http_requests_total{code=\"200\"}[10s])", at).await;
        if let (Ok(Some(n)), Ok(p)) = (samples, client.point(&queries, at).await)
            && n >= 6.0
            && p.p95.is_some()
        {
            break p;
        }
        assert!(Instant::now() < deadline, "prometheus never had data for the target");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };

    assert_eq!(point.rate, Some(api_value(&prom.url, RATE, point.at).await));
    let rate = point.rate.unwrap();
    assert_eq!(point.error_ratio.unwrap(), api_value(&prom.url, ERRORS, point.at).await);
    assert_eq!(point.p95.unwrap(), api_value(&prom.url, P95, point.at).await);
    assert!((rate - 50.0).abs() < 15.0, "rate {rate} is near the target's 50/s");
    assert!((point.error_ratio.unwrap() - 0.05).abs() < 0.03, "{:?}", point.error_ratio);

    // The board shows exactly those numbers.
    let mut state = State::new(&loaded.fleet, 120, 3);
    state.apply(Event::Signals { service: state.services[0].name.clone(), result: Ok(vec![point]) });
    let text = frame(&state, point.at, 120, 30);
    assert!(text.contains(&opsboard::format::rate(rate)), "{text}");
    assert!(text.contains(&percent(point.error_ratio.unwrap())), "{text}");

    // Backfill over query_range gives a trend from the start.
    let points = client.backfill(&queries, SystemTime::now(), Duration::from_secs(1), 5).await.unwrap();
    assert!(points.len() >= 3, "{points:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_errors_are_shown_in_words() {
    let app = target().await;
    let prom = prometheus_scraping(&app).await;
    let loaded = config::load_str("board.toml", &board_config(&prom.url, "sum(rate(http_requests_total[5s]")).unwrap();
    let client = promql_client(loaded.fleet.prometheus.as_ref().unwrap()).unwrap();
    let err = client.point(loaded.fleet.services[0].promql.as_ref().unwrap(), SystemTime::now()).await.unwrap_err();
    assert!(err.starts_with("promql rate: bad_data: "), "{err}");

    let mut state = State::new(&loaded.fleet, 120, 3);
    state.apply(Event::Signals { service: state.services[0].name.clone(), result: Err(err.clone()) });
    let text = frame(&state, SystemTime::now(), 200, 20);
    assert!(text.contains("promql rate: bad_data"), "{text}");
}

#[tokio::test]
async fn unreachable_server_says_connection_refused() {
    let addr = common::closed_port();
    let loaded = config::load_str("board.toml", &board_config(&format!("http://{addr}"), RATE)).unwrap();
    let client = promql_client(loaded.fleet.prometheus.as_ref().unwrap()).unwrap();
    let err = client.point(loaded.fleet.services[0].promql.as_ref().unwrap(), SystemTime::now()).await.unwrap_err();
    assert_eq!(err, "promql rate: connection refused");
}

#[test]
fn promql_without_a_server_is_a_config_error() {
    let text = "[services.app]\ninstances = [\"http://127.0.0.1:9\"]\n[services.app.promql]\nrate = 'up'\n";
    let err = config::load_str("board.toml", text).unwrap_err();
    assert!(err.message.contains("no [prometheus] server"), "{err}");
    assert_eq!(err.line, Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instance_rows_from_up_with_a_stopped_target_crit() {
    let a = target().await;
    let b = target().await;
    let (a_addr, b_addr) = (a.addr.to_string(), b.addr.to_string());
    let targets = [a_addr.clone(), b_addr.clone()];
    let prom = tokio::task::spawn_blocking(move || prometheus::start(&targets)).await.unwrap();
    drop(b);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("up.toml");
    std::fs::write(
        &config,
        format!(
            "[prometheus]\nurl = \"{}\"\n[services.fleet]\ninstances = []\n[services.fleet.promql]\nup = 'up{{job=\"app\"}}'\n",
            prom.url
        ),
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let report = loop {
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_opsboard"))
            .args(["check", "--json", "--config"])
            .arg(&config)
            .env("XDG_DATA_HOME", dir.path())
            .output()
            .await
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"));
        let instances = report["services"][0]["instances"].as_array().cloned().unwrap_or_default();
        let down = instances.iter().any(|i| i["name"] == b_addr.as_str() && i["status"] == "crit");
        let up = instances.iter().any(|i| i["name"] == a_addr.as_str() && i["status"] == "ok");
        if down && up {
            break report;
        }
        assert!(Instant::now() < deadline, "never one up and one down: {report}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let fleet = &report["services"][0];
    assert_eq!(fleet["instances"].as_array().unwrap().len(), 2, "{fleet}");
    let b_row = fleet["instances"].as_array().unwrap().iter().find(|i| i["name"] == b_addr.as_str()).unwrap();
    assert_eq!(b_row["reason"], "up is 0 in Prometheus", "{b_row}");
    assert_eq!(fleet["status"], "crit", "{fleet}");
    assert_eq!(fleet["signals_note"], "scraping is off and no PromQL or CloudWatch feeds it", "{fleet}");
}
