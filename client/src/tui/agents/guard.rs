//! The guard that keeps a key press from answering an approval prompt that appeared the instant
//! before: a prompt takes answers only once it has been on screen for [`GUARD`]. The clock is
//! passed in, so tests control it.

use std::time::Duration;

use tokio::time::Instant;
use warren_protocol::Id;

/// How long an approval prompt is shown before a key may answer it.
pub const GUARD: Duration = Duration::from_millis(300);

/// Which approval prompt is on screen, and since when.
#[derive(Debug, Default, Clone)]
pub struct ApprovalGuard {
    shown: Option<((Id, u32), Instant)>,
}

impl ApprovalGuard {
    /// Says which prompt is on screen now (`None`: none). A different prompt than before starts
    /// its wait at `now`; the same one keeps its time.
    pub fn show(&mut self, prompt: Option<(Id, u32)>, now: Instant) {
        match prompt {
            None => self.shown = None,
            Some(key) => {
                if self.shown.as_ref().is_none_or(|(k, _)| k != &key) {
                    self.shown = Some((key, now));
                }
            }
        }
    }

    /// The prompt on screen.
    pub fn prompt(&self) -> Option<&(Id, u32)> {
        self.shown.as_ref().map(|(k, _)| k)
    }

    /// Whether a key pressed at `now` may answer the prompt on screen.
    pub fn accepts(&self, now: Instant) -> bool {
        self.shown
            .as_ref()
            .is_some_and(|(_, since)| now.saturating_duration_since(*since) >= GUARD)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(n: u32) -> Option<(Id, u32)> {
        Some((Id::from_random("run", [1; 10]), n))
    }

    #[test]
    fn keys_within_the_guard_do_not_answer() {
        let t0 = Instant::now();
        let mut g = ApprovalGuard::default();
        assert!(!g.accepts(t0), "no prompt, nothing to answer");
        g.show(step(2), t0);
        assert!(!g.accepts(t0));
        assert!(!g.accepts(t0 + Duration::from_millis(299)));
        assert!(g.accepts(t0 + GUARD));
        // Seen again later: the same prompt keeps its time.
        g.show(step(2), t0 + Duration::from_millis(500));
        assert!(g.accepts(t0 + Duration::from_millis(500)));
        // A new prompt in its place waits again.
        g.show(step(4), t0 + Duration::from_secs(1));
        assert!(!g.accepts(t0 + Duration::from_millis(1_100)));
        assert!(g.accepts(t0 + Duration::from_millis(1_300)));
        g.show(None, t0 + Duration::from_secs(2));
        assert!(!g.accepts(t0 + Duration::from_secs(3)));
    }
}
