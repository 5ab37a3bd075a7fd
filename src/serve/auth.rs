//! Who may read the board: anyone on loopback, or whoever holds the token.
//!
//! The token is accepted as `Authorization: Bearer …`, as the `opsboard_token` cookie, or once as
//! `?token=…`, after which the answer sets the cookie (and a page is sent to its address without
//! the token, so it does not stay in the browser's address bar). Compared in constant time.

use hyper::header::{AUTHORIZATION, COOKIE, HeaderMap};

pub const COOKIE_NAME: &str = "opsboard_token";

#[derive(Debug, PartialEq, Eq)]
pub enum Access {
    /// No token is configured, or the request carried it in a header or cookie.
    Granted,
    /// The request carried it in the query: grant, and set the cookie.
    GrantedByQuery,
    Refused,
}

/// Equal in time that depends only on the lengths.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.ct_eq(b).into()
}

/// The operator whose token this is, compared with every operator's in constant time.
pub fn operator<'a>(operators: &'a [(String, String)], presented: &str) -> Option<&'a str> {
    let mut found = None;
    for (name, token) in operators {
        if same(presented.trim().as_bytes(), token.as_bytes()) && found.is_none() {
            found = Some(name.as_str());
        }
    }
    found
}

/// Whether the request carries the page's cookie: it came from a browser.
pub fn has_page_cookie(headers: &HeaderMap) -> bool {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .any(|(k, _)| k == COOKIE_NAME)
}

pub fn check(token: Option<&str>, headers: &HeaderMap, query_token: Option<&str>) -> Access {
    let Some(token) = token else { return Access::Granted };
    let want = token.as_bytes();
    let bearer = headers
        .get_all(AUTHORIZATION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.strip_prefix("Bearer ").map(str::trim))
        .any(|t| same(t.as_bytes(), want));
    let cookie = headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .any(|(k, v)| k == COOKIE_NAME && same(v.as_bytes(), want));
    if bearer || cookie {
        Access::Granted
    } else if query_token.is_some_and(|t| same(t.as_bytes(), want)) {
        Access::GrantedByQuery
    } else {
        Access::Refused
    }
}

/// The cookie that carries the token after `?token=`: not readable by scripts, sent only to this
/// server.
pub fn set_cookie(token: &str) -> String {
    format!("{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=31536000")
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    #[test]
    fn bearer_cookie_and_query_are_each_accepted_and_a_wrong_token_refused() {
        let mut h = HeaderMap::new();
        assert_eq!(check(None, &h, None), Access::Granted);
        assert_eq!(check(Some("s3cret-t"), &h, None), Access::Refused);
        assert_eq!(check(Some("s3cret-t"), &h, Some("s3cret-t")), Access::GrantedByQuery);
        assert_eq!(check(Some("s3cret-t"), &h, Some("s3cret-x")), Access::Refused);
        h.insert(AUTHORIZATION, HeaderValue::from_static("Bearer s3cret-t"));
        assert_eq!(check(Some("s3cret-t"), &h, None), Access::Granted);
        let mut h = HeaderMap::new();
        h.insert(COOKIE, HeaderValue::from_static("a=b; opsboard_token=s3cret-t"));
        assert_eq!(check(Some("s3cret-t"), &h, None), Access::Granted);
        h.insert(COOKIE, HeaderValue::from_static("opsboard_token=s3cret"));
        assert_eq!(check(Some("s3cret-t"), &h, None), Access::Refused);
    }
}
