//! What the board sees, as Prometheus metrics, so an existing Prometheus and Alertmanager can page
//! on it. States are numbers in their order of severity: 0 OK, 1 UNKNOWN, 2 STALE, 3 WARN, 4 CRIT
//! (so `opsboard_service_state >= 3` is WARN or worse).

use crate::report::Report;
use crate::state::Status;
use std::fmt::Write;

/// A state as a number, by severity.
pub fn state_value(s: Status) -> u8 {
    match s {
        Status::Ok => 0,
        Status::Unknown => 1,
        Status::Stale => 2,
        Status::Warn => 3,
        Status::Crit => 4,
    }
}

const STATES: &str = "0 OK, 1 UNKNOWN, 2 STALE, 3 WARN, 4 CRIT";

type Labels = Vec<(&'static str, String)>;

struct Family<'a> {
    out: &'a mut String,
}

impl Family<'_> {
    fn head(&mut self, name: &str, help: &str) {
        let _ = writeln!(self.out, "# HELP {name} {help}\n# TYPE {name} gauge");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, String)], value: f64) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let _ = write!(self.out, "{k}=\"{}\"", escape(v));
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {}", number(value));
    }

    /// One gauge family: HELP, TYPE, then a sample per item that has a value.
    fn gauge<T>(&mut self, name: &str, help: &str, items: &[T], each: impl Fn(&T) -> Option<(Labels, f64)>) {
        let samples: Vec<_> = items.iter().filter_map(each).collect();
        if samples.is_empty() {
            return;
        }
        self.head(name, help);
        for (labels, v) in samples {
            self.sample(name, &labels, v);
        }
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf".into() } else { "-Inf".into() }
    } else {
        format!("{v}")
    }
}

/// The web server's own numbers.
#[derive(Debug, Clone, Default)]
pub struct ServeStats {
    /// Live pages open now.
    pub viewers: usize,
    /// Distinct page sizes drawn now.
    pub frame_sizes: usize,
    /// Terminals attached now (`opsboard attach`), and those dropped for falling behind.
    pub attached: usize,
    pub attached_behind: u64,
    /// Connections open now, and how many of them have not sent a whole request yet.
    pub connections: usize,
    pub waiting: usize,
    /// Refusals since start, by reason label.
    pub refusals: Vec<(&'static str, u64)>,
}

impl Family<'_> {
    fn counter(&mut self, name: &str, help: &str) {
        let _ = writeln!(self.out, "# HELP {name} {help}\n# TYPE {name} counter");
    }

    fn serve(&mut self, s: &ServeStats) {
        self.head("opsboard_viewers", "Browsers watching the board's live page now.");
        self.sample("opsboard_viewers", &[], s.viewers as f64);
        self.head("opsboard_serve_frame_sizes", "Distinct page sizes the server draws now.");
        self.sample("opsboard_serve_frame_sizes", &[], s.frame_sizes as f64);
        self.head("opsboard_attached_terminals", "Terminals attached to this server now (opsboard attach).");
        self.sample("opsboard_attached_terminals", &[], s.attached as f64);
        self.counter("opsboard_attached_dropped_total", "Attached terminals dropped for falling behind.");
        self.sample("opsboard_attached_dropped_total", &[], s.attached_behind as f64);
        self.head("opsboard_serve_connections", "Connections open now; state=\"waiting\" have sent no whole request.");
        self.sample(
            "opsboard_serve_connections",
            &[("state", "served".into())],
            (s.connections - s.waiting.min(s.connections)) as f64,
        );
        self.sample("opsboard_serve_connections", &[("state", "waiting".into())], s.waiting as f64);
        self.counter("opsboard_serve_refusals_total", "Connections and requests the server turned away, by reason.");
        for (reason, n) in &s.refusals {
            self.sample("opsboard_serve_refusals_total", &[("reason", (*reason).to_string())], *n as f64);
        }
    }
}

/// The report and the server's own numbers as the Prometheus text format (version 0.0.4).
pub fn render(report: &Report, serve: &ServeStats) -> String {
    let mut out = String::new();
    let mut f = Family { out: &mut out };
    f.head("opsboard_build_info", "The running opsboard's version; always 1.");
    f.sample("opsboard_build_info", &[("version", env!("CARGO_PKG_VERSION").to_string())], 1.0);
    f.head("opsboard_state", &format!("The board's overall state, the worst of its services: {STATES}."));
    f.sample("opsboard_state", &[], f64::from(state_value(report.status)));
    f.serve(serve);

    let svc = &report.services;
    let sl = |s: &crate::report::ServiceReport| -> Labels { vec![("service", s.name.clone()), ("env", s.env.clone())] };
    f.gauge("opsboard_service_state", &format!("Each service's state: {STATES}."), svc, |s| {
        Some((sl(s), f64::from(state_value(s.status))))
    });
    let counts: Vec<(Status, usize)> = Status::ALL.iter().map(|&s| (s, report.counts.get(s))).collect();
    f.gauge(
        "opsboard_items",
        "Items by state as the board counts them: a service blocked by a failing cause counts once, under it.",
        &counts,
        |(s, n)| Some((vec![("state", s.word().to_ascii_lowercase())], *n as f64)),
    );
    f.gauge(
        "opsboard_service_maintenance_until_seconds",
        "For each service in a maintenance window (it pages nobody), the Unix time the window ends.",
        svc,
        |s| s.maintenance.as_ref().map(|m| (sl(s), m.until as f64)),
    );
    f.gauge(
        "opsboard_slo_budget_remaining_ratio",
        "Share of each service's error budget left over its SLO window (negative: overspent).",
        svc,
        |s| s.budget.as_ref().and_then(|b| b.left).map(|l| (sl(s), l)),
    );
    f.gauge(
        "opsboard_slo_coverage_ratio",
        "Share of each service's SLO window a board was watching: the rest is unknown, not good.",
        svc,
        |s| s.budget.as_ref().map(|b| (sl(s), b.coverage)),
    );
    let burns: Vec<_> = (svc.iter())
        .flat_map(|s| s.budget.iter().flat_map(move |b| b.burn.iter().filter_map(move |(w, r)| r.map(|r| (s, w, r)))))
        .collect();
    f.gauge(
        "opsboard_slo_burn_rate",
        "How fast each service burns its error budget over each window: 1 spends it in exactly the SLO window.",
        &burns,
        |(s, w, r)| {
            let mut labels = sl(s);
            labels.push(("window", w.to_string()));
            Some((labels, *r))
        },
    );
    // Each window's share of requests and of checks that succeeded, where any were counted.
    let shares: Vec<_> = (svc.iter())
        .flat_map(|s| {
            s.availability.iter().flat_map(move |a| {
                [("requests", a.requests), ("checks", a.checks)]
                    .into_iter()
                    .filter_map(move |(of, v)| v.map(|v| (s, a.window, of, v)))
            })
        })
        .collect();
    f.gauge(
        "opsboard_service_availability_ratio",
        "Share of each service's requests (not 5xx) and health checks (passed) that succeeded over 24h, 7d and 30d.",
        &shares,
        |(s, w, of, v)| {
            let mut labels = sl(s);
            labels.extend([("window", w.to_string()), ("of", of.to_string())]);
            Some((labels, *v))
        },
    );
    let seen: Vec<_> = svc.iter().flat_map(|s| s.availability.iter().map(move |a| (s, a))).collect();
    f.gauge(
        "opsboard_service_availability_coverage_ratio",
        "Share of each availability window a board was watching: the rest is unknown, not good.",
        &seen,
        |(s, a)| {
            let mut labels = sl(s);
            labels.push(("window", a.window.to_string()));
            Some((labels, a.coverage))
        },
    );
    let blocked: Vec<_> = svc.iter().flat_map(|s| s.blocked_by.iter().map(move |c| (s, c))).collect();
    f.gauge(
        "opsboard_service_blocked",
        "1 for each failing service blocked by a failing cause it depends on (depends_on), labelled with it.",
        &blocked,
        |(s, cause)| {
            let mut labels = sl(s);
            labels.push(("cause", cause.to_string()));
            Some((labels, 1.0))
        },
    );
    f.gauge(
        "opsboard_requests_per_second",
        "Requests per second over the service's window, all instances.",
        svc,
        |s| s.request_rate.map(|r| (sl(s), r)),
    );
    f.gauge(
        "opsboard_error_ratio",
        "Share of requests that failed (5xx) over the service's window, 0 to 1.",
        svc,
        |s| s.error_rate.map(|r| (sl(s), r)),
    );
    f.gauge("opsboard_latency_p95_seconds", "95th percentile request latency over the service's window.", svc, |s| {
        s.p95_ms.map(|ms| (sl(s), ms / 1000.0))
    });

    let instances: Vec<_> = svc.iter().flat_map(|s| s.instances.iter().map(move |i| (s, i))).collect();
    let il = |(s, i): &(&crate::report::ServiceReport, &crate::report::InstanceReport)| -> Labels {
        vec![("service", s.name.clone()), ("env", s.env.clone()), ("instance", i.name.clone())]
    };
    f.gauge(
        "opsboard_instance_up",
        "1 when the instance's health check passes (OK or WARN), else 0.",
        &instances,
        |x| Some((il(x), if matches!(x.1.status, Status::Ok | Status::Warn) { 1.0 } else { 0.0 })),
    );
    f.gauge("opsboard_instance_state", &format!("Each instance's state: {STATES}."), &instances, |x| {
        Some((il(x), f64::from(state_value(x.1.status))))
    });
    f.gauge("opsboard_instance_check_latency_seconds", "Time the last health check took.", &instances, |x| {
        x.1.latency_ms.map(|ms| (il(x), ms as f64 / 1000.0))
    });

    // The hosts' numbers, where a node exporter tells them (ratios of 0 to 1, as node exporter's users chart them).
    f.gauge("opsboard_host_cpu_ratio", "Share of the host's CPU time busy, over the last scrapes.", &instances, |x| {
        x.1.host.as_ref().and_then(|h| h.cpu).map(|v| (il(x), v))
    });
    f.gauge("opsboard_host_memory_ratio", "Share of the host's memory in use (not available).", &instances, |x| {
        x.1.host.as_ref().and_then(|h| h.memory).map(|v| (il(x), v))
    });
    f.gauge("opsboard_host_disk_used_ratio", "Share of the fullest real filesystem in use.", &instances, |x| {
        let mut labels = il(x);
        let h = x.1.host.as_ref()?;
        labels.push(("mountpoint", h.disk_mountpoint.clone().unwrap_or_default()));
        h.disk.map(|v| (labels, v))
    });
    f.gauge("opsboard_host_load1", "The host's 1-minute load average.", &instances, |x| {
        x.1.host.as_ref().and_then(|h| h.load1).map(|v| (il(x), v))
    });
    f.gauge("opsboard_host_cpus", "CPUs the host has.", &instances, |x| {
        x.1.host.as_ref().filter(|h| h.cpus > 0).map(|h| (il(x), f64::from(h.cpus)))
    });

    let b = &report.backups;
    f.gauge("opsboard_backup_age_seconds", "Age of the newest artefact of each backup job.", b, |b| {
        b.age_s.map(|a| (vec![("backup", b.name.clone())], a as f64))
    });
    f.gauge("opsboard_backup_max_age_seconds", "The age past which each backup job is late (its RPO).", b, |b| {
        Some((vec![("backup", b.name.clone())], b.max_age_s as f64))
    });
    f.gauge("opsboard_backup_state", &format!("Each backup job's state: {STATES}."), b, |b| {
        Some((vec![("backup", b.name.clone())], f64::from(state_value(b.status))))
    });

    // Who is on what, and what is muted: an item's kind and name, as notifications name it.
    let item = |key: &str| -> Labels {
        let (kind, name) = key.split_once(' ').unwrap_or(("service", key));
        vec![("kind", kind.to_string()), ("name", name.to_string())]
    };
    f.gauge("opsboard_taken", "1 for each item someone has taken (is on), labelled with who.", &report.taken, |t| {
        let mut labels = item(&t.item);
        labels.push(("by", t.who.clone()));
        Some((labels, 1.0))
    });
    f.gauge("opsboard_silenced", "1 for each item whose notifications are muted.", &report.silences, |s| {
        Some((item(&s.item), 1.0))
    });

    let a = &report.asgs;
    let al = |g: &crate::report::AsgReport| -> Labels { vec![("account", g.account.clone()), ("asg", g.name.clone())] };
    f.gauge("opsboard_asg_in_service", "Instances InService in each Auto Scaling group.", a, |g| {
        Some((al(g), f64::from(g.in_service)))
    });
    f.gauge("opsboard_asg_desired", "Desired capacity of each Auto Scaling group.", a, |g| {
        Some((al(g), f64::from(g.desired)))
    });
    f.gauge("opsboard_asg_state", &format!("Each Auto Scaling group's state: {STATES}."), a, |g| {
        Some((al(g), f64::from(state_value(g.status))))
    });
    let q = &report.queues;
    let ql = |q: &crate::report::QueueReport, kind: &str| -> Labels {
        vec![("account", q.account.clone()), ("queue", q.name.clone()), ("kind", kind.to_string())]
    };
    let by_kind: Vec<(&crate::report::QueueReport, &str, Option<u64>)> = (q.iter())
        .flat_map(|q| [(q, "visible", q.visible), (q, "in_flight", q.in_flight), (q, "delayed", q.delayed)])
        .collect();
    f.gauge(
        "opsboard_queue_messages",
        "Messages of each SQS queue, by kind: visible, in_flight, delayed.",
        &by_kind,
        |(q, kind, n)| n.map(|n| (ql(q, kind), n as f64)),
    );
    f.gauge("opsboard_queue_oldest_age_seconds", "Age of each SQS queue's oldest message (CloudWatch).", q, |q| {
        q.oldest_age_s.map(|a| (vec![("account", q.account.clone()), ("queue", q.name.clone())], a as f64))
    });
    f.gauge("opsboard_queue_dead_letters", "Messages in each SQS queue's dead-letter queue.", q, |q| {
        q.dead_letters.map(|n| (vec![("account", q.account.clone()), ("queue", q.name.clone())], n as f64))
    });
    f.gauge("opsboard_queue_state", &format!("Each SQS queue's state: {STATES}."), q, |q| {
        Some((vec![("account", q.account.clone()), ("queue", q.name.clone())], f64::from(state_value(q.status))))
    });
    let d = &report.databases;
    let dl = |d: &crate::report::DatabaseReport| -> Labels {
        vec![("account", d.account.clone()), ("database", d.id.clone())]
    };
    f.gauge("opsboard_database_state", &format!("Each RDS instance's or Aurora cluster's state: {STATES}."), d, |d| {
        Some((dl(d), f64::from(state_value(d.status))))
    });
    f.gauge("opsboard_database_free_storage_bytes", "Free storage of each RDS instance (CloudWatch).", d, |d| {
        d.free_storage_bytes.map(|b| (dl(d), b as f64))
    });
    f.gauge(
        "opsboard_database_dr_snapshot_age_seconds",
        "Age of each database's newest snapshot in its DR region.",
        d,
        |d| d.dr_snapshot_age_s.map(|a| (dl(d), a as f64)),
    );
    f.gauge(
        "opsboard_aws_account_up",
        "1 when the last calls to the account's APIs succeeded, else 0.",
        &report.aws_accounts,
        |acc| {
            Some((
                vec![("account", acc.name.clone()), ("region", acc.region.clone())],
                if acc.error.is_none() { 1.0 } else { 0.0 },
            ))
        },
    );
    out
}
