//! Room for items a consumer has not taken yet, so that a fast producer waits instead of piling
//! them up in memory: the producer takes a place before it produces the next item
//! ([`Room::take`]), and the consumer gives it back once it has taken or handled one
//! ([`Room::give`]). A connection's socket task holds one for its pushes, and the full-screen
//! client's network task another for the pushes the app has not handled yet.

use std::sync::Arc;

use tokio::sync::Semaphore;

/// Places for items not taken yet, shared by the producer and the consumer.
#[derive(Debug, Clone)]
pub struct Room(Arc<Semaphore>);

impl Room {
    /// `n` places.
    pub fn new(n: usize) -> Room {
        Room(Arc::new(Semaphore::new(n.min(Semaphore::MAX_PERMITS))))
    }

    /// As many places as there can be: the producer never waits.
    pub fn unbounded() -> Room {
        Room::new(Semaphore::MAX_PERMITS)
    }

    /// Lowers an unbounded room to `n` places (at least 1). Call it before anything is taken.
    pub fn bound(&self, n: usize) {
        self.0
            .forget_permits(Semaphore::MAX_PERMITS.saturating_sub(n.max(1)));
    }

    /// Waits for a place and takes it (until [`Room::give`] returns one).
    pub async fn take(&self) {
        // The semaphore is never closed, so acquiring only ever waits.
        if let Ok(permit) = self.0.acquire().await {
            permit.forget();
        }
    }

    /// Gives a place back: an item was taken or handled.
    pub fn give(&self) {
        self.0.add_permits(1);
    }
}
