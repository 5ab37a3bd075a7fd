//! What a service's requests and checks came to, and its error budget: every service keeps
//! its good and all requests and checks per hour for 30 days (its availability over 24h, 7d and
//! 30d); one with an objective (`slo`) keeps them per minute for the last six hours too, and is
//! judged on what share of them may fail over its window, how much of that is spent, and how
//! fast it burns now, by the multi-window, multi-burn-rate rules of the SRE workbook. Time no
//! board saw is unknown, not good, and each number says how much of its window was seen.

use crate::store::budgets::{HOURS_PER_BLOCK, Ledgers, MINUTES_PER_BLOCK, Row, Rows};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Events in one bucket of time: how many there were, how many were good, and how many of its
/// seconds a board was watching.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub good: u64,
    pub total: u64,
    pub seen_s: u32,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.good += o.good;
        self.total += o.total;
        self.seen_s = self.seen_s.saturating_add(o.seen_s);
    }

    /// Bad events' share, when there were any events.
    pub fn bad_ratio(&self) -> Option<f64> {
        (self.total > 0).then(|| (self.total - self.good.min(self.total)) as f64 / self.total as f64)
    }
}

/// Minutes kept at full resolution: enough for the 5m, 30m, 1h and 6h windows.
const MINUTES: u64 = 6 * 60;

/// How far back every service's hours go: its availability's longest window.
pub const AVAILABILITY_KEPT: Duration = Duration::from_secs(30 * 86_400);

/// One service's counts of one kind (requests, or checks).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ledger {
    /// (minute since the epoch, counts), oldest first, the last [`MINUTES`]; none kept without
    /// an objective, whose burn rates are all that read them.
    pub minutes: VecDeque<(u64, Counts)>,
    /// (hour since the epoch, counts), oldest first, as far back as `keep`.
    pub hours: VecDeque<(u64, Counts)>,
    /// How far back hours are kept.
    pub keep: Duration,
    /// Whether minutes are kept.
    pub by_minute: bool,
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

/// Adds `c` to the bucket `index`, the newest or a new one; an older one is still found.
fn bump(buckets: &mut VecDeque<(u64, Counts)>, index: u64, c: &Counts) {
    if let Some((_, b)) = buckets.iter_mut().rev().take(3).find(|(i, _)| *i == index) {
        b.add(c);
    } else if buckets.back().is_none_or(|(i, _)| *i < index) {
        buckets.push_back((index, *c));
    }
    // Else out of order and older than the last few: dropped rather than misfiled.
}

/// The buckets a save writes: the newest, which can have changed since the last one.
const NEWEST: usize = 3;

impl Ledger {
    /// Hours back to `keep`, and minutes when `by_minute`; room for all of them from the start
    /// (a deque that grows doubles, and would hold a third more than it needs).
    pub fn new(keep: Duration, by_minute: bool) -> Self {
        let minutes = if by_minute { VecDeque::with_capacity(MINUTES as usize + 1) } else { VecDeque::new() };
        let hours = VecDeque::with_capacity(hours_kept(keep) as usize + 1);
        Self { minutes, hours, keep, by_minute }
    }

    /// Keeps hours back to `keep` and minutes when `by_minute` from now on.
    pub fn follow(&mut self, keep: Duration, by_minute: bool) {
        self.keep = keep;
        self.by_minute = by_minute;
        if !by_minute {
            self.minutes = VecDeque::new();
        }
    }

    /// The buckets of the store's blocks its newest buckets fall in (all that can have changed
    /// since the last save), with the oldest it still holds.
    pub fn newest_rows(&self) -> Rows {
        let rows = |b: &VecDeque<(u64, Counts)>, per: u64| -> Vec<(u64, Row)> {
            let from = b.len().saturating_sub(NEWEST);
            let Some(block) = b.get(from).map(|(i, _)| i / per) else { return Vec::new() };
            let first = b.partition_point(|(i, _)| i / per < block);
            b.iter().skip(first).map(|(i, c)| (*i, (c.good, c.total, c.seen_s))).collect()
        };
        Rows {
            minutes: rows(&self.minutes, MINUTES_PER_BLOCK),
            hours: rows(&self.hours, HOURS_PER_BLOCK),
            oldest_minute: self.minutes.front().map(|(i, _)| *i),
            oldest_hour: self.hours.front().map(|(i, _)| *i),
        }
    }

    /// Adds what the store held to its buckets (those counted since are kept).
    pub fn fill(&mut self, rows: Rows) {
        let merge = |have: &mut VecDeque<(u64, Counts)>, stored: Vec<(u64, Row)>| {
            let mut all: Vec<(u64, Counts)> = (stored.into_iter())
                .map(|(i, (good, total, seen_s))| (i, Counts { good, total, seen_s }))
                .chain(have.drain(..))
                .collect();
            all.sort_by_key(|(i, _)| *i);
            for (i, c) in all {
                match have.back_mut() {
                    Some((last, b)) if *last == i => b.add(&c),
                    _ => have.push_back((i, c)),
                }
            }
        };
        if self.by_minute {
            merge(&mut self.minutes, rows.minutes);
        }
        merge(&mut self.hours, rows.hours);
    }

    /// Counts `c` at `at`; buckets older than what is kept go.
    pub fn add(&mut self, at: SystemTime, c: Counts) {
        let secs = unix(at);
        if self.by_minute {
            bump(&mut self.minutes, secs / 60, &c);
        }
        bump(&mut self.hours, secs / 3600, &c);
        let minute = secs / 60;
        while self.minutes.front().is_some_and(|(m, _)| *m + MINUTES <= minute) {
            self.minutes.pop_front();
        }
        let hours = hours_kept(self.keep);
        while self.hours.front().is_some_and(|(h, _)| *h + hours <= secs / 3600) {
            self.hours.pop_front();
        }
    }

    /// The counts over the last `over` before `now`: from minutes up to six hours, from hours
    /// beyond (to the hour), and from hours always where no minutes are kept.
    pub fn sum(&self, now: SystemTime, over: Duration) -> Counts {
        let secs = unix(now);
        let mut out = Counts::default();
        if self.by_minute && over.as_secs() <= MINUTES * 60 {
            // The minutes after the one `over` ago, the current one included.
            let from = secs.saturating_sub(over.as_secs()) / 60;
            self.minutes.iter().filter(|(m, _)| *m > from).for_each(|(_, c)| out.add(c));
        } else {
            let from = secs.saturating_sub(over.as_secs()) / 3600;
            self.hours.iter().filter(|(h, _)| *h > from).for_each(|(_, c)| out.add(c));
        }
        out
    }
}

/// Hours in `keep`, at least one.
fn hours_kept(keep: Duration) -> u64 {
    keep.as_secs().div_ceil(3600).max(1)
}

pub use crate::config::Slo;
pub use crate::config::schema::SloAlert as Alert;

/// The state an alert puts its service in: CRIT for a page, WARN for a ticket.
pub fn alert_status(alert: Alert) -> super::Status {
    match alert {
        Alert::Page => super::Status::Crit,
        Alert::Ticket => super::Status::Warn,
    }
}

/// One rule: both windows burn at least `rate`.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub alert: Alert,
    pub rate: f64,
    pub long: Duration,
    pub short: Duration,
}

const MIN: u64 = 60;
const HOUR: u64 = 3600;

/// The SRE workbook's rules for a 30-day objective: page at 14.4× over 1h and 5m (2 % of the
/// budget in an hour), page at 6× over 6h and 30m (5 % in six hours), ticket at 1× over 3d and 6h
/// (10 % in three days).
pub const RULES: [Rule; 3] = [
    Rule { alert: Alert::Page, rate: 14.4, long: Duration::from_secs(HOUR), short: Duration::from_secs(5 * MIN) },
    Rule { alert: Alert::Page, rate: 6.0, long: Duration::from_secs(6 * HOUR), short: Duration::from_secs(30 * MIN) },
    Rule {
        alert: Alert::Ticket,
        rate: 1.0,
        long: Duration::from_secs(72 * HOUR),
        short: Duration::from_secs(6 * HOUR),
    },
];

/// What one service's requests and checks came to, good and all: its availability, and what
/// its objective is judged on when it has one.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcomes {
    /// Its requests (from scrapes): good ones are not 5xx.
    pub requests: Ledger,
    /// Its health checks: good ones passed.
    pub checks: Ledger,
}

/// Which counts a budget is judged on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    Requests,
    Checks,
}

/// Hours as far back as availability's longest window and the objective's; minutes with an
/// objective.
fn kept(slo: Option<&Slo>) -> (Duration, bool) {
    (slo.map_or(AVAILABILITY_KEPT, |s| s.window.max(AVAILABILITY_KEPT)), slo.is_some())
}

impl Outcomes {
    /// The counts a service keeps, with or without an objective.
    pub fn new(slo: Option<&Slo>) -> Self {
        let (keep, by_minute) = kept(slo);
        Self { requests: Ledger::new(keep, by_minute), checks: Ledger::new(keep, by_minute) }
    }

    /// Keeps what an objective that came (or went, or changed) with a reload needs from now on;
    /// the counts stay.
    pub fn follow(&mut self, slo: Option<&Slo>) {
        let (keep, by_minute) = kept(slo);
        self.requests.follow(keep, by_minute);
        self.checks.follow(keep, by_minute);
    }

    /// Its requests' ledger when they were counted over `window`, else its checks'.
    pub fn basis(&self, now: SystemTime, window: Duration) -> (Basis, &Ledger) {
        if self.requests.sum(now, window).total > 0 {
            (Basis::Requests, &self.requests)
        } else {
            (Basis::Checks, &self.checks)
        }
    }

    /// Its two ledgers' newest rows, for the store.
    pub fn newest_rows(&self) -> Ledgers {
        [self.requests.newest_rows(), self.checks.newest_rows()]
    }

    /// Its ledgers from what the store held.
    pub fn fill(&mut self, [requests, checks]: Ledgers) {
        self.requests.fill(requests);
        self.checks.fill(checks);
    }

    /// The share of checks and of requests that succeeded over 24h, 7d and 30d, with the share
    /// of each a board saw.
    pub fn availability(&self, now: SystemTime) -> Vec<Availability> {
        let windows = [("24h", 86_400), ("7d", 7 * 86_400), ("30d", 30 * 86_400)];
        (windows.iter())
            .map(|&(name, secs)| {
                let over = Duration::from_secs(secs);
                let (r, c) = (self.requests.sum(now, over), self.checks.sum(now, over));
                let good = |c: Counts| c.bad_ratio().map(|b| 1.0 - b);
                Availability {
                    window: name,
                    requests: good(r),
                    checks: good(c),
                    coverage: (f64::from(c.seen_s) / over.as_secs_f64()).min(1.0),
                }
            })
            .collect()
    }

    /// Seconds a board watched, counted into both.
    pub fn seen(&mut self, at: SystemTime, secs: u32) {
        let c = Counts { seen_s: secs, ..Counts::default() };
        self.requests.add(at, c);
        self.checks.add(at, c);
    }

    /// Where the budget of `slo` stands at `now`, on its basis.
    pub fn standing(&self, slo: &Slo, now: SystemTime) -> (Basis, Standing) {
        let (basis, ledger) = self.basis(now, slo.window);
        (basis, slo.standing(ledger, now))
    }
}

impl Standing {
    /// `budget 62 % left · 1h 0.5×`: for a row.
    pub fn short(&self) -> String {
        let left = self.left.map_or("budget —".to_string(), left_words);
        match self.burn.iter().find(|(w, _)| w == "1h").and_then(|(_, b)| *b) {
            Some(b) => format!("{left} · 1h {b:.1}×"),
            None => left,
        }
    }

    /// `5m 0.3× · 30m 0.4× · 1h 0.5× · 6h 0.4× · 3d 0.9×`.
    pub fn burn_words(&self) -> String {
        let each = self.burn.iter().map(|(w, b)| match b {
            Some(b) => format!("{w} {b:.1}×"),
            None => format!("{w} —"),
        });
        each.collect::<Vec<_>>().join(" · ")
    }

    /// `budget 62 % left, over 27 of 30 days seen`.
    pub fn words(&self, window: Duration) -> String {
        let days = window.as_secs_f64() / 86_400.0;
        let seen = self.coverage * days;
        if self.seen_s == 0 {
            // `check` and `snapshot` without this machine's store, or a board in its first
            // seconds: a poll is no budget.
            return format!("budget unknown: none of its {} seen yet", crate::format::age(window));
        }
        let left = self.left.map_or("budget unknown (no events yet)".to_string(), left_words);
        if self.coverage >= 0.995 {
            format!("{left} over {days:.0} days")
        } else if seen >= 1.0 {
            format!("{left}, over {seen:.0} of {days:.0} days seen")
        } else {
            format!(
                "{left}, over {} of {days:.0} days seen",
                crate::format::age(Duration::from_secs_f64(seen * 86_400.0))
            )
        }
    }
}

/// The share that succeeded over one window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Availability {
    pub window: &'static str,
    /// Of requests that were not 5xx; none without requests.
    pub requests: Option<f64>,
    /// Of health checks that passed; none without checks.
    pub checks: Option<f64>,
    /// The share of the window a board saw.
    pub coverage: f64,
}

/// `99.95 %`, `100 %`, `—`: a share that succeeded, to three decimals and never rounded up to a
/// hundred (one failure in a million is 99.999 %, not 100 %).
pub fn share_words(v: Option<f64>) -> String {
    match v {
        None => "—".to_string(),
        Some(v) if v >= 1.0 => "100 %".to_string(),
        Some(v) => {
            // Floored, past the float's own error (0.99 is 0.98999…).
            let text = format!("{:.3}", (v * 100_000.0 + 1e-6).floor() / 1000.0);
            format!("{} %", text.trim_end_matches('0').trim_end_matches('.'))
        }
    }
}

/// `availability of requests: 24h 99.95 % · 7d 99.97 % · 30d 99.97 % (seen 92 % · 13 % · 3 %)`:
/// of requests when any were counted, else of checks.
pub fn availability_words(all: &[Availability]) -> String {
    let requests = all.iter().any(|a| a.requests.is_some());
    let (of, share): (&str, fn(&Availability) -> Option<f64>) =
        if requests { ("requests", |a| a.requests) } else { ("checks", |a| a.checks) };
    if all.iter().all(|a| share(a).is_none()) {
        return "availability unknown: nothing counted yet".to_string();
    }
    let each: Vec<String> = all.iter().map(|a| format!("{} {}", a.window, share_words(share(a)))).collect();
    let seen: Vec<String> = all.iter().map(|a| seen_words(a.coverage)).collect();
    format!("availability of {of}: {} (seen {})", each.join(" · "), seen.join(" · "))
}

/// `92 %`: the share of a window a board saw, never rounded up to all of it, nor down to none
/// (`<1 %`).
pub fn seen_words(coverage: f64) -> String {
    match coverage {
        c if c > 0.0 && c < 0.01 => "<1 %".to_string(),
        c => format!("{:.0} %", (c * 100.0 + 1e-9).floor()),
    }
}

/// `budget 62 % left`; spent, how far past it: `budget overspent, 140 % used`, `… 1000× used`.
fn left_words(left: f64) -> String {
    let used = 1.0 - left;
    match left {
        l if l >= 0.0 => format!("budget {:.0} % left", l * 100.0),
        _ if used < 10.0 => format!("budget overspent, {:.0} % used", used * 100.0),
        _ => format!("budget overspent, {used:.0}× used"),
    }
}

/// Where a budget stands at one moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Standing {
    /// The share of the window's budget left (negative: overspent); none without events.
    pub left: Option<f64>,
    /// The share of the window a board saw.
    pub coverage: f64,
    /// The events counted over the window, and the seconds of it a board saw.
    pub events: u64,
    pub seen_s: u64,
    /// Burn rates over 5m, 30m, 1h, 6h and 3d (1 spends the budget in exactly the window).
    pub burn: Vec<(String, Option<f64>)>,
    /// The worst rule raised, with its words.
    pub alert: Option<(Alert, String)>,
}

impl Slo {
    /// How fast the window `over` burns: its bad share against the budget's; unknown when no
    /// board watched any of it (`check` reads one poll, which is no rate over an hour).
    pub fn burn(&self, ledger: &Ledger, now: SystemTime, over: Duration) -> Option<f64> {
        let budget = (1.0 - self.objective).max(f64::EPSILON);
        let counts = ledger.sum(now, over);
        counts.bad_ratio().filter(|_| counts.seen_s > 0).map(|r| r / budget)
    }

    /// The budget at `now`.
    pub fn standing(&self, ledger: &Ledger, now: SystemTime) -> Standing {
        let all = ledger.sum(now, self.window);
        let budget = (1.0 - self.objective).max(f64::EPSILON);
        // What no board watched is not a budget: the events of one poll leave it unknown.
        let left = all.bad_ratio().filter(|_| all.seen_s > 0).map(|r| 1.0 - r / budget);
        let coverage = (f64::from(all.seen_s) / self.window.as_secs_f64()).min(1.0);
        let windows = [("5m", 5 * MIN), ("30m", 30 * MIN), ("1h", HOUR), ("6h", 6 * HOUR), ("3d", 72 * HOUR)];
        let burn = (windows.iter())
            .map(|&(name, w)| (name.to_string(), self.burn(ledger, now, Duration::from_secs(w))))
            .collect();
        // A rule needs half of its long window seen: a board started a minute ago would
        // otherwise read that minute as the hour, and page on it.
        let seen_enough = |w: Duration| u64::from(ledger.sum(now, w).seen_s) * 2 >= w.as_secs();
        let alert = RULES
            .iter()
            .filter(|r| {
                let over = |w| self.burn(ledger, now, w).is_some_and(|b| b >= r.rate);
                over(r.long) && over(r.short) && seen_enough(r.long)
            })
            .max_by_key(|r| r.alert)
            .map(|r| {
                let long = self.burn(ledger, now, r.long).unwrap_or_default();
                let words = format!(
                    "burning its error budget {long:.1}× too fast over {} (the {} rule: {}× over {} and {})",
                    window_words(r.long),
                    if r.alert == Alert::Page { "page" } else { "ticket" },
                    r.rate,
                    window_words(r.long),
                    window_words(r.short),
                );
                (r.alert, words)
            });
        Standing { left, coverage, events: all.total, seen_s: u64::from(all.seen_s), burn, alert }
    }
}

/// `5m`, `1h`, `3d`: a rule's window as people write it.
fn window_words(d: Duration) -> String {
    match d.as_secs() {
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s => format!("{}m", s / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = 86_400;

    fn start() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_780_000_000 / DAY * DAY)
    }

    /// Minute by minute, `rate` requests a second failing with `error(minute)`; the rules
    /// checked every minute. The first minute each alert is raised, and the standing at the end.
    fn simulate(minutes: u64, error: impl Fn(u64) -> f64) -> (Option<u64>, Option<u64>, Standing) {
        let slo = Slo { objective: 0.999, window: Duration::from_secs(30 * DAY) };
        let mut ledger = Ledger::new(slo.window, true);
        let (mut page, mut ticket) = (None, None);
        for m in 0..minutes {
            let at = start() + Duration::from_secs(m * 60 + 30);
            let total = 6000; // 100 requests a second
            let bad = (total as f64 * error(m)).round() as u64;
            ledger.add(at, Counts { good: total - bad, total, seen_s: 60 });
            match slo.standing(&ledger, at).alert {
                Some((Alert::Page, _)) => page = page.or(Some(m)),
                Some((Alert::Ticket, _)) => ticket = ticket.or(Some(m)),
                None => {}
            }
        }
        let end = start() + Duration::from_secs(minutes * 60);
        (page, ticket, slo.standing(&ledger, end))
    }

    #[test]
    fn a_steady_small_error_ratio_spends_half_the_budget_and_raises_nothing() {
        let (page, ticket, s) = simulate(30 * 1440, |_| 0.0005);
        assert_eq!((page, ticket), (None, None));
        let left = s.left.unwrap();
        assert!((left - 0.5).abs() < 0.01, "{left}");
        assert!(s.coverage > 0.99, "{}", s.coverage);
    }

    #[test]
    fn a_jump_to_twenty_percent_pages_within_five_minutes() {
        let (page, _, _) = simulate(10 * 1440 + 60, |m| if m >= 10 * 1440 { 0.2 } else { 0.0005 });
        let after = page.unwrap() - 10 * 1440;
        assert!(after < 5, "paged {after} minutes after the jump");
    }

    #[test]
    fn a_steady_two_percent_pages_by_the_fast_rule_after_about_43_minutes() {
        let (page, _, s) = simulate(1440 + 120, |m| if m >= 1440 { 0.02 } else { 0.0 });
        let m = page.unwrap() - 1440;
        // The hour's average reaches 1.44 % after 0.72 of an hour.
        assert!((42..=44).contains(&m), "paged after {m} minutes");
        let words = s.alert.unwrap().1;
        assert!(words.contains("too fast over") && words.contains("(the page rule: "), "{words}");
    }

    #[test]
    fn a_day_at_three_tenths_of_a_percent_raises_the_ticket_rule() {
        let bad_day = |m: u64| (3 * 1440..4 * 1440).contains(&m);
        let (page, ticket, _) = simulate(5 * 1440, |m| if bad_day(m) { 0.003 } else { 0.0 });
        assert_eq!(page, None, "3× is below both page rules");
        let t = ticket.expect("the ticket rule") - 3 * 1440;
        // The 3-day average reaches 0.1 % as the day ends.
        assert!((1380..=1440).contains(&t), "ticket after {t} minutes");
    }

    #[test]
    fn what_the_store_held_is_added_to_what_was_counted_since() {
        let mut ledger = Ledger::new(Duration::from_secs(DAY), true);
        ledger.add(UNIX_EPOCH + Duration::from_secs(100 * 60 + 5), Counts { good: 1, total: 1, seen_s: 0 });
        let rows = Rows { minutes: vec![(99, (3, 4, 60)), (100, (5, 5, 60))], ..Rows::default() };
        ledger.fill(rows);
        let minutes: Vec<(u64, Counts)> = ledger.minutes.iter().copied().collect();
        assert_eq!(
            minutes,
            [(99, Counts { good: 3, total: 4, seen_s: 60 }), (100, Counts { good: 6, total: 6, seen_s: 60 })]
        );
    }

    #[test]
    fn a_share_is_never_rounded_up_to_all_of_it() {
        assert_eq!(share_words(Some(0.999_999)), "99.999 %");
        assert_eq!(share_words(Some(0.9995)), "99.95 %");
        assert_eq!(share_words(Some(1.0)), "100 %");
        assert_eq!(share_words(Some(0.5)), "50 %");
        assert_eq!(share_words(Some(0.99)), "99 %");
        assert_eq!(share_words(Some(1.0 - 1.0 / 3.0)), "66.666 %");
        assert_eq!(share_words(None), "—");
        assert_eq!(seen_words(0.999), "99 %");
        assert_eq!(seen_words(0.29), "29 %");
        assert_eq!((seen_words(0.001), seen_words(0.0)), ("<1 %".to_string(), "0 %".to_string()));
    }

    #[test]
    fn a_service_without_an_objective_keeps_hours_for_its_availability() {
        let mut o = Outcomes::new(None);
        let t = start();
        for m in 0..(2 * 1440) {
            let at = t + Duration::from_secs(m * 60);
            // One failed check in every hundred; no requests.
            o.checks.add(at, Counts { good: u64::from(m % 100 != 0), total: 1, seen_s: 0 });
            o.seen(at, 60);
        }
        assert!(o.checks.minutes.is_empty() && o.requests.minutes.is_empty(), "no minutes without an objective");
        let a = o.availability(t + Duration::from_secs(2 * DAY - 1));
        assert_eq!(a.iter().map(|a| a.window).collect::<Vec<_>>(), ["24h", "7d", "30d"]);
        assert_eq!(a[0].requests, None);
        // 14 of the last day's 1,440 checks failed, 29 of both days' 2,880.
        assert_eq!(a[0].checks, Some(1.0 - 14.0 / 1440.0));
        assert_eq!(a[1].checks, Some(1.0 - 29.0 / 2880.0));
        assert!(a[0].coverage > 0.99 && (a[1].coverage - 2.0 / 7.0).abs() < 0.01, "{a:?}");
        assert_eq!(
            availability_words(&a),
            "availability of checks: 24h 99.027 % · 7d 98.993 % · 30d 98.993 % (seen 100 % · 28 % · 6 %)"
        );
        // An objective that comes with a reload keeps the hours and starts the minutes.
        let slo = Slo { objective: 0.99, window: Duration::from_secs(7 * DAY) };
        o.follow(Some(&slo));
        let later = t + Duration::from_secs(2 * DAY + 30);
        o.checks.add(later, Counts { good: 1, total: 1, seen_s: 0 });
        assert_eq!(o.checks.minutes.len(), 1);
        let (basis, s) = o.standing(&slo, later);
        assert_eq!(basis, Basis::Checks);
        assert!(s.events > 2800, "the hours before the objective count: {}", s.events);
        assert_eq!(o.checks.keep, AVAILABILITY_KEPT, "hours for availability's 30 days, the longer");
    }

    #[test]
    fn a_board_started_minutes_ago_does_not_page_on_those_minutes() {
        let slo = Slo { objective: 0.999, window: Duration::from_secs(30 * DAY) };
        let mut ledger = Ledger::new(slo.window, true);
        // Twenty minutes seen, all at 20 % errors: 200× over what was seen of the hour.
        for m in 0..20 {
            ledger.add(start() + Duration::from_secs(m * 60), Counts { good: 80, total: 100, seen_s: 60 });
        }
        let s = slo.standing(&ledger, start() + Duration::from_secs(20 * 60));
        assert!(s.burn.iter().any(|(w, b)| w == "1h" && b.is_some_and(|b| b > 100.0)), "{:?}", s.burn);
        assert_eq!(s.alert, None, "a third of the hour is not the hour");
        // Ten minutes more and half the hour is seen: the page rule holds.
        for m in 20..30 {
            ledger.add(start() + Duration::from_secs(m * 60), Counts { good: 80, total: 100, seen_s: 60 });
        }
        let s = slo.standing(&ledger, start() + Duration::from_secs(30 * 60));
        assert_eq!(s.alert.map(|(a, _)| a), Some(Alert::Page));
    }

    #[test]
    fn a_budget_spent_says_how_far_past_it() {
        assert_eq!(left_words(0.62), "budget 62 % left");
        assert_eq!(left_words(-0.4), "budget overspent, 140 % used");
        assert_eq!(left_words(-999.0), "budget overspent, 1000× used");
    }

    #[test]
    fn unseen_time_is_unknown_not_good() {
        let slo = Slo { objective: 0.999, window: Duration::from_secs(30 * DAY) };
        let mut ledger = Ledger::new(slo.window, true);
        for m in 0..(3 * 1440) {
            ledger.add(start() + Duration::from_secs(m * 60), Counts { good: 100, total: 100, seen_s: 60 });
        }
        let s = slo.standing(&ledger, start() + Duration::from_secs(3 * DAY));
        assert!((s.coverage - 0.1).abs() < 0.01, "3 of 30 days: {}", s.coverage);
        assert_eq!(s.left, Some(1.0));
    }
}
