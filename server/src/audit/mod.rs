//! The audit log: an append-only record of who changed members, roles, bots, tokens, workspaces
//! and backups, and of failed authentications — what, when and from where.
//!
//! An entry is written inside the same write transaction as the change it records, so the change
//! and its entry commit (or fail) together. Recording a new action is one line in its service:
//! `ctx.audit(txn, "member.role", Some(target::member(&member)), details([("to", "admin")]))?` for
//! a workspace change made through the writer, or [`append`] with a [`Record`] elsewhere.
//!
//! Entries live in `audit: (scope, id) -> entry`, where the scope is the workspace id, or `""` for
//! server-wide entries (tokens, failed authentications, backups); ids come from one counter in
//! `meta`, so they are unique and increase with time. [`query`] reads them, [`failed_auth`]
//! aggregates failed authentications per address per minute, and [`retention`] drops entries
//! older than `[retention] audit_days`.

pub mod failed_auth;
pub mod query;
pub mod retention;

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use redb::{ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};
use warren_protocol::Id;
use warren_protocol::audit::{AuditActor, AuditEntry, AuditTarget};

use crate::service::Ctx;
use crate::store::records::UserRecord;
use crate::store::tables::{AUDIT, META, USERS};
use crate::store::{StoreError, decode, encode};

/// The scope of server-wide entries in the `audit` table.
pub const SERVER_WIDE: &str = "";
/// The `meta` key of the next entry id.
const NEXT_ID: &str = "audit_next_id";

/// Where a request came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Source {
    /// A network peer (a WebSocket or HTTP request).
    Peer(IpAddr),
    /// The operator, through `DATA/admin.sock`.
    AdminSocket,
    /// The operator, through an offline `warren-server` command.
    Cli,
    /// Not known (an embedded server driven without a socket, such as a test).
    #[default]
    Unknown,
}

impl Source {
    /// A peer address, or [`Source::Unknown`] without one.
    pub fn peer(ip: Option<IpAddr>) -> Self {
        ip.map_or(Source::Unknown, Source::Peer)
    }

    /// Whether the operator made the request (admin socket or offline command).
    pub fn is_operator(self) -> bool {
        matches!(self, Source::AdminSocket | Source::Cli)
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Peer(ip) => write!(f, "{ip}"),
            Source::AdminSocket => f.write_str("admin socket"),
            Source::Cli => f.write_str("cli"),
            Source::Unknown => f.write_str("unknown"),
        }
    }
}

/// An entry as stored: the wire entry and the users it concerns besides its actor (such as the
/// owner of a revoked token), which decide who may read a server-wide entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stored {
    pub entry: AuditEntry,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub about: Vec<Id>,
}

/// What to record.
#[derive(Debug, Clone)]
pub struct Record {
    /// The workspace changed, or `None` for a server-wide entry.
    pub workspace: Option<Id>,
    pub actor: AuditActor,
    /// A stable dotted name, such as `token.revoke`.
    pub action: &'static str,
    pub target: Option<AuditTarget>,
    pub details: BTreeMap<String, String>,
    pub from: Source,
    /// Users the entry concerns besides the actor.
    pub about: Vec<Id>,
}

/// Appends an entry inside `txn` and returns its id.
pub fn append(txn: &WriteTransaction, now: i64, record: Record) -> Result<u64, StoreError> {
    let id = next_id(txn)?;
    let scope = record
        .workspace
        .as_ref()
        .map_or(SERVER_WIDE, |w| w.as_str())
        .to_owned();
    let stored = Stored {
        entry: AuditEntry {
            id,
            at: now,
            workspace_id: record.workspace,
            actor: record.actor,
            action: record.action.to_owned(),
            target: record.target,
            details: record.details,
            from: record.from.to_string(),
        },
        about: record.about,
    };
    txn.open_table(AUDIT)?
        .insert((scope.as_str(), id), encode("audit", &stored)?.as_slice())?;
    Ok(id)
}

/// Rewrites a stored entry (the failed-authentication count of its minute grows).
pub fn update(
    txn: &WriteTransaction,
    scope: &str,
    id: u64,
    change: impl FnOnce(&mut Stored),
) -> Result<(), StoreError> {
    let mut table = txn.open_table(AUDIT)?;
    let stored: Option<Stored> = match table.get((scope, id))? {
        Some(bytes) => Some(decode("audit", bytes.value())?),
        None => None,
    };
    // Pruned in the meantime: nothing to update.
    let Some(mut stored) = stored else {
        return Ok(());
    };
    change(&mut stored);
    table.insert((scope, id), encode("audit", &stored)?.as_slice())?;
    Ok(())
}

fn next_id(txn: &WriteTransaction) -> Result<u64, StoreError> {
    let mut meta = txn.open_table(META)?;
    let id = meta
        .get(NEXT_ID)?
        .and_then(|v| <[u8; 8]>::try_from(v.value()).ok())
        .map_or(1, u64::from_le_bytes);
    meta.insert(NEXT_ID, (id + 1).to_le_bytes().as_slice())?;
    Ok(id)
}

/// The actor for a user id, with their current name (read inside `txn`).
pub fn user_actor(txn: &WriteTransaction, user_id: &Id) -> Result<AuditActor, StoreError> {
    let user: Option<UserRecord> = match txn.open_table(USERS)?.get(user_id.as_str())? {
        Some(bytes) => Some(decode("users", bytes.value())?),
        None => None,
    };
    Ok(AuditActor::User {
        user_id: user_id.clone(),
        name: user.map(|u| u.name).unwrap_or_default(),
    })
}

/// Targets of audited actions.
pub mod target {
    use warren_protocol::audit::AuditTarget;
    use warren_protocol::{Member, Workspace};

    use crate::store::records::{TokenRecord, UserRecord};

    fn make(kind: &str, id: &str, name: &str) -> AuditTarget {
        AuditTarget {
            kind: kind.to_owned(),
            id: id.to_owned(),
            name: name.to_owned(),
        }
    }

    /// A member of the workspace.
    pub fn member(member: &Member) -> AuditTarget {
        make("member", member.user_id.as_str(), &member.name)
    }

    /// A user (who may be in no workspace you share).
    pub fn user(user: &UserRecord) -> AuditTarget {
        make("user", user.id.as_str(), &user.name)
    }

    /// A token, by id and label (never its secret).
    pub fn token(token: &TokenRecord) -> AuditTarget {
        make("token", token.id.as_str(), &token.label)
    }

    /// A workspace.
    pub fn workspace(workspace: &Workspace) -> AuditTarget {
        make("workspace", workspace.id.as_str(), &workspace.name)
    }

    /// A job, by id and name.
    pub fn job(job: &warren_protocol::run::Job) -> AuditTarget {
        make("job", job.id.as_str(), &job.name)
    }

    /// A model provider, by id and name.
    pub fn provider(provider: &warren_protocol::agent::Provider) -> AuditTarget {
        make("provider", provider.id.as_str(), &provider.name)
    }

    /// An agent, by id and name.
    pub fn agent(agent: &warren_protocol::agent::Agent) -> AuditTarget {
        make("agent", agent.id.as_str(), &agent.name)
    }

    /// An invite, by id (never its code).
    pub fn invite(invite_id: &warren_protocol::Id) -> AuditTarget {
        make("invite", invite_id.as_str(), "")
    }
}

/// Details from `(key, value)` pairs.
pub fn details<const N: usize>(pairs: [(&str, &str); N]) -> BTreeMap<String, String> {
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

impl Ctx<'_> {
    /// Records `action` on `target` in this workspace's audit log, inside `txn` (the transaction
    /// that makes the change). The actor is the context's user, or the operator when the request
    /// came through the admin socket or an offline command.
    pub fn audit(
        &self,
        txn: &WriteTransaction,
        action: &'static str,
        target: Option<AuditTarget>,
        details: BTreeMap<String, String>,
    ) -> Result<(), StoreError> {
        self.record(txn, Some(self.workspace.clone()), (action, target), details)
    }

    /// An `*.update` entry whose details name the fields that changed (`fields: name,tags`).
    pub fn audit_update(
        &self,
        txn: &WriteTransaction,
        action: &'static str,
        target: AuditTarget,
        changed: &[&str],
    ) -> Result<(), StoreError> {
        let fields = changed.join(",");
        self.audit(
            txn,
            action,
            Some(target),
            details([("fields", fields.as_str())]),
        )
    }

    /// Like [`Ctx::audit`], but server-wide (`workspace_id: null`), about the actor: for an
    /// action after which the workspace's own log can no longer be read, such as deleting the
    /// workspace — `ctx.audit_server_wide(txn, "workspace.delete",
    /// Some(target::workspace(&workspace)), details([]))?`. Auditors of the other workspaces the
    /// actor belongs to see it.
    pub fn audit_server_wide(
        &self,
        txn: &WriteTransaction,
        action: &'static str,
        target: Option<AuditTarget>,
        details: BTreeMap<String, String>,
    ) -> Result<(), StoreError> {
        self.record(txn, None, (action, target), details)
    }

    /// One entry by this context's actor; a server-wide one (no workspace) is about the actor,
    /// so the auditors of their workspaces see it.
    fn record(
        &self,
        txn: &WriteTransaction,
        workspace: Option<warren_protocol::Id>,
        (action, target): (&'static str, Option<AuditTarget>),
        details: BTreeMap<String, String>,
    ) -> Result<(), StoreError> {
        let actor = if self.from.is_operator() {
            AuditActor::Operator
        } else {
            user_actor(txn, self.actor)?
        };
        let about = if workspace.is_none() {
            vec![self.actor.clone()]
        } else {
            Vec::new()
        };
        append(
            txn,
            self.now,
            Record {
                workspace,
                actor,
                action,
                target,
                details,
                from: self.from,
                about,
            },
        )?;
        Ok(())
    }
}

/// Records a backup taken through the admin socket, in its own small transaction (the copy
/// itself is a read). A failure is logged: the backup was delivered either way.
pub async fn backup_taken(app: &crate::app::App, bytes: u64, events: u64) {
    let written = app
        .read(move |store| {
            let txn = store.begin_write()?;
            append(
                &txn,
                crate::service::now_ms(),
                Record {
                    workspace: None,
                    actor: AuditActor::Operator,
                    action: "backup.create",
                    target: None,
                    details: details([
                        ("bytes", bytes.to_string().as_str()),
                        ("events", events.to_string().as_str()),
                    ]),
                    from: Source::AdminSocket,
                    about: Vec::new(),
                },
            )?;
            txn.commit()?;
            Ok(())
        })
        .await;
    if let Err(e) = written {
        tracing::warn!(error = %e, "could not record the backup in the audit log");
    }
}

#[cfg(test)]
mod tests;
