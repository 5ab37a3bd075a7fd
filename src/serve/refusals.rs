//! What the server refused and why: counted for `/metrics`, and logged once per client address
//! and reason, so a flood writes a handful of lines instead of one per connection.

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Pairs of (address, reason) remembered as already logged; past this the memory is cleared, so a
/// scan from many addresses costs at most this many entries and a line per entry.
const MAX_LOGGED_PAIRS: usize = 4096;

/// Why a connection or a request was turned away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// Every connection slot holds a client that has sent a whole request.
    ConnectionLimit,
    /// This address already holds its share of the slots, each with a whole request.
    AddressLimit,
    /// A connection that had not sent a whole request was closed to make room for a new one.
    SlowHeadEvicted,
    /// The request's head did not arrive within the head timeout.
    HeadTimeout,
    /// The request's head was larger than the server reads (answered 431).
    HeadTooLarge,
    /// The request could not be parsed as HTTP/1.
    BadRequest,
    /// No valid token (answered 401).
    Unauthorized,
    /// Not a GET or HEAD (answered 405).
    Method,
    /// A live page read too slowly and its stream was closed (it reconnects).
    StreamBehind,
}

impl Reason {
    pub const ALL: [Reason; 9] = [
        Reason::ConnectionLimit,
        Reason::AddressLimit,
        Reason::SlowHeadEvicted,
        Reason::HeadTimeout,
        Reason::HeadTooLarge,
        Reason::BadRequest,
        Reason::Unauthorized,
        Reason::Method,
        Reason::StreamBehind,
    ];

    /// The `reason` label of `opsboard_serve_refusals_total`.
    pub fn label(self) -> &'static str {
        match self {
            Reason::ConnectionLimit => "connection_limit",
            Reason::AddressLimit => "address_limit",
            Reason::SlowHeadEvicted => "slow_head_evicted",
            Reason::HeadTimeout => "head_timeout",
            Reason::HeadTooLarge => "head_too_large",
            Reason::BadRequest => "bad_request",
            Reason::Unauthorized => "unauthorized",
            Reason::Method => "method",
            Reason::StreamBehind => "stream_behind",
        }
    }

    /// What the log says, once per address.
    fn words(self) -> &'static str {
        match self {
            Reason::ConnectionLimit => "connection refused: every connection is serving a whole request",
            Reason::AddressLimit => "connection refused: this address holds its share of connections",
            Reason::SlowHeadEvicted => "connection closed: it sent no whole request, and a new client needed its slot",
            Reason::HeadTimeout => "connection closed: the request head did not arrive in time",
            Reason::HeadTooLarge => "request refused: head too large (431)",
            Reason::BadRequest => "connection closed: not an HTTP/1 request",
            Reason::Unauthorized => "request refused: no valid token (401)",
            Reason::Method => "request refused: this server only reads (405)",
            Reason::StreamBehind => "live stream closed: the page fell behind",
        }
    }

    fn index(self) -> usize {
        Reason::ALL.iter().position(|r| *r == self).unwrap_or(0)
    }
}

/// Counts by reason, and which (address, reason) pairs were logged already.
#[derive(Default)]
pub struct Refusals {
    counts: [AtomicU64; Reason::ALL.len()],
    logged: Mutex<HashSet<(IpAddr, Reason)>>,
}

impl Refusals {
    /// Counts one refusal; logs it if this address has not been logged for this reason yet.
    /// Returns whether it was logged.
    pub fn note(&self, peer: IpAddr, reason: Reason) -> bool {
        self.counts[reason.index()].fetch_add(1, Ordering::Relaxed);
        let first = {
            let mut logged = self.logged.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if logged.len() >= MAX_LOGGED_PAIRS {
                logged.clear();
            }
            logged.insert((peer, reason))
        };
        if first {
            tracing::warn!(%peer, reason = reason.label(), "{} (logged once per address and reason)", reason.words());
        }
        first
    }

    /// Each reason with its count so far, in [`Reason::ALL`]'s order.
    pub fn counts(&self) -> Vec<(Reason, u64)> {
        Reason::ALL.iter().map(|&r| (r, self.counts[r.index()].load(Ordering::Relaxed))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_and_reason_is_logged_once_and_every_refusal_counted() {
        let r = Refusals::default();
        let a: IpAddr = "127.0.0.2".parse().unwrap();
        let b: IpAddr = "127.0.0.3".parse().unwrap();
        assert!(r.note(a, Reason::HeadTimeout));
        assert!(!r.note(a, Reason::HeadTimeout));
        assert!(r.note(a, Reason::AddressLimit));
        assert!(r.note(b, Reason::HeadTimeout));
        let counts = r.counts();
        assert_eq!(counts.iter().find(|(k, _)| *k == Reason::HeadTimeout).unwrap().1, 3);
        assert_eq!(counts.iter().find(|(k, _)| *k == Reason::AddressLimit).unwrap().1, 1);
        assert_eq!(counts.iter().find(|(k, _)| *k == Reason::Method).unwrap().1, 0);
    }

    #[test]
    fn labels_are_distinct() {
        let labels: HashSet<_> = Reason::ALL.iter().map(|r| r.label()).collect();
        assert_eq!(labels.len(), Reason::ALL.len());
    }
}
