//! Signals from a source with a period, simulated with time as a parameter: a CloudWatch-fed
//! error rate is judged on M of its last N complete periods (`datapoints_to_alarm` of
//! `evaluation_periods`), as CloudWatch's own alarms are, not on `for`.

use opsboard::config;
use opsboard::state::{Event, SignalPoint, State, Status};
use std::time::{Duration, SystemTime};

const MINUTE: Duration = Duration::from_secs(60);
/// How late the simulated CloudWatch publishes a period after it ends (ALB metrics: about a minute).
const PUBLISHED_AFTER: Duration = Duration::from_secs(60);
/// When, within each minute, the board's AWS poll runs.
const POLL_PHASE: Duration = Duration::from_secs(15);

fn start() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

fn loaded(thresholds: &str) -> config::Loaded {
    let toml = format!(
        "[defaults.thresholds]\n{thresholds}\n[services.web]\ninstances = [\"http://127.0.0.1:9\"]\n\
         [aws.prod]\nregion = \"eu-west-1\"\nendpoint_url = \"http://127.0.0.1:9\"\ninterval = \"60s\"\n\
         [[aws.prod.metrics]]\nnamespace = \"AWS/ApplicationELB\"\nmetric = \"RequestCount\"\n\
         dimensions = {{ LoadBalancer = \"app/web/1\" }}\nstat = \"Sum\"\nservice = \"web\"\nrole = \"requests\"\n\
         [[aws.prod.metrics]]\nnamespace = \"AWS/ApplicationELB\"\nmetric = \"HTTPCode_Target_5XX_Count\"\n\
         dimensions = {{ LoadBalancer = \"app/web/1\" }}\nstat = \"Sum\"\nservice = \"web\"\nrole = \"errors\"\n"
    );
    config::load_str("periods.toml", &toml).unwrap()
}

/// One minute's point: 1,200 requests with this share answered 5xx.
fn minute(k: u32, errors: f64) -> SignalPoint {
    SignalPoint {
        rate: Some(20.0),
        requests: Some(1200.0),
        error_ratio: Some(errors),
        ..SignalPoint::empty(start() + MINUTE * k, MINUTE)
    }
}

/// Runs the board's polls over `minutes` of a fleet whose minute `k` has `errors(k)` 5xx: each
/// poll gets every period published by then (the last ten, as the source reads back). Returns
/// the error level after each poll, with the poll's time.
fn run(thresholds: &str, minutes: u32, errors: impl Fn(u32) -> f64) -> Vec<(SystemTime, Status)> {
    let loaded = loaded(thresholds);
    let mut state = State::new(&loaded.fleet, 120, 3);
    let mut out = Vec::new();
    for poll in 1..minutes {
        let at = start() + MINUTE * poll + POLL_PHASE;
        let published: Vec<SignalPoint> = (poll.saturating_sub(10)..poll)
            .filter(|k| start() + MINUTE * (k + 1) + PUBLISHED_AFTER <= at)
            .map(|k| minute(k, errors(k)))
            .collect();
        state.apply(Event::Signals { service: state.services[0].name.clone(), result: Ok(published) });
        out.push((at, state.services[0].errors.level));
    }
    out
}

fn first_crit(levels: &[(SystemTime, Status)]) -> Option<SystemTime> {
    levels.iter().find(|(_, s)| *s == Status::Crit).map(|(at, _)| *at)
}

#[test]
fn one_bad_minute_among_steady_ones_does_not_change_the_state() {
    // Minute 8 has 30% 5xx (one slow deploy batch, one bad cache node); the rest 0.1%.
    let levels = run("", 20, |k| if k == 8 { 0.3 } else { 0.001 });
    assert!(levels.iter().all(|(_, s)| *s == Status::Ok), "{levels:?}");
    // With CloudWatch's own default of 1 of 1, the same minute pages.
    let levels = run("datapoints_to_alarm = 1\nevaluation_periods = 1", 20, |k| if k == 8 { 0.3 } else { 0.001 });
    assert!(first_crit(&levels).is_some(), "{levels:?}");
}

#[test]
fn two_bad_minutes_of_three_do_even_with_a_good_one_between() {
    let levels = run("", 20, |k| if k == 8 || k == 10 { 0.3 } else { 0.001 });
    let crit = first_crit(&levels).expect("CRIT");
    // Minute 10 is published at 11:00 + 1 min; the poll after that is at 12:15.
    assert_eq!(crit, start() + MINUTE * 12 + POLL_PHASE);
    // And it clears once fewer than two of the last three are bad.
    assert_eq!(levels.last().unwrap().1, Status::Ok);
}

#[test]
fn time_from_an_alb_outage_to_crit() {
    // The outage starts 30 s into minute 10: 40% of requests answered 5xx from then on, so
    // minute 10 reads 20%, every later one 40%.
    let outage = start() + MINUTE * 10 + Duration::from_secs(30);
    let errors = |k: u32| match k {
        ..10 => 0.001,
        10 => 0.2,
        _ => 0.4,
    };
    let to_crit = |thresholds: &str| first_crit(&run(thresholds, 20, errors)).unwrap().duration_since(outage).unwrap();
    // 2 of 3 (the default): minutes 10 and 11 are bad; 11 is published at 13:00 and read at
    // 13:15: 2m45s after the outage began.
    assert_eq!(to_crit(""), Duration::from_secs(165));
    // 1 of 1 pages a minute sooner, and on any single bad minute.
    assert_eq!(to_crit("datapoints_to_alarm = 1\nevaluation_periods = 1"), Duration::from_secs(105));
    // 3 of 3 takes a minute more.
    assert_eq!(to_crit("datapoints_to_alarm = 3\nevaluation_periods = 3"), Duration::from_secs(225));
}

#[test]
fn missing_periods_count_as_treat_missing_data_says() {
    // Minutes 8 and 10 are bad; minute 9 has no datapoint at all (no traffic).
    let points = |state: &mut State| {
        let published = vec![minute(7, 0.001), minute(8, 0.3), minute(10, 0.3)];
        state.apply(Event::Signals { service: state.services[0].name.clone(), result: Ok(published) });
        state.services[0].errors.level
    };
    let level = |t: &str| points(&mut State::new(&loaded(t).fleet, 120, 3));
    // `missing`: minute 9 is skipped; 10, 8 and 7 are judged: two bad.
    assert_eq!(level(""), Status::Crit);
    // `notBreaching`: minutes 10, 9 and 8 are bad, good, bad: still two of three.
    assert_eq!(level("treat_missing_data = \"notBreaching\""), Status::Crit);
    // Three of three, and the gap counts as good: no.
    assert_eq!(level("treat_missing_data = \"notBreaching\"\ndatapoints_to_alarm = 3"), Status::Ok);
    // `breaching`: the gap is bad: three of three.
    assert_eq!(level("treat_missing_data = \"breaching\"\ndatapoints_to_alarm = 3"), Status::Crit);
}
