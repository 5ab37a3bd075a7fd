//! Who gets a connection: a bound on open connections in all and per client address. When a bound
//! is reached, the oldest connection that has not yet sent a whole, authorised request is closed
//! to make room; a client that has (a live page, a scrape in progress) is never the one dropped.
//!
//! So a flood of half-sent heads from one address evicts its own connections, and a flood from
//! many addresses evicts the slowest first, while a normal client's request still gets through.

use super::refusals::Reason;
use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::sync::oneshot;

/// The bounds, in connections.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Open connections in all.
    pub connections: usize,
    /// Open connections from one client address.
    pub per_address: usize,
}

/// Open connections of one address, and which of them are still waiting for a whole request.
#[derive(Default)]
struct Address {
    open: usize,
    waiting: BTreeSet<u64>,
}

#[derive(Default)]
struct Inner {
    next_id: u64,
    /// Each open connection's address and the sender that closes it.
    open: HashMap<u64, (IpAddr, Option<oneshot::Sender<()>>)>,
    /// Connections with no whole, authorised request yet, oldest first (ids grow with time).
    waiting: BTreeSet<u64>,
    addresses: HashMap<IpAddr, Address>,
}

impl Inner {
    /// Forgets a connection; with `close`, tells its task to close it. False if already gone.
    fn remove(&mut self, id: u64, close: bool) -> bool {
        let Some((ip, closer)) = self.open.remove(&id) else { return false };
        self.waiting.remove(&id);
        if let Some(a) = self.addresses.get_mut(&ip) {
            a.open = a.open.saturating_sub(1);
            a.waiting.remove(&id);
            if a.open == 0 {
                self.addresses.remove(&ip);
            }
        }
        if close && let Some(tx) = closer {
            let _ = tx.send(());
        }
        true
    }
}

/// The server's table of open connections.
pub struct Admission {
    limits: Limits,
    inner: Mutex<Inner>,
}

/// One admitted connection's place in the table; dropping it frees the place.
pub struct Ticket {
    id: u64,
    admission: Arc<Admission>,
}

impl Ticket {
    /// The connection has sent a whole, authorised request: it is no longer the one to drop.
    pub fn trust(&self) {
        let mut inner = self.admission.lock();
        if !inner.waiting.remove(&self.id) {
            return;
        }
        if let Some(ip) = inner.open.get(&self.id).map(|(ip, _)| *ip)
            && let Some(a) = inner.addresses.get_mut(&ip)
        {
            a.waiting.remove(&self.id);
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.admission.lock().remove(self.id, false);
    }
}

/// How many connections are open now, and how many of them wait for a whole request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Occupancy {
    pub open: usize,
    pub waiting: usize,
}

impl Admission {
    pub fn new(limits: Limits) -> Arc<Self> {
        Arc::new(Self { limits, inner: Mutex::new(Inner::default()) })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn occupancy(&self) -> Occupancy {
        let inner = self.lock();
        Occupancy { open: inner.open.len(), waiting: inner.waiting.len() }
    }

    /// A place for a new connection from `ip`, closing the oldest waiting one if a bound is
    /// reached. The receiver fires when this connection is the one closed later.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<(Ticket, oneshot::Receiver<()>), Reason> {
        let mut inner = self.lock();
        let (open_here, oldest_here) =
            inner.addresses.get(&ip).map_or((0, None), |a| (a.open, a.waiting.first().copied()));
        if open_here >= self.limits.per_address {
            match oldest_here {
                Some(victim) => {
                    inner.remove(victim, true);
                }
                None => return Err(Reason::AddressLimit),
            }
        }
        if inner.open.len() >= self.limits.connections {
            match inner.waiting.first().copied() {
                Some(victim) => {
                    inner.remove(victim, true);
                }
                None => return Err(Reason::ConnectionLimit),
            }
        }
        let id = inner.next_id;
        inner.next_id += 1;
        let (tx, rx) = oneshot::channel();
        inner.open.insert(id, (ip, Some(tx)));
        inner.waiting.insert(id);
        let a = inner.addresses.entry(ip).or_default();
        a.open += 1;
        a.waiting.insert(id);
        drop(inner);
        Ok((Ticket { id, admission: self.clone() }, rx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn closed(rx: &mut oneshot::Receiver<()>) -> bool {
        rx.try_recv().is_ok()
    }

    #[test]
    fn an_address_over_its_share_loses_its_own_oldest_waiting_connection() {
        let adm = Admission::new(Limits { connections: 100, per_address: 3 });
        let mut held: Vec<_> = (0..3).map(|_| adm.admit(ip("127.0.0.2")).unwrap()).collect();
        let other = adm.admit(ip("127.0.0.1")).unwrap();
        let newest = adm.admit(ip("127.0.0.2")).unwrap();
        assert!(closed(&mut held[0].1), "the oldest waiting connection of that address is closed");
        assert!(!closed(&mut held[1].1));
        assert_eq!(adm.occupancy(), Occupancy { open: 4, waiting: 4 });
        drop(held.remove(0));
        assert_eq!(adm.occupancy().open, 4, "a closed connection's ticket frees nothing twice");
        drop((other, newest));
    }

    #[test]
    fn a_trusted_connection_is_never_the_one_closed() {
        let adm = Admission::new(Limits { connections: 2, per_address: 2 });
        let (trusted, mut trusted_rx) = adm.admit(ip("127.0.0.2")).unwrap();
        trusted.trust();
        let (_waiting, mut waiting_rx) = adm.admit(ip("127.0.0.2")).unwrap();
        let (t3, _rx3) = adm.admit(ip("127.0.0.2")).unwrap();
        assert!(closed(&mut waiting_rx));
        assert!(!closed(&mut trusted_rx));
        t3.trust();
        assert_eq!(adm.admit(ip("127.0.0.2")).err(), Some(Reason::AddressLimit));
        assert_eq!(adm.admit(ip("127.0.0.9")).err(), Some(Reason::ConnectionLimit));
        drop(t3);
        assert!(adm.admit(ip("127.0.0.9")).is_ok(), "a freed place is taken again");
    }

    #[test]
    fn the_global_bound_closes_the_oldest_waiting_connection_of_any_address() {
        let adm = Admission::new(Limits { connections: 3, per_address: 3 });
        let (a, mut a_rx) = adm.admit(ip("127.0.0.2")).unwrap();
        let (_b, mut b_rx) = adm.admit(ip("127.0.0.3")).unwrap();
        let (_c, _c_rx) = adm.admit(ip("127.0.0.4")).unwrap();
        a.trust();
        let _d = adm.admit(ip("127.0.0.1")).unwrap();
        assert!(!closed(&mut a_rx));
        assert!(closed(&mut b_rx), "the oldest waiting one goes, not the trusted older one");
        assert_eq!(adm.occupancy(), Occupancy { open: 3, waiting: 2 });
    }
}
