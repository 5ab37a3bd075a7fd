//! Durations in config files are human strings: `"250ms"`, `"5s"`, `"2m"`.

use serde::{Deserialize, Deserializer, de::Error};
use std::time::Duration;

pub fn parse(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim())
        .map_err(|e| format!("`{text}` is not a duration ({e}); write it like \"500ms\", \"5s\" or \"2m\""))
}

pub fn required<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    parse(&text).map_err(D::Error::custom)
}

pub fn optional<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let text = Option::<String>::deserialize(d)?;
    text.map(|t| parse(&t).map_err(D::Error::custom)).transpose()
}
