//! The host an instance runs on, from a node exporter: CPU, memory, the fullest real
//! filesystem and load, each against its thresholds, with the same memory as the signals.

use super::memory::Debounced;
use super::status::{Status, Verdict};
use crate::config::schema::{HostsTable, Thresholds};
use crate::metrics::host::{Filesystem, HostSample};
use std::time::{Duration, SystemTime};

/// A host's numbers at one scrape.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HostPoint {
    pub at: Option<SystemTime>,
    /// Busy share of CPU time since the previous scrape, 0..1; `None` until a second scrape.
    pub cpu: Option<f64>,
    pub memory: Option<f64>,
    pub disk: Option<Filesystem>,
    pub load1: Option<f64>,
    pub cpus: u32,
}

impl HostPoint {
    /// Each number's level against the thresholds scaled by `scale`, with its words, worst first.
    fn levels(&self, h: &HostsTable, scale: f64) -> Vec<(Status, String)> {
        let pct = |v: f64| format!("{:.0}%", v * 100.0);
        let level = |v: f64, warn: f64, crit: f64| {
            if v >= crit * scale {
                Status::Crit
            } else if v >= warn * scale {
                Status::Warn
            } else {
                Status::Ok
            }
        };
        let limit = |s: Status, warn: f64, crit: f64| if s == Status::Crit { crit } else { warn };
        let mut out = Vec::new();
        if let Some(c) = self.cpu {
            let s = level(c * 100.0, h.cpu_warn, h.cpu_crit);
            out.push((s, format!("cpu {} ≥ {}%", pct(c), limit(s, h.cpu_warn, h.cpu_crit))));
        }
        if let Some(m) = self.memory {
            let s = level(m * 100.0, h.memory_warn, h.memory_crit);
            out.push((s, format!("memory {} ≥ {}%", pct(m), limit(s, h.memory_warn, h.memory_crit))));
        }
        if let Some(d) = &self.disk {
            let s = level(d.used() * 100.0, h.disk_warn, h.disk_crit);
            let left = crate::format::bytes(d.avail.max(0.0) as u64);
            let limit = limit(s, h.disk_warn, h.disk_crit);
            out.push((s, format!("disk {} {} ≥ {limit}% ({left} left)", d.mountpoint, pct(d.used()))));
        }
        if let Some(l) = self.load1 {
            let cpus = f64::from(self.cpus.max(1));
            let s = level(l / cpus, h.load_warn, h.load_crit);
            let limit = limit(s, h.load_warn, h.load_crit);
            out.push((s, format!("load {l:.1} on {} CPUs ≥ {limit}/CPU", self.cpus.max(1))));
        }
        out.sort_by_key(|(s, _)| std::cmp::Reverse(*s));
        out
    }

    /// "cpu 25% · memory 50% · disk /var 97% (6.0G left) · load 0.50 on 2 CPUs".
    pub fn words(&self) -> String {
        let mut parts = Vec::new();
        if let Some(c) = self.cpu {
            parts.push(format!("cpu {:.0}%", c * 100.0));
        }
        if let Some(m) = self.memory {
            parts.push(format!("memory {:.0}%", m * 100.0));
        }
        if let Some(d) = &self.disk {
            let left = crate::format::bytes(d.avail.max(0.0) as u64);
            parts.push(format!("disk {} {:.0}% ({left} left)", d.mountpoint, d.used() * 100.0));
        }
        if let Some(l) = self.load1 {
            parts.push(format!("load {l:.2} on {} CPUs", self.cpus.max(1)));
        }
        parts.join(" · ")
    }

    /// CPU, memory, disk and load as the board's columns show them (`42%`, `0.35`), each with
    /// its own level; `—` for what the host does not tell.
    pub fn columns(&self, h: &HostsTable) -> [(String, Status); 4] {
        let level = |v: f64, warn: f64, crit: f64| match v {
            v if v >= crit => Status::Crit,
            v if v >= warn => Status::Warn,
            _ => Status::Ok,
        };
        let none = || ("—".to_string(), Status::Unknown);
        let pct = |v: Option<f64>, warn: f64, crit: f64| {
            v.map_or_else(none, |v| (format!("{:.0}%", v * 100.0), level(v * 100.0, warn, crit)))
        };
        let load = self.load1.map_or_else(none, |l| {
            let per = l / f64::from(self.cpus.max(1));
            (if l >= 10.0 { format!("{l:.0}") } else { format!("{l:.2}") }, level(per, h.load_warn, h.load_crit))
        });
        [
            pct(self.cpu, h.cpu_warn, h.cpu_crit),
            pct(self.memory, h.memory_warn, h.memory_crit),
            pct(self.disk.as_ref().map(Filesystem::used), h.disk_warn, h.disk_crit),
            load,
        ]
    }

    /// The worst level against the thresholds scaled by `scale`.
    fn level(&self, h: &HostsTable, scale: f64) -> Status {
        self.levels(h, scale).first().map_or(Status::Ok, |(s, _)| *s)
    }
}

/// An EC2 instance ID (`i-` and 8 or 17 hex digits), as an instance's name may be one: a
/// group's or a target group's instances are named so. Hosts from CloudWatch are found by it.
pub fn instance_id(name: &str) -> Option<&str> {
    let hex = name.strip_prefix("i-")?;
    ((hex.len() == 8 || hex.len() == 17) && hex.chars().all(|c| c.is_ascii_hexdigit())).then_some(name)
}

/// What the scrapes of one host have shown.
#[derive(Debug, Clone, Default)]
pub struct HostState {
    last: Option<(SystemTime, HostSample)>,
    pub point: HostPoint,
    /// The worst of its numbers with memory: `for` to rise, `clear_for` by the margin to fall.
    pub level: Debounced,
    /// The latest failure of a node exporter scraped beside the app, cleared by a good scrape.
    pub error: Option<(SystemTime, String)>,
    /// How long a point from CloudWatch stays current (its reads are a minute apart, not a
    /// scrape interval).
    pub fresh_for: Option<Duration>,
}

impl HostState {
    /// Folds in one scrape's host numbers.
    pub fn apply(&mut self, at: SystemTime, sample: HostSample, h: &HostsTable, t: &Thresholds, at_once: bool) {
        self.error = None;
        let cpu = self.last.as_ref().and_then(|(_, prev)| {
            let total = sample.cpu_total - prev.cpu_total;
            let idle = sample.cpu_idle - prev.cpu_idle;
            // A counter reset (a reboot) or no time passed: no rate this step.
            (total > 0.0 && idle >= 0.0).then(|| (1.0 - idle / total).clamp(0.0, 1.0))
        });
        let point = HostPoint {
            at: Some(at),
            cpu,
            memory: sample.memory_used(),
            disk: sample.fullest.clone(),
            load1: sample.load1,
            cpus: sample.cpus,
        };
        self.last = Some((at, sample));
        self.apply_point(point, h, t, at_once);
    }

    /// Takes a point read whole (from CloudWatch), judged as a scrape's is.
    pub fn apply_point(&mut self, point: HostPoint, h: &HostsTable, t: &Thresholds, at_once: bool) {
        let Some(at) = point.at else { return };
        self.error = None;
        self.point = point;
        let (up, down) = (self.point.level(h, 1.0), self.point.level(h, 1.0 - t.clear_margin));
        let holds = if at_once { (Duration::ZERO, Duration::ZERO) } else { (t.hold, t.clear_for) };
        self.level.update(at, up, down.max(up), holds, Duration::MAX);
    }

    pub fn has_data(&self) -> bool {
        self.point.at.is_some()
    }

    /// The host's verdict while its point is current (`fresh_for`): its level, in the words of
    /// the number that put it there, and what is pending.
    pub fn verdict(&self, h: &HostsTable, now: SystemTime, fresh_for: Duration) -> Option<Verdict> {
        let at = self.point.at?;
        if now.duration_since(at).unwrap_or_default() > self.fresh_for.unwrap_or(fresh_for).max(fresh_for) {
            return None;
        }
        let levels = self.point.levels(h, 1.0);
        let level = self.level.level;
        let words = |s: Status| levels.iter().find(|(l, _)| *l >= s).map(|(_, w)| w.clone()).unwrap_or_default();
        Some(match self.level.pending() {
            Some(p) if p.towards > level => {
                Verdict::new(level, format!("{}: {} if it holds", words(p.towards), p.towards.word()))
            }
            _ if level == Status::Ok => Verdict::ok(),
            _ => Verdict::new(level, words(level)),
        })
    }
}

/// "hosts: cpu 42% · memory 61% · disk 78% /var · load 0.40/CPU (highest of 3)": each number
/// the highest among the service's present hosts; `None` when none tells of its host.
pub fn summary(svc: &super::ServiceState) -> Option<String> {
    let points: Vec<&HostPoint> =
        svc.instances.iter().filter(|i| i.present() && i.host.has_data()).map(|i| &i.host.point).collect();
    if points.is_empty() {
        return None;
    }
    let highest = |f: &dyn Fn(&HostPoint) -> Option<f64>| points.iter().filter_map(|p| f(p)).reduce(f64::max);
    let mut parts = Vec::new();
    if let Some(c) = highest(&|p| p.cpu) {
        parts.push(format!("cpu {:.0}%", c * 100.0));
    }
    if let Some(m) = highest(&|p| p.memory) {
        parts.push(format!("memory {:.0}%", m * 100.0));
    }
    let fullest = points.iter().filter_map(|p| p.disk.as_ref()).max_by(|a, b| a.used().total_cmp(&b.used()));
    if let Some(d) = fullest {
        parts.push(format!("disk {:.0}% {}", d.used() * 100.0, d.mountpoint));
    }
    if let Some(l) = highest(&|p| p.load1.map(|l| l / f64::from(p.cpus.max(1)))) {
        parts.push(format!("load {l:.2}/CPU"));
    }
    let of = if points.len() > 1 { format!(" (highest of {})", points.len()) } else { String::new() };
    Some(format!("hosts: {}{of}", parts.join(" · ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const G: f64 = 1024.0 * 1024.0 * 1024.0;

    fn sample(idle: f64, total: f64, mem_avail: f64, disk_avail: f64) -> HostSample {
        HostSample {
            cpu_idle: idle,
            cpu_total: total,
            cpus: 4,
            mem_total: Some(16e9),
            mem_available: Some(mem_avail),
            fullest: Some(Filesystem { mountpoint: "/var".into(), size: 100.0 * G, avail: disk_avail }),
            load1: Some(1.0),
        }
    }

    #[test]
    fn cpu_is_a_rate_and_levels_hold_for_their_time() {
        let (h, t) = (HostsTable::default(), Thresholds::default());
        let at = |s: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(s);
        let mut host = HostState::default();
        host.apply(at(0), sample(100.0, 200.0, 8e9, 50.0 * G), &h, &t, false);
        assert_eq!(host.point.cpu, None);
        // 40 CPU-seconds in 10 s on 4 CPUs, 4 of them idle: 90% busy.
        host.apply(at(10), sample(104.0, 240.0, 8e9, 4.0 * G), &h, &t, false);
        assert_eq!(host.point.cpu, Some(0.9));
        assert_eq!(host.point.memory, Some(0.5));
        let v = host.verdict(&h, at(10), Duration::from_secs(60)).unwrap();
        assert_eq!(v.status, Status::Ok, "{v:?}");
        assert_eq!(v.reason, "disk /var 96% ≥ 95% (4.0G left): CRIT if it holds");
        host.apply(at(45), sample(108.0, 280.0, 8e9, 4.0 * G), &h, &t, false);
        let v = host.verdict(&h, at(45), Duration::from_secs(60)).unwrap();
        assert_eq!((v.status, v.reason.as_str()), (Status::Crit, "disk /var 96% ≥ 95% (4.0G left)"));
        // Stale host numbers judge nothing.
        assert!(host.verdict(&h, at(200), Duration::from_secs(60)).is_none());
    }
}
