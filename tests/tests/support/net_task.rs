//! Driving the full-screen client's network task (`warren::tui::net`) in a test: waiting for the
//! event a test expects while skipping the others, with a bound.

use std::time::Duration;

use tokio::sync::mpsc;
use warren::tui::net::NetEvent;

/// The next event that `pick` accepts, skipping others; panics after 30 s or when the task ends.
pub async fn next<T>(
    events: &mut mpsc::UnboundedReceiver<NetEvent>,
    what: &str,
    mut pick: impl FnMut(NetEvent) -> Option<T>,
) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let event = tokio::time::timeout_at(deadline, events.recv())
            .await
            .unwrap_or_else(|_| panic!("waiting for {what}"))
            .unwrap_or_else(|| panic!("the network task ended before {what}"));
        if let Some(found) = pick(event) {
            return found;
        }
    }
}
