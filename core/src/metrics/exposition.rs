//! A streaming parser for the Prometheus text exposition format (and OpenMetrics text).
//! It borrows from the input and allocates nothing per sample: names and label sets are slices.

use std::borrow::Cow;
use std::fmt;

/// One sample line: `name{labels} value [timestamp]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample<'a> {
    pub name: &'a str,
    pub labels: Labels<'a>,
    pub value: f64,
    /// Milliseconds since the epoch, when the line carries a timestamp.
    pub timestamp_ms: Option<i64>,
}

/// The label set of a sample, kept as the text between the braces and scanned on demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Labels<'a> {
    raw: &'a str,
}

impl<'a> Labels<'a> {
    /// `(name, value)` pairs in order, values unescaped.
    pub fn iter(&self) -> LabelIter<'a> {
        LabelIter { rest: self.raw }
    }

    /// The value of label `name`, unescaped.
    pub fn get(&self, name: &str) -> Option<Cow<'a, str>> {
        self.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    pub fn is_empty(&self) -> bool {
        self.raw.trim().is_empty()
    }
}

pub struct LabelIter<'a> {
    rest: &'a str,
}

impl<'a> Iterator for LabelIter<'a> {
    type Item = (&'a str, Cow<'a, str>);

    fn next(&mut self) -> Option<Self::Item> {
        // Already validated by the parser, so this only has to walk.
        let rest = self.rest.trim_start_matches([',', ' ', '\t']);
        let eq = rest.find('=')?;
        let name = rest[..eq].trim();
        let after = rest[eq + 1..].trim_start();
        let body = after.strip_prefix('"')?;
        let (value, consumed) = scan_quoted(body)?;
        self.rest = &body[consumed..];
        Some((name, value))
    }
}

/// Reads a quoted label value (after the opening quote). Returns it unescaped and the bytes used,
/// closing quote included.
fn scan_quoted(body: &str) -> Option<(Cow<'_, str>, usize)> {
    let bytes = body.as_bytes();
    let mut i = 0;
    let mut escaped = false;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => {
                escaped = true;
                i += 2;
            }
            b'"' => {
                let raw = &body[..i];
                let value = if escaped { Cow::Owned(unescape(raw)) } else { Cow::Borrowed(raw) };
                return Some((value, i + 1));
            }
            _ => i += 1,
        }
    }
    None
}

fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// The `# TYPE` of a metric family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricType {
    Counter,
    Gauge,
    Histogram,
    GaugeHistogram,
    Summary,
    Info,
    StateSet,
    Untyped,
}

/// Why an exposition could not be parsed, with the 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

/// What the parser saw besides samples.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub samples: usize,
    pub families: usize,
    /// An OpenMetrics `# EOF` ended the input.
    pub eof_marker: bool,
}

/// Parses `text`, calling `on_sample` for each sample and `on_type` for each `# TYPE` line.
pub fn parse_with<'a>(
    text: &'a str,
    mut on_sample: impl FnMut(Sample<'a>),
    mut on_type: impl FnMut(&'a str, MetricType),
) -> Result<Stats, ParseError> {
    let mut stats = Stats::default();
    for (i, line) in text.lines().enumerate() {
        let err = |message: String| ParseError { line: i + 1, message };
        let line = line.trim_start();
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            let comment = comment.trim_start();
            if comment.trim_end() == "EOF" {
                stats.eof_marker = true;
                break;
            }
            if let Some(rest) = comment.strip_prefix("TYPE") {
                let mut parts = rest.split_whitespace();
                let (Some(name), Some(kind)) = (parts.next(), parts.next()) else {
                    return Err(err("`# TYPE` needs a metric name and a type".into()));
                };
                let kind = match kind {
                    "counter" => MetricType::Counter,
                    "gauge" => MetricType::Gauge,
                    "histogram" => MetricType::Histogram,
                    "gaugehistogram" => MetricType::GaugeHistogram,
                    "summary" => MetricType::Summary,
                    "info" => MetricType::Info,
                    "stateset" => MetricType::StateSet,
                    "untyped" | "unknown" => MetricType::Untyped,
                    other => return Err(err(format!("unknown metric type `{other}`"))),
                };
                stats.families += 1;
                on_type(name, kind);
            }
            continue;
        }
        on_sample(parse_sample(line).map_err(err)?);
        stats.samples += 1;
    }
    Ok(stats)
}

/// Parses `text`, calling `on_sample` for each sample.
pub fn parse<'a>(text: &'a str, on_sample: impl FnMut(Sample<'a>)) -> Result<Stats, ParseError> {
    parse_with(text, on_sample, |_, _| {})
}

fn parse_sample(line: &str) -> Result<Sample<'_>, String> {
    let bytes = line.as_bytes();
    let name_end =
        bytes.iter().position(|&b| !(b.is_ascii_alphanumeric() || b == b'_' || b == b':')).unwrap_or(bytes.len());
    if name_end == 0 || bytes[0].is_ascii_digit() {
        return Err(format!("`{}` does not start with a metric name", clip(line)));
    }
    let name = &line[..name_end];
    let mut rest = &line[name_end..];
    let mut labels = Labels::default();
    if let Some(after) = rest.strip_prefix('{') {
        let close = label_block_end(after).ok_or_else(|| format!("labels of `{name}` are not closed"))?;
        labels = Labels { raw: &after[..close] };
        check_labels(labels.raw).map_err(|m| format!("labels of `{name}`: {m}"))?;
        rest = &after[close + 1..];
    }
    // OpenMetrics exemplars follow ` # `.
    let rest = rest.split(" # ").next().unwrap_or(rest);
    let mut fields = rest.split_whitespace();
    let value = fields.next().ok_or_else(|| format!("`{name}` has no value"))?;
    let value = parse_value(value).ok_or_else(|| format!("`{value}` is not a number (sample `{name}`)"))?;
    let timestamp_ms = match fields.next() {
        None => None,
        Some(ts) => Some(parse_timestamp(ts).ok_or_else(|| format!("`{ts}` is not a timestamp (sample `{name}`)"))?),
    };
    if let Some(extra) = fields.next() {
        return Err(format!("unexpected `{}` after the value of `{name}`", clip(extra)));
    }
    Ok(Sample { name, labels, value, timestamp_ms })
}

/// Index of the closing `}` of a label block, skipping quoted values.
fn label_block_end(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut quoted = false;
    while i < bytes.len() {
        match (bytes[i], quoted) {
            (b'\\', true) => i += 1,
            (b'"', _) => quoted = !quoted,
            (b'}', false) => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

fn check_labels(raw: &str) -> Result<(), String> {
    let mut rest = raw.trim();
    while !rest.is_empty() {
        let eq = rest.find('=').ok_or_else(|| format!("`{}` is not name=\"value\"", clip(rest)))?;
        let name = rest[..eq].trim();
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(format!("`{}` is not a label name", clip(name)));
        }
        let after = rest[eq + 1..].trim_start();
        let body = after.strip_prefix('"').ok_or_else(|| format!("the value of `{name}` is not quoted"))?;
        let (_, used) = scan_quoted(body).ok_or_else(|| format!("the value of `{name}` is not closed"))?;
        rest = body[used..].trim_start();
        rest = rest.strip_prefix(',').unwrap_or(rest).trim_start();
    }
    Ok(())
}

fn parse_value(s: &str) -> Option<f64> {
    match s {
        "NaN" | "nan" => Some(f64::NAN),
        "+Inf" | "Inf" | "+inf" | "inf" => Some(f64::INFINITY),
        "-Inf" | "-inf" => Some(f64::NEG_INFINITY),
        _ => s.parse().ok(),
    }
}

/// Integer milliseconds (Prometheus) or float seconds (OpenMetrics, recognised by the dot).
fn parse_timestamp(s: &str) -> Option<i64> {
    if s.contains('.') || s.contains('e') {
        s.parse::<f64>().ok().filter(|v| v.is_finite()).map(|secs| (secs * 1000.0) as i64)
    } else {
        s.parse().ok()
    }
}

fn clip(s: &str) -> &str {
    let end = s.char_indices().nth(40).map_or(s.len(), |(i, _)| i);
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    type Owned = (String, Vec<(String, String)>, f64, Option<i64>);

    fn all(text: &str) -> Vec<Owned> {
        let mut out = Vec::new();
        parse(text, |s| {
            out.push((
                s.name.to_string(),
                s.labels.iter().map(|(k, v)| (k.to_string(), v.into_owned())).collect(),
                s.value,
                s.timestamp_ms,
            ))
        })
        .unwrap();
        out
    }

    #[test]
    fn escaped_quotes_backslashes_and_newlines_in_label_values() {
        let got = all(r#"m{path="C:\\dir\"x\"",msg="a\nb",brace="}{,="} 1"#);
        assert_eq!(got[0].1[0], ("path".into(), r#"C:\dir"x""#.into()));
        assert_eq!(got[0].1[1], ("msg".into(), "a\nb".into()));
        assert_eq!(got[0].1[2], ("brace".into(), "}{,=".into()));
    }

    #[test]
    fn special_values_and_timestamps() {
        let got = all("a NaN\nb +Inf 1700000000000\nc -Inf\nd 1.5e3 1700000000.5\n");
        assert!(got[0].2.is_nan());
        assert_eq!((got[1].2, got[1].3), (f64::INFINITY, Some(1_700_000_000_000)));
        assert_eq!(got[2].2, f64::NEG_INFINITY);
        assert_eq!((got[3].2, got[3].3), (1500.0, Some(1_700_000_000_500)));
    }

    #[test]
    fn help_and_type_in_any_order_and_untyped_metrics() {
        let text = "# TYPE x counter\n# HELP x help text\nx 1\n# HELP y only help\ny{a=\"b\"} 2\nz 3\n";
        let mut types = Vec::new();
        let stats = parse_with(text, |_| {}, |n, t| types.push((n.to_string(), t))).unwrap();
        assert_eq!(stats.samples, 3);
        assert_eq!(types, vec![("x".to_string(), MetricType::Counter)]);
    }

    #[test]
    fn openmetrics_eof_ends_the_input() {
        let stats = parse("a 1\n# EOF\nthis is ignored\n", |_| {}).unwrap();
        assert_eq!(stats, Stats { samples: 1, families: 0, eof_marker: true });
    }

    #[test]
    fn garbage_is_an_error_with_a_line_number() {
        let e = parse("ok 1\n<html><body>502 Bad Gateway</body></html>\n", |_| {}).unwrap_err();
        assert_eq!(e.line, 2);
        let e = parse("a{b=\"c\" 1\n", |_| {}).unwrap_err();
        assert!(e.message.contains("not closed"), "{e}");
        let e = parse("a{b=c} 1\n", |_| {}).unwrap_err();
        assert!(e.message.contains("not quoted"), "{e}");
        let e = parse("a one\n", |_| {}).unwrap_err();
        assert!(e.message.contains("not a number"), "{e}");
        let e = parse("# TYPE a countr\n", |_| {}).unwrap_err();
        assert!(e.message.contains("unknown metric type"), "{e}");
    }

    #[test]
    fn trailing_comma_and_spaces_in_labels() {
        let got = all("m{ a = \"1\" , b=\"2\", } 7\n");
        assert_eq!(got[0].1, vec![("a".into(), "1".into()), ("b".into(), "2".into())]);
    }

    #[test]
    fn exemplars_after_a_hash_are_ignored() {
        let got = all("req_total{code=\"200\"} 5 # {trace_id=\"abc\"} 1.0\n");
        assert_eq!(got[0].2, 5.0);
    }
}
