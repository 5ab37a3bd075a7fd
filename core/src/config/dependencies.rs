//! `depends_on`: what a service needs to work. A failing cause blocks its failing dependents,
//! which then wait for it instead of paging on their own.

use super::aws::AwsSpec;
use super::resolve::ServiceSpec;
use super::schema::Config;
use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

/// One thing a service depends on: another service (a plain name), or an item by `kind:name`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Dependency {
    Service(String),
    /// An Auto Scaling group (`asg:web-asg`).
    Asg(String),
    /// An SQS queue (`queue:emails`).
    Queue(String),
    /// An RDS instance or Aurora cluster (`database:orders-db`).
    Database(String),
    /// A backup job (`backup:postgres`).
    Backup(String),
}

/// The kinds a `depends_on` entry can name, as written before the colon.
pub const KINDS: [&str; 4] = ["asg", "queue", "database", "backup"];

impl Dependency {
    /// `orders-db`, `asg:web-asg`: as the config writes it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let Some((kind, name)) = text.split_once(':') else {
            return Ok(Self::Service(text.to_string()));
        };
        let name = name.to_string();
        match kind {
            "asg" => Ok(Self::Asg(name)),
            "queue" => Ok(Self::Queue(name)),
            "database" => Ok(Self::Database(name)),
            "backup" => Ok(Self::Backup(name)),
            "service" => Ok(Self::Service(name)),
            other => Err(format!(
                "`{text}`: `{other}` is not a kind of item; write a service's name alone, or one of {}",
                KINDS.map(|k| format!("{k}:NAME")).join(", ")
            )),
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Self::Service(n) | Self::Asg(n) | Self::Queue(n) | Self::Database(n) | Self::Backup(n) => n,
        }
    }
}

/// `orders-db`, `asg web-asg`, `queue emails`: as the board names the item.
impl fmt::Display for Dependency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Service(n) => f.write_str(n),
            Self::Asg(n) => write!(f, "asg {n}"),
            Self::Queue(n) => write!(f, "queue {n}"),
            Self::Database(n) => write!(f, "database {n}"),
            Self::Backup(n) => write!(f, "backup {n}"),
        }
    }
}

/// Each service's `depends_on` read and checked against what the config has, with its
/// `dependency_wait`: `Err((service, message))` for an unknown name or a cycle.
pub fn resolve(config: &Config, services: &mut [ServiceSpec], aws: &[AwsSpec]) -> Result<(), (String, String)> {
    let intervals: HashMap<String, Duration> = (services.iter())
        .map(|s| (s.name.clone(), s.check.unhealthy_after * s.check.interval + s.check.timeout))
        .collect();
    let mut graph: Vec<Vec<Dependency>> = Vec::with_capacity(services.len());
    for svc in services.iter() {
        let table = &config.services[svc.name.as_str()];
        let mut deps = Vec::with_capacity(table.depends_on.len());
        for text in &table.depends_on {
            let dep = Dependency::parse(text).map_err(|m| (svc.name.clone(), m))?;
            if let Some(why) = unknown(&dep, config, aws) {
                return Err((svc.name.clone(), why));
            }
            if dep == Dependency::Service(svc.name.clone()) {
                return Err((svc.name.clone(), format!("`{}` depends on itself", svc.name)));
            }
            if !deps.contains(&dep) {
                deps.push(dep);
            }
        }
        graph.push(deps);
    }
    let names: Vec<&str> = services.iter().map(|s| s.name.as_str()).collect();
    if let Some(cycle) = cycle(&names, &graph) {
        return Err((cycle[0].clone(), format!("a cycle: {}", cycle.join(" → "))));
    }
    for (si, deps) in graph.into_iter().enumerate() {
        let table = &config.services[services[si].name.as_str()];
        // Long enough for the slowest cause to be judged down: `unhealthy_after` (2 by default)
        // of its intervals and a timeout for a service, two polls for any other item.
        let wait = deps.iter().map(|d| judged_within(d, &intervals, config, aws)).max().unwrap_or_default();
        services[si].dependency_wait = table.dependency_wait.unwrap_or(wait);
        services[si].depends_on = deps;
    }
    Ok(())
}

/// How long `dep` can take to be judged failing once it fails.
fn judged_within(dep: &Dependency, services: &HashMap<String, Duration>, config: &Config, aws: &[AwsSpec]) -> Duration {
    let account = |holds: &dyn Fn(&AwsSpec) -> bool| aws.iter().find(|a| holds(a)).map(|a| 2 * a.interval);
    match dep {
        Dependency::Service(n) => services.get(n.as_str()).copied(),
        Dependency::Asg(n) => {
            account(&|a| a.asgs.contains(n) || a.asg_prefix.as_deref().is_some_and(|p| n.starts_with(p)))
        }
        Dependency::Queue(n) => account(&|a| a.queues.iter().any(|q| &q.name == n)),
        Dependency::Database(n) => account(&|a| a.databases.iter().any(|d| &d.id == n)),
        Dependency::Backup(n) => config.backups.iter().find(|b| &b.name == n).map(|b| 2 * b.interval),
    }
    .unwrap_or_default()
}

/// Why `dep` names nothing in this config, if it does not.
fn unknown(dep: &Dependency, config: &Config, aws: &[AwsSpec]) -> Option<String> {
    let known = match dep {
        Dependency::Service(n) => config.services.contains_key(n),
        Dependency::Asg(n) => {
            aws.iter().any(|a| a.asgs.contains(n) || a.asg_prefix.as_deref().is_some_and(|p| n.starts_with(p)))
        }
        Dependency::Queue(n) => aws.iter().any(|a| a.queues.iter().any(|q| &q.name == n)),
        Dependency::Database(n) => aws.iter().any(|a| a.databases.iter().any(|d| &d.id == n)),
        Dependency::Backup(n) => config.backups.iter().any(|b| &b.name == n),
    };
    if known {
        return None;
    }
    let (what, table) = match dep {
        Dependency::Service(_) => ("service", "[services]"),
        Dependency::Asg(_) => ("Auto Scaling group", "any [aws.NAME] asgs or asg_prefix"),
        Dependency::Queue(_) => ("queue", "any [[aws.NAME.queues]]"),
        Dependency::Database(_) => ("database", "any [[aws.NAME.databases]]"),
        Dependency::Backup(_) => ("backup", "[[backups]]"),
    };
    Some(format!("`{}` names {what} `{}`, which is not in {table}", written(dep), dep.name()))
}

/// The entry as the config writes it.
fn written(dep: &Dependency) -> String {
    match dep {
        Dependency::Service(n) => n.clone(),
        other => other.to_string().replacen(' ', ":", 1),
    }
}

/// The first cycle among the services, as names from a service back to itself.
fn cycle(names: &[&str], graph: &[Vec<Dependency>]) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let index: HashMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let edges = |i: usize| -> Vec<usize> {
        graph[i]
            .iter()
            .filter_map(|d| match d {
                Dependency::Service(n) => index.get(n.as_str()).copied(),
                _ => None,
            })
            .collect()
    };
    let mut marks = vec![Mark::New; names.len()];
    for start in 0..names.len() {
        if marks[start] != Mark::New {
            continue;
        }
        // Depth first without recursion: the path, and each step's next edge.
        let mut path: Vec<(usize, Vec<usize>)> = vec![(start, edges(start))];
        marks[start] = Mark::Open;
        while let Some((node, next)) = path.last_mut() {
            let node = *node;
            match next.pop() {
                Some(to) if marks[to] == Mark::Open => {
                    let from = path.iter().position(|(n, _)| *n == to).unwrap_or(0);
                    let mut out: Vec<String> = path[from..].iter().map(|(n, _)| names[*n].to_string()).collect();
                    out.push(names[to].to_string());
                    return Some(out);
                }
                Some(to) if marks[to] == Mark::New => {
                    marks[to] = Mark::Open;
                    path.push((to, edges(to)));
                }
                Some(_) => {}
                None => {
                    marks[node] = Mark::Done;
                    path.pop();
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_read_as_kinds_and_unknown_kinds_are_named() {
        assert_eq!(Dependency::parse("orders-db"), Ok(Dependency::Service("orders-db".into())));
        assert_eq!(Dependency::parse("asg:web-asg"), Ok(Dependency::Asg("web-asg".into())));
        assert_eq!(Dependency::parse("queue:emails").unwrap().to_string(), "queue emails");
        let err = Dependency::parse("lambda:resize").unwrap_err();
        assert!(err.contains("`lambda` is not a kind of item"), "{err}");
        assert_eq!(written(&Dependency::Database("orders".into())), "database:orders");
    }

    #[test]
    fn a_cycle_is_found_with_its_path_and_a_chain_is_not_one() {
        let dep = |n: &str| Dependency::Service(n.into());
        let names = ["web", "api", "db", "cache"];
        let chain = vec![vec![dep("api")], vec![dep("db"), dep("cache")], vec![], vec![dep("db")]];
        assert_eq!(cycle(&names, &chain), None);
        let looped = vec![vec![dep("api")], vec![dep("db")], vec![dep("web")], vec![]];
        assert_eq!(cycle(&names, &looped).unwrap(), ["web", "api", "db", "web"]);
    }
}
