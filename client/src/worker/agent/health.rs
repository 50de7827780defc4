//! Telling the server how the providers fare (`report_provider_health`), so `provider list`
//! shows what workers see: after each model call, every provider it involved is compared with
//! what this worker last reported of it; a new breaker state (ok → degraded → circuit open →
//! ok again) or a new kind of failure is reported — at most once per provider per [`MIN_GAP`].
//! A change inside the gap is looked at again when the gap has passed, so none is lost.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;
use warren_protocol::Command;
use warren_protocol::agent::{HealthState, Provider, ProviderErrorClass};

use super::link::Link;
use crate::provider::{Breakers, Health};

/// Least time between two reports about one provider.
pub const MIN_GAP: Duration = Duration::from_secs(5);

/// What was last reported about a provider.
#[derive(Debug, Clone, Copy)]
struct Sent {
    state: HealthState,
    class: Option<ProviderErrorClass>,
    at: Instant,
    /// A re-check is already scheduled.
    rechecking: bool,
}

/// What to do about one provider now.
#[derive(Debug, PartialEq)]
pub enum Due {
    /// Nothing new.
    No,
    /// Report this.
    Report(Health),
    /// Something new, but too soon: look again after this long.
    Later(Duration),
}

/// The last report per provider name, shared by every agent run of the worker.
#[derive(Debug, Default)]
pub struct HealthReports {
    sent: Mutex<HashMap<String, Sent>>,
}

impl HealthReports {
    /// Whether `health` of `provider` should be reported now (and, if so, it counts as sent).
    pub fn due(&self, provider: &str, health: Health) -> Due {
        let now = Instant::now();
        let class = health.last_error.as_ref().map(|e| e.class);
        let mut sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(last) = sent.get_mut(provider) {
            if last.state == health.state && (class.is_none() || last.class == class) {
                return Due::No;
            }
            let next = last.at + MIN_GAP;
            if now < next {
                if last.rechecking {
                    return Due::No;
                }
                last.rechecking = true;
                return Due::Later(next - now);
            }
        }
        sent.insert(
            provider.to_owned(),
            Sent {
                state: health.state,
                class,
                at: now,
                rechecking: false,
            },
        );
        Due::Report(health)
    }

    fn rechecked(&self, provider: &str) {
        let mut sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(last) = sent.get_mut(provider) {
            last.rechecking = false;
        }
    }

    /// Reports (in the background) whatever is due about `names` among `providers`.
    pub fn report(
        self: &Arc<Self>,
        link: &Link,
        breakers: &Arc<Breakers>,
        providers: &[Provider],
        names: &[String],
    ) {
        for name in names {
            let Some(provider) = providers.iter().find(|p| &p.name == name) else {
                continue;
            };
            match self.due(name, breakers.health(name)) {
                Due::No => {}
                Due::Report(health) => send(link.clone(), provider, health),
                Due::Later(wait) => {
                    let (me, link, breakers) = (self.clone(), link.clone(), breakers.clone());
                    let provider = provider.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(wait).await;
                        me.rechecked(&provider.name);
                        let names = [provider.name.clone()];
                        me.report(&link, &breakers, std::slice::from_ref(&provider), &names);
                    });
                }
            }
        }
    }
}

/// Sends one report; a refusal only costs the report (the next change sends another).
fn send(mut link: Link, provider: &Provider, health: Health) {
    let command = Command::ReportProviderHealth {
        provider_id: provider.id.clone(),
        state: health.state,
        last_error: health.last_error.as_ref().map(|e| e.class),
        message: health.last_error.map(|e| e.message),
    };
    tokio::spawn(async move {
        let _ = link.command(command).await;
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::breaker::LastError;

    fn health(state: HealthState, class: Option<ProviderErrorClass>) -> Health {
        Health {
            state,
            consecutive_failures: 0,
            last_error: class.map(|class| LastError {
                class,
                message: "m".into(),
                at_ms: 0,
            }),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn changes_are_reported_once_and_at_most_once_per_gap() {
        let reports = HealthReports::default();
        let ok = || health(HealthState::Ok, None);
        assert!(
            matches!(reports.due("p", ok()), Due::Report(_)),
            "first sight"
        );
        assert_eq!(reports.due("p", ok()), Due::No, "nothing new");
        // A new kind of failure one second later: too soon, looked at again when the gap ends.
        tokio::time::advance(Duration::from_secs(1)).await;
        let limited = || health(HealthState::Degraded, Some(ProviderErrorClass::RateLimit));
        assert_eq!(
            reports.due("p", limited()),
            Due::Later(MIN_GAP - Duration::from_secs(1))
        );
        assert_eq!(
            reports.due("p", limited()),
            Due::No,
            "one re-check is enough"
        );
        tokio::time::advance(MIN_GAP).await;
        reports.rechecked("p");
        assert!(matches!(reports.due("p", limited()), Due::Report(_)));
        // The same class again, or a closed circuit staying closed: nothing.
        tokio::time::advance(MIN_GAP).await;
        assert_eq!(reports.due("p", limited()), Due::No);
        let open = health(
            HealthState::CircuitOpen,
            Some(ProviderErrorClass::RateLimit),
        );
        assert!(
            matches!(reports.due("p", open), Due::Report(_)),
            "the circuit opened"
        );
        // Another provider has its own gap.
        assert!(matches!(reports.due("q", ok()), Due::Report(_)));
    }
}
