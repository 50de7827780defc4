//! The registry of workers the server knows in memory: per workspace and bot, the tags and
//! concurrency of its last `worker_hello`, whether it drains, when it was last heard from, and
//! the outbound sender of its current connection (frames the writer addresses to it: `assign`,
//! `cancel_run`). A newer hello from the same bot replaces the older connection's sender.
//! Durable worker facts (`worker list` after a restart) are in the `WORKERS` table.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::mpsc;
use warren_protocol::Id;

/// What a worker said about itself in its `worker_hello`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub name: String,
    pub tags: Vec<String>,
    pub concurrency: u32,
    pub version: String,
    /// It executes agent runs too (`"agents": true`).
    pub agents: bool,
}

/// A worker as the registry holds it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub offer: Offer,
    pub draining: bool,
    /// Last hello or heartbeat, in ms since the epoch.
    pub last_seen: i64,
    /// Whether a connection is attached now.
    pub connected: bool,
    /// Whether the writer has settled its held runs since it attached (only then does it get
    /// new work, so no assignment can race the settling).
    pub ready: bool,
}

struct Slot {
    entry: Entry,
    /// The attached connection: its generation and sender.
    conn: Option<(u64, mpsc::UnboundedSender<String>)>,
}

/// Connected (and recently connected) workers, by `(workspace, bot user)`.
#[derive(Default)]
pub struct Registry {
    slots: Mutex<HashMap<(Id, Id), Slot>>,
    generations: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.slots.lock().map(|s| s.len()).unwrap_or(0);
        write!(f, "Registry({n} workers)")
    }
}

impl Registry {
    /// Attaches a worker's connection (replacing an older one of the same bot): returns the
    /// connection's generation and the receiver of frames addressed to it.
    pub fn attach(
        &self,
        workspace: &Id,
        user: &Id,
        offer: Offer,
        now: i64,
    ) -> (u64, mpsc::UnboundedReceiver<String>) {
        let generation = self
            .generations
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        let (tx, rx) = mpsc::unbounded_channel();
        if let Ok(mut slots) = self.slots.lock() {
            slots.insert(
                (workspace.clone(), user.clone()),
                Slot {
                    entry: Entry {
                        offer,
                        draining: false,
                        last_seen: now,
                        connected: true,
                        ready: false,
                    },
                    conn: Some((generation, tx)),
                },
            );
        }
        (generation, rx)
    }

    /// A heartbeat from the connection `generation`; false when a newer connection replaced it.
    pub fn heartbeat(
        &self,
        workspace: &Id,
        user: &Id,
        generation: u64,
        draining: bool,
        now: i64,
    ) -> bool {
        let Ok(mut slots) = self.slots.lock() else {
            return false;
        };
        match slots.get_mut(&(workspace.clone(), user.clone())) {
            Some(slot) if slot.conn.as_ref().is_some_and(|(g, _)| *g == generation) => {
                slot.entry.last_seen = now;
                slot.entry.draining = draining;
                true
            }
            _ => false,
        }
    }

    /// The writer settled the held runs of connection `generation`: it may get work now.
    pub fn set_ready(&self, workspace: &Id, user: &Id, generation: u64) {
        if let Ok(mut slots) = self.slots.lock()
            && let Some(slot) = slots.get_mut(&(workspace.clone(), user.clone()))
            && slot.conn.as_ref().is_some_and(|(g, _)| *g == generation)
        {
            slot.entry.ready = true;
        }
    }

    /// The connection `generation` closed (a newer one is left alone: false). Its runs stay
    /// its own until the lease runs out.
    pub fn detach(&self, workspace: &Id, user: &Id, generation: u64) -> bool {
        if let Ok(mut slots) = self.slots.lock()
            && let Some(slot) = slots.get_mut(&(workspace.clone(), user.clone()))
            && slot.conn.as_ref().is_some_and(|(g, _)| *g == generation)
        {
            slot.conn = None;
            slot.entry.connected = false;
            return true;
        }
        false
    }

    /// When the worker was last heard from, if since this server started.
    pub fn last_seen(&self, workspace: &Id, user: &Id) -> Option<i64> {
        let slots = self.slots.lock().ok()?;
        slots
            .get(&(workspace.clone(), user.clone()))
            .map(|s| s.entry.last_seen)
    }

    /// Every worker of `workspace` the registry knows, by bot id.
    pub fn in_workspace(&self, workspace: &Id) -> Vec<(Id, Entry)> {
        let Ok(slots) = self.slots.lock() else {
            return Vec::new();
        };
        let mut out: Vec<(Id, Entry)> = slots
            .iter()
            .filter(|((ws, _), _)| ws == workspace)
            .map(|((_, user), slot)| (user.clone(), slot.entry.clone()))
            .collect();
        out.sort_by(|a, b| a.1.offer.name.cmp(&b.1.offer.name).then(a.0.cmp(&b.0)));
        out
    }

    /// Sends a frame to the worker's current connection; false when none is attached.
    pub fn send(&self, workspace: &Id, user: &Id, text: String) -> bool {
        let Ok(slots) = self.slots.lock() else {
            return false;
        };
        match slots
            .get(&(workspace.clone(), user.clone()))
            .and_then(|s| s.conn.as_ref())
        {
            Some((_, tx)) => tx.send(text).is_ok(),
            None => false,
        }
    }

    /// Forgets every worker of a deleted workspace.
    pub fn forget_workspace(&self, workspace: &Id) {
        if let Ok(mut slots) = self.slots.lock() {
            slots.retain(|(ws, _), _| ws != workspace);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer() -> Offer {
        Offer {
            name: "ci".into(),
            tags: vec!["linux".into()],
            concurrency: 2,
            version: "warren 0.1".into(),
            agents: false,
        }
    }

    #[test]
    fn a_newer_connection_replaces_the_older_one() {
        let registry = Registry::default();
        let ws = Id::from_random("ws", [1; 10]);
        let bot = Id::from_random("usr", [2; 10]);
        let (old, mut old_rx) = registry.attach(&ws, &bot, offer(), 1);
        let (new, mut new_rx) = registry.attach(&ws, &bot, offer(), 2);
        assert!(registry.send(&ws, &bot, "assign".into()));
        assert_eq!(new_rx.try_recv().ok().as_deref(), Some("assign"));
        assert!(
            old_rx.try_recv().is_err(),
            "the old connection gets nothing"
        );
        assert!(!registry.heartbeat(&ws, &bot, old, false, 5));
        assert!(registry.heartbeat(&ws, &bot, new, true, 6));
        registry.detach(&ws, &bot, old);
        assert!(registry.in_workspace(&ws)[0].1.connected);
        registry.detach(&ws, &bot, new);
        let entry = &registry.in_workspace(&ws)[0].1;
        assert!(!entry.connected && entry.draining);
        assert_eq!(registry.last_seen(&ws, &bot), Some(6));
        assert!(!registry.send(&ws, &bot, "x".into()));
    }
}
