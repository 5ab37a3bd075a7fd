//! Conditions on a health answer, as Gatus has them: expected status codes, text the body must
//! contain or match, and JSON values by pointer (`"/status" == "UP"`, `"/queue/depth" < 1000`).
//! Each failing condition is the reason, in words, with the value found.

use serde_json::Value;

#[derive(Debug, Clone, Default)]
pub struct AnswerSpec {
    /// Codes that count as healthy; empty: any code below 400.
    pub expect_status: Vec<u16>,
    pub contains: Option<String>,
    pub regex: Option<regex::Regex>,
    pub json: Vec<JsonCondition>,
}

impl PartialEq for AnswerSpec {
    fn eq(&self, other: &Self) -> bool {
        self.expect_status == other.expect_status
            && self.contains == other.contains
            && self.regex.as_ref().map(regex::Regex::as_str) == other.regex.as_ref().map(regex::Regex::as_str)
            && self.json == other.json
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    fn word(self) -> &'static str {
        match self {
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }
}

/// `"/pointer" op value`, the value a JSON literal.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonCondition {
    pub pointer: String,
    pub op: Op,
    pub value: Value,
}

impl JsonCondition {
    /// Parses `"/checks/db/status" != "fail"`; the error says what is wrong.
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        let rest = t.strip_prefix('"').ok_or("start with the JSON pointer in quotes, e.g. \"/status\" == \"UP\"")?;
        let (pointer, rest) = rest.split_once('"').ok_or("the JSON pointer's closing quote is missing")?;
        if !pointer.is_empty() && !pointer.starts_with('/') {
            return Err(format!("`{pointer}` is not a JSON pointer: it starts with /"));
        }
        let rest = rest.trim_start();
        let (op, value) =
            [("==", Op::Eq), ("!=", Op::Ne), ("<=", Op::Le), (">=", Op::Ge), ("<", Op::Lt), (">", Op::Gt)]
                .into_iter()
                .find_map(|(w, op)| rest.strip_prefix(w).map(|v| (op, v.trim())))
                .ok_or("the operator must be one of == != < <= > >=")?;
        let value: Value = serde_json::from_str(value).map_err(|_| {
            format!("`{value}` is not a JSON value (strings in double quotes, numbers, true, false, null)")
        })?;
        if matches!(op, Op::Lt | Op::Le | Op::Gt | Op::Ge) && !value.is_number() {
            return Err(format!("{} compares numbers; `{value}` is not one", op.word()));
        }
        Ok(Self { pointer: pointer.to_string(), op, value })
    }

    /// `None` when it holds, else why not.
    fn failure(&self, json: &Value) -> Option<String> {
        let Some(found) = json.pointer(&self.pointer) else {
            return Some(format!("{} missing (wanted {} {})", self.pointer, self.op.word(), self.value));
        };
        let holds = match self.op {
            Op::Eq => found == &self.value,
            Op::Ne => found != &self.value,
            op => match (found.as_f64(), self.value.as_f64()) {
                (Some(a), Some(b)) => match op {
                    Op::Lt => a < b,
                    Op::Le => a <= b,
                    Op::Gt => a > b,
                    _ => a >= b,
                },
                _ => false,
            },
        };
        (!holds).then(|| format!("{} is {found}, not {} {}", self.pointer, self.op.word(), self.value))
    }
}

impl AnswerSpec {
    pub fn is_empty(&self) -> bool {
        self.expect_status.is_empty() && self.contains.is_none() && self.regex.is_none() && self.json.is_empty()
    }

    /// Whether `code` is one of the expected ones; `None` when none are configured.
    pub fn status_expected(&self, code: u16) -> Option<bool> {
        (!self.expect_status.is_empty()).then(|| self.expect_status.contains(&code))
    }

    /// The first body condition that fails, in words.
    pub fn body_failure(&self, body: &[u8]) -> Option<String> {
        if self.contains.is_none() && self.regex.is_none() && self.json.is_empty() {
            return None;
        }
        let text = String::from_utf8_lossy(body);
        if let Some(want) = &self.contains
            && !text.contains(want.as_str())
        {
            return Some(format!("body does not contain {want:?}"));
        }
        if let Some(re) = &self.regex
            && !re.is_match(&text)
        {
            return Some(format!("body does not match /{}/", re.as_str()));
        }
        if self.json.is_empty() {
            return None;
        }
        let Ok(json) = serde_json::from_slice::<Value>(body.trim_ascii()) else {
            return Some("body is not JSON".into());
        };
        self.json.iter().find_map(|c| c.failure(&json))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_parse_and_judge_nested_json() {
        let body = br#"{"status":"UP","checks":{"db":{"status":"fail"}},"queue":{"depth":1500}}"#;
        let spec = |c: &str| AnswerSpec { json: vec![JsonCondition::parse(c).unwrap()], ..AnswerSpec::default() };
        assert_eq!(spec(r#""/status" == "UP""#).body_failure(body), None);
        assert_eq!(
            spec(r#""/checks/db/status" != "fail""#).body_failure(body).unwrap(),
            r#"/checks/db/status is "fail", not != "fail""#
        );
        assert_eq!(spec(r#""/queue/depth" < 1000"#).body_failure(body).unwrap(), "/queue/depth is 1500, not < 1000");
        assert_eq!(spec(r#""/version" == "2""#).body_failure(body).unwrap(), r#"/version missing (wanted == "2")"#);
        assert!(JsonCondition::parse("status == UP").unwrap_err().contains("JSON pointer in quotes"));
        assert!(JsonCondition::parse(r#""/a" = 1"#).unwrap_err().contains("operator"));
        assert!(JsonCondition::parse(r#""/a" < "x""#).unwrap_err().contains("compares numbers"));
        assert!(JsonCondition::parse(r#""/a" == UP"#).unwrap_err().contains("not a JSON value"));
    }
}
