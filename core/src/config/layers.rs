//! Reading one config file into a checked TOML table, and merging layers.

use super::error::ConfigError;
use super::interpolate::interpolate_table;
use super::locate::{find_text_line, key_path_at, line_col};
use super::schema::Config;
use std::path::{Path, PathBuf};

/// One parsed and checked config file.
#[derive(Debug, Clone)]
pub struct Layer {
    pub file: PathBuf,
    pub text: String,
    pub table: toml::Table,
}

impl Layer {
    /// Parses `text`, checks it against the schema, and fills `${VAR}` references.
    pub fn parse(
        file: impl Into<PathBuf>,
        text: String,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let file = file.into();
        if let Err(e) = toml::from_str::<Config>(&text) {
            return Err(schema_error(&file, &text, &e));
        }
        let mut table: toml::Table = toml::from_str(&text).map_err(|e| schema_error(&file, &text, &e))?;
        if let Err((key, var)) = interpolate_table(&mut table, env) {
            let needle = format!("${{{var}");
            let mut err = ConfigError::new(&file, format!("environment variable `{var}` is not set"))
                .key(key)
                .hint(Some(format!("export {var}=… or write ${{{var}:-default}}")));
            if let Some(line) = find_text_line(&text, &needle) {
                err = err.at(line, 1);
            }
            return Err(err);
        }
        Ok(Self { file, text, table })
    }

    /// Reads and parses a file from disk.
    pub fn read(path: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::new(path, format!("cannot read config file: {e}")))?;
        Self::parse(path, text, env)
    }
}

/// Deep-merges `over` into `base`: tables merge key by key, everything else is replaced.
pub fn merge(base: &mut toml::Table, over: &toml::Table) {
    for (key, value) in over {
        match (base.get_mut(key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            _ => {
                base.insert(key.clone(), value.clone());
            }
        }
    }
}

fn schema_error(file: &Path, text: &str, e: &toml::de::Error) -> ConfigError {
    let message = e.message().trim().to_string();
    let mut err = ConfigError::new(file, message.clone()).hint(hint_for(&message));
    if let Some(span) = e.span() {
        let (line, col) = line_col(text, span.start);
        err = err.at(line, col);
        if let Some(key) = key_path_at(text, span.start) {
            err = err.key(key);
        }
    }
    err
}

/// For "unknown field `intervl`, expected one of `a`, `b`" suggests the nearest expected name.
fn hint_for(message: &str) -> Option<String> {
    let unknown = message.strip_prefix("unknown field `").or_else(|| message.strip_prefix("unknown variant `"))?;
    let (got, rest) = unknown.split_once('`')?;
    let expected: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
    did_you_mean(got, expected)
}

/// "did you mean `x`?" for the candidate nearest to `got`, when one is near enough.
pub fn did_you_mean<'a>(got: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let best = candidates
        .into_iter()
        .map(|cand| (strsim::jaro_winkler(got, cand), cand))
        .filter(|(score, _)| *score > 0.75)
        .max_by(|a, b| a.0.total_cmp(&b.0))?;
    Some(format!("did you mean `{}`?", best.1))
}

/// Parses any TOML file against a schema type, with errors that name file, line and key.
pub fn parse_checked<T: serde::de::DeserializeOwned>(file: &Path, text: &str) -> Result<T, ConfigError> {
    toml::from_str(text).map_err(|e| schema_error(file, text, &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hint_picks_nearest_expected_name() {
        let m = "unknown field `intervl`, expected one of `env`, `interval`, `timeout`";
        assert_eq!(hint_for(m).as_deref(), Some("did you mean `interval`?"));
    }

    #[test]
    fn no_hint_for_far_names() {
        let m = "unknown field `zzzz`, expected one of `env`, `interval`";
        assert_eq!(hint_for(m), None);
    }

    #[test]
    fn merge_is_deep_for_tables_and_replaces_arrays() {
        let mut base: toml::Table = toml::from_str("[a]\nx = 1\ny = [1, 2]\n").unwrap();
        let over: toml::Table = toml::from_str("[a]\ny = [3]\nz = 2\n").unwrap();
        merge(&mut base, &over);
        assert_eq!(base.to_string(), "[a]\nx = 1\ny = [3]\nz = 2\n");
    }
}
