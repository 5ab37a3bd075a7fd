//! One instance whose health JSON tells a version the test changes: Python's http.server
//! serving `health.json` from a folder of its own.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Versioned {
    child: Child,
    pub port: u16,
    dir: PathBuf,
}

impl Versioned {
    /// Serves `{"status":"UP","version":"<version>"}` on `/health.json` from `dir/www`.
    pub fn start(dir: &Path, version: &str) -> Self {
        let dir = dir.join("www");
        std::fs::create_dir_all(&dir).unwrap();
        let port = super::closed_port().port();
        let child = Command::new("python3")
            .args(["-m", "http.server", &port.to_string(), "--bind", "127.0.0.1"])
            .current_dir(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let me = Self { child, port, dir };
        me.deploy(version);
        super::listening(port, Duration::from_secs(30), "http.server");
        me
    }

    /// The instance now tells `version`.
    pub fn deploy(&self, version: &str) {
        let body = format!(r#"{{"status":"UP","version":"{version}"}}"#);
        std::fs::write(self.dir.join("health.json"), body).unwrap();
    }
}

impl Drop for Versioned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
