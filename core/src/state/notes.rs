//! Why a service's signals are blank or only partly judged, in words: every blank says why.

use super::State;
use std::time::SystemTime;

/// The note for one service at `now`, or `None` when its signals are all there.
pub fn signals_note(state: &State, service: usize, now: SystemTime) -> Option<String> {
    let svc = state.services.get(service)?;
    let current = state.current_signals(service, now);
    if let Some(ext) = &svc.external {
        if let Some((_, e)) = &ext.error {
            return Some(format!("{}: {e}", ext.source));
        }
        match ext.latest.map(|p| now.duration_since(p.at).unwrap_or_default()) {
            None => return Some(format!("waiting for {}", ext.source)),
            Some(age) if age > ext.fresh_for => {
                return Some(format!("no {} data for {}", ext.source, crate::format::age(age)));
            }
            Some(_) => {}
        }
    }
    let scraped_part = svc.external.as_ref().is_none_or(|e| !e.feeds.all());
    if scraped_part {
        if !svc.check.scrape {
            if svc.external.is_none() {
                return Some("scraping is off and no PromQL or CloudWatch feeds it".into());
            }
        } else if let Some(note) = scrape_note(state, service, now) {
            return Some(note);
        }
    }
    let t = &svc.check.thresholds;
    current.filter(|p| p.error_ratio.is_some() && p.low_traffic(t)).map(|p| p.low_traffic_note(svc.traffic_window(&p)))
}

/// What keeps the scraped signals from being complete.
fn scrape_note(state: &State, service: usize, now: SystemTime) -> Option<String> {
    let svc = &state.services[service];
    let total = svc.instances.len();
    let failing: Vec<&str> =
        svc.instances.iter().filter_map(|i| i.metrics.error.as_ref().map(|(_, e)| e.as_str())).collect();
    if let Some(first) = failing.first() {
        return Some(format!("{}/{total} scrapes failing: {first}", failing.len()));
    }
    let scraped = svc.instances.iter().filter(|i| i.metrics.has_scraped()).count();
    if scraped == 0 {
        return Some("no scrape yet".into());
    }
    let no_counter = svc.instances.iter().filter(|i| i.metrics.no_request_counter()).count();
    if no_counter == scraped
        && let Some(summary) = super::host::summary(svc)
    {
        // A node exporter, not an app: its host is what it tells of.
        return Some(summary);
    }
    if no_counter == scraped {
        return Some(format!("no request counter (looked for {})", svc.check.names.requests.join(", ")));
    }
    if svc.instances.iter().all(|i| i.metrics.window.is_none()) {
        return Some("waiting for a second scrape".into());
    }
    let fresh_for = state.signal_fresh_for(&svc.check);
    if svc.scraped.is_none_or(|p| now.duration_since(p.at).unwrap_or_default() > fresh_for) {
        let age = svc.scraped.map(|p| now.duration_since(p.at).unwrap_or_default());
        return Some(match age {
            Some(a) => format!("no scrape for {}", crate::format::age(a)),
            None => "no scrape yet".into(),
        });
    }
    None
}
