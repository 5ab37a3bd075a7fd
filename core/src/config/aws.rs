//! AWS accounts resolved: presets expanded into CloudWatch queries, the services they feed named.

use super::schema::{AlarmsTable, AwsAccount, CloudWatchMetric, DatabaseTable, QueueTable};
use std::time::Duration;

/// What a CloudWatch value means for a service's signals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Requests,
    Errors,
    P95,
}

/// What a CloudWatch value measures, for showing it as the other panels show numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Unit {
    #[default]
    None,
    Seconds,
    Milliseconds,
    Percent,
    Bytes,
    /// A count per period (a `Sum` of RequestCount): shown per minute.
    Count,
    CountPerSecond,
}

impl Unit {
    pub fn parse(s: &str) -> Result<Unit, String> {
        Ok(match s {
            "seconds" => Unit::Seconds,
            "milliseconds" => Unit::Milliseconds,
            "percent" => Unit::Percent,
            "bytes" => Unit::Bytes,
            "count" => Unit::Count,
            "count/s" => Unit::CountPerSecond,
            "none" => Unit::None,
            other => {
                return Err(format!(
                    "unknown unit `{other}`; units are seconds, milliseconds, percent, bytes, count, count/s, none"
                ));
            }
        })
    }

    /// `152ms`, `25.5%`, `1.5k/min`, `20G`, `42/s`; `period` turns a count into a rate.
    pub fn format(self, v: f64, period: Duration) -> String {
        use std::time::Duration as D;
        let short = |v: f64| match v.abs() {
            a if a >= 1e9 => format!("{:.1}G", v / 1e9),
            a if a >= 1e6 => format!("{:.1}M", v / 1e6),
            a if a >= 1e4 => format!("{:.0}k", v / 1e3),
            a if a >= 1e3 => format!("{:.1}k", v / 1e3),
            a if a >= 100.0 || v.fract() == 0.0 => format!("{v:.0}"),
            _ => format!("{v:.1}"),
        };
        match self {
            Unit::Seconds => crate::format::latency(D::from_secs_f64(v.max(0.0))),
            Unit::Milliseconds => crate::format::latency(D::from_secs_f64(v.max(0.0) / 1000.0)),
            Unit::Percent => format!("{v:.1}%"),
            Unit::Bytes => crate::format::bytes(v.max(0.0) as u64),
            Unit::Count => {
                let per_min = v * 60.0 / period.as_secs_f64().max(1.0);
                format!("{}/min", short(per_min))
            }
            Unit::CountPerSecond => format!("{}/s", short(v)),
            Unit::None => short(v),
        }
    }
}

/// One CloudWatch `MetricDataQuery`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudWatchQuery {
    pub label: String,
    pub namespace: String,
    pub metric: String,
    pub dimensions: Vec<(String, String)>,
    pub stat: String,
    pub period: Duration,
    pub unit: Unit,
    /// The service this value feeds (by name), and as what.
    pub feeds: Option<(String, Role)>,
}

/// One AWS account in one region, ready to poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsSpec {
    pub name: String,
    pub region: String,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
    pub interval: Duration,
    pub asgs: Vec<String>,
    pub asg_prefix: Option<String>,
    pub grace: Duration,
    pub queries: Vec<CloudWatchQuery>,
    /// CloudWatch alarms read as signals.
    pub alarms: Option<AlarmSpec>,
    /// SQS queues watched.
    pub queues: Vec<QueueSpec>,
    /// RDS instances and Aurora clusters watched.
    pub databases: Vec<DatabaseSpec>,
    /// ECS services whose deployments are a service's deploys (`[services.NAME.ecs]`).
    pub ecs: Vec<EcsWatch>,
    /// CodeDeploy groups whose deployments are a service's deploys (`[services.NAME.codedeploy]`).
    pub codedeploy: Vec<CodeDeployWatch>,
    /// Fixed credentials instead of the standard chain: only the demo's own endpoint, which
    /// checks none, gets these; a config file cannot set them.
    pub static_credentials: bool,
}

/// A board service's ECS service.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EcsWatch {
    /// The board's service.
    pub service: String,
    pub cluster: String,
    /// The ECS service's name.
    pub ecs_service: String,
}

/// A board service's CodeDeploy deployment group.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CodeDeployWatch {
    pub service: String,
    pub application: String,
    pub group: String,
}

/// One SQS queue, resolved.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QueueSpec {
    pub name: String,
    pub service: Option<String>,
    pub max_depth: Option<u64>,
    pub max_age: Option<Duration>,
    pub dead_letter: Option<String>,
}

fn resolve_queue(t: &QueueTable, service_index: &dyn Fn(&str) -> Option<usize>) -> Result<QueueSpec, String> {
    if t.name.is_empty() {
        return Err("needs `name`".into());
    }
    if let Some(s) = &t.service {
        service_index(s).ok_or_else(|| format!("no service named `{s}`"))?;
    }
    Ok(QueueSpec {
        name: t.name.clone(),
        service: t.service.clone(),
        max_depth: t.max_depth,
        max_age: t.max_age,
        dead_letter: t.dead_letter.clone().filter(|d| !d.is_empty()),
    })
}

/// An RDS instance or an Aurora cluster, resolved.
#[derive(Debug, Clone, PartialEq, Hash, Eq)]
pub struct DatabaseSpec {
    pub id: String,
    /// Whether `id` names an Aurora cluster.
    pub cluster: bool,
    pub service: Option<String>,
    /// The DR region and the age its newest snapshot must be younger than.
    pub dr: Option<(String, Duration)>,
    /// Percent free storage below which it warns (half of it: critical).
    pub min_free_storage_pct: u32,
}

/// The age a DR copy may reach: a nightly snapshot, and two hours for the copy.
pub const DEFAULT_DR_MAX_AGE: Duration = Duration::from_secs(26 * 3600);

fn resolve_database(t: &DatabaseTable, service_index: &dyn Fn(&str) -> Option<usize>) -> Result<DatabaseSpec, String> {
    let (id, cluster) = match (&t.id, &t.cluster) {
        (Some(id), None) if !id.is_empty() => (id.clone(), false),
        (None, Some(c)) if !c.is_empty() => (c.clone(), true),
        _ => return Err("needs one of `id` (an RDS instance) or `cluster` (an Aurora cluster)".into()),
    };
    if let Some(s) = &t.service {
        service_index(s).ok_or_else(|| format!("no service named `{s}`"))?;
    }
    if t.dr_max_age.is_some() && t.dr_region.is_none() {
        return Err("`dr_max_age` needs `dr_region`".into());
    }
    let pct = t.min_free_storage.unwrap_or(10.0);
    if !(0.0..=100.0).contains(&pct) {
        return Err(format!("min_free_storage {pct} is a percentage: 0 to 100"));
    }
    Ok(DatabaseSpec {
        id,
        cluster,
        service: t.service.clone(),
        dr: t.dr_region.clone().map(|r| (r, t.dr_max_age.unwrap_or(DEFAULT_DR_MAX_AGE))),
        min_free_storage_pct: pct.round() as u32,
    })
}

/// The CloudWatch alarms of an account the board reads, resolved.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AlarmSpec {
    /// Alarms whose name starts with this (one paged `DescribeAlarms` a poll).
    pub prefix: Option<String>,
    /// Alarms by name (up to 100 a call).
    pub names: Vec<String>,
    /// An alarm's service by its name, as configured.
    pub services: Vec<(String, String)>,
    /// Every service name, longest first: an alarm belongs to the first its name contains.
    pub service_names: Vec<String>,
    /// Alarms whose `ALARM` is a warning.
    pub warn: Vec<String>,
}

impl AlarmSpec {
    /// The service an alarm belongs to: as configured, else the longest service name its own
    /// name contains (`birthday-web-5xx` is `web`'s), else none.
    pub fn service_of(&self, alarm: &str) -> Option<&str> {
        if let Some((_, s)) = self.services.iter().find(|(a, _)| a == alarm) {
            return Some(s);
        }
        self.service_names.iter().find(|s| alarm.contains(s.as_str())).map(String::as_str)
    }

    /// Whether the alarm's `ALARM` is a warning rather than critical.
    pub fn warns(&self, alarm: &str) -> bool {
        self.warn.iter().any(|w| w == alarm)
    }
}

/// Resolves `[aws.NAME.alarms]`: names a prefix or names, and services that exist.
fn resolve_alarms(
    t: &AlarmsTable,
    service_index: &dyn Fn(&str) -> Option<usize>,
    services: &[String],
) -> Result<AlarmSpec, String> {
    if t.prefix.is_none() && t.names.is_empty() {
        return Err("needs `prefix` or `names`: the board reads the alarms it is told of, not every alarm".into());
    }
    for (alarm, service) in &t.services {
        service_index(service).ok_or_else(|| format!("services: alarm `{alarm}` names no service `{service}`"))?;
    }
    let mut service_names = services.to_vec();
    service_names.sort_by_key(|s| std::cmp::Reverse(s.len()));
    Ok(AlarmSpec {
        prefix: t.prefix.clone(),
        names: t.names.clone(),
        services: t.services.iter().map(|(a, s)| (a.clone(), s.clone())).collect(),
        service_names,
        warn: t.warn.clone(),
    })
}

const DEFAULT_PERIOD: Duration = Duration::from_secs(60);

/// Expands one `[[aws.NAME.metrics]]` table. `service_index` finds a service by name.
pub fn expand(
    m: &CloudWatchMetric,
    service_index: &dyn Fn(&str) -> Option<usize>,
) -> Result<Vec<CloudWatchQuery>, String> {
    let period = m.period.unwrap_or(DEFAULT_PERIOD);
    let secs = period.as_secs();
    if secs < 1 || (secs > 60 && !secs.is_multiple_of(60)) {
        return Err(format!("period {period:?} must be 1s..60s or a multiple of 60s"));
    }
    let service = match &m.service {
        Some(name) => {
            service_index(name).ok_or_else(|| format!("no service named `{name}`"))?;
            Some(name.clone())
        }
        None => None,
    };
    let unit = m.unit.as_deref().map(Unit::parse).transpose()?;
    let q = |label: String, ns: &str, metric: &str, dims: Vec<(String, String)>, stat: &str, role: Option<Role>| {
        CloudWatchQuery {
            label,
            namespace: ns.into(),
            metric: metric.into(),
            dimensions: dims,
            stat: stat.into(),
            period,
            unit: unit.unwrap_or_else(|| preset_unit(metric)),
            feeds: service.clone().zip(role),
        }
    };
    let need = |v: &Option<String>, key: &str, preset: &str| {
        v.clone().ok_or_else(|| format!("preset `{preset}` needs `{key}`"))
    };
    match m.preset.as_deref() {
        Some("alb") => {
            let lb = need(&m.load_balancer, "load_balancer", "alb")?;
            let dims = vec![("LoadBalancer".to_string(), lb.clone())];
            let name = m.label.clone().unwrap_or_else(|| lb.clone());
            Ok(vec![
                q(
                    format!("{name} requests"),
                    "AWS/ApplicationELB",
                    "RequestCount",
                    dims.clone(),
                    "Sum",
                    Some(Role::Requests),
                ),
                q(
                    format!("{name} 5xx"),
                    "AWS/ApplicationELB",
                    "HTTPCode_Target_5XX_Count",
                    dims.clone(),
                    "Sum",
                    Some(Role::Errors),
                ),
                q(format!("{name} p95"), "AWS/ApplicationELB", "TargetResponseTime", dims, "p95", Some(Role::P95)),
            ])
        }
        Some("ec2") => {
            let asg = need(&m.asg, "asg", "ec2")?;
            let name = m.label.clone().unwrap_or_else(|| asg.clone());
            let dims = vec![("AutoScalingGroupName".to_string(), asg)];
            Ok(vec![q(format!("{name} CPU %"), "AWS/EC2", "CPUUtilization", dims, "Average", None)])
        }
        Some("rds") => {
            let db = need(&m.db_instance, "db_instance", "rds")?;
            let name = m.label.clone().unwrap_or_else(|| db.clone());
            let dims = vec![("DBInstanceIdentifier".to_string(), db)];
            Ok(vec![
                q(format!("{name} CPU %"), "AWS/RDS", "CPUUtilization", dims.clone(), "Average", None),
                q(format!("{name} connections"), "AWS/RDS", "DatabaseConnections", dims.clone(), "Average", None),
                q(format!("{name} free storage"), "AWS/RDS", "FreeStorageSpace", dims, "Minimum", None),
            ])
        }
        Some(other) => Err(format!("unknown preset `{other}`; presets are alb, ec2, rds")),
        None => {
            let namespace =
                need(&m.namespace, "namespace", "(none)").map_err(|_| "needs `namespace` or a `preset`".to_string())?;
            let metric = m.metric.clone().ok_or("needs `metric`")?;
            let role = match m.role.as_deref() {
                None => None,
                Some("requests") => Some(Role::Requests),
                Some("errors") => Some(Role::Errors),
                Some("p95") => Some(Role::P95),
                Some(other) => return Err(format!("unknown role `{other}`; roles are requests, errors, p95")),
            };
            if role.is_some() && service.is_none() {
                return Err("`role` needs `service`".into());
            }
            let stat = m.stat.clone().unwrap_or_else(|| "Average".into());
            let label = m.label.clone().unwrap_or_else(|| format!("{namespace} {metric} {stat}"));
            let dims = m.dimensions.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            Ok(vec![q(label, &namespace, &metric, dims, &stat, role)])
        }
    }
}

/// The unit of the metrics the presets read, and of AWS's well-known ones.
fn preset_unit(metric: &str) -> Unit {
    match metric {
        "TargetResponseTime" | "Latency" => Unit::Seconds,
        "CPUUtilization" => Unit::Percent,
        "FreeStorageSpace" | "FreeableMemory" | "NetworkIn" | "NetworkOut" => Unit::Bytes,
        "RequestCount" | "HTTPCode_Target_5XX_Count" | "HTTPCode_ELB_5XX_Count" => Unit::Count,
        _ => Unit::None,
    }
}

/// Resolves one account; the interval is never shorter than the longest period.
pub fn resolve_account(
    name: &str,
    a: &AwsAccount,
    service_index: &dyn Fn(&str) -> Option<usize>,
    services: &[String],
) -> Result<AwsSpec, (String, String)> {
    let alarms = a
        .alarms
        .as_ref()
        .map(|t| resolve_alarms(t, service_index, services))
        .transpose()
        .map_err(|e| ("alarms".to_string(), e))?;
    let queues = (a.queues.iter().enumerate())
        .map(|(i, q)| {
            resolve_queue(q, service_index).map_err(|e| ("queues".to_string(), format!("queues #{}: {e}", i + 1)))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let databases = (a.databases.iter().enumerate())
        .map(|(i, d)| {
            resolve_database(d, service_index)
                .map_err(|e| ("databases".to_string(), format!("databases #{}: {e}", i + 1)))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut queries = Vec::new();
    for (i, m) in a.metrics.iter().enumerate() {
        queries
            .extend(expand(m, service_index).map_err(|e| ("metrics".to_string(), format!("metrics #{}: {e}", i + 1)))?);
    }
    let longest = queries.iter().map(|q| q.period).max().unwrap_or(Duration::ZERO);
    Ok(AwsSpec {
        name: name.to_string(),
        region: a.region.clone(),
        profile: a.profile.clone(),
        endpoint_url: a.endpoint_url.clone(),
        interval: a.interval.max(longest),
        asgs: a.asgs.clone(),
        asg_prefix: a.asg_prefix.clone(),
        grace: a.grace,
        queries,
        alarms,
        queues,
        databases,
        ecs: Vec::new(),
        codedeploy: Vec::new(),
        static_credentials: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_as_the_other_panels_numbers() {
        let min = Duration::from_secs(60);
        assert_eq!(Unit::Seconds.format(0.152, min), "150ms");
        assert_eq!(Unit::Percent.format(25.5, min), "25.5%");
        assert_eq!(Unit::Count.format(1500.0, min), "1.5k/min");
        assert_eq!(Unit::Count.format(1500.0, Duration::from_secs(300)), "300/min");
        assert_eq!(Unit::Bytes.format(20.0 * (1u64 << 30) as f64, min), "20G");
        assert_eq!(Unit::None.format(42.0, min), "42");
        assert!(Unit::parse("parsecs").unwrap_err().contains("units are seconds"));
    }
}
