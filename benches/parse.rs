//! Exposition parsing throughput: opsboard's parser against `prometheus-parse` used naively
//! (`Scrape::parse` over the body's lines), on real node-exporter output and a 5 MB synthetic body.
//!
//! `cargo bench --bench parse`; criterion prints MB/s (bytes) and Melem/s (samples).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use opsboard::metrics::{MetricNames, exposition, extract};
use std::fmt::Write;
use std::hint::black_box;

const NODE_EXPORTER: &str = include_str!("../tests/fixtures/node-exporter.prom");

/// About 5 MB in the shape of a busy service: labelled counters and histograms.
fn synthetic() -> String {
    let mut out = String::with_capacity(5_300_000);
    out.push_str("# HELP http_requests_total Requests.\n# TYPE http_requests_total counter\n");
    let mut i = 0u64;
    while out.len() < 5_000_000 {
        let path = format!("/api/v1/items/{}", i % 997);
        for code in ["200", "404", "500"] {
            let _ =
                writeln!(out, "http_requests_total{{method=\"GET\",path=\"{path}\",code=\"{code}\"}} {}", i * 7 + 3);
        }
        for le in ["0.005", "0.01", "0.05", "0.1", "0.5", "1", "+Inf"] {
            let _ = writeln!(out, "http_request_duration_seconds_bucket{{path=\"{path}\",le=\"{le}\"}} {}", i * 3);
        }
        i += 1;
    }
    out
}

fn samples(text: &str) -> u64 {
    text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')).count() as u64
}

fn bench(c: &mut Criterion) {
    let big = synthetic();
    for (name, text) in [("node-exporter", NODE_EXPORTER), ("synthetic-5MB", big.as_str())] {
        for (unit, throughput) in
            [("bytes", Throughput::Bytes(text.len() as u64)), ("samples", Throughput::Elements(samples(text)))]
        {
            let mut g = c.benchmark_group(format!("{name}/{unit}"));
            g.throughput(throughput);
            g.sample_size(20);
            g.bench_function("opsboard parse", |b| {
                b.iter(|| {
                    let mut n = 0usize;
                    exposition::parse(black_box(text), |s| n += s.labels.is_empty() as usize).unwrap();
                    n
                })
            });
            g.bench_function("opsboard extract signals", |b| {
                let names = MetricNames::default();
                b.iter(|| extract(black_box(text), &names).unwrap())
            });
            g.bench_function("prometheus-parse naive", |b| {
                b.iter(|| {
                    let lines = black_box(text).lines().map(|l| Ok(l.to_string()));
                    prometheus_parse::Scrape::parse(lines).unwrap()
                })
            });
            g.finish();
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
