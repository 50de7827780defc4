//! The bounded queue of answers from the reading half (and command tasks) to the sending half.
//!
//! Two budgets bound what a client that sends but never reads can make the server hold: at most
//! [`REPLY_QUEUE`] frames and [`REPLY_BYTES`] bytes wait at once. A frame's share of both is
//! given back only when the sending half has written it to the socket (a command's in-flight
//! slot, carried along, likewise). While the queue is full the reader waits, so it stops reading
//! the socket and TCP pushes back on the client.

use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use warren_protocol::Id;

/// Frames that may wait for the sending half.
pub const REPLY_QUEUE: usize = 64;
/// Bytes of frames that may wait for the sending half (a larger frame takes the whole budget).
pub const REPLY_BYTES: usize = 1024 * 1024;

/// What the reading half asks the sending half to do.
pub enum Outgoing {
    /// Send a frame, then give back what it held.
    Text(Utf8Bytes, Held),
    /// (Re)subscribe to a workspace from a sequence number.
    Subscribe { workspace: Id, since: Option<u64> },
    /// Close the socket with this code (instead of 1000 / 1001) once the queue is drained.
    Close { code: u16, reason: &'static str },
}

/// The budget a queued frame holds until it is written.
pub struct Held {
    _bytes: Option<OwnedSemaphorePermit>,
    _slot: Option<OwnedSemaphorePermit>,
}

/// The sending end, shared by the reader and its command tasks.
#[derive(Clone)]
pub struct Replies {
    tx: mpsc::Sender<Outgoing>,
    bytes: Arc<Semaphore>,
}

impl Replies {
    /// A new queue and its receiving end.
    pub fn new() -> (Self, mpsc::Receiver<Outgoing>) {
        let (tx, rx) = mpsc::channel(REPLY_QUEUE);
        let bytes = Arc::new(Semaphore::new(REPLY_BYTES));
        (Self { tx, bytes }, rx)
    }

    /// Queues a frame, waiting while the budgets are used up; `slot` (a command's in-flight
    /// slot) is freed once the frame is written. Returns false when the sending half is gone.
    pub async fn text(&self, text: Utf8Bytes, slot: Option<OwnedSemaphorePermit>) -> bool {
        let want = u32::try_from(text.len().clamp(1, REPLY_BYTES)).unwrap_or(u32::MAX);
        let Ok(bytes) = self.bytes.clone().acquire_many_owned(want).await else {
            return false;
        };
        let held = Held {
            _bytes: Some(bytes),
            _slot: slot,
        };
        self.tx.send(Outgoing::Text(text, held)).await.is_ok()
    }

    /// Queues a control message.
    pub async fn control(&self, message: Outgoing) -> bool {
        self.tx.send(message).await.is_ok()
    }

    /// Completes when the sending half has stopped (it gave up on the peer).
    pub async fn closed(&self) {
        self.tx.closed().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_byte_budget_holds_until_the_frame_is_written() {
        let (replies, mut rx) = Replies::new();
        let big: Utf8Bytes = "x".repeat(REPLY_BYTES - 10).into();
        assert!(replies.text(big, None).await);
        // A second frame does not fit until the first is written (dropped here).
        assert!(
            replies.bytes.clone().try_acquire_many_owned(100).is_err(),
            "the budget is used up while the frame waits"
        );
        let first = rx.recv().await;
        assert!(matches!(first, Some(Outgoing::Text(ref t, _)) if t.len() == REPLY_BYTES - 10));
        assert!(replies.bytes.clone().try_acquire_many_owned(100).is_err());
        drop(first);
        assert!(replies.text("y".repeat(100).into(), None).await);
        assert_eq!(replies.bytes.available_permits(), REPLY_BYTES - 100);
    }

    #[tokio::test]
    async fn a_commands_slot_is_freed_only_when_its_answer_is_written() {
        let (replies, mut rx) = Replies::new();
        let slots = Arc::new(Semaphore::new(1));
        let slot = slots.clone().acquire_owned().await.expect("a slot");
        assert!(replies.text("ack".into(), Some(slot)).await);
        assert_eq!(slots.available_permits(), 0, "queued is not yet sent");
        let queued = rx.recv().await;
        assert_eq!(slots.available_permits(), 0);
        drop(queued);
        assert_eq!(slots.available_permits(), 1);
    }
}
