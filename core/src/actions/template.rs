//! Filling an action's command template. Values are shell-quoted, so a version string
//! cannot become a second command.

/// What a template can refer to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fill<'a> {
    pub service: &'a str,
    pub env: &'a str,
    pub version: &'a str,
    pub from_version: &'a str,
}

/// Replaces `{service}`, `{env}`, `{version}` and `{from_version}` with quoted values.
pub fn fill(template: &str, f: &Fill) -> String {
    template
        .replace("{service}", &quote(f.service))
        .replace("{env}", &quote(f.env))
        .replace("{from_version}", &quote(f.from_version))
        .replace("{version}", &quote(f.version))
}

/// A POSIX shell word: left bare when it is plainly safe, else single-quoted.
pub fn quote(s: &str) -> String {
    let safe = !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:/+=@,".contains(c));
    if safe { s.to_string() } else { format!("'{}'", s.replace('\'', r"'\''")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_every_placeholder() {
        let f = Fill { service: "checkout", env: "prod", version: "1.4.1", from_version: "1.4.2" };
        assert_eq!(
            fill("deploy.sh -e env={env} -e svc={service} -e version={version} # was {from_version}", &f),
            "deploy.sh -e env=prod -e svc=checkout -e version=1.4.1 # was 1.4.2"
        );
    }

    #[test]
    fn hostile_values_stay_one_word() {
        let f = Fill { service: "a", env: "b", version: "1; rm -rf /", from_version: "x'y" };
        assert_eq!(fill("run {version} {from_version}", &f), r"run '1; rm -rf /' 'x'\''y'");
    }
}
