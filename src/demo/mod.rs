//! The built-in demo fleet: simulated services on 127.0.0.1, polled through the real code path.

pub mod exposition;
pub mod server;
pub mod story;

use server::{SimInstance, StoryClock};
use std::fmt::Write;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// A running demo fleet. Dropping it stops every server.
pub struct DemoFleet {
    /// The config that points the board at the fleet.
    pub config_toml: String,
    servers: Vec<JoinHandle<()>>,
}

impl Drop for DemoFleet {
    fn drop(&mut self) {
        for s in &self.servers {
            s.abort();
        }
    }
}

/// Starts every simulated instance, with the story `offset` into its cycle.
pub async fn start(offset: Duration) -> std::io::Result<DemoFleet> {
    let clock = StoryClock::new(offset);
    let mut servers = Vec::new();
    let mut toml = String::from(
        "[board]\ntitle = \"opsboard demo\"\n\n[defaults]\ninterval = \"2s\"\ntimeout = \"1s\"\nslow_after = \"500ms\"\n\n\
         [environments.prod]\nlabel = \"prod\"\ncolor = \"lightred\"\n\n\
         [environments.staging]\nlabel = \"staging\"\ncolor = \"lightblue\"\n",
    );
    for svc in story::SERVICES {
        let _ = write!(toml, "\n[services.{}]\nenv = \"{}\"\ninstances = [\n", svc.name, svc.env);
        for i in 0..svc.instances {
            let sim = Arc::new(SimInstance::new(svc, i, clock));
            let (addr, handle) = server::spawn(sim).await?;
            servers.push(handle);
            let _ = writeln!(toml, "  {{ url = \"http://{addr}\", name = \"{}-{}\" }},", svc.name, i + 1);
        }
        toml.push_str("]\n");
    }
    Ok(DemoFleet { config_toml: toml, servers })
}
