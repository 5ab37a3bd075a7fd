//! Where a service's instances come from besides its list: `instances_from`, each entry one
//! source (Prometheus' targets, file_sd files, DNS, and with the AWS build a target group or an
//! Auto Scaling group), resolved and checked here so that a mistake names its key.

use super::duration;
use serde::Deserialize;
use std::net::SocketAddr;
use std::time::Duration;

/// One entry of `instances_from`, as written: exactly one of the source keys, and its settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InstanceSource {
    /// A label matcher over the `[prometheus]` server's active targets: `job="api"`.
    pub prometheus: Option<String>,
    /// A glob of Prometheus file_sd files (JSON or YAML).
    pub file_sd: Option<String>,
    /// A name whose A/AAAA records are the instances, with `port`.
    pub dns: Option<String>,
    /// A name whose SRV records are the instances (their targets and ports).
    pub dns_srv: Option<String>,
    /// `host:port` of the DNS server to ask (default: the system's resolver).
    pub dns_server: Option<String>,
    /// An ELBv2 target group by name, through an `[aws.NAME]` account.
    pub target_group: Option<String>,
    /// An Auto Scaling group by name, through an `[aws.NAME]` account.
    pub asg: Option<String>,
    /// The `[aws.NAME]` account of a target group or an Auto Scaling group.
    pub aws: Option<String>,
    /// The port checked (DNS A/AAAA, an ASG's instances; a target group's own port otherwise).
    pub port: Option<u16>,
    /// How an EC2 instance is reached: `private_ip` (default), `public_ip` or `private_dns`.
    pub address: Option<String>,
    /// How often the source is read.
    #[serde(deserialize_with = "duration::optional")]
    pub interval: Option<Duration>,
    /// `http` (default) or `https`, where the source does not say.
    pub scheme: Option<String>,
    /// The label that names each row (Prometheus and file_sd; default `instance`).
    pub name_label: Option<String>,
    /// How long a new instance is "starting": failed checks do not count against it.
    #[serde(deserialize_with = "duration::optional")]
    pub grace: Option<Duration>,
}

/// How an EC2 instance's address is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressKind {
    PrivateIp,
    PublicIp,
    PrivateDns,
}

/// What a source reads.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SourceKind {
    /// Active targets of the `[prometheus]` server that match.
    Prometheus { matchers: Vec<LabelMatcher> },
    /// Prometheus file_sd files matching a glob.
    FileSd { glob: String },
    /// A name's A/AAAA records, each with `port`.
    Dns { name: String, port: u16, server: Option<SocketAddr> },
    /// A name's SRV records.
    DnsSrv { name: String, server: Option<SocketAddr> },
    /// An ELBv2 target group's registered targets.
    TargetGroup { name: String, account: String, address: AddressKind, port: Option<u16> },
    /// An Auto Scaling group's instances.
    Asg { name: String, account: String, address: AddressKind, port: u16 },
}

/// One resolved source of a service's instances.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DiscoverySpec {
    pub kind: SourceKind,
    pub interval: Duration,
    pub scheme: String,
    pub name_label: String,
    pub grace: Duration,
}

impl DiscoverySpec {
    /// How the board names the source in words: "targets from Prometheus", "DNS api.internal".
    pub fn describe(&self) -> String {
        match &self.kind {
            SourceKind::Prometheus { .. } => "targets from Prometheus".into(),
            SourceKind::FileSd { glob } => format!("file_sd {glob}"),
            SourceKind::Dns { name, .. } => format!("DNS {name}"),
            SourceKind::DnsSrv { name, .. } => format!("DNS SRV {name}"),
            SourceKind::TargetGroup { name, .. } => format!("target group {name}"),
            SourceKind::Asg { name, .. } => format!("ASG {name}"),
        }
    }

    /// What an empty answer of this source means, in words.
    pub fn empty_words(&self) -> String {
        match &self.kind {
            SourceKind::Prometheus { .. } => "Prometheus has no active target that matches".into(),
            SourceKind::FileSd { glob } => format!("no target in {glob}"),
            SourceKind::Dns { name, .. } | SourceKind::DnsSrv { name, .. } => format!("{name} has no records"),
            SourceKind::TargetGroup { .. } => "the target group is empty".into(),
            SourceKind::Asg { .. } => "the Auto Scaling group has no instances".into(),
        }
    }
}

/// One label matcher of a Prometheus selector: `job="api"`, `env=~"prod|stage"`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LabelMatcher {
    pub label: String,
    pub op: MatchOp,
    pub value: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchOp {
    Eq,
    Ne,
    Re,
    NotRe,
}

/// Parses `job="api", env=~"prod.*"` (braces optional); regexes are checked here.
pub fn parse_matchers(text: &str) -> Result<Vec<LabelMatcher>, String> {
    let text = text.trim();
    let text = text.strip_prefix('{').and_then(|t| t.strip_suffix('}')).unwrap_or(text);
    let mut out = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let name_end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
        let label = &rest[..name_end];
        if label.is_empty() {
            return Err(format!("expected a label name at `{rest}`"));
        }
        rest = rest[name_end..].trim_start();
        let (op, len) = if rest.starts_with("=~") {
            (MatchOp::Re, 2)
        } else if rest.starts_with("!~") {
            (MatchOp::NotRe, 2)
        } else if rest.starts_with("!=") {
            (MatchOp::Ne, 2)
        } else if rest.starts_with('=') {
            (MatchOp::Eq, 1)
        } else {
            return Err(format!("expected =, !=, =~ or !~ after `{label}`"));
        };
        rest = rest[len..].trim_start();
        let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'');
        let Some(quote) = quote else { return Err(format!("the value of `{label}` must be quoted")) };
        let body = &rest[1..];
        let close = body.find(quote).ok_or_else(|| format!("the value of `{label}` is not closed"))?;
        let value = body[..close].to_string();
        if matches!(op, MatchOp::Re | MatchOp::NotRe) {
            regex::Regex::new(&format!("^(?:{value})$")).map_err(|e| format!("`{value}` is not a regex: {e}"))?;
        }
        out.push(LabelMatcher { label: label.to_string(), op, value });
        rest = body[close + 1..].trim_start();
        rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
    }
    if out.is_empty() {
        return Err("needs at least one matcher, e.g. job=\"api\"".into());
    }
    Ok(out)
}

/// Default intervals: Prometheus' own discovery refreshes in seconds, AWS answers are paid for.
fn default_interval(kind: &SourceKind) -> Duration {
    match kind {
        SourceKind::Prometheus { .. } | SourceKind::Dns { .. } | SourceKind::DnsSrv { .. } => Duration::from_secs(30),
        // The files are also looked at every second, for a change.
        SourceKind::FileSd { .. } => Duration::from_secs(300),
        SourceKind::TargetGroup { .. } | SourceKind::Asg { .. } => Duration::from_secs(60),
    }
}

/// The default `grace` of a new instance: an Auto Scaling group's default health-check grace.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(120);

/// Resolves one entry; `has_prometheus` and `aws_accounts` say what the config offers.
pub fn resolve(src: &InstanceSource, has_prometheus: bool, aws_accounts: &[&str]) -> Result<DiscoverySpec, String> {
    let chosen: Vec<&str> = [
        ("prometheus", src.prometheus.is_some()),
        ("file_sd", src.file_sd.is_some()),
        ("dns", src.dns.is_some()),
        ("dns_srv", src.dns_srv.is_some()),
        ("target_group", src.target_group.is_some()),
        ("asg", src.asg.is_some()),
    ]
    .into_iter()
    .filter_map(|(k, set)| set.then_some(k))
    .collect();
    if chosen.len() != 1 {
        return Err(format!(
            "each entry needs exactly one of prometheus, file_sd, dns, dns_srv, target_group, asg (this one has {})",
            if chosen.is_empty() { "none".to_string() } else { chosen.join(", ") }
        ));
    }
    let server = match &src.dns_server {
        Some(s) => Some(s.parse::<SocketAddr>().map_err(|_| format!("dns_server `{s}` is not ip:port"))?),
        None => None,
    };
    let account = || -> Result<String, String> {
        let a = src.aws.clone().ok_or("a target group or an ASG needs `aws = \"ACCOUNT\"`")?;
        if !aws_accounts.contains(&a.as_str()) {
            return Err(format!("aws account `{a}` is not in [aws]"));
        }
        Ok(a)
    };
    let address = match src.address.as_deref() {
        None | Some("private_ip") => AddressKind::PrivateIp,
        Some("public_ip") => AddressKind::PublicIp,
        Some("private_dns") => AddressKind::PrivateDns,
        Some(other) => return Err(format!("address `{other}`: use private_ip, public_ip or private_dns")),
    };
    let kind = match chosen[0] {
        "prometheus" => {
            if !has_prometheus {
                return Err("`prometheus` needs a [prometheus] server".into());
            }
            SourceKind::Prometheus { matchers: parse_matchers(src.prometheus.as_deref().unwrap_or_default())? }
        }
        "file_sd" => {
            let glob = src.file_sd.clone().unwrap_or_default();
            glob::Pattern::new(&glob).map_err(|e| format!("file_sd `{glob}` is not a glob: {e}"))?;
            SourceKind::FileSd { glob }
        }
        "dns" => SourceKind::Dns {
            name: src.dns.clone().unwrap_or_default(),
            port: src.port.ok_or("`dns` needs a `port`: A and AAAA records carry none")?,
            server,
        },
        "dns_srv" => SourceKind::DnsSrv { name: src.dns_srv.clone().unwrap_or_default(), server },
        "target_group" => SourceKind::TargetGroup {
            name: src.target_group.clone().unwrap_or_default(),
            account: account()?,
            address,
            port: src.port,
        },
        _ => SourceKind::Asg {
            name: src.asg.clone().unwrap_or_default(),
            account: account()?,
            address,
            port: src.port.ok_or("`asg` needs a `port`: its instances carry none")?,
        },
    };
    let scheme = src.scheme.clone().unwrap_or_else(|| "http".into());
    if !matches!(scheme.as_str(), "http" | "https") {
        return Err(format!("scheme `{scheme}`: use http or https"));
    }
    let interval = src.interval.unwrap_or_else(|| default_interval(&kind));
    if interval < Duration::from_secs(1) {
        return Err("interval must be at least 1s".into());
    }
    Ok(DiscoverySpec {
        interval,
        scheme,
        name_label: src.name_label.clone().unwrap_or_else(|| "instance".into()),
        grace: src.grace.unwrap_or(DEFAULT_GRACE),
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matchers_parse_every_operator_and_refuse_garbage() {
        let m = parse_matchers(r#"{job="api", env=~"prod|stage", zone!="b",x!~'c.*'}"#).unwrap();
        let ops: Vec<MatchOp> = m.iter().map(|m| m.op).collect();
        assert_eq!(ops, [MatchOp::Eq, MatchOp::Re, MatchOp::Ne, MatchOp::NotRe]);
        assert_eq!((m[1].label.as_str(), m[1].value.as_str()), ("env", "prod|stage"));
        assert!(parse_matchers("job=api").unwrap_err().contains("quoted"));
        assert!(parse_matchers(r#"job="api"#).unwrap_err().contains("not closed"));
        assert!(parse_matchers(r#"job=~"(""#).unwrap_err().contains("regex"));
        assert!(parse_matchers("").is_err());
    }

    #[test]
    fn an_entry_names_one_source_and_what_it_needs() {
        let two = InstanceSource { dns: Some("a".into()), file_sd: Some("b".into()), ..Default::default() };
        assert!(resolve(&two, false, &[]).unwrap_err().contains("file_sd, dns"));
        let dns = InstanceSource { dns: Some("api.internal".into()), ..Default::default() };
        assert!(resolve(&dns, false, &[]).unwrap_err().contains("port"));
        let prom = InstanceSource { prometheus: Some(r#"job="api""#.into()), ..Default::default() };
        assert!(resolve(&prom, false, &[]).unwrap_err().contains("[prometheus]"));
        let asg = InstanceSource { asg: Some("g".into()), aws: Some("prod".into()), ..Default::default() };
        assert!(resolve(&asg, false, &["prod"]).unwrap_err().contains("needs a `port`"));
        assert!(
            resolve(&InstanceSource { port: Some(8080), ..asg.clone() }, false, &["stage"])
                .unwrap_err()
                .contains("not in [aws]")
        );
        let tg = InstanceSource {
            target_group: Some("api-tg".into()),
            aws: Some("prod".into()),
            address: Some("public_ip".into()),
            ..Default::default()
        };
        let tg = resolve(&tg, false, &["prod"]).unwrap();
        let want = SourceKind::TargetGroup {
            name: "api-tg".into(),
            account: "prod".into(),
            address: AddressKind::PublicIp,
            port: None,
        };
        assert_eq!((tg.kind, tg.interval), (want, Duration::from_secs(60)));
        let bad = InstanceSource { address: Some("eni".into()), ..asg };
        assert!(resolve(&bad, false, &["prod"]).unwrap_err().contains("private_ip, public_ip or private_dns"));
        let ok = resolve(&InstanceSource { port: Some(80), ..dns }, false, &[]).unwrap();
        assert_eq!((ok.interval, ok.grace, ok.scheme.as_str()), (Duration::from_secs(30), DEFAULT_GRACE, "http"));
    }
}
