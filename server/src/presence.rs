//! Who is online, per workspace: every user with at least one connection subscribed to it.
//!
//! A connection enters a workspace's presence when its subscription is in place and leaves when
//! it subscribes elsewhere, loses the subscription (removed member, deleted workspace) or closes
//! — the [`Here`] guard it holds does the leaving, so a dropped socket counts once the server
//! notices it is gone. A user with three terminals is counted once and stays online until the
//! last closes.
//!
//! Every change of the online set is pushed to all subscribers of the workspace as an ephemeral
//! `presence` frame holding the whole list; a connection that (re)subscribes gets the current
//! list too. Frames are computed and queued under this registry's lock, so every subscriber
//! receives them in the order the set changed, and a frame that does not fit a full queue marks
//! that subscriber lagged like an event would: its resubscribe brings the current list again.
//! Nothing here is stored: presence describes connections, not the workspace.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use warren_protocol::{Id, ServerMessage};

use crate::frames;
use crate::hub::{ConnectionId, Frame, Hub};

/// The online users of every workspace, with how many subscribed connections each has.
pub struct Presence {
    hub: Arc<Hub>,
    online: Mutex<HashMap<Id, BTreeMap<Id, usize>>>,
}

/// Held by a connection while it is subscribed to a workspace; leaving happens on drop.
pub struct Here {
    presence: Arc<Presence>,
    workspace: Id,
    user: Id,
}

impl Presence {
    pub fn new(hub: Arc<Hub>) -> Self {
        Self {
            hub,
            online: Mutex::new(HashMap::new()),
        }
    }

    /// The users online in `workspace` now, sorted by id.
    pub fn online(&self, workspace: &Id) -> Vec<Id> {
        self.online
            .lock()
            .map(|map| {
                map.get(workspace)
                    .map(|users| users.keys().cloned().collect())
                    .unwrap_or_default()
            })
            .unwrap_or_default()
    }

    /// Counts `connection` (of `user`, already registered with the hub) as present in
    /// `workspace`. If that brings the user online, every subscriber gets the new list;
    /// otherwise only this connection gets the current one.
    pub fn enter(self: &Arc<Self>, workspace: &Id, user: &Id, connection: ConnectionId) -> Here {
        if let Ok(mut map) = self.online.lock() {
            let users = map.entry(workspace.clone()).or_default();
            let count = users.entry(user.clone()).or_insert(0);
            *count += 1;
            let first = *count == 1;
            let frame = frame(workspace, users);
            if first {
                self.hub.publish_event(workspace, frame);
            } else {
                self.hub.send_to(workspace, connection, frame);
            }
        }
        Here {
            presence: self.clone(),
            workspace: workspace.clone(),
            user: user.clone(),
        }
    }

    fn leave(&self, workspace: &Id, user: &Id) {
        let Ok(mut map) = self.online.lock() else {
            return;
        };
        let Some(users) = map.get_mut(workspace) else {
            return;
        };
        let gone = match users.get_mut(user) {
            Some(count) if *count > 1 => {
                *count -= 1;
                false
            }
            Some(_) => {
                users.remove(user);
                true
            }
            None => false,
        };
        if gone {
            self.hub.publish_event(workspace, frame(workspace, users));
        }
        if users.is_empty() {
            map.remove(workspace);
        }
    }
}

impl Here {
    /// The workspace this connection is present in.
    pub fn workspace(&self) -> &Id {
        &self.workspace
    }

    /// Sends the current list to `connection` only (after a resubscribe, which may have missed
    /// frames).
    pub fn tell(&self, connection: ConnectionId) {
        if let Ok(map) = self.presence.online.lock()
            && let Some(users) = map.get(&self.workspace)
        {
            self.presence
                .hub
                .send_to(&self.workspace, connection, frame(&self.workspace, users));
        }
    }
}

impl Drop for Here {
    fn drop(&mut self) {
        self.presence.leave(&self.workspace, &self.user);
    }
}

fn frame(workspace: &Id, users: &BTreeMap<Id, usize>) -> Arc<Frame> {
    let message = ServerMessage::Presence {
        workspace_id: workspace.clone(),
        online: users.keys().cloned().collect(),
    };
    Arc::new(Frame {
        seq: 0,
        text: frames::text(&message),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(prefix: &str, n: u8) -> Id {
        Id::from_random(prefix, [n; 10])
    }

    fn online_in(text: &str) -> Vec<String> {
        let message: ServerMessage = serde_json::from_str(text).expect("a presence frame");
        let ServerMessage::Presence { online, .. } = message else {
            panic!("{text}")
        };
        online.into_iter().map(|u| u.to_string()).collect()
    }

    #[tokio::test]
    async fn a_user_stays_online_until_their_last_connection_leaves() {
        let hub = Arc::new(Hub::default());
        let presence = Arc::new(Presence::new(hub.clone()));
        let ws = id("ws", 1);
        let (ada, bob) = (id("usr", 2), id("usr", 3));
        let watcher = hub.new_connection_id();
        let mut seen = hub.subscribe(&ws, watcher, &bob);
        let _bob = presence.enter(&ws, &bob, watcher);
        assert_eq!(
            online_in(&seen.rx.recv().await.expect("frame").text),
            [bob.to_string()]
        );
        let (one, two) = (hub.new_connection_id(), hub.new_connection_id());
        let _s1 = hub.subscribe(&ws, one, &ada);
        let first = presence.enter(&ws, &ada, one);
        let _s2 = hub.subscribe(&ws, two, &ada);
        let second = presence.enter(&ws, &ada, two);
        // Ada came online once: one frame for the watcher, none for her second connection.
        let text = seen.rx.recv().await.expect("frame").text.clone();
        assert_eq!(online_in(&text).len(), 2);
        drop(first);
        assert!(seen.rx.try_recv().is_err(), "still online: no frame");
        assert_eq!(presence.online(&ws).len(), 2);
        drop(second);
        assert_eq!(
            online_in(&seen.rx.recv().await.expect("frame").text),
            [bob.to_string()]
        );
        assert_eq!(presence.online(&ws), vec![bob.clone()]);
    }
}
