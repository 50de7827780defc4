//! Fan-out of events and ephemeral frames to the connections subscribed to a workspace.
//!
//! Each subscriber has its own bounded queue. Publishing never waits: an event that does not fit
//! marks the subscriber as lagged and drops it from the hub (closing its queue); its connection
//! then replays what it missed from the store and subscribes again (see
//! [`crate::connection`]). Ephemeral frames that do not fit are simply dropped. A slow client
//! therefore never slows the writer or any other client, and never silently loses an event.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;
use warren_protocol::Id;

/// Frames a subscriber's queue holds before it counts as lagging.
pub const QUEUE_FRAMES: usize = 1024;

/// One outbound frame, serialised once and shared by every subscriber.
#[derive(Debug)]
pub struct Frame {
    /// The event's sequence number, or 0 for an ephemeral frame.
    pub seq: u64,
    pub text: axum::extract::ws::Utf8Bytes,
}

/// Names one connection, so an ephemeral frame can skip exactly the connection that sent it.
pub type ConnectionId = u64;

struct Subscriber {
    id: u64,
    connection: ConnectionId,
    /// The user the connection acts as, so a member's removal ends their subscriptions.
    user: Id,
    tx: mpsc::Sender<Arc<Frame>>,
    lagged: Arc<AtomicBool>,
}

/// The receiving end of a subscription.
pub struct Subscription {
    pub rx: mpsc::Receiver<Arc<Frame>>,
    /// Set when the hub dropped this subscriber because its queue was full.
    pub lagged: Arc<AtomicBool>,
}

/// The registry of subscribers, by workspace.
#[derive(Default)]
pub struct Hub {
    next_id: AtomicU64,
    next_connection: AtomicU64,
    workspaces: Mutex<HashMap<Id, Vec<Subscriber>>>,
}

impl Hub {
    /// A fresh id for a connection.
    pub fn new_connection_id(&self) -> ConnectionId {
        self.next_connection.fetch_add(1, Ordering::Relaxed)
    }

    /// Registers a connection as a subscriber to a workspace's frames.
    pub fn subscribe(&self, workspace: &Id, connection: ConnectionId, user: &Id) -> Subscription {
        let (tx, rx) = mpsc::channel(QUEUE_FRAMES);
        let lagged = Arc::new(AtomicBool::new(false));
        let subscriber = Subscriber {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            connection,
            user: user.clone(),
            tx,
            lagged: lagged.clone(),
        };
        if let Ok(mut map) = self.workspaces.lock() {
            map.entry(workspace.clone()).or_default().push(subscriber);
        }
        Subscription { rx, lagged }
    }

    /// Delivers an event frame to every subscriber of the workspace, in the order of calls.
    /// Subscribers whose queue is full are marked lagged and dropped.
    pub fn publish_event(&self, workspace: &Id, frame: Arc<Frame>) {
        let Ok(mut map) = self.workspaces.lock() else {
            return;
        };
        let Some(subscribers) = map.get_mut(workspace) else {
            return;
        };
        subscribers.retain(|s| match s.tx.try_send(frame.clone()) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                s.lagged.store(true, Ordering::Release);
                tracing::info!(subscriber = s.id, workspace = %workspace, "subscriber lagged; it will replay from the store");
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        });
    }

    /// Delivers an ephemeral frame to every subscriber except the connection `except` (the
    /// sender; the same user's other connections do get it), dropping it for anyone whose queue
    /// is full.
    pub fn publish_ephemeral(&self, workspace: &Id, except: ConnectionId, frame: Arc<Frame>) {
        let Ok(mut map) = self.workspaces.lock() else {
            return;
        };
        if let Some(subscribers) = map.get_mut(workspace) {
            subscribers.retain(|s| {
                if s.connection == except {
                    return !s.tx.is_closed();
                }
                !matches!(
                    s.tx.try_send(frame.clone()),
                    Err(mpsc::error::TrySendError::Closed(_))
                )
            });
        }
    }

    /// Ends every subscription of `user` to a workspace (they were removed from it). Their
    /// connections see the queue close without a lag and stop receiving the workspace.
    pub fn evict_user(&self, workspace: &Id, user: &Id) {
        if let Ok(mut map) = self.workspaces.lock()
            && let Some(subscribers) = map.get_mut(workspace)
        {
            subscribers.retain(|s| &s.user != user);
        }
    }

    /// Delivers a frame to the subscription of one connection only (the current presence list
    /// after it subscribes). A full queue marks it lagged, as for an event.
    pub fn send_to(&self, workspace: &Id, connection: ConnectionId, frame: Arc<Frame>) {
        if let Ok(mut map) = self.workspaces.lock()
            && let Some(subscribers) = map.get_mut(workspace)
        {
            subscribers.retain(|s| {
                if s.connection != connection {
                    return true;
                }
                match s.tx.try_send(frame.clone()) {
                    Ok(()) => true,
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        s.lagged.store(true, Ordering::Release);
                        false
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => false,
                }
            });
        }
    }

    /// Ends every subscription to a workspace (it was deleted; its last event was published
    /// first). Their connections see the queue close without a lag and stop receiving it.
    pub fn close_workspace(&self, workspace: &Id) {
        if let Ok(mut map) = self.workspaces.lock() {
            map.remove(workspace);
        }
    }

    /// Drops every subscriber, closing their queues (used at shutdown).
    pub fn clear(&self) {
        if let Ok(mut map) = self.workspaces.lock() {
            map.clear();
        }
    }

    /// How many subscribers a workspace has (for tests and metrics).
    pub fn subscriber_count(&self, workspace: &Id) -> usize {
        self.workspaces
            .lock()
            .map(|m| m.get(workspace).map_or(0, Vec::len))
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(seq: u64) -> Arc<Frame> {
        Arc::new(Frame {
            seq,
            text: format!("{{\"seq\":{seq}}}").into(),
        })
    }

    fn user() -> Id {
        Id::from_random("usr", [2; 10])
    }

    #[tokio::test]
    async fn evicting_a_user_closes_only_their_subscriptions() {
        let hub = Hub::default();
        let (ws, a, b) = ids(&hub);
        let other = Id::from_random("usr", [3; 10]);
        let mut gone = hub.subscribe(&ws, a, &user());
        let mut kept = hub.subscribe(&ws, b, &other);
        hub.evict_user(&ws, &user());
        hub.publish_event(&ws, frame(1));
        assert_eq!(gone.rx.recv().await.map(|f| f.seq), None);
        assert!(!gone.lagged.load(Ordering::Acquire), "not a lag: no replay");
        assert_eq!(kept.rx.recv().await.map(|f| f.seq), Some(1));
    }

    fn ids(hub: &Hub) -> (Id, ConnectionId, ConnectionId) {
        (
            Id::from_random("ws", [1; 10]),
            hub.new_connection_id(),
            hub.new_connection_id(),
        )
    }

    #[tokio::test]
    async fn a_full_queue_marks_only_that_subscriber_lagged() {
        let hub = Hub::default();
        let (ws, a, b) = ids(&hub);
        let mut slow = hub.subscribe(&ws, a, &user());
        let mut fast = hub.subscribe(&ws, b, &user());
        for seq in 1..=(QUEUE_FRAMES as u64 + 1) {
            hub.publish_event(&ws, frame(seq));
            // The fast subscriber keeps up.
            assert_eq!(fast.rx.recv().await.map(|f| f.seq), Some(seq));
        }
        assert!(slow.lagged.load(Ordering::Acquire));
        assert!(!fast.lagged.load(Ordering::Acquire));
        assert_eq!(hub.subscriber_count(&ws), 1);
        // The slow one still drains what was queued, then sees its queue closed.
        let mut last = 0;
        while let Some(f) = slow.rx.recv().await {
            last = f.seq;
        }
        assert_eq!(last, QUEUE_FRAMES as u64);
    }

    #[tokio::test]
    async fn ephemeral_frames_skip_the_sender_and_never_lag() {
        let hub = Hub::default();
        let (ws, a, b) = ids(&hub);
        let mut sender = hub.subscribe(&ws, a, &user());
        let mut other = hub.subscribe(&ws, b, &user());
        for _ in 0..(QUEUE_FRAMES + 10) {
            hub.publish_ephemeral(&ws, a, frame(0));
        }
        assert!(!other.lagged.load(Ordering::Acquire));
        assert_eq!(hub.subscriber_count(&ws), 2);
        assert!(sender.rx.try_recv().is_err());
        assert!(other.rx.try_recv().is_ok());
    }
}
