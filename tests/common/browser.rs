//! Debian's chromium, headless, driven over the DevTools protocol: load a page, read its text,
//! take a screenshot.
#![allow(dead_code)]

use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tungstenite::{Message, WebSocket, stream::MaybeTlsStream};

pub struct Browser {
    child: Child,
    _profile: tempfile::TempDir,
    port: u16,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether chromium is installed (scripts/test installs it).
pub fn available() -> bool {
    Command::new("chromium").arg("--version").output().is_ok_and(|o| o.status.success())
}

/// One HTTP/1.0 request over a plain socket; the body of the answer.
pub fn http(method: &str, port: u16, path: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default()
}

impl Browser {
    pub fn start(width: u32, height: u32) -> Self {
        let profile = tempfile::tempdir().unwrap();
        let child = Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--no-first-run",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                &format!("--window-size={width},{height}"),
                &format!("--user-data-dir={}", profile.path().display()),
                "about:blank",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromium starts");
        let file = profile.path().join("DevToolsActivePort");
        let port = super::eventually(Duration::from_secs(30), "chromium's DevTools port", || {
            std::fs::read_to_string(&file).ok().and_then(|t| t.lines().next()?.parse().ok())
        });
        Self { child, _profile: profile, port }
    }

    /// Opens `url` in a new tab.
    pub fn open(&self, url: &str) -> Tab {
        let body = http("PUT", self.port, &format!("/json/new?{url}"));
        let target: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
        let ws = target["webSocketDebuggerUrl"].as_str().expect("a page target").to_string();
        let (socket, _) = tungstenite::connect(ws).expect("DevTools websocket");
        Tab { socket, next_id: 0 }
    }
}

pub struct Tab {
    socket: WebSocket<MaybeTlsStream<TcpStream>>,
    next_id: u64,
}

impl Tab {
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let msg = json!({ "id": id, "method": method, "params": params }).to_string();
        self.socket.send(Message::Text(msg.into())).expect("send to DevTools");
        loop {
            let Message::Text(t) = self.socket.read().expect("read from DevTools") else { continue };
            let v: Value = serde_json::from_str(&t).unwrap();
            if v["id"] == id {
                assert!(v.get("error").is_none(), "{method}: {v}");
                return v["result"].clone();
            }
        }
    }

    /// The value of a JavaScript expression.
    pub fn eval(&mut self, expression: &str) -> Value {
        let r = self.call("Runtime.evaluate", json!({ "expression": expression, "returnByValue": true }));
        r["result"]["value"].clone()
    }

    /// Waits until `expression` is true, at most `within`.
    pub fn wait_for(&mut self, expression: &str, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if self.eval(expression) == Value::Bool(true) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        false
    }

    /// Presses and lets go of one key, as a keyboard would (`Enter`, `ArrowDown`, `j`), in this
    /// tab brought to the front (keys go to the focused one).
    pub fn press(&mut self, key: &str) {
        self.call("Page.bringToFront", json!({}));
        let text = if key.chars().count() == 1 { key } else { "" };
        let vk = match key {
            "Enter" => 13,
            "Escape" => 27,
            "ArrowUp" => 38,
            "ArrowDown" => 40,
            _ => key.chars().next().map_or(0, |c| c.to_ascii_uppercase() as u32),
        };
        let down = if text.is_empty() { "rawKeyDown" } else { "keyDown" };
        for kind in [down, "keyUp"] {
            let params = json!({ "type": kind, "key": key, "text": if kind == "keyUp" { "" } else { text }, "windowsVirtualKeyCode": vk });
            self.call("Input.dispatchKeyEvent", params);
        }
    }

    pub fn screenshot(&mut self, path: &Path) {
        let r = self.call("Page.captureScreenshot", json!({ "format": "png" }));
        let png = decode_base64(r["data"].as_str().expect("screenshot data"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }
}

fn decode_base64(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).expect("DevTools sends base64")
}
