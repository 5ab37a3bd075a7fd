//! What one second of the board costs at a thousand services, apart from the checks: the
//! verdicts brought forward after a fifth of the fleet reported (and, to compare, made from
//! nothing), and one frame drawn at 160x45 and 80x24 (into a kept terminal, so only changed
//! cells are diffed, as on a real one).
//!
//! `cargo bench --bench frame`; criterion prints the time of each.

use criterion::{Criterion, criterion_group, criterion_main};
use opsboard::config;
use opsboard::state::{BodyVerdict, Event, HealthOutcome, HealthSample, InstanceId, State, Verdicts};
use opsboard::ui::view::View;
use opsboard::ui::{Look, Scene, render};
use ratatui::{Terminal, backend::TestBackend};
use std::fmt::Write;
use std::hint::black_box;
use std::time::{Duration, SystemTime};

const SERVICES: usize = 1000;

fn fleet() -> State {
    let mut text = String::from("[defaults]\ninterval = \"5s\"\ntimeout = \"2s\"\nscrape = false\n");
    for i in 0..SERVICES {
        let _ = write!(text, "[services.svc-{i:04}]\ninstances = [\"http://127.0.0.1:{}/health\"]\n", 10000 + i);
    }
    let loaded = config::load_str("frame.toml", &text).expect("a valid fleet");
    State::new(&loaded.fleet, 120, 3)
}

fn health(state: &State, service: usize, at: SystemTime) -> Event {
    let outcome = HealthOutcome::Response {
        code: 200,
        body: BodyVerdict::Healthy,
        version: Some("1.0.0".into()),
        truncated: false,
        cert: None,
        status_expected: None,
    };
    let sample = HealthSample { at, latency: Duration::from_micros(300), outcome };
    let key = state.instance_key(InstanceId { service, instance: 0 }).expect("one instance each");
    Event::Health { key, sample, next_in: Duration::from_secs(5) }
}

fn bench(c: &mut Criterion) {
    let start = SystemTime::now();
    let mut state = fleet();
    for si in 0..SERVICES {
        state.apply(health(&state, si, start));
    }
    let mut verdicts = Verdicts::default();
    verdicts.refresh(&state, start);
    let mut second = 0u64;
    c.bench_function("verdicts brought forward, 1000 services, 200 new results", |b| {
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                // A second's results land (not timed), then the verdicts are brought to it.
                second += 1;
                let now = start + Duration::from_secs(second);
                for k in 0..SERVICES / 5 {
                    state.apply(health(&state, (second as usize * 200 + k) % SERVICES, now));
                }
                let t = std::time::Instant::now();
                verdicts.refresh(&state, now);
                spent += t.elapsed();
                black_box(verdicts.revision);
            }
            spent
        })
    });
    let now = start + Duration::from_secs(second);
    c.bench_function("verdicts made from nothing, 1000 services", |b| {
        b.iter(|| black_box(Verdicts::of(&state, now).revision))
    });
    let look = Look {
        title: "bench".into(),
        theme: Default::default(),
        utc_offset_secs: 0,
        read_only: true,
        started_at: start,
        note: None,
    };
    let view = View::default();
    verdicts.refresh(&state, now);
    for (w, h) in [(160u16, 45u16), (80, 24)] {
        let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("test backend");
        let mut tick = 0u64;
        c.bench_function(&format!("frame {w}x{h}, 1000 services"), |b| {
            b.iter(|| {
                // Each frame a second later, as the board draws them: the clock and ages move.
                tick += 1;
                let scene = Scene::with_verdicts(&state, &view, &look, now + Duration::from_secs(tick), &verdicts);
                terminal.draw(|f| render(f, &scene)).expect("test backend");
            })
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
