//! A real moto server (PyPI `moto[server]`, from the venv scripts/test makes) on 127.0.0.1,
//! and boto3 to seed it.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Moto {
    pub url: String,
    pub port: u16,
    child: Child,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn venv() -> String {
    std::env::var("OPSBOARD_TEST_VENV").unwrap_or_else(|_| format!("{}/target/test-venv", env!("CARGO_MANIFEST_DIR")))
}

/// Starts moto on `port` (a free one if `None`); `auth` makes it check credentials like AWS.
pub fn start_on(port: Option<u16>, auth: bool) -> Moto {
    // A free port is free only until someone binds it: moto takes a second to start, and a
    // test beside this one may take the port first. Then moto exits, and another port is tried.
    for _ in 0..3 {
        let port = port.unwrap_or_else(|| super::closed_port().port());
        let mut cmd = Command::new(format!("{}/bin/moto_server", venv()));
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()]).stdout(Stdio::null()).stderr(Stdio::null());
        if auth {
            cmd.env("INITIAL_NO_AUTH_ACTION_COUNT", "0");
        }
        let mut child = cmd.spawn().expect("moto_server: run scripts/test, which creates the venv");
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::time::Instant::now() < deadline && child.try_wait().ok().flatten().is_none() {
            if answers_as_moto(port) {
                return Moto { url: format!("http://127.0.0.1:{port}"), port, child };
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    panic!("moto did not come up on 3 ports in a row");
}

/// Whether moto itself answers on `port` (its own API), not whatever else took the port.
fn answers_as_moto(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /moto-api/data.json HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.") && &head[9..12] == b"200"
}

pub fn start() -> Moto {
    start_on(None, false)
}

/// Runs Python with boto3 against moto; `body` sees `kw` (client keyword arguments) and `datetime`.
pub fn boto3(moto: &Moto, body: &str) {
    boto3_out(moto, body);
}

/// As [`boto3`], giving what the script printed.
pub fn boto3_out(moto: &Moto, body: &str) -> String {
    let script = format!(
        "import boto3, datetime, json\nkw = dict(endpoint_url='{}', region_name='eu-west-1', aws_access_key_id='test', aws_secret_access_key='test')\n{body}\n",
        moto.url
    );
    let out = Command::new(format!("{}/bin/python", venv())).arg("-c").arg(&script).output().unwrap();
    assert!(out.status.success(), "boto3 failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A launch template and an Auto Scaling group of `desired` instances.
pub fn seed_group(moto: &Moto, name: &str, min: u32, desired: u32, max: u32) {
    boto3(
        moto,
        &format!(
            "ec2 = boto3.client('ec2', **kw)\nasg = boto3.client('autoscaling', **kw)\n\
             try:\n    ec2.create_launch_template(LaunchTemplateName='web-template', LaunchTemplateData={{'ImageId': 'ami-12c6146b', 'InstanceType': 't3.micro'}})\nexcept Exception:\n    pass\n\
             asg.create_auto_scaling_group(AutoScalingGroupName='{name}', LaunchTemplate={{'LaunchTemplateName': 'web-template'}}, MinSize={min}, MaxSize={max}, DesiredCapacity={desired}, AvailabilityZones=['eu-west-1a'])"
        ),
    );
}
