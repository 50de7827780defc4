//! One circuit breaker per provider, shared by every call of the worker process: after
//! `failures_to_open` consecutive failures (transient or auth) the provider is skipped; after
//! `cool_down` one call goes through as a probe (half-open); its success closes the circuit, its
//! failure opens it for another cool-down. [`Breakers::health`] is what `provider list` shows.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;
use warren_protocol::agent::ProviderErrorClass;

/// When a circuit opens and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerPolicy {
    /// Consecutive failures that open the circuit.
    pub failures_to_open: u32,
    /// How long an open circuit skips the provider before a probe.
    pub cool_down: Duration,
    /// A failure this recent makes a closed circuit `degraded`.
    pub degraded_for: Duration,
}

impl Default for BreakerPolicy {
    fn default() -> BreakerPolicy {
        BreakerPolicy {
            failures_to_open: 5,
            cool_down: Duration::from_secs(30),
            degraded_for: Duration::from_secs(300),
        }
    }
}

/// A provider's health, as `provider list` shows it (the wire's vocabulary: open and
/// half-open breakers both read `circuit_open`).
pub use warren_protocol::agent::HealthState;

/// The last failure of a provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LastError {
    pub class: ProviderErrorClass,
    pub message: String,
    /// When, in milliseconds since the Unix epoch.
    pub at_ms: i64,
}

/// A provider's breaker, for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Health {
    pub state: HealthState,
    pub consecutive_failures: u32,
    pub last_error: Option<LastError>,
}

#[derive(Debug, Clone, Copy)]
enum Circuit {
    Closed,
    Open {
        until: Instant,
    },
    /// A probe is under way (or about to be).
    HalfOpen,
}

#[derive(Debug)]
struct Entry {
    circuit: Circuit,
    consecutive: u32,
    last_error: Option<LastError>,
    last_failure: Option<Instant>,
}

impl Default for Entry {
    fn default() -> Entry {
        Entry {
            circuit: Circuit::Closed,
            consecutive: 0,
            last_error: None,
            last_failure: None,
        }
    }
}

/// Whether a call may go to a provider.
#[derive(Debug)]
pub enum Admission {
    /// Go; report the outcome on the permit.
    Go(Permit),
    /// The circuit is open: skip the provider, for about this long yet.
    Skip {
        retry_in: Duration,
        last_class: Option<ProviderErrorClass>,
    },
}

/// The breakers of every provider of the process.
#[derive(Debug)]
pub struct Breakers {
    policy: BreakerPolicy,
    entries: Mutex<HashMap<String, Entry>>,
}

impl Breakers {
    pub fn new(policy: BreakerPolicy) -> Breakers {
        Breakers {
            policy,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The process's breakers (default policy), shared by every chain that does not bring its
    /// own.
    pub fn shared() -> Arc<Breakers> {
        static SHARED: OnceLock<Arc<Breakers>> = OnceLock::new();
        SHARED
            .get_or_init(|| Arc::new(Breakers::new(BreakerPolicy::default())))
            .clone()
    }

    pub fn policy(&self) -> BreakerPolicy {
        self.policy
    }

    fn with<T>(&self, provider: &str, f: impl FnOnce(&mut Entry) -> T) -> T {
        // A poisoned lock only means another call panicked mid-update; the counts stay usable.
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        f(entries.entry(provider.to_string()).or_default())
    }

    /// May a call go to `provider` now?
    pub fn admit(self: &Arc<Self>, provider: &str) -> Admission {
        let now = Instant::now();
        let go = self.with(provider, |entry| match entry.circuit {
            Circuit::Closed => Ok(false),
            Circuit::Open { until } if now >= until => {
                entry.circuit = Circuit::HalfOpen;
                Ok(true)
            }
            Circuit::Open { until } => {
                Err((until - now, entry.last_error.as_ref().map(|e| e.class)))
            }
            Circuit::HalfOpen => Err((Duration::ZERO, entry.last_error.as_ref().map(|e| e.class))),
        });
        match go {
            Ok(probe) => Admission::Go(Permit {
                breakers: self.clone(),
                provider: provider.to_string(),
                probe,
                settled: false,
            }),
            Err((retry_in, last_class)) => Admission::Skip {
                retry_in,
                last_class,
            },
        }
    }

    /// `provider`'s health now.
    pub fn health(&self, provider: &str) -> Health {
        let now = Instant::now();
        let degraded_for = self.policy.degraded_for;
        self.with(provider, |entry| Health {
            state: match entry.circuit {
                Circuit::Open { .. } | Circuit::HalfOpen => HealthState::CircuitOpen,
                Circuit::Closed
                    if entry.consecutive > 0
                        || entry
                            .last_failure
                            .is_some_and(|at| now.duration_since(at) < degraded_for) =>
                {
                    HealthState::Degraded
                }
                Circuit::Closed => HealthState::Ok,
            },
            consecutive_failures: entry.consecutive,
            last_error: entry.last_error.clone(),
        })
    }

    /// Every provider called so far and its health, by name (what a worker reports).
    pub fn all(&self) -> Vec<(String, Health)> {
        let mut names: Vec<String> = {
            let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            entries.keys().cloned().collect()
        };
        names.sort();
        names
            .into_iter()
            .map(|name| {
                let health = self.health(&name);
                (name, health)
            })
            .collect()
    }

    fn success(&self, provider: &str) {
        self.with(provider, |entry| {
            entry.circuit = Circuit::Closed;
            entry.consecutive = 0;
        });
    }

    fn failure(&self, provider: &str, class: ProviderErrorClass, message: &str, probe: bool) {
        let now = Instant::now();
        let policy = self.policy;
        self.with(provider, |entry| {
            entry.consecutive = entry.consecutive.saturating_add(1);
            entry.last_failure = Some(now);
            entry.last_error = Some(LastError {
                class,
                message: message.to_string(),
                at_ms: jiff::Timestamp::now().as_millisecond(),
            });
            if probe || entry.consecutive >= policy.failures_to_open {
                entry.circuit = Circuit::Open {
                    until: now + policy.cool_down,
                };
            }
        });
    }

    fn release(&self, provider: &str) {
        self.with(provider, |entry| {
            if matches!(entry.circuit, Circuit::HalfOpen) {
                // The probe ended without a verdict (cancelled): the next call probes again.
                entry.circuit = Circuit::Open {
                    until: Instant::now(),
                };
            }
        });
    }
}

/// A call let through; its outcome is reported once ([`Permit::success`] or
/// [`Permit::failure`]). Dropped without either, it frees a probe slot for the next call.
#[derive(Debug)]
pub struct Permit {
    breakers: Arc<Breakers>,
    provider: String,
    probe: bool,
    settled: bool,
}

impl Permit {
    /// Whether this call is the probe of a half-open circuit.
    pub fn is_probe(&self) -> bool {
        self.probe
    }

    pub fn success(mut self) {
        self.settled = true;
        self.breakers.success(&self.provider);
    }

    /// A failure: transient and auth failures count towards opening the circuit; a refused
    /// request (`bad_request`) and a cancel say nothing about the provider's health.
    pub fn failure(mut self, class: ProviderErrorClass, message: &str) {
        if class.is_transient() || class == ProviderErrorClass::Auth {
            self.settled = true;
            self.breakers
                .failure(&self.provider, class, message, self.probe);
        } else if class == ProviderErrorClass::BadRequest && self.probe {
            // The provider answered: it is up.
            self.settled = true;
            self.breakers.success(&self.provider);
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if !self.settled && self.probe {
            self.breakers.release(&self.provider);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ProviderErrorClass::*;

    fn breakers() -> Arc<Breakers> {
        Arc::new(Breakers::new(BreakerPolicy {
            failures_to_open: 3,
            cool_down: Duration::from_secs(10),
            degraded_for: Duration::from_secs(60),
        }))
    }

    fn go(b: &Arc<Breakers>) -> Permit {
        match b.admit("p") {
            Admission::Go(permit) => permit,
            Admission::Skip { .. } => panic!("skipped"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn opens_after_consecutive_failures_probes_after_the_cool_down_and_closes() {
        let b = breakers();
        assert_eq!(b.health("p").state, HealthState::Ok);
        go(&b).failure(Server, "HTTP 500");
        go(&b).failure(Timeout, "slow");
        assert_eq!(b.health("p").state, HealthState::Degraded);
        go(&b).failure(Network, "reset");
        let health = b.health("p");
        assert_eq!(health.state, HealthState::CircuitOpen);
        assert_eq!(health.consecutive_failures, 3);
        assert_eq!(health.last_error.as_ref().map(|e| e.class), Some(Network));
        match b.admit("p") {
            Admission::Skip {
                retry_in,
                last_class,
            } => {
                assert_eq!(retry_in, Duration::from_secs(10));
                assert_eq!(last_class, Some(Network));
            }
            Admission::Go(_) => panic!("let through while open"),
        }
        tokio::time::advance(Duration::from_secs(10)).await;
        let probe = go(&b);
        assert!(probe.is_probe());
        // One probe at a time.
        assert!(matches!(b.admit("p"), Admission::Skip { .. }));
        probe.success();
        assert_eq!(
            b.health("p").state,
            HealthState::Degraded,
            "a recent failure"
        );
        assert_eq!(b.health("p").consecutive_failures, 0);
        assert!(!go(&b).is_probe());
        tokio::time::advance(Duration::from_secs(61)).await;
        assert_eq!(b.health("p").state, HealthState::Ok);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_probe_reopens_and_a_dropped_one_frees_the_slot() {
        let b = breakers();
        for _ in 0..3 {
            go(&b).failure(Auth, "HTTP 401");
        }
        tokio::time::advance(Duration::from_secs(10)).await;
        go(&b).failure(Server, "still down");
        assert!(matches!(b.admit("p"), Admission::Skip { .. }));
        tokio::time::advance(Duration::from_secs(10)).await;
        drop(go(&b));
        assert!(go(&b).is_probe(), "the dropped probe's slot is free again");
    }

    #[tokio::test(start_paused = true)]
    async fn refused_requests_and_cancels_do_not_count_and_success_resets() {
        let b = breakers();
        go(&b).failure(Server, "x");
        go(&b).failure(Server, "x");
        go(&b).failure(BadRequest, "unknown model");
        go(&b).failure(Cancelled, "cancelled");
        assert_eq!(b.health("p").consecutive_failures, 2);
        go(&b).success();
        go(&b).failure(Server, "x");
        go(&b).failure(Server, "x");
        assert_ne!(b.health("p").state, HealthState::CircuitOpen);
        assert_eq!(b.health("other").state, HealthState::Ok);
        let all: Vec<(String, HealthState)> =
            b.all().into_iter().map(|(n, h)| (n, h.state)).collect();
        assert_eq!(
            all,
            [
                ("other".to_string(), HealthState::Ok),
                ("p".to_string(), HealthState::Degraded)
            ]
        );
    }
}
