//! Keeping secrets from the config out of everything opsboard shows to others: the web page, its
//! JSON and metrics, and `check --json`.

/// What is shown in place of a secret.
pub const MASK: &str = "****";

/// Query parameters whose values are taken as secrets.
const SECRET_PARAMS: &[&str] =
    &["token", "access_token", "key", "api_key", "apikey", "password", "secret", "signature"];

/// A URL with its password and secret-looking query values masked; other text is returned as is.
pub fn url(raw: &str) -> String {
    let Ok(mut u) = reqwest::Url::parse(raw) else { return raw.to_string() };
    let mut changed = false;
    if u.password().is_some() {
        let _ = u.set_password(Some(MASK));
        changed = true;
    }
    if u.query().is_some() {
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| {
                let secret = SECRET_PARAMS.iter().any(|s| k.eq_ignore_ascii_case(s));
                changed |= secret;
                (k.into_owned(), if secret { MASK.to_string() } else { v.into_owned() })
            })
            .collect();
        u.query_pairs_mut().clear().extend_pairs(pairs);
    }
    if changed { u.to_string() } else { raw.to_string() }
}

/// Every secret value in a config: header values, passwords and secret query values of URLs,
/// and whatever else the caller adds (the web server's token). Each is masked wherever it appears.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    values: Vec<String>,
}

/// Shorter values are not masked: they would hit ordinary words and numbers.
const MIN_SECRET_LEN: usize = 4;

impl Secrets {
    pub fn add(&mut self, secret: &str) {
        if secret.len() >= MIN_SECRET_LEN && !self.values.iter().any(|v| v == secret) {
            self.values.push(secret.to_string());
            // Longest first, so a secret that contains another is masked whole.
            self.values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        }
    }

    /// A header value, and its credential alone when it is `Bearer x` / `Basic x`.
    pub fn add_header(&mut self, value: &str) {
        self.add(value);
        if let Some((_, credential)) = value.split_once(' ') {
            self.add(credential.trim());
        }
    }

    pub fn add_url(&mut self, raw: &str) {
        let Ok(u) = reqwest::Url::parse(raw) else { return };
        if let Some(p) = u.password() {
            self.add(p);
            // Percent-decoded too, as it may be shown either way.
            if let Ok(decoded) = std::str::from_utf8(&percent_decode(p)) {
                self.add(decoded);
            }
        }
        for (k, v) in u.query_pairs() {
            if SECRET_PARAMS.iter().any(|s| k.eq_ignore_ascii_case(s)) {
                self.add(&v);
            }
        }
    }

    /// `text` with every secret masked.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for v in &self.values {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), MASK);
            }
        }
        out
    }
}

fn percent_decode(s: &str) -> Vec<u8> {
    percent_encoding::percent_decode_str(s).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_and_token_params_are_masked_and_the_rest_kept() {
        assert_eq!(url("http://user:pa55word@127.0.0.1:19001/healthz"), "http://user:****@127.0.0.1:19001/healthz");
        assert_eq!(url("https://h/x?token=abc&page=2"), "https://h/x?token=****&page=2");
        assert_eq!(url("http://127.0.0.1:9/healthz"), "http://127.0.0.1:9/healthz");
        assert_eq!(url("not a url"), "not a url");
    }

    #[test]
    fn scrub_masks_every_secret_longest_first() {
        let mut s = Secrets::default();
        s.add("abcd");
        s.add("abcdef");
        s.add("ab");
        assert_eq!(s.scrub("x abcdef y abcd ab"), "x **** y **** ab");
        s.add_header("Bearer t0ken-value");
        assert_eq!(s.scrub("sent t0ken-value"), "sent ****");
        s.add_url("http://u:p%40ss@h/");
        assert_eq!(s.scrub("p@ss and p%40ss"), "**** and ****");
    }
}
