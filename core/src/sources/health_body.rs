//! What a health body says: the verdict of its `status` (JSON or plain text) and the version it
//! reports. Read in one pass over the bytes: only the fields the verdict needs are kept, borrowed
//! from the body; everything else is skipped unread.

use crate::state::BodyVerdict;
use serde::Deserializer;
use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

const HEALTHY: &[&str] = &["up", "ok", "pass", "healthy", "green", "serving", "alive"];
const DEGRADED: &[&str] = &["warn", "degraded", "yellow", "unknown", "partial"];
const FAILING: &[&str] = &["down", "fail", "error", "unhealthy", "red", "out_of_service", "critical", "not_serving"];

/// Reads the verdict and version from a health body: JSON `status` fields or plain text.
pub fn parse(body: &[u8]) -> (BodyVerdict, Option<Cow<'_, str>>) {
    let trimmed = body.trim_ascii();
    if trimmed.first() == Some(&b'{') {
        return match serde_json::from_slice::<Fields>(trimmed) {
            Ok(fields) => (fields.verdict(), fields.version()),
            Err(_) => (BodyVerdict::Unrecognised, None),
        };
    }
    let text = String::from_utf8_lossy(trimmed);
    (word_verdict(text.trim(), "body"), None)
}

/// `up`, `DOWN`, `warn` … as a verdict; `field` names where the word was (`status=DOWN`).
pub fn word_verdict(word: &str, field: &str) -> BodyVerdict {
    let is = |list: &[&str]| list.iter().any(|w| w.eq_ignore_ascii_case(word));
    if is(HEALTHY) {
        BodyVerdict::Healthy
    } else if is(FAILING) {
        BodyVerdict::Failing(format!("{field}={word}"))
    } else if is(DEGRADED) {
        BodyVerdict::Degraded(format!("{field}={word}"))
    } else {
        BodyVerdict::Unrecognised
    }
}

/// One JSON value, as far as a health verdict cares.
#[derive(Debug)]
enum Node<'a> {
    Str(Cow<'a, str>),
    Num(serde_json::Number),
    Bool(bool),
    Object(Box<Fields<'a>>),
    /// null, an array: nothing a verdict reads.
    Other,
}

/// The fields of one JSON object that a verdict or a version can come from. Like a parsed
/// `serde_json::Value`, a key given twice counts with its last value.
#[derive(Debug, Default)]
struct Fields<'a> {
    status: Option<Node<'a>>,
    /// In `{"status": {"code": "UP"}}`.
    code: Option<Node<'a>>,
    healthy: Option<Node<'a>>,
    version: Option<Node<'a>>,
    release_id: Option<Node<'a>>,
    build: Option<Node<'a>>,
    app: Option<Node<'a>>,
    info: Option<Node<'a>>,
}

impl<'a> Fields<'a> {
    fn verdict(&self) -> BodyVerdict {
        match &self.status {
            Some(Node::Str(s)) => word_verdict(s, "status"),
            Some(Node::Object(o)) => match &o.code {
                Some(Node::Str(s)) => word_verdict(s, "status"),
                _ => BodyVerdict::Unrecognised,
            },
            _ => match self.healthy {
                Some(Node::Bool(true)) => BodyVerdict::Healthy,
                Some(Node::Bool(false)) => BodyVerdict::Failing("healthy=false".into()),
                _ => BodyVerdict::Unrecognised,
            },
        }
    }

    /// `build.version` (Spring info), `releaseId` (IETF draft), `version`, `app.version`,
    /// `info.version`: the first that is a non-empty string or a number.
    fn version(self) -> Option<Cow<'a, str>> {
        let nested = |n: Option<Node<'a>>| match n {
            Some(Node::Object(o)) => o.version,
            _ => None,
        };
        let candidates = [nested(self.build), self.release_id, self.version, nested(self.app), nested(self.info)];
        candidates.into_iter().flatten().find_map(|n| match n {
            Node::Str(s) if !s.is_empty() => Some(s),
            Node::Num(n) => Some(Cow::Owned(n.to_string())),
            _ => None,
        })
    }
}

impl<'de> serde::Deserialize<'de> for Fields<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(FieldsVisitor)
    }
}

struct FieldsVisitor;

impl<'de> Visitor<'de> for FieldsVisitor {
    type Value = Fields<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields<'de>, A::Error> {
        let mut fields = Fields::default();
        while let Some(Key(key)) = map.next_key::<Key>()? {
            let slot = match key {
                "status" => &mut fields.status,
                "code" => &mut fields.code,
                "healthy" => &mut fields.healthy,
                "version" => &mut fields.version,
                "releaseId" => &mut fields.release_id,
                "build" => &mut fields.build,
                "app" => &mut fields.app,
                "info" => &mut fields.info,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            *slot = Some(map.next_value::<Node<'de>>()?);
        }
        Ok(fields)
    }
}

/// An object's key, as one of the names a verdict reads (`""` for any other): no copy of it is made.
struct Key(&'static str);

const KEYS: &[&str] = &["status", "code", "healthy", "version", "releaseId", "build", "app", "info"];

impl<'de> serde::Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object key")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(Key(KEYS.iter().find(|k| **k == v).copied().unwrap_or("")))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

impl<'de> serde::Deserialize<'de> for Node<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Node<'de>, E> {
        Ok(Node::Str(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node<'de>, E> {
        Ok(Node::Str(Cow::Owned(v.to_string())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Node<'de>, E> {
        Ok(Node::Str(Cow::Owned(v)))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node<'de>, E> {
        Ok(Node::Bool(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node<'de>, E> {
        Ok(Node::Num(v.into()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node<'de>, E> {
        Ok(Node::Num(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node<'de>, E> {
        // JSON has no NaN or infinity, so every number it parses is one here.
        Ok(serde_json::Number::from_f64(v).map_or(Node::Other, Node::Num))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Node<'de>, E> {
        Ok(Node::Other)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Node<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Node::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Node<'de>, A::Error> {
        Ok(Node::Object(Box::new(FieldsVisitor.visit_map(map)?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(body: &str) -> BodyVerdict {
        parse(body.as_bytes()).0
    }

    fn version(body: &str) -> Option<String> {
        parse(body.as_bytes()).1.map(Cow::into_owned)
    }

    #[test]
    fn plain_text_bodies() {
        assert_eq!(verdict("OK\n"), BodyVerdict::Healthy);
        assert_eq!(verdict("ok"), BodyVerdict::Healthy);
        assert_eq!(verdict("DOWN"), BodyVerdict::Failing("body=DOWN".into()));
        assert_eq!(verdict("<html>hi</html>"), BodyVerdict::Unrecognised);
    }

    #[test]
    fn spring_boot_status() {
        assert_eq!(verdict(r#"{"status":"UP","components":{}}"#), BodyVerdict::Healthy);
        assert_eq!(verdict(r#"{"status":"DOWN"}"#), BodyVerdict::Failing("status=DOWN".into()));
        assert_eq!(verdict(r#"{"status":"OUT_OF_SERVICE"}"#), BodyVerdict::Failing("status=OUT_OF_SERVICE".into()));
    }

    #[test]
    fn ietf_draft_status_and_release() {
        let (v, ver) = parse(br#"{"status":"warn","version":"1","releaseId":"1.4.2"}"#);
        assert_eq!(v, BodyVerdict::Degraded("status=warn".into()));
        assert_eq!(ver.as_deref(), Some("1.4.2"));
        assert_eq!(verdict(r#"{"status":"fail"}"#), BodyVerdict::Failing("status=fail".into()));
        assert_eq!(verdict(r#"{"status":"pass"}"#), BodyVerdict::Healthy);
    }

    #[test]
    fn ok_degraded_and_versions() {
        let (v, ver) = parse(br#"{"status":"degraded","version":"v2.0.1"}"#);
        assert_eq!(v, BodyVerdict::Degraded("status=degraded".into()));
        assert_eq!(ver.as_deref(), Some("v2.0.1"));
        assert_eq!(version(r#"{"status":"UP","build":{"version":"3.1.0"}}"#).as_deref(), Some("3.1.0"));
    }

    #[test]
    fn broken_json_is_unrecognised() {
        assert_eq!(verdict(r#"{"status": "UP""#), BodyVerdict::Unrecognised);
        assert_eq!(verdict(r#"{"status": "UP"} trailing"#), BodyVerdict::Unrecognised);
        assert_eq!(parse(b"{\"status\": \"UP\xff\"}").0, BodyVerdict::Unrecognised);
    }

    /// The straightforward reading through `serde_json::Value`: what the one-pass reader must agree with.
    fn through_value(body: &[u8]) -> (BodyVerdict, Option<String>) {
        use serde_json::Value;
        let trimmed = body.trim_ascii();
        if trimmed.first() != Some(&b'{') {
            return (word_verdict(String::from_utf8_lossy(trimmed).trim(), "body"), None);
        }
        let Ok(json) = serde_json::from_slice::<Value>(trimmed) else { return (BodyVerdict::Unrecognised, None) };
        let verdict = match json.get("status") {
            Some(Value::String(s)) => word_verdict(s, "status"),
            Some(Value::Object(o)) => {
                o.get("code").and_then(Value::as_str).map_or(BodyVerdict::Unrecognised, |s| word_verdict(s, "status"))
            }
            _ => match json.get("healthy").and_then(Value::as_bool) {
                Some(true) => BodyVerdict::Healthy,
                Some(false) => BodyVerdict::Failing("healthy=false".into()),
                None => BodyVerdict::Unrecognised,
            },
        };
        let pointers = ["/build/version", "/releaseId", "/version", "/app/version", "/info/version"];
        let version = pointers.iter().find_map(|p| match json.pointer(p)? {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        });
        (verdict, version)
    }

    #[test]
    fn agrees_with_a_full_json_reading() {
        let bodies = [
            r#"{"status":"UP","components":{"db":{"status":"UP","details":{"database":"PostgreSQL"}}}}"#,
            r#"{"status":{"code":"DOWN","description":"db"},"version":"2.1"}"#,
            r#"{"status":{"description":"no code"}}"#,
            r#"{"status":{"code":5}}"#,
            r#"{"status":null,"healthy":true}"#,
            r#"{"status":3,"healthy":false}"#,
            r#"{"status":["UP"],"healthy":"yes"}"#,
            r#"{"healthy":false,"version":12}"#,
            r#"{"status":"UP","status":"DOWN"}"#,
            r#"{"status":"DOWN","status":"UP"}"#,
            r#"{"version":"1.0","version":"2.0"}"#,
            r#"{"status":"\u0055P","version":"caf\u00e9-1"}"#,
            r#"{"status":"Up","version":"","releaseId":"r7"}"#,
            r#"{"version":1.50}"#,
            r#"{"version":-3,"releaseId":null}"#,
            r#"{"version":18446744073709551615}"#,
            r#"{"version":1e400}"#,
            r#"{"version":true,"app":{"version":"a1"},"info":{"version":"i1"}}"#,
            r#"{"app":{"name":"x"},"info":{"version":7}}"#,
            r#"{"build":"flat","info":{"build":{"version":"deep"}}}"#,
            r#"{"build":["version"],"app":{"version":{"nested":1}}}"#,
            r#"{"build":{"version":"b"},"releaseId":"r","version":"v"}"#,
            r#"{"status":"pass","checks":{"uptime":[{"componentType":"system","observedValue":1209600.245}]}}"#,
            r#"{"code":"DOWN"}"#,
            r#"  {"status":"serving"}  "#,
            r#"{"status":"UP"}{"status":"DOWN"}"#,
            r#"{"status":"UP",}"#,
            r#"{"a":[[[[[[[[[[{"status":"DOWN"}]]]]]]]]]]}"#,
            r#"{}"#,
            "healthy",
            "  green \n",
            "",
        ];
        for body in bodies {
            let (v, ver) = parse(body.as_bytes());
            assert_eq!((v, ver.map(Cow::into_owned)), through_value(body.as_bytes()), "body: {body}");
        }
    }
}
