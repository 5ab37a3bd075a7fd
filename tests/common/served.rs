//! `opsboard serve …`, the real binary, as a child process on a loopback port.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_opsboard");

/// `opsboard serve …` as a child process; killed when dropped.
pub struct Served {
    child: Child,
    pub addr: SocketAddr,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Served {
    pub fn start(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Self {
        let mut child = Command::new(BIN)
            .arg("serve")
            .args(args)
            .arg("--log-file")
            .arg(dir.join("opsboard.log"))
            .env("XDG_DATA_HOME", dir.join("data"))
            .env("XDG_CONFIG_HOME", dir.join("config"))
            .envs(envs.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("opsboard serve starts");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let addr = loop {
            let line = lines.next().expect("a line on stderr").expect("utf-8");
            if let Some(rest) = line.split("://").nth(1).filter(|_| line.contains("serving the board")) {
                break rest
                    .trim_end_matches(|c: char| c != '/' && !c.is_ascii_digit())
                    .trim_end_matches('/')
                    .parse()
                    .unwrap();
            }
            assert!(!line.contains("opsboard:") || line.contains("serving"), "serve failed: {line}");
        };
        Self { child, addr }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }
}

impl Served {
    /// The server's resident memory now, in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }
}
