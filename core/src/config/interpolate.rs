//! `${VAR}` and `${VAR:-default}` in string values, filled from the environment.

/// Replaces every `${NAME}` in `text`. Returns the name of the first unset variable on failure.
pub fn interpolate(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            // An unclosed `${` is kept literally: it cannot be a reference.
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let body = &after[..end];
        let (name, default) = match body.split_once(":-") {
            Some((name, default)) => (name, Some(default)),
            None => (body, None),
        };
        match (lookup(name).filter(|v| !v.is_empty() || default.is_none()), default) {
            (Some(value), _) => out.push_str(&value),
            (None, Some(default)) => out.push_str(default),
            (None, None) => return Err(name.to_string()),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Applies [`interpolate`] to every string in a TOML table, depth first.
/// On failure returns the dotted key and the unset variable name.
pub fn interpolate_table(
    table: &mut toml::Table,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<(), (String, String)> {
    for (key, value) in table.iter_mut() {
        interpolate_value(value, lookup).map_err(|(path, var)| (join(key, &path), var))?;
    }
    Ok(())
}

fn interpolate_value(value: &mut toml::Value, lookup: &dyn Fn(&str) -> Option<String>) -> Result<(), (String, String)> {
    match value {
        toml::Value::String(s) => {
            *s = interpolate(s, lookup).map_err(|var| (String::new(), var))?;
        }
        toml::Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                interpolate_value(item, lookup).map_err(|(p, v)| (join(&i.to_string(), &p), v))?;
            }
        }
        toml::Value::Table(t) => interpolate_table(t, lookup)?,
        _ => {}
    }
    Ok(())
}

fn join(head: &str, tail: &str) -> String {
    if tail.is_empty() { head.to_string() } else { format!("{head}.{tail}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "TOKEN" => Some("s3cret".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn replaces_set_variables() {
        assert_eq!(interpolate("Bearer ${TOKEN}", &env).unwrap(), "Bearer s3cret");
    }

    #[test]
    fn unset_variable_is_an_error_naming_it() {
        assert_eq!(interpolate("x ${NOPE} y", &env).unwrap_err(), "NOPE");
    }

    #[test]
    fn default_applies_when_unset_or_empty() {
        assert_eq!(interpolate("${NOPE:-a}${EMPTY:-b}", &env).unwrap(), "ab");
    }

    #[test]
    fn text_without_references_is_unchanged() {
        assert_eq!(interpolate("plain $HOME {x}", &env).unwrap(), "plain $HOME {x}");
    }
}
