//! EC2's `DescribeInstances`, the one EC2 call the board makes (instance IDs to addresses),
//! signed with SigV4 and read from its XML here: the whole EC2 SDK crate would add minutes to
//! every cold build for this one call (see the README's measurements).

use super::errors::{AwsFailure, NO_CREDENTIALS, from_code};
use crate::config::discovery::AddressKind;
use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_smithy_runtime_api::client::identity::Identity;
use std::collections::HashMap;
use std::time::{Duration, SystemTime};
use tokio::sync::Mutex;

/// The API version every EC2 Query request names.
const API_VERSION: &str = "2016-11-15";
/// Values of one filter per call: EC2 takes up to 200.
const IDS_PER_CALL: usize = 200;
/// The largest answer read (a page of 200 instances is about 1 MB).
const BODY_CAP: usize = 16 << 20;
const TIMEOUT: Duration = Duration::from_secs(10);
/// Credentials are asked for again this long before they expire, and at least this often.
const CREDENTIALS_KEPT: Duration = Duration::from_secs(300);

/// An EC2 endpoint with the account's credentials.
pub struct Ec2 {
    http: reqwest::Client,
    url: String,
    region: String,
    provider: Option<SharedCredentialsProvider>,
    cached: Mutex<Option<(Credentials, SystemTime)>>,
}

/// One instance as EC2 describes it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Ec2Instance {
    pub private_ip: Option<String>,
    pub public_ip: Option<String>,
    pub private_dns: Option<String>,
    /// `pending`, `running`, `shutting-down`, `terminated`, `stopping`, `stopped`.
    pub state: String,
}

impl Ec2Instance {
    /// The address the board reaches the instance at, if it has one of that kind and is up or
    /// coming up: one shutting down, stopped or terminated has left, whatever still lists it
    /// (a target group deregisters it only after its draining delay).
    pub fn address(&self, kind: AddressKind) -> Option<&str> {
        if !matches!(self.state.as_str(), "pending" | "running" | "") {
            return None;
        }
        match kind {
            AddressKind::PrivateIp => self.private_ip.as_deref(),
            AddressKind::PublicIp => self.public_ip.as_deref(),
            AddressKind::PrivateDns => self.private_dns.as_deref(),
        }
        .filter(|a| !a.is_empty())
    }
}

impl Ec2 {
    /// EC2 in the config's region, at its `endpoint_url` when one is set (moto, the demo).
    pub fn new(conf: &aws_config::SdkConfig) -> Self {
        let region = conf.region().map(|r| r.to_string()).unwrap_or_else(|| "us-east-1".into());
        let url = match conf.endpoint_url() {
            Some(u) => u.trim_end_matches('/').to_string(),
            None if region.starts_with("cn-") => format!("https://ec2.{region}.amazonaws.com.cn"),
            None => format!("https://ec2.{region}.amazonaws.com"),
        };
        let http = crate::sources::http::client_builder().timeout(TIMEOUT).build().unwrap_or_default();
        Self { http, url, region, provider: conf.credentials_provider(), cached: Mutex::new(None) }
    }

    /// Where the calls go, in words for a failure.
    pub fn endpoint(&self) -> &str {
        &self.url
    }

    /// The instances of `ids` that EC2 knows, by ID. IDs it does not know are left out (an
    /// instance terminated long ago), rather than failing the call as `InstanceId.N` would.
    pub async fn describe(&self, ids: &[String]) -> Result<HashMap<String, Ec2Instance>, AwsFailure> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(IDS_PER_CALL) {
            let mut token: Option<String> = None;
            loop {
                let body = self.call(form(chunk, token.as_deref())).await?;
                token = read_instances(&body, &mut out).map_err(|e| AwsFailure { text: e, throttled: false })?;
                if token.is_none() {
                    break;
                }
            }
        }
        Ok(out)
    }

    async fn credentials(&self) -> Result<Credentials, AwsFailure> {
        let mut cached = self.cached.lock().await;
        let now = SystemTime::now();
        if let Some((c, at)) = cached.as_ref() {
            let fresh = c.expiry().is_none_or(|e| e > now + CREDENTIALS_KEPT);
            if fresh && now.duration_since(*at).unwrap_or_default() < CREDENTIALS_KEPT {
                return Ok(c.clone());
            }
        }
        let provider =
            self.provider.as_ref().ok_or_else(|| AwsFailure { text: NO_CREDENTIALS.into(), throttled: false })?;
        let c = provider.provide_credentials().await.map_err(|e| {
            let chain = super::errors::chain(&e).to_lowercase();
            tracing::warn!(error = %chain, "no AWS credentials for EC2");
            let text = if chain.contains("expired") {
                "AWS credentials expired: refresh them (e.g. aws sso login)".to_string()
            } else {
                NO_CREDENTIALS.to_string()
            };
            AwsFailure { text, throttled: false }
        })?;
        *cached = Some((c.clone(), now));
        Ok(c)
    }

    /// One signed POST of a form; the body of a 2xx answer, else the error EC2 gave.
    async fn call(&self, form: String) -> Result<String, AwsFailure> {
        let credentials = self.credentials().await?;
        let identity: Identity = credentials.into();
        let content_type = "application/x-www-form-urlencoded; charset=utf-8";
        let url = format!("{}/", self.url);
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name("ec2")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| AwsFailure { text: format!("cannot sign the EC2 request: {e}"), throttled: false })?
            .into();
        let headers = [("content-type", content_type)];
        let signable = SignableRequest::new("POST", &url, headers.into_iter(), SignableBody::Bytes(form.as_bytes()))
            .and_then(|r| sign(r, &params))
            .map_err(|e| AwsFailure { text: format!("cannot sign the EC2 request: {e}"), throttled: false })?;
        let (instructions, _) = signable.into_parts();
        let mut req = self.http.post(&url).header("content-type", content_type).body(form);
        for (name, value) in instructions.headers() {
            req = req.header(name, value);
        }
        let mut resp = req.send().await.map_err(|e| {
            let text = if e.is_timeout() {
                format!("timeout calling {}", self.url)
            } else {
                format!("cannot reach {}: {}", self.url, crate::sources::http::short_error(&e))
            };
            AwsFailure { text, throttled: false }
        })?;
        let status = resp.status();
        let (bytes, cut) = crate::sources::http::read_capped(&mut resp, BODY_CAP)
            .await
            .map_err(|e| AwsFailure { text: format!("{}: {e}", self.url), throttled: false })?;
        let body = String::from_utf8_lossy(&bytes).into_owned();
        if status.is_success() && !cut {
            return Ok(body);
        }
        if cut {
            return Err(AwsFailure {
                text: format!("{} answered more than {} MB", self.url, BODY_CAP >> 20),
                throttled: false,
            });
        }
        let text = |name: &str| -> Option<String> {
            let doc = roxmltree::Document::parse(&body).ok()?;
            let node = doc.descendants().find(|n| n.has_tag_name(name))?;
            Some(node.text().unwrap_or_default().to_string())
        };
        match text("Code") {
            Some(code) => Err(from_code(&code, &text("Message").unwrap_or_default())),
            None => Err(AwsFailure {
                text: format!("{} answered HTTP {}", self.url, status.as_u16()),
                throttled: status.as_u16() == 429 || status.as_u16() == 503,
            }),
        }
    }
}

/// The form of one `DescribeInstances` call: the instances of `ids`, from page `token`.
fn form(ids: &[String], token: Option<&str>) -> String {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("Action", "DescribeInstances").append_pair("Version", API_VERSION);
    form.append_pair("Filter.1.Name", "instance-id");
    for (i, id) in ids.iter().enumerate() {
        form.append_pair(&format!("Filter.1.Value.{}", i + 1), id);
    }
    if let Some(t) = token {
        form.append_pair("NextToken", t);
    }
    form.finish()
}

/// Adds the instances of one `DescribeInstances` answer to `out`; its next token, if any.
fn read_instances(xml: &str, out: &mut HashMap<String, Ec2Instance>) -> Result<Option<String>, String> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| format!("EC2 answered XML that does not parse: {e}"))?;
    let root = doc.root_element();
    if !root.has_tag_name("DescribeInstancesResponse") {
        return Err(format!("EC2 answered <{}>, not DescribeInstancesResponse", root.tag_name().name()));
    }
    let child = |n: roxmltree::Node, name: &str| -> Option<String> {
        n.children().find(|c| c.has_tag_name(name)).and_then(|c| c.text()).map(|t| t.trim().to_string())
    };
    for set in root.descendants().filter(|n| n.has_tag_name("instancesSet")) {
        for item in set.children().filter(|n| n.has_tag_name("item")) {
            let Some(id) = child(item, "instanceId") else { continue };
            let state = item
                .children()
                .find(|c| c.has_tag_name("instanceState"))
                .and_then(|s| child(s, "name"))
                .unwrap_or_default();
            let instance = Ec2Instance {
                private_ip: child(item, "privateIpAddress"),
                public_ip: child(item, "ipAddress"),
                private_dns: child(item, "privateDnsName"),
                state,
            };
            out.insert(id, instance);
        }
    }
    Ok(child(root, "nextToken").filter(|t| !t.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape of a real answer: reservations, each with instances whose own sets (groups,
    /// network interfaces) also hold `item`s and addresses.
    const ANSWER: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>8f7724cf-496f-496e-8fe3-example</requestId>
  <reservationSet><item><reservationId>r-1234567890abcdef0</reservationId>
    <instancesSet>
      <item><instanceId>i-0a</instanceId><instanceState><code>16</code><name>running</name></instanceState>
        <privateDnsName>ip-10-0-1-5.ec2.internal</privateDnsName><privateIpAddress>10.0.1.5</privateIpAddress>
        <ipAddress>54.1.2.3</ipAddress>
        <networkInterfaceSet><item><privateIpAddress>10.0.1.99</privateIpAddress></item></networkInterfaceSet>
      </item>
      <item><instanceId>i-0b</instanceId><instanceState><code>48</code><name>terminated</name></instanceState>
        <privateDnsName/></item>
    </instancesSet></item></reservationSet>
  <nextToken>page2</nextToken>
</DescribeInstancesResponse>"#;

    #[test]
    fn instances_are_read_from_their_own_fields_not_their_interfaces() {
        let mut out = HashMap::new();
        assert_eq!(read_instances(ANSWER, &mut out).unwrap().as_deref(), Some("page2"));
        let a = &out["i-0a"];
        assert_eq!(a.address(AddressKind::PrivateIp), Some("10.0.1.5"));
        assert_eq!(a.address(AddressKind::PublicIp), Some("54.1.2.3"));
        assert_eq!(a.address(AddressKind::PrivateDns), Some("ip-10-0-1-5.ec2.internal"));
        let b = &out["i-0b"];
        assert_eq!(
            (b.state.as_str(), b.address(AddressKind::PrivateIp), b.address(AddressKind::PrivateDns)),
            ("terminated", None, None)
        );
        let stopped = Ec2Instance { state: "stopped".into(), ..a.clone() };
        assert_eq!(stopped.address(AddressKind::PrivateIp), None, "a stopped instance is not checked");
        assert!(read_instances("<Response><Errors/></Response>", &mut out).unwrap_err().contains("Response"));
        assert!(read_instances("not xml", &mut out).is_err());
    }
}
