//! AWS failures in words a person at 3 a.m. can act on, not the SDK's debug dump.

use aws_sdk_cloudwatch::config::http::HttpResponse;
use aws_sdk_cloudwatch::error::{ProvideErrorMetadata, SdkError};

/// A failed AWS call: what to show, and whether to back off harder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsFailure {
    pub text: String,
    pub throttled: bool,
}

/// Describes any SDK error of any operation.
pub fn describe<E>(e: &SdkError<E, HttpResponse>, endpoint: &str) -> AwsFailure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    if let SdkError::ServiceError(service) = e {
        let err = service.err();
        if let Some(code) = err.code() {
            return from_code(code, err.message().unwrap_or(""));
        }
        // Some endpoints (moto, older proxies) nest the error differently; read it from the body.
        let body = service.raw().body().bytes().map(String::from_utf8_lossy).unwrap_or_default();
        let tag = |name: &str| {
            let open = format!("<{name}>");
            let start = body.find(&open)? + open.len();
            let end = body[start..].find(&format!("</{name}>"))? + start;
            Some(body[start..end].to_string())
        };
        if let Some(code) = tag("Code") {
            return from_code(&code, &tag("Message").unwrap_or_default());
        }
        let status = service.raw().status().as_u16();
        return AwsFailure { text: format!("{endpoint} answered HTTP {status}"), throttled: status == 429 };
    }
    let inner = innermost(e);
    // The credential chain's failure can sit anywhere in the chain of sources (the innermost may
    // be the instance-role lookup's own error), so the whole chain is read.
    let chain = chain(e).to_lowercase();
    let text = if chain.contains("expired") {
        "AWS credentials expired: refresh them (e.g. aws sso login)".to_string()
    } else if chain.contains("credential") && !chain.contains("rejected") {
        // The SDK's own text lists each provider over several lines: the log keeps it whole.
        tracing::warn!(error = %chain, "no AWS credentials");
        NO_CREDENTIALS.to_string()
    } else if matches!(e, SdkError::TimeoutError(_)) {
        format!("timeout calling {endpoint}")
    } else if chain.contains("connection refused") {
        format!("cannot reach {endpoint}: connection refused")
    } else if matches!(e, SdkError::DispatchFailure(_)) {
        format!("cannot reach {endpoint}: {inner}")
    } else {
        inner
    };
    AwsFailure { text, throttled: false }
}

/// Service error codes that mean the same thing, in one phrase each.
pub fn from_code(code: &str, message: &str) -> AwsFailure {
    let detail = if message.is_empty() { String::new() } else { format!(": {message}") };
    let (text, throttled) = match code {
        "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" => {
            ("AWS credentials expired: refresh them (e.g. aws sso login)".to_string(), false)
        }
        "AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" => (format!("access denied{detail}"), false),
        "InvalidClientTokenId" | "UnrecognizedClientException" | "SignatureDoesNotMatch" | "InvalidAccessKeyId" => {
            (format!("AWS rejected the credentials{detail}"), false)
        }
        "Throttling" | "ThrottlingException" | "RequestLimitExceeded" | "TooManyRequestsException" => {
            ("throttled by AWS; backing off".to_string(), true)
        }
        other => (format!("{other}{detail}"), false),
    };
    AwsFailure { text, throttled }
}

/// What the standard credential chain tries, in its order.
pub const NO_CREDENTIALS: &str = "no AWS credentials found; tried environment variables, profile (config and credentials files, SSO), web identity, ECS and instance role";

/// Every message in the error's chain, outermost first.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(err) = next {
        out.push_str(": ");
        out.push_str(&err.to_string());
        next = err.source();
    }
    out
}

fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut last: &(dyn std::error::Error + 'static) = e;
    let mut text = last.to_string();
    while let Some(next) = last.source() {
        last = next;
        let t = last.to_string();
        if !t.is_empty() {
            text = t;
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_phrases() {
        assert_eq!(
            from_code("ExpiredTokenException", "x").text,
            "AWS credentials expired: refresh them (e.g. aws sso login)"
        );
        assert_eq!(from_code("AccessDenied", "not allowed").text, "access denied: not allowed");
        assert!(from_code("Throttling", "Rate exceeded").throttled);
        assert_eq!(from_code("ValidationError", "bad").text, "ValidationError: bad");
    }
}
