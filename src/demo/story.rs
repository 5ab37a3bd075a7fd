//! The demo's script: what each simulated instance does at a point in the story.
//! A pure function of time, so the story can be tested and replayed at any moment.

use std::time::Duration;

/// The story repeats with this period.
pub const CYCLE: Duration = Duration::from_secs(240);
/// The service the story deploys a bad version of, when, and how fast it rolls.
pub const DEPLOYED: &str = "checkout-api";
pub const BAD_VERSION: &str = "1.5.0";
pub const DEPLOY_AT: Duration = Duration::from_secs(150);
pub const DEPLOY_STEP: Duration = Duration::from_secs(6);
/// The service whose first instance reports its database backup, and how old that backup is.
pub const BACKED_UP: &str = "payments";
pub const BACKUP_AGE: Duration = Duration::from_secs(2 * 3600);

/// How a simulated instance's health endpoint answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthMode {
    Healthy,
    Degraded,
    Failing,
    /// Accepts the connection and never answers.
    Hang,
    /// Not listening: connection refused.
    Refuse,
}

/// What one instance does right now.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Behavior {
    pub health: HealthMode,
    /// Typical request latency.
    pub latency: Duration,
    /// Share of requests answered with a 5xx.
    pub error_ratio: f64,
    /// Requests per second served.
    pub rps: f64,
}

/// The body style a simulated service answers its health checks with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyStyle {
    Plain,
    Spring,
    Ietf,
    Simple,
}

/// One simulated service.
#[derive(Debug, Clone, Copy)]
pub struct DemoService {
    pub name: &'static str,
    pub env: &'static str,
    pub instances: usize,
    pub style: BodyStyle,
    pub version: &'static str,
    pub base_latency_ms: u64,
    pub rps: f64,
}

pub const SERVICES: &[DemoService] = &[
    DemoService {
        name: "web-frontend",
        env: "prod",
        instances: 3,
        style: BodyStyle::Plain,
        version: "2.14.0",
        base_latency_ms: 35,
        rps: 180.0,
    },
    DemoService {
        name: "checkout-api",
        env: "prod",
        instances: 4,
        style: BodyStyle::Spring,
        version: "1.4.2",
        base_latency_ms: 60,
        rps: 90.0,
    },
    DemoService {
        name: "payments",
        env: "prod",
        instances: 3,
        style: BodyStyle::Ietf,
        version: "3.2.1",
        base_latency_ms: 80,
        rps: 40.0,
    },
    DemoService {
        name: "search",
        env: "prod",
        instances: 5,
        style: BodyStyle::Simple,
        version: "0.9.7",
        base_latency_ms: 45,
        rps: 250.0,
    },
    DemoService {
        name: "auth",
        env: "prod",
        instances: 2,
        style: BodyStyle::Spring,
        version: "5.0.3",
        base_latency_ms: 20,
        rps: 300.0,
    },
    DemoService {
        name: "recommendations",
        env: "staging",
        instances: 3,
        style: BodyStyle::Simple,
        version: "0.3.0",
        base_latency_ms: 120,
        rps: 25.0,
    },
    DemoService {
        name: "notifications",
        env: "staging",
        instances: 2,
        style: BodyStyle::Plain,
        version: "1.1.0",
        base_latency_ms: 30,
        rps: 15.0,
    },
];

/// What `service`'s `instance` does at `t` (wrapped into the cycle).
pub fn behavior(service: &DemoService, instance: usize, t: Duration) -> Behavior {
    let s = (t.as_millis() % CYCLE.as_millis()) as u64 / 1000;
    let base = Behavior {
        health: HealthMode::Healthy,
        latency: Duration::from_millis(service.base_latency_ms + 3 * instance as u64),
        error_ratio: 0.002,
        rps: service.rps,
    };
    match (service.name, instance, s) {
        // A latency spike on two search nodes.
        ("search", 0 | 1, 20..=59) => Behavior { latency: Duration::from_millis(900), error_ratio: 0.01, ..base },
        // A payments node fails its health check, then recovers.
        ("payments", 1, 70..=119) => Behavior { health: HealthMode::Failing, error_ratio: 0.3, ..base },
        // A checkout node hangs: accepts, never answers.
        ("checkout-api", 3, 90..=114) => Behavior { health: HealthMode::Hang, ..base },
        // Recommendations is degraded across the board.
        ("recommendations", _, 130..=189) => {
            Behavior { health: HealthMode::Degraded, latency: Duration::from_millis(450), error_ratio: 0.06, ..base }
        }
        // Instances the groups launch boot for a while before they answer (see demo::aws).
        ("search", 5 | 6, 25..=32) | ("web-frontend", 3, 175..=182) => Behavior { health: HealthMode::Refuse, ..base },
        // A web node fails its checks until its group replaces it.
        ("web-frontend", 1, 160..=189) => Behavior { health: HealthMode::Failing, error_ratio: 0.2, ..base },
        // An auth node goes away entirely and comes back.
        ("auth", 1, 200..=229) => Behavior { health: HealthMode::Refuse, ..base },
        _ => base,
    }
}

/// A simulated instance's host at one moment: busy CPU share, memory and disk in use.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Host {
    pub cpu: f64,
    pub memory: f64,
    pub disk: f64,
}

/// Where search's index lives: the disk that fills.
pub const INDEX_DISK: &str = "/var/lib/search";

/// What `service`'s `instance`'s host does at `t`: the third search node's index disk fills
/// from 1:00 (85% at 1:21, 95% at 1:51: WARN, then CRIT once it held `for`) until a
/// compaction at 2:45 frees it; the search nodes in the latency spike run hot.
pub fn host(service: &DemoService, instance: usize, t: Duration) -> Host {
    let s = (t.as_millis() % CYCLE.as_millis()) as f64 / 1000.0;
    let b = behavior(service, instance, t);
    let cpu = (0.12 + b.rps / 600.0 + b.latency.as_secs_f64() * 0.8).min(0.97);
    let memory = 0.42 + 0.03 * instance as f64 + (service.name.len() % 5) as f64 * 0.04;
    let disk = match (service.name, instance) {
        ("search", 2) if (60.0..165.0).contains(&s) => (0.78 + 0.2 * (s - 60.0) / 60.0).min(0.97),
        ("search", 2) => 0.58,
        _ => 0.35 + 0.05 * instance as f64,
    };
    Host { cpu, memory, disk }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(name: &str) -> &'static DemoService {
        SERVICES.iter().find(|s| s.name == name).unwrap()
    }

    #[test]
    fn fleet_has_six_or_more_services_of_two_to_five_instances() {
        assert!(SERVICES.len() >= 6);
        assert!(SERVICES.iter().all(|s| (2..=5).contains(&s.instances)));
    }

    #[test]
    fn story_has_each_incident_and_repeats() {
        let at = |s: u64| Duration::from_secs(s);
        assert_eq!(behavior(svc("search"), 0, at(30)).latency, Duration::from_millis(900));
        assert_eq!(behavior(svc("payments"), 1, at(80)).health, HealthMode::Failing);
        assert_eq!(behavior(svc("payments"), 1, at(130)).health, HealthMode::Healthy);
        assert_eq!(behavior(svc("recommendations"), 2, at(150)).health, HealthMode::Degraded);
        assert_eq!(behavior(svc("auth"), 1, at(210)).health, HealthMode::Refuse);
        assert_eq!(behavior(svc("auth"), 1, at(210) + CYCLE).health, HealthMode::Refuse);
        assert_eq!(behavior(svc("auth"), 0, at(210)).health, HealthMode::Healthy);
    }
}
