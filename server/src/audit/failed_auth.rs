//! Failed authentications in the audit log, aggregated so that a flood cannot grow the store
//! without bound: one `auth.failed` entry per address per minute. The first refusal from an
//! address in a minute writes its entry at once (who was claimed, why); later ones only count,
//! and the count (with every reason seen) is written into that entry every few seconds (the
//! `--auth-log-interval`) and when the minute ends. At most [`MAX_ADDRESSES_PER_MINUTE`]
//! addresses get their own entry in a minute; refusals from further addresses share one entry
//! (`from: unknown`, with the number of addresses). So a minute adds at most 101 entries,
//! whatever the flood.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use warren_protocol::Id;
use warren_protocol::audit::AuditActor;

use super::{Record, SERVER_WIDE, Source, details, target};
use crate::auth;
use crate::store::{Store, StoreError, read};

/// Addresses that get their own entry per minute.
pub const MAX_ADDRESSES_PER_MINUTE: usize = 100;
/// Distinct addresses the shared entry counts exactly in a minute (memory bound); past it the
/// entry says `10000+`.
const MAX_COUNTED_ADDRESSES: usize = 10_000;
const MINUTE_MS: i64 = 60_000;

/// Why a presented token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    NoToken,
    Malformed,
    UnknownToken,
    WrongSecret,
    Expired,
    UnknownUser,
    /// `POST /join` with a code that is not a valid invite.
    WrongInvite,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::NoToken => "no token",
            Reason::Malformed => "malformed token",
            Reason::UnknownToken => "unknown or revoked token",
            Reason::WrongSecret => "wrong secret",
            Reason::Expired => "expired token",
            Reason::UnknownUser => "token of a deleted user",
            Reason::WrongInvite => "not a valid invite code",
        }
    }
}

/// Who a refused token claimed to be, and why it was refused.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub reason: Reason,
    pub token_id: Option<String>,
    pub user: Option<crate::store::records::UserRecord>,
}

/// Works out why `presented` (the bearer token, if any) was refused. Reads the store; never
/// keeps or returns the secret.
pub fn explain(store: &Store, presented: Option<&str>, now: i64) -> Result<Refusal, StoreError> {
    let refusal = |reason, token_id, user| Refusal {
        reason,
        token_id,
        user,
    };
    let Some(presented) = presented else {
        return Ok(refusal(Reason::NoToken, None, None));
    };
    let Some((token_id, secret)) = auth::parse(presented) else {
        return Ok(refusal(Reason::Malformed, None, None));
    };
    // Only a well-formed token id is kept (it is not a secret: token lists show it).
    let token_id = Id::parse(&token_id).ok().map(|id| id.to_string());
    let txn = store.begin_read()?;
    let Some(record) = token_id
        .as_deref()
        .map(|id| read::token(&txn, id))
        .transpose()?
        .flatten()
    else {
        return Ok(refusal(Reason::UnknownToken, token_id, None));
    };
    let user = read::user(&txn, record.user_id.as_str())?;
    let reason = if !auth::verify(&record, secret) {
        Reason::WrongSecret
    } else if record.expires_at.is_some_and(|at| at <= now) {
        Reason::Expired
    } else if user.is_none() {
        Reason::UnknownUser
    } else {
        // Accepted now (it was refused a moment ago): record it as expired-or-revoked.
        Reason::UnknownToken
    };
    Ok(refusal(reason, token_id, user))
}

/// The entry of one address (or of the addresses past the cap) in the current minute.
#[derive(Debug)]
struct Slot {
    /// The entry; `None` when writing it failed (the store is full or failing): the minute's
    /// further refusals from that address are then not retried, so a flood cannot turn into a
    /// flood of failing writes and warnings.
    id: Option<u64>,
    count: u64,
    written: u64,
    reasons: BTreeSet<Reason>,
    written_reasons: usize,
    addresses: BTreeSet<Option<IpAddr>>,
}

impl Slot {
    fn dirty(&self) -> bool {
        self.id.is_some() && self.count != self.written
            || self.reasons.len() != self.written_reasons
    }
}

#[derive(Debug, Default)]
struct Window {
    minute: i64,
    slots: HashMap<Option<IpAddr>, Slot>,
    others: Option<Slot>,
}

/// The failed-authentication part of the audit log.
pub struct FailedAuth {
    store: Store,
    window: Mutex<Window>,
}

impl FailedAuth {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            window: Mutex::new(Window::default()),
        }
    }

    /// Records a refused authentication from `ip`. Blocking (it may write the store): call it on
    /// the blocking pool.
    pub fn record(
        &self,
        ip: Option<IpAddr>,
        refusal: &Refusal,
        now: i64,
    ) -> Result<(), StoreError> {
        let Ok(mut window) = self.window.lock() else {
            return Ok(());
        };
        let minute = now.div_euclid(MINUTE_MS);
        if window.minute != minute {
            let old = std::mem::take(&mut *window);
            window.minute = minute;
            self.write_counts(&old)?;
        }
        let own = window.slots.contains_key(&ip) || window.slots.len() < MAX_ADDRESSES_PER_MINUTE;
        let slot = if own {
            window.slots.get_mut(&ip)
        } else {
            window.others.as_mut()
        };
        if let Some(slot) = slot {
            slot.count += 1;
            slot.reasons.insert(refusal.reason);
            if !own && slot.addresses.len() < MAX_COUNTED_ADDRESSES {
                slot.addresses.insert(ip);
            }
            return Ok(());
        }
        let from = if own {
            Source::peer(ip)
        } else {
            Source::Unknown
        };
        let written = self.write_first(from, refusal, now);
        let slot = Slot {
            id: written.as_ref().ok().copied(),
            count: 1,
            written: 1,
            reasons: BTreeSet::from([refusal.reason]),
            written_reasons: 1,
            addresses: BTreeSet::from([ip]),
        };
        if own {
            window.slots.insert(ip, slot);
        } else {
            window.others = Some(slot);
        }
        written.map(|_| ())
    }

    /// Writes the counts that grew since they were last written.
    pub fn flush(&self) -> Result<(), StoreError> {
        let Ok(mut window) = self.window.lock() else {
            return Ok(());
        };
        self.write_counts(&window)?;
        let Window { slots, others, .. } = &mut *window;
        for slot in slots.values_mut().chain(others.as_mut()) {
            slot.written = slot.count;
            slot.written_reasons = slot.reasons.len();
        }
        Ok(())
    }

    fn write_first(&self, from: Source, refusal: &Refusal, now: i64) -> Result<u64, StoreError> {
        let mut details = details([("count", "1"), ("reasons", refusal.reason.as_str())]);
        if let Some(token_id) = &refusal.token_id {
            details.insert("token_id".into(), token_id.clone());
        }
        if from == Source::Unknown {
            details.insert("addresses".into(), "1".into());
        }
        let txn = self.store.begin_write()?;
        let id = super::append(
            &txn,
            now,
            Record {
                workspace: None,
                actor: AuditActor::Anonymous,
                action: "auth.failed",
                target: refusal.user.as_ref().map(target::user),
                details,
                from,
                about: refusal.user.iter().map(|u| u.id.clone()).collect(),
            },
        )?;
        txn.commit()?;
        Ok(id)
    }

    fn write_counts(&self, window: &Window) -> Result<(), StoreError> {
        let dirty: Vec<&Slot> = window
            .slots
            .values()
            .chain(window.others.as_ref())
            .filter(|s| s.dirty())
            .collect();
        if dirty.is_empty() {
            return Ok(());
        }
        let txn = self.store.begin_write()?;
        for slot in dirty {
            let others = window
                .others
                .as_ref()
                .is_some_and(|o| std::ptr::eq(o, slot));
            let Some(id) = slot.id else { continue };
            super::update(&txn, SERVER_WIDE, id, |stored| {
                let d = &mut stored.entry.details;
                d.insert("count".into(), slot.count.to_string());
                let reasons: Vec<&str> = slot.reasons.iter().map(|r| r.as_str()).collect();
                d.insert("reasons".into(), reasons.join(", "));
                if others {
                    let n = slot.addresses.len();
                    let text = if n >= MAX_COUNTED_ADDRESSES {
                        format!("{n}+")
                    } else {
                        n.to_string()
                    };
                    d.insert("addresses".into(), text);
                }
            })?;
        }
        txn.commit()?;
        Ok(())
    }

    /// Writes the grown counts every `interval`, for as long as the server runs.
    pub fn spawn_flusher(self: &Arc<Self>, interval: Duration) {
        let this = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(this) = this.upgrade() else {
                    return;
                };
                let flushed = tokio::task::spawn_blocking(move || this.flush()).await;
                if let Ok(Err(e)) = flushed {
                    tracing::warn!(error = %e, "could not write failed-authentication counts to the audit log");
                }
            }
        });
    }
}

impl Drop for FailedAuth {
    /// The counts of the last few seconds go into the log when the server stops.
    fn drop(&mut self) {
        if let Err(e) = self.flush() {
            tracing::warn!(error = %e, "could not write failed-authentication counts to the audit log");
        }
    }
}

/// Records the refusal of `presented` (the bearer token, if any) from `ip` in the audit log,
/// on the blocking pool. A store failure is logged, never answered: the client gets its 401
/// either way.
pub async fn refused(app: &crate::app::App, ip: Option<IpAddr>, presented: Option<String>) {
    record_refusal(app, ip, move |store, now| {
        explain(store, presented.as_deref(), now)
    })
    .await;
}

/// Records a `POST /join` with a code that is no valid invite (the code itself is never kept).
pub async fn refused_invite(app: &crate::app::App, ip: Option<IpAddr>) {
    record_refusal(app, ip, |_, _| {
        Ok(Refusal {
            reason: Reason::WrongInvite,
            token_id: None,
            user: None,
        })
    })
    .await;
}

async fn record_refusal(
    app: &crate::app::App,
    ip: Option<IpAddr>,
    why: impl FnOnce(&Store, i64) -> Result<Refusal, StoreError> + Send + 'static,
) {
    let (store, failed) = (app.store.clone(), app.failed_auth.clone());
    let done = tokio::task::spawn_blocking(move || {
        let now = crate::service::now_ms();
        let refusal = why(&store, now)?;
        failed.record(ip, &refusal, now)
    })
    .await;
    if let Ok(Err(e)) = done {
        tracing::warn!(error = %e, "could not record a failed authentication in the audit log");
    }
}
