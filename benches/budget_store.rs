//! What error budgets cost to keep: 500 services with `slo` over 30 simulated days of counts
//! (requests every minute, checks every minute), flushed as a live board flushes them. Prints
//! the store's size on disk, the memory of the ledgers, and the time one flush of all 500
//! takes (the board flushes every 5 s).

use opsboard::state::budget::{Budget, Counts, Slo};
use opsboard::store::budgets::BudgetStore;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const SERVICES: usize = 500;
const DAYS: u64 = 30;

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let line = status.lines().find_map(|l| l.strip_prefix("VmRSS:")).unwrap_or("0");
    line.trim().trim_end_matches("kB").trim().parse().unwrap_or(0)
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("budgets.redb");
    let store = BudgetStore::open(&path).unwrap();
    let slo = Slo { objective: 0.999, window: Duration::from_secs(DAYS * 86_400) };
    let names: Vec<String> = (0..SERVICES).map(|i| format!("service-{i:03}")).collect();
    let rss_before = rss_kib();
    let mut budgets: Vec<Budget> = (0..SERVICES).map(|_| Budget::new(slo)).collect();
    let start = UNIX_EPOCH + Duration::from_secs(1_780_000_000 / 86_400 * 86_400);
    let hours = DAYS * 24;
    let mut flushes = Vec::new();
    for h in 0..hours {
        // The last six hours are flushed every three minutes (the newest minutes the store
        // keeps); before them, once an hour: the rows that stay are the same as a live board's.
        let recent = h + 6 >= hours;
        for m in 0..60 {
            let at = start + Duration::from_secs(h * 3600 + m * 60 + 30);
            for b in &mut budgets {
                b.requests.add(at, Counts { good: 5997, total: 6000, seen_s: 60 });
                b.checks.add(at, Counts { good: 12, total: 12, seen_s: 60 });
            }
            if (recent && m % 3 == 2) || m == 59 {
                let t = Instant::now();
                store.save(names.iter().map(String::as_str).zip(budgets.iter().map(Budget::newest_rows))).unwrap();
                if recent {
                    flushes.push(t.elapsed());
                }
            }
        }
    }
    let rss_after = rss_kib();
    let size = std::fs::metadata(&path).unwrap().len();
    let rows: usize = budgets.iter().map(|b| b.requests.minutes.len() + b.requests.hours.len()).sum::<usize>() * 2;
    flushes.sort();
    let median = flushes[flushes.len() / 2];
    let now = start + Duration::from_secs(hours * 3600);
    let t = Instant::now();
    let left = budgets.iter().map(|b| b.standing(now).1.left.unwrap_or_default()).sum::<f64>() / SERVICES as f64;
    let standing = t.elapsed() / SERVICES as u32;
    println!("{SERVICES} services, {DAYS} simulated days, requests and checks each minute");
    println!(
        "store on disk: {:.1} MiB ({:.0} KiB a service), {rows} rows",
        size as f64 / 1048576.0,
        size as f64 / 1024.0 / SERVICES as f64
    );
    println!(
        "ledgers in memory: {:.1} MiB RSS ({:.0} KiB a service)",
        (rss_after.saturating_sub(rss_before)) as f64 / 1024.0,
        (rss_after.saturating_sub(rss_before)) as f64 / SERVICES as f64
    );
    println!("one flush of all {SERVICES}: median {:.1} ms", median.as_secs_f64() * 1000.0);
    println!(
        "one standing (5 burn windows and the budget): {:.1} µs; budget left {:.3}",
        standing.as_secs_f64() * 1e6,
        left
    );
    let reopened = Instant::now();
    drop(store);
    let mut store = BudgetStore::open(&path).unwrap();
    let opened = reopened.elapsed();
    let t = Instant::now();
    store.compact().unwrap();
    let compacted = std::fs::metadata(&path).unwrap().len();
    println!(
        "compacted (as a board does when it opens the store): {:.1} MiB ({:.0} KiB a service) in {:.0} ms",
        compacted as f64 / 1048576.0,
        compacted as f64 / 1024.0 / SERVICES as f64,
        t.elapsed().as_secs_f64() * 1000.0
    );
    let reopened = Instant::now() - opened;
    let mut b = Budget::new(slo);
    for n in &names {
        b.fill(store.load(n).unwrap());
    }
    println!("reopen and load all {SERVICES}: {:.0} ms", reopened.elapsed().as_secs_f64() * 1000.0);
    assert_eq!(b.requests.hours.len(), budgets[0].requests.hours.len(), "the store gives back what it was given");
    let _ = SystemTime::now();
}
