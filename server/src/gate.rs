//! Connection caps: at most so many open connections from one IP address and in total. A
//! connection holds a [`Pass`] from accept until its socket closes (also after the upgrade to a
//! WebSocket), so silent, half-sent and idle sockets all count.
//!
//! Past the total cap, [`OVERFLOW`] more connections are let in as *overflow*: they get a short
//! header deadline and may only ask for `/healthz` (a WebSocket upgrade is refused), so a
//! monitor can still see the server when it is full.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// Connections let in past the total cap, for `/healthz` only.
pub const OVERFLOW: usize = 32;

/// Counts open connections per address and in total.
#[derive(Debug)]
pub struct Gate {
    per_ip: usize,
    total: usize,
    open: Mutex<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    overflow: usize,
    by_ip: HashMap<IpAddr, usize>,
}

/// Why a connection was not let in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// This address already holds its share.
    PerIp,
    /// The server holds as many connections as it allows.
    Total,
}

impl Refused {
    /// What the refused client reads, with what to do next.
    pub fn message(self) -> &'static str {
        match self {
            Refused::PerIp => {
                "too many connections from your address; close some and reconnect (warren-server --max-connections-per-ip)"
            }
            Refused::Total => {
                "the server is at its connection limit; reconnect in a moment (warren-server --max-connections)"
            }
        }
    }
}

/// One admitted connection; dropping it frees its place.
#[derive(Debug)]
pub struct Pass {
    gate: Arc<Gate>,
    ip: IpAddr,
    overflow: bool,
}

impl Pass {
    /// Whether this connection came in past the total cap (`/healthz` only).
    pub fn is_overflow(&self) -> bool {
        self.overflow
    }
}

impl Gate {
    /// A gate allowing `per_ip` connections from each address and `total` in all.
    pub fn new(per_ip: usize, total: usize) -> Arc<Self> {
        Arc::new(Self {
            per_ip,
            total,
            open: Mutex::new(Counts::default()),
        })
    }

    /// Lets a connection from `ip` in, or says why not.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Pass, Refused> {
        let Ok(mut open) = self.open.lock() else {
            return Err(Refused::Total);
        };
        if open.by_ip.get(&ip).copied().unwrap_or(0) >= self.per_ip {
            return Err(Refused::PerIp);
        }
        let overflow = open.total >= self.total;
        if overflow {
            if open.overflow >= OVERFLOW {
                return Err(Refused::Total);
            }
            open.overflow += 1;
        } else {
            open.total += 1;
        }
        *open.by_ip.entry(ip).or_insert(0) += 1;
        Ok(Pass {
            gate: self.clone(),
            ip,
            overflow,
        })
    }

    /// Open connections in total.
    pub fn open(&self) -> usize {
        self.open.lock().map(|o| o.total).unwrap_or(0)
    }
}

impl Drop for Pass {
    fn drop(&mut self) {
        if let Ok(mut open) = self.gate.open.lock() {
            if self.overflow {
                open.overflow = open.overflow.saturating_sub(1);
            } else {
                open.total = open.total.saturating_sub(1);
            }
            if let Some(n) = open.by_ip.get_mut(&self.ip) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    open.by_ip.remove(&self.ip);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([127, 0, 0, last])
    }

    #[test]
    fn one_address_cannot_take_more_than_its_share() {
        let gate = Gate::new(2, 10);
        let a = gate.admit(ip(1)).expect("first");
        let _b = gate.admit(ip(1)).expect("second");
        assert_eq!(gate.admit(ip(1)).unwrap_err(), Refused::PerIp);
        // Another address still gets in.
        let _c = gate.admit(ip(2)).expect("other address");
        drop(a);
        assert!(
            gate.admit(ip(1)).is_ok(),
            "a closed connection frees its place"
        );
    }

    #[test]
    fn the_total_cap_holds_across_addresses_then_overflow_is_for_healthz() {
        let gate = Gate::new(5, 3);
        let passes: Vec<_> = (1..=3).map(|n| gate.admit(ip(n)).expect("room")).collect();
        assert!(passes.iter().all(|p| !p.is_overflow()));
        // Past the cap: overflow passes, then refusal.
        let overflow: Vec<_> = (0..OVERFLOW)
            .map(|n| gate.admit(ip(10 + (n % 100) as u8)).expect("overflow room"))
            .collect();
        assert!(overflow.iter().all(Pass::is_overflow));
        assert_eq!(gate.admit(ip(9)).unwrap_err(), Refused::Total);
        assert_eq!(gate.open(), 3);
        drop(overflow);
        assert!(gate.admit(ip(9)).is_ok_and(|p| p.is_overflow()));
        drop(passes);
        assert_eq!(gate.open(), 0);
        assert!(gate.admit(ip(9)).is_ok_and(|p| !p.is_overflow()));
    }
}
