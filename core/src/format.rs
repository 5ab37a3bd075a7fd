//! Short human forms of durations, ages and sizes, shared by the board and `check`.

use std::time::Duration;

/// `850ms`, `2s`, `1.5s`, `3m`, `2h`.
pub fn duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 10_000 && !ms.is_multiple_of(1000) {
        format!("{:.1}s", d.as_secs_f64())
    } else if ms < 120_000 {
        format!("{}s", d.as_secs())
    } else if ms < 7_200_000 {
        format!("{}m", d.as_secs() / 60)
    } else if ms < 172_800_000 {
        format!("{}h", d.as_secs() / 3600)
    } else {
        format!("{}d", d.as_secs() / 86_400)
    }
}

/// A span as people name windows: `30s`, `1m`, `5m`, `90s`.
pub fn span(d: Duration) -> String {
    match d.as_secs() {
        s if s >= 60 && s % 60 == 0 => format!("{}m", s / 60),
        s if s < 120 => format!("{s}s"),
        _ => duration(d),
    }
}

/// How long something lasted, to the second under an hour: `12s`, `4m 10s`, `2h 5m`, `3d 4h`.
pub fn elapsed(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {}s", s / 60, s % 60),
        3600..86400 => format!("{}h {}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d {}h", s / 86400, (s % 86400) / 3600),
    }
}

/// `text` in at most `width` characters, cut in the middle with `…` so both ends stay:
/// `mongo/dump-…-20261126T0300.gz`.
pub fn middle(text: &str, width: usize) -> String {
    let n = text.chars().count();
    if n <= width {
        return text.to_string();
    }
    if width < 2 {
        return text.chars().take(width).collect();
    }
    let tail = (width - 1) / 2 + (width - 1) % 2;
    let head = width - 1 - tail;
    let start: String = text.chars().take(head).collect();
    let end: String = text.chars().skip(n - tail).collect();
    format!("{start}…{end}")
}

/// Whole-second age for columns that tick: `0s`, `12s`, `3m`, `2h`.
pub fn age(d: Duration) -> String {
    match d.as_secs() {
        s if s < 120 => format!("{s}s"),
        s => duration(Duration::from_secs(s)),
    }
}

/// A latency for a table cell, to the precision a person reads it at: exact below 10 ms,
/// then steps of 5 ms, 10 ms and 100 ms. Fewer changing digits, fewer bytes to the terminal.
pub fn latency(d: Duration) -> String {
    let ms = d.as_millis() as u64;
    let step = match ms {
        0..10 => 1,
        10..100 => 5,
        100..1000 => 10,
        _ => return duration(Duration::from_millis(ms / 100 * 100)),
    };
    format!("{}ms", (ms + step / 2) / step * step)
}

/// An age that stays put while results are on time: `<3s` for a 2 s interval, the age after that.
pub fn age_or_fresh(age: Duration, interval: Duration) -> String {
    // Checks come once an interval give or take jitter and the check's own time: within one and a
    // half intervals (whole seconds) is on time, and says so in the same words every second.
    let fresh = Duration::from_secs((interval.as_secs_f64() * 1.5).ceil() as u64);
    if age <= fresh { format!("<{}", self::age(fresh)) } else { self::age(age) }
}

/// A rate to three significant digits: `537`, `53.7`, `5.37`.
pub fn rate(r: f64) -> String {
    match r {
        r if r >= 100.0 => format!("{r:.0}"),
        r if r >= 10.0 => format!("{r:.1}"),
        r => format!("{r:.2}"),
    }
}

/// A count with thousands separated: `999`, `1,500`, `12,000,000`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `512B`, `3.2K`, `41M`, `1.2G`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "K", "M", "G", "T"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 || v >= 10.0 { format!("{v:.0}{}", UNITS[unit]) } else { format!("{v:.1}{}", UNITS[unit]) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!([count(0), count(999), count(1500), count(12_000_000)], ["0", "999", "1,500", "12,000,000"]);
    }

    #[test]
    fn middle_keeps_both_ends() {
        assert_eq!(middle("mongo/birthday-20261126T0300.gz", 20), "mongo/bir…26T0300.gz");
        assert_eq!(middle("short", 20), "short");
        assert_eq!(middle("abcdef", 5), "ab…ef");
    }

    #[test]
    fn durations_read_short() {
        assert_eq!(duration(Duration::from_millis(850)), "850ms");
        assert_eq!(duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(duration(Duration::from_secs(2)), "2s");
        assert_eq!(duration(Duration::from_secs(300)), "5m");
        assert_eq!(duration(Duration::from_secs(3 * 86_400)), "3d");
    }

    #[test]
    fn latencies_and_rates_keep_few_changing_digits() {
        assert_eq!(latency(Duration::from_millis(7)), "7ms");
        assert_eq!(latency(Duration::from_millis(47)), "45ms");
        assert_eq!(latency(Duration::from_millis(48)), "50ms");
        assert_eq!(latency(Duration::from_millis(453)), "450ms");
        assert_eq!(latency(Duration::from_millis(2345)), "2.3s");
        assert_eq!(rate(537.14), "537");
        assert_eq!(rate(53.714), "53.7");
        assert_eq!(age_or_fresh(Duration::from_secs(1), Duration::from_secs(2)), "<3s");
        assert_eq!(age_or_fresh(Duration::from_millis(2600), Duration::from_secs(2)), "<3s");
        assert_eq!(age_or_fresh(Duration::from_secs(4), Duration::from_secs(2)), "4s");
        assert_eq!(age_or_fresh(Duration::from_secs(9), Duration::from_secs(2)), "9s");
    }

    #[test]
    fn sizes_read_short() {
        assert_eq!(bytes(512), "512B");
        assert_eq!(bytes(3300), "3.2K");
        assert_eq!(bytes(50 * 1024 * 1024), "50M");
    }
}
