//! Cancelling a model call: a run's cancel flips a `watch` flag; every wait of a call (the
//! request, each chunk of the stream, a backoff pause) races it, so a cancel ends the call at
//! once with what had streamed so far.

use tokio::sync::watch;

/// The receiving side of a run's cancel. Cloning it is cheap; every clone sees the same flag.
#[derive(Debug, Clone)]
pub struct Cancel(watch::Receiver<bool>);

impl Cancel {
    /// A flag and the sender that raises it (`sender.send(true)`).
    pub fn pair() -> (watch::Sender<bool>, Cancel) {
        let (tx, rx) = watch::channel(false);
        (tx, Cancel(rx))
    }

    /// A cancel that never fires (tests, `provider test`).
    pub fn never() -> Cancel {
        let (tx, rx) = watch::channel(false);
        // Dropping the sender leaves the flag false for ever.
        drop(tx);
        Cancel(rx)
    }

    /// Wraps a receiver the caller already has.
    pub fn from_receiver(rx: watch::Receiver<bool>) -> Cancel {
        Cancel(rx)
    }

    /// Whether the flag is up now.
    pub fn is_cancelled(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves when the flag goes up; never if its sender is gone without raising it.
    pub async fn cancelled(&self) {
        let mut rx = self.0.clone();
        if rx.wait_for(|up| *up).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
