//! The public status page, on its own listener (`serve.status_listen`): `/status` as HTML that
//! needs no script (it reloads itself), and `/status.json`. Nothing else is served there, and no
//! token is asked: it says only what `status_page` lets it say.

use crate::status_page::{Public, StatusReport};
use std::fmt::Write;

/// The page reloads itself this often, in seconds.
const RELOAD_S: u32 = 30;

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The CSS class of a state: its colour, with the words beside it for screens without colour.
fn class(p: Public) -> &'static str {
    match p {
        Public::Operational => "ok",
        Public::NoData => "none",
        Public::Maintenance => "maint",
        Public::Degraded => "warn",
        Public::PartialOutage => "partial",
        Public::MajorOutage => "major",
    }
}

pub fn html(r: &StatusReport) -> String {
    let title = escape(&r.title);
    let mut body = String::new();
    let _ = write!(
        body,
        "<header class=\"{c}\"><h1>{title}</h1><p class=\"overall\">{w}</p></header>",
        c = class(r.status),
        w = escape(overall(r.status))
    );
    body.push_str("<main><ul class=\"components\">");
    for c in &r.components {
        let _ = write!(
            body,
            "<li><div class=\"row\"><span class=\"name\">{n}</span><span class=\"state {cl}\">{w}</span></div><ol class=\"days\">",
            n = escape(&c.name),
            cl = class(c.status),
            w = c.words
        );
        for d in &c.days {
            let what = match d.status {
                Public::NoData => "no data".to_string(),
                Public::Operational => "no incident".to_string(),
                Public::Degraded => format!("degraded {} min", d.degraded_min),
                _ => format!("outage {} min", d.outage_min),
            };
            let seen = if d.status == Public::NoData {
                String::new()
            } else {
                format!(", {:.0}% of the day seen", d.seen * 100.0)
            };
            let _ = write!(body, "<li class=\"{}\" title=\"{}: {what}{seen}\"></li>", class(d.status), d.date);
        }
        let first = c.days.first().map(|d| d.date.as_str()).unwrap_or_default();
        let _ = write!(body, "</ol><div class=\"span\"><span>{first}</span><span>today</span></div></li>");
    }
    body.push_str("</ul>");
    body.push_str("<section class=\"notes\"><h2>Updates</h2>");
    if r.notes.is_empty() {
        body.push_str("<p class=\"quiet\">No updates in the last 7 days.</p>");
    }
    for n in &r.notes {
        let _ = write!(
            body,
            "<article><h3>{c}</h3><p>{t}</p><time datetime=\"{at}\">{shown} UTC</time></article>",
            c = escape(&n.component),
            t = escape(&n.text),
            at = escape(&n.at),
            shown = escape(&n.at.get(..16).unwrap_or(&n.at).replace('T', " "))
        );
    }
    let _ = write!(
        body,
        "</section></main><footer>Updated {} (UTC). This page reloads every {RELOAD_S} s.</footer>",
        escape(&r.updated)
    );
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta http-equiv=\"refresh\" content=\"{RELOAD_S}\"><title>{title}</title><style>{STYLE}</style></head><body>{body}</body></html>"
    )
}

/// The banner's words.
fn overall(p: Public) -> &'static str {
    match p {
        Public::Operational => "All systems operational",
        Public::NoData => "Status unknown",
        Public::Maintenance => "Scheduled maintenance in progress",
        Public::Degraded => "Some systems are degraded",
        Public::PartialOutage => "Partial outage",
        Public::MajorOutage => "Major outage",
    }
}

const STYLE: &str = "\
body{font-family:system-ui,-apple-system,'DejaVu Sans',sans-serif;max-width:52rem;margin:0 auto;padding:1rem;color:#1d2330;background:#fff}\
header{border-radius:.5rem;padding:1rem 1.25rem;margin-bottom:1.5rem;color:#fff}\
header h1{margin:0;font-size:1.4rem}header .overall{margin:.25rem 0 0;font-size:1.1rem;font-weight:600}\
header.ok{background:#2f855a}header.warn{background:#b7791f}header.partial{background:#c05621}header.major{background:#c53030}header.none{background:#4a5568}header.maint{background:#2b6cb0}\
ul.components{list-style:none;padding:0;border:1px solid #d8dde6;border-radius:.5rem}\
ul.components>li{padding:.9rem 1.1rem;border-bottom:1px solid #d8dde6}ul.components>li:last-child{border-bottom:0}\
.row{display:flex;justify-content:space-between;font-weight:600}\
.state.ok{color:#2f855a}.state.warn{color:#b7791f}.state.partial{color:#c05621}.state.major{color:#c53030}.state.none{color:#4a5568}.state.maint{color:#2b6cb0}\
ol.days{display:flex;gap:2px;list-style:none;padding:0;margin:.6rem 0 .2rem}\
ol.days li{flex:1;height:2rem;border-radius:2px}\
ol.days .ok{background:#48bb78}ol.days .warn{background:#ecc94b}ol.days .partial{background:#ed8936}ol.days .major{background:#e53e3e}ol.days .none{background:#e2e8f0}\
.span{display:flex;justify-content:space-between;color:#718096;font-size:.8rem}\
.notes article{border-left:3px solid #d8dde6;padding:.2rem .9rem;margin:.8rem 0}.notes h3{margin:0;font-size:1rem}\
.notes p{margin:.3rem 0}.notes time,.quiet,footer{color:#718096;font-size:.85rem}footer{margin-top:2rem}\
@media (prefers-color-scheme:dark){body{background:#12151c;color:#e2e8f0}ul.components,ul.components>li{border-color:#2d3748}ol.days .none{background:#2d3748}}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_people_wrote_is_escaped() {
        assert_eq!(
            escape("<script>alert('x')</script> & \""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;"
        );
    }
}
