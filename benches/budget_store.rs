//! What every service's counts cost to keep: 500 services over 30 simulated days of counts
//! (requests every minute, checks every minute), flushed as a live board flushes them, once
//! with an `slo` on each (minutes and hours) and once without (hours only, for availability).
//! Prints the store's size on disk, the memory of the counts, the time a flush of all 500 takes
//! on its blocking thread and the part of it left on the collector's (the rows copied out), and
//! what one budget's standing and one availability cost.

use opsboard::state::budget::{Counts, Outcomes, Slo};
use opsboard::store::budgets::{BudgetStore, Ledgers};
use std::time::{Duration, Instant, UNIX_EPOCH};

const SERVICES: usize = 500;
const DAYS: u64 = 30;

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let line = status.lines().find_map(|l| l.strip_prefix("VmRSS:")).unwrap_or("0");
    line.trim().trim_end_matches("kB").trim().parse().unwrap_or(0)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(mut all: Vec<Duration>) -> Duration {
    all.sort();
    all.get(all.len() / 2).copied().unwrap_or_default()
}

fn run(slo: Option<Slo>, first: bool) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("budgets.redb");
    let store = BudgetStore::open(&path).unwrap();
    let names: Vec<String> = (0..SERVICES).map(|i| format!("service-{i:03}")).collect();
    let rss_before = rss_kib();
    let mut all: Vec<Outcomes> = (0..SERVICES).map(|_| Outcomes::new(slo.as_ref())).collect();
    let start = UNIX_EPOCH + Duration::from_secs(1_780_000_000 / 86_400 * 86_400);
    let hours = DAYS * 24;
    let (mut flushes, mut copies) = (Vec::new(), Vec::new());
    for h in 0..hours {
        // The last six hours are flushed every three minutes (the newest minutes the store
        // keeps); before them, once an hour: the rows that stay are the same as a live board's.
        let recent = h + 6 >= hours;
        for m in 0..60 {
            let at = start + Duration::from_secs(h * 3600 + m * 60 + 30);
            for o in &mut all {
                o.requests.add(at, Counts { good: 5997, total: 6000, seen_s: 0 });
                o.checks.add(at, Counts { good: 12, total: 12, seen_s: 0 });
                o.seen(at, 60);
            }
            if (recent && m % 3 == 2) || m == 59 {
                let t = Instant::now();
                let rows: Vec<(&str, Ledgers)> =
                    names.iter().map(String::as_str).zip(all.iter().map(Outcomes::newest_rows)).collect();
                let copied = t.elapsed();
                store.save(rows.into_iter()).unwrap();
                if recent {
                    copies.push(copied);
                    flushes.push(t.elapsed());
                }
            }
        }
    }
    let rss_after = rss_kib();
    let size = std::fs::metadata(&path).unwrap().len();
    let rows: usize = all.iter().map(|o| o.requests.minutes.len() + o.requests.hours.len()).sum::<usize>() * 2;
    let now = start + Duration::from_secs(hours * 3600);
    let kind = if slo.is_some() { "with an slo (minutes and hours)" } else { "without an slo (hours only)" };
    println!("{SERVICES} services {kind}, {DAYS} simulated days, requests and checks each minute");
    println!(
        "  store on disk: {:.1} MiB as written ({:.0} KiB a service), {rows} buckets",
        size as f64 / 1048576.0,
        size as f64 / 1024.0 / SERVICES as f64
    );
    // The buckets' own bytes, from the deques' room; the RSS grown is said for the first run
    // only: the second reuses what the allocator kept of the first, and would read 0.
    let bucket = std::mem::size_of::<(u64, Counts)>();
    let heap: usize = all
        .iter()
        .flat_map(|o| [&o.requests, &o.checks])
        .map(|l| (l.minutes.capacity() + l.hours.capacity()) * bucket)
        .sum();
    let rss = rss_after.saturating_sub(rss_before);
    let grew = if first { format!("; RSS grew {:.1} MiB", rss as f64 / 1024.0) } else { String::new() };
    println!(
        "  counts in memory: {:.1} MiB of buckets ({:.0} KiB a service){grew}",
        heap as f64 / 1048576.0,
        heap as f64 / 1024.0 / SERVICES as f64,
    );
    println!(
        "  one flush of all {SERVICES}: median {:.1} ms on the writer's thread, of which {:.2} ms copying the rows on the collector's",
        ms(median(flushes)),
        ms(median(copies))
    );
    if let Some(slo) = &slo {
        let t = Instant::now();
        let left = all.iter().map(|o| o.standing(slo, now).1.left.unwrap_or_default()).sum::<f64>() / SERVICES as f64;
        let standing = t.elapsed() / SERVICES as u32;
        println!(
            "  one standing (5 burn windows and the budget): {:.1} µs; budget left {left:.3}",
            standing.as_secs_f64() * 1e6
        );
    }
    let t = Instant::now();
    let up: f64 = all.iter().map(|o| o.availability(now)[2].requests.unwrap_or_default()).sum::<f64>();
    println!(
        "  one availability (24h, 7d, 30d): {:.1} µs; 30d of requests {:.4}",
        (t.elapsed() / SERVICES as u32).as_secs_f64() * 1e6,
        up / SERVICES as f64
    );
    drop(store);
    let t = Instant::now();
    let mut store = BudgetStore::open(&path).unwrap();
    store.compact().unwrap();
    let compacted = std::fs::metadata(&path).unwrap().len();
    println!(
        "  compacted (as a board does when it opens the store): {:.1} MiB ({:.0} KiB a service); open and compact {:.0} ms",
        compacted as f64 / 1048576.0,
        compacted as f64 / 1024.0 / SERVICES as f64,
        ms(t.elapsed())
    );
    let t = Instant::now();
    let loaded: Vec<Outcomes> = names
        .iter()
        .map(|n| {
            let mut o = Outcomes::new(slo.as_ref());
            o.fill(store.load(n).unwrap());
            o
        })
        .collect();
    println!("  load all {SERVICES}: {:.0} ms", ms(t.elapsed()));
    assert_eq!(loaded[7].availability(now), all[7].availability(now), "the store gives back what it was given");
}

fn main() {
    let slo = Slo { objective: 0.999, window: Duration::from_secs(DAYS * 86_400) };
    run(Some(slo), true);
    run(None, false);
}
