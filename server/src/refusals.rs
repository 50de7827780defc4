//! Logging refused authentications at a bounded rate. A flood of bad tokens must not become a
//! flood of log lines: the first refusal from an address in an interval is logged as it happens,
//! the rest are counted and logged once when the interval ends ("N refused authentications from
//! IP in the last 10 s"). At most [`MAX_ADDRESSES_LOGGED`] addresses get their own line per
//! interval; the others are summed into one.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Addresses that get their own line per interval.
pub const MAX_ADDRESSES_LOGGED: usize = 20;

/// Counts of refused authentications per address in the current interval.
#[derive(Debug)]
pub struct Refusals {
    interval: Duration,
    counts: Mutex<HashMap<Option<IpAddr>, u64>>,
}

/// One line the log gets at the end of an interval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Summary {
    /// `count` refusals from one address (beyond the first, already logged).
    Address { ip: Option<IpAddr>, count: u64 },
    /// Addresses past [`MAX_ADDRESSES_LOGGED`], together.
    Others { addresses: usize, count: u64 },
}

impl Refusals {
    /// Counts over `interval`.
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            counts: Mutex::new(HashMap::new()),
        }
    }

    /// Records a refusal; returns whether it should be logged now (the address's first in this
    /// interval, and among the first [`MAX_ADDRESSES_LOGGED`] addresses).
    pub fn record(&self, ip: Option<IpAddr>) -> bool {
        let Ok(mut counts) = self.counts.lock() else {
            return false;
        };
        let known = counts.len();
        let count = counts.entry(ip).or_insert(0);
        *count += 1;
        *count == 1 && known < MAX_ADDRESSES_LOGGED
    }

    /// Ends the interval: what to log about the refusals not logged one by one.
    pub fn take(&self) -> Vec<Summary> {
        let Ok(mut counts) = self.counts.lock() else {
            return Vec::new();
        };
        let mut all: Vec<(Option<IpAddr>, u64)> = counts.drain().collect();
        all.sort_by_key(|(_, count)| std::cmp::Reverse(*count));
        let mut lines = Vec::new();
        let mut others = (0, 0);
        for (n, (ip, count)) in all.into_iter().enumerate() {
            if n < MAX_ADDRESSES_LOGGED {
                // The first was logged as it happened.
                if count > 1 {
                    lines.push(Summary::Address {
                        ip,
                        count: count - 1,
                    });
                }
            } else {
                others.0 += 1;
                others.1 += count;
            }
        }
        if others.0 > 0 {
            lines.push(Summary::Others {
                addresses: others.0,
                count: others.1,
            });
        }
        lines
    }

    /// Logs the counts at the end of every interval, for as long as the server runs.
    pub fn spawn_reporter(self: &Arc<Self>) {
        let refusals = Arc::downgrade(self);
        let interval = self.interval;
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(refusals) = refusals.upgrade() else {
                    return;
                };
                let secs = interval.as_secs_f64();
                for line in refusals.take() {
                    match line {
                        Summary::Address { ip, count } => tracing::warn!(
                            "{count} more refused authentications from {} in the last {secs} s",
                            describe(ip)
                        ),
                        Summary::Others { addresses, count } => tracing::warn!(
                            "{count} refused authentications from {addresses} other addresses in the last {secs} s"
                        ),
                    }
                }
            }
        });
    }
}

/// An address for the log.
pub fn describe(ip: Option<IpAddr>) -> String {
    ip.map_or_else(|| "an unknown address".to_owned(), |ip| ip.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> Option<IpAddr> {
        Some(IpAddr::from([10, 0, 0, last]))
    }

    #[test]
    fn a_flood_from_one_address_is_one_line_now_and_one_count_later() {
        let r = Refusals::new(Duration::from_secs(10));
        let logged: usize = (0..1000).map(|_| usize::from(r.record(ip(1)))).sum();
        assert_eq!(logged, 1);
        assert_eq!(
            r.take(),
            vec![Summary::Address {
                ip: ip(1),
                count: 999
            }]
        );
        assert!(r.take().is_empty(), "a new interval starts empty");
        assert!(r.record(ip(1)), "and logs the first again");
    }

    #[test]
    fn many_addresses_are_summed_past_the_limit() {
        let r = Refusals::new(Duration::from_secs(10));
        let mut logged = 0;
        for n in 0..50u8 {
            logged += usize::from(r.record(ip(n)));
            logged += usize::from(r.record(ip(n)));
        }
        assert_eq!(logged, MAX_ADDRESSES_LOGGED);
        let lines = r.take();
        assert_eq!(lines.len(), MAX_ADDRESSES_LOGGED + 1);
        assert_eq!(
            lines.last(),
            Some(&Summary::Others {
                addresses: 30,
                count: 60
            })
        );
    }
}
