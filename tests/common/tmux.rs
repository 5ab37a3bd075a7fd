//! A tmux server of the test's own: the real binary in a real terminal.

use std::process::Command;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(25);

/// Killed (with everything in it) when dropped.
pub struct Tmux {
    pub socket: String,
}

impl Tmux {
    pub fn start(name: &str, width: u16, height: u16, command: &str) -> Self {
        let socket = format!("opsboard-test-{name}-{}", std::process::id());
        let status = Command::new("tmux")
            .args(["-L", &socket, "new-session", "-d", "-x", &width.to_string(), "-y", &height.to_string()])
            .arg(command)
            .env("TERM", "xterm-256color")
            .status()
            .expect("tmux must be installed (scripts/test installs it)");
        assert!(status.success());
        Self { socket }
    }

    pub fn screen(&self) -> String {
        let out = Command::new("tmux").args(["-L", &self.socket, "capture-pane", "-p"]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Sends keys by name (`Enter`, `Escape`, `q`), then lets the board take them in.
    pub fn keys(&self, keys: &[&str]) {
        Command::new("tmux").args(["-L", &self.socket, "send-keys"]).args(keys).status().unwrap();
        std::thread::sleep(Duration::from_millis(150));
    }

    /// Types text literally.
    pub fn text(&self, text: &str) {
        Command::new("tmux").args(["-L", &self.socket, "send-keys", "-l", text]).status().unwrap();
        std::thread::sleep(Duration::from_millis(150));
    }

    /// Waits until the screen satisfies `pred`, or panics with the last screen.
    pub fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let screen = self.screen();
            if pred(&screen) {
                return screen;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}; screen:\n{screen}");
            std::thread::sleep(Duration::from_millis(150));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["-L", &self.socket, "kill-server"]).status();
    }
}
