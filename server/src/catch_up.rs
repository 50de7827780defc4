//! Bounding the work of reconnect storms: at most [`Limits::max_catch_ups`] snapshot builds and
//! replay page reads run at once (others wait their turn, so live traffic keeps its share of the
//! CPU), and a workspace's `snapshot` frame is built once per head and shared by every
//! connection that needs it at that head.
//!
//! [`Limits::max_catch_ups`]: crate::limits::Limits::max_catch_ups

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::ws::Utf8Bytes;
use tokio::sync::{Semaphore, SemaphorePermit};
use warren_protocol::{Id, ServerMessage};

use crate::frames;

/// A workspace's `snapshot` frame as of one sequence number.
#[derive(Debug, Clone)]
pub struct SnapshotFrame {
    pub seq: u64,
    pub text: Utf8Bytes,
}

type Slot = Arc<tokio::sync::Mutex<Option<SnapshotFrame>>>;

/// The shared limiter and snapshot cache.
#[derive(Debug)]
pub struct CatchUp {
    permits: Semaphore,
    snapshots: Mutex<HashMap<Id, Slot>>,
    builds: AtomicU64,
}

impl CatchUp {
    /// Lets `max` catch-up jobs run at once (at least one).
    pub fn new(max: usize) -> Self {
        Self {
            permits: Semaphore::new(max.max(1)),
            snapshots: Mutex::new(HashMap::new()),
            builds: AtomicU64::new(0),
        }
    }

    /// Waits for a turn to read the store for a catch-up; `None` never happens in practice (the
    /// semaphore is never closed).
    pub async fn turn(&self) -> Option<SemaphorePermit<'_>> {
        self.permits.acquire().await.ok()
    }

    /// Drops the cached snapshot of a workspace that was deleted.
    pub fn forget(&self, workspace: &Id) {
        if let Ok(mut map) = self.snapshots.lock() {
            map.remove(workspace);
        }
    }

    /// How many snapshot frames were built (for tests and metrics).
    pub fn builds(&self) -> u64 {
        self.builds.load(Ordering::Relaxed)
    }

    /// The snapshot frame of `workspace` at `head` or later: the cached one if it is that new,
    /// else one built by `build` (in a turn) and cached. Concurrent callers for the same
    /// workspace wait for one build rather than each doing their own.
    pub async fn snapshot<E, F, Fut>(
        &self,
        workspace: &Id,
        head: u64,
        build: F,
    ) -> Result<Option<SnapshotFrame>, E>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Option<warren_protocol::WorkspaceState>, E>>,
    {
        let slot = {
            let Ok(mut map) = self.snapshots.lock() else {
                return Ok(None);
            };
            map.entry(workspace.clone()).or_default().clone()
        };
        let mut cached = slot.lock().await;
        if let Some(frame) = cached.as_ref()
            && frame.seq >= head
        {
            return Ok(Some(frame.clone()));
        }
        let state = {
            let _turn = self.turn().await;
            build().await?
        };
        let Some(state) = state else {
            return Ok(None);
        };
        self.builds.fetch_add(1, Ordering::Relaxed);
        let frame = SnapshotFrame {
            seq: state.seq,
            text: frames::text(&ServerMessage::Snapshot { state }),
        };
        *cached = Some(frame.clone());
        Ok(Some(frame))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use warren_protocol::WorkspaceState;

    fn state(seq: u64) -> WorkspaceState {
        serde_json::from_value(serde_json::json!({
            "workspace": {"id": Id::from_random("ws", [1; 10]).as_str(), "name": "Acme", "created_at": 0},
            "seq": seq,
            "members": [], "boards": [], "cards": [], "rooms": []
        }))
        .expect("a minimal workspace state")
    }

    #[tokio::test]
    async fn a_storm_at_one_head_builds_one_snapshot() {
        let catch_up = Arc::new(CatchUp::new(2));
        let ws = Id::from_random("ws", [1; 10]);
        let calls = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let (catch_up, ws, calls) = (catch_up.clone(), ws.clone(), calls.clone());
            tasks.push(tokio::spawn(async move {
                catch_up
                    .snapshot(&ws, 7, || async move {
                        calls.fetch_add(1, Ordering::SeqCst);
                        tokio::task::yield_now().await;
                        Ok::<_, ()>(Some(state(7)))
                    })
                    .await
            }));
        }
        for task in tasks {
            let frame = task.await.expect("task").expect("built").expect("a frame");
            assert_eq!(frame.seq, 7);
            assert!(frame.text.as_str().contains("\"type\":\"snapshot\""));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(catch_up.builds(), 1);
        // A newer head builds again.
        let frame = catch_up
            .snapshot(&ws, 8, || async { Ok::<_, ()>(Some(state(8))) })
            .await
            .expect("built")
            .expect("a frame");
        assert_eq!(frame.seq, 8);
        assert_eq!(catch_up.builds(), 2);
    }

    #[tokio::test]
    async fn turns_are_limited() {
        let catch_up = CatchUp::new(2);
        let a = catch_up.turn().await;
        let b = catch_up.turn().await;
        assert!(a.is_some() && b.is_some());
        assert!(catch_up.permits.try_acquire().is_err(), "a third waits");
        drop(a);
        assert!(catch_up.permits.try_acquire().is_ok());
    }
}
