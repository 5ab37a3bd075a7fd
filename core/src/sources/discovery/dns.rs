//! Instances from DNS: a name's A and AAAA records with a port, or its SRV records, asked of the
//! system's resolver or of a given server (private zones, tests).

use super::Target;
use hickory_resolver::config::{NameServerConfigGroup, ResolverConfig, ResolverOpts};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::{ResolveError, TokioResolver};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

pub struct Records {
    resolver: TokioResolver,
}

impl Records {
    /// A resolver of `server`, else of the system's configuration.
    pub fn new(server: Option<SocketAddr>, timeout: Duration) -> Result<Self, String> {
        let mut opts = ResolverOpts::default();
        opts.timeout = timeout;
        opts.attempts = 2;
        let builder = match server {
            Some(addr) => {
                let group = NameServerConfigGroup::from_ips_clear(&[addr.ip()], addr.port(), true);
                let config = ResolverConfig::from_parts(None, vec![], group);
                TokioResolver::builder_with_config(config, TokioConnectionProvider::default())
            }
            None => TokioResolver::builder_tokio().map_err(|e| format!("system resolver: {e}"))?,
        };
        Ok(Self { resolver: builder.with_options(opts).build() })
    }

    /// A name's addresses, each with `port`; none for a name with no records.
    pub async fn addresses(&self, name: &str, port: u16) -> Result<Vec<Target>, String> {
        let ips = match self.resolver.lookup_ip(fqdn(name)).await {
            Ok(found) => found.iter().collect::<Vec<IpAddr>>(),
            Err(e) if empty(&e) => Vec::new(),
            Err(e) => return Err(format!("{name}: {e}")),
        };
        let mut out: Vec<Target> = ips
            .into_iter()
            .map(|ip| Target { host_port: SocketAddr::new(ip, port).to_string(), scheme: None, name: None, lb: None })
            .collect();
        out.sort_by(|a, b| a.host_port.cmp(&b.host_port));
        out.dedup_by(|a, b| a.host_port == b.host_port);
        Ok(out)
    }

    /// A name's SRV records, each target's addresses with its port, named `target:port`.
    pub async fn services(&self, name: &str) -> Result<Vec<Target>, String> {
        let records = match self.resolver.srv_lookup(fqdn(name)).await {
            Ok(found) => found.iter().map(|srv| (srv.target().to_utf8(), srv.port())).collect::<Vec<_>>(),
            Err(e) if empty(&e) => Vec::new(),
            Err(e) => return Err(format!("{name}: {e}")),
        };
        let mut out = Vec::new();
        for (target, port) in records {
            let host = target.trim_end_matches('.').to_string();
            let label = format!("{host}:{port}");
            let found = self.addresses(&host, port).await?;
            if found.is_empty() {
                // No address for the target here: the health check resolves it itself.
                out.push(Target { host_port: label.clone(), scheme: None, name: Some(label.clone()), lb: None });
            }
            for t in found {
                out.push(Target { name: Some(label.clone()), ..t });
            }
        }
        Ok(out)
    }
}

/// A name as asked: absolute, so no search domain is tried first.
fn fqdn(name: &str) -> String {
    if name.ends_with('.') { name.to_string() } else { format!("{name}.") }
}

/// Whether the answer says there are no such records (an empty list), not that asking failed.
fn empty(e: &ResolveError) -> bool {
    e.is_no_records_found() || e.is_nx_domain()
}
