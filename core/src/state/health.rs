//! One health check's result and the verdict derived from it.

use super::status::{Status, Verdict};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// What the body of a health response says, independent of the status code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyVerdict {
    /// `OK`, `{"status":"UP"}`, `{"status":"pass"}` …
    Healthy,
    /// `{"status":"degraded"}`, `{"status":"warn"}`; the string is `status=…`.
    Degraded(String),
    /// `{"status":"DOWN"}`, `{"status":"fail"}`; the string is `status=…`.
    Failing(String),
    /// Anything else: the status code decides.
    Unrecognised,
}

/// The certificate an https instance presented, judged when it was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertSeen {
    pub not_after: SystemTime,
    pub subject: String,
    pub issuer: String,
    /// False when the service has `tls_verify = false`: nothing about it was checked.
    pub verified: bool,
    /// OK, or WARN / CRIT as its expiry nears the service's thresholds.
    pub level: Status,
    /// "certificate expires in 2d 4h".
    pub words: String,
}

/// Why a check got no HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeError {
    Timeout(Duration),
    Refused,
    Dns(String),
    Connect(String),
    Body(String),
    /// The TLS handshake failed: expired, unknown issuer, wrong name … in words.
    Tls(String),
    Other(String),
}

impl fmt::Display for ProbeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProbeError::Timeout(d) => write!(f, "timeout after {}", crate::format::duration(*d)),
            ProbeError::Refused => f.write_str("connection refused"),
            ProbeError::Dns(m) => write!(f, "dns: {m}"),
            ProbeError::Connect(m) => write!(f, "connect: {m}"),
            ProbeError::Body(m) => write!(f, "reading body: {m}"),
            ProbeError::Tls(m) => f.write_str(m),
            ProbeError::Other(m) => f.write_str(m),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HealthOutcome {
    Response {
        code: u16,
        body: BodyVerdict,
        /// Shared between samples that report the same version.
        version: Option<Arc<str>>,
        /// The body was longer than the cap and was not read whole.
        truncated: bool,
        /// For https: the certificate, shared between samples that saw the same one.
        cert: Option<Arc<CertSeen>>,
        /// With `expect_status`: whether the code was one of them; `None`: below 400 is good.
        status_expected: Option<bool>,
    },
    Failed(ProbeError),
}

/// One health check of one instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthSample {
    pub at: SystemTime,
    pub latency: Duration,
    pub outcome: HealthOutcome,
}

impl HealthSample {
    /// The verdict of this one check against the slow threshold: its status, and why in words.
    pub fn verdict(&self, slow_after: Duration) -> Verdict {
        let status = self.status(slow_after);
        let reason = match &self.outcome {
            _ if status == Status::Ok => String::new(),
            HealthOutcome::Failed(e) => e.to_string(),
            HealthOutcome::Response { code, status_expected: Some(false), .. } => {
                format!("HTTP {code}, not an expected status")
            }
            HealthOutcome::Response { code, body, status_expected, .. } => match body {
                BodyVerdict::Failing(s) | BodyVerdict::Degraded(s) if *code >= 400 && status_expected.is_none() => {
                    format!("HTTP {code} {s}")
                }
                _ if *code >= 400 && status_expected.is_none() => format!("HTTP {code}"),
                BodyVerdict::Failing(s) | BodyVerdict::Degraded(s) => s.clone(),
                _ if self.cert().is_some_and(|c| c.level == status) => {
                    self.cert().map(|c| c.words.clone()).unwrap_or_default()
                }
                _ => {
                    format!("slow: {} > {}", crate::format::duration(self.latency), crate::format::duration(slow_after))
                }
            },
        };
        Verdict::new(status, reason)
    }

    /// The status of this one check, without words: what states with memory count.
    pub fn status(&self, slow_after: Duration) -> Status {
        let answer = self.answer_status(slow_after);
        match self.cert() {
            Some(c) if answer < Status::Crit => answer.max(c.level),
            _ => answer,
        }
    }

    /// The certificate the instance presented, if it was https and answered.
    pub fn cert(&self) -> Option<&CertSeen> {
        match &self.outcome {
            HealthOutcome::Response { cert, .. } => cert.as_deref(),
            HealthOutcome::Failed(_) => None,
        }
    }

    fn answer_status(&self, slow_after: Duration) -> Status {
        match &self.outcome {
            HealthOutcome::Failed(_) => Status::Crit,
            HealthOutcome::Response { code, status_expected, .. } if !status_expected.unwrap_or(*code < 400) => {
                Status::Crit
            }
            HealthOutcome::Response { body: BodyVerdict::Failing(_), .. } => Status::Crit,
            HealthOutcome::Response { body: BodyVerdict::Degraded(_), .. } => Status::Warn,
            _ if self.latency > slow_after => Status::Warn,
            _ => Status::Ok,
        }
    }

    pub fn is_failure(&self) -> bool {
        !matches!(&self.outcome, HealthOutcome::Response { code, body, status_expected, .. }
            if status_expected.unwrap_or(*code < 400) && !matches!(body, BodyVerdict::Failing(_)))
    }

    pub fn version(&self) -> Option<&str> {
        match &self.outcome {
            HealthOutcome::Response { version, .. } => version.as_deref(),
            HealthOutcome::Failed(_) => None,
        }
    }

    /// Reuses `previous`'s version string and certificate when they are the same, so a long
    /// history holds one copy.
    pub fn share_version(&mut self, previous: Option<&HealthSample>) {
        let HealthOutcome::Response { version, cert, .. } = &mut self.outcome else { return };
        let Some(HealthOutcome::Response { version: prev_v, cert: prev_c, .. }) = previous.map(|p| &p.outcome) else {
            return;
        };
        if let (Some(v), Some(prev)) = (version.as_mut(), prev_v)
            && prev == v
        {
            *v = prev.clone();
        }
        if let (Some(c), Some(prev)) = (cert.as_mut(), prev_c)
            && prev == c
        {
            *c = prev.clone();
        }
    }

    pub fn code(&self) -> Option<u16> {
        match &self.outcome {
            HealthOutcome::Response { code, .. } => Some(*code),
            HealthOutcome::Failed(_) => None,
        }
    }
}
