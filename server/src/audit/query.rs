//! Reading the audit log: a page of entries, newest first, filtered by actor, action (a dotted
//! prefix) and time, as a workspace's auditors may see it.
//!
//! Who sees what: an auditor of a workspace (`audit:read`: owners and admins) sees every entry of
//! that workspace, and the server-wide entries that concern one of its current members — their
//! tokens being created, revoked or rotated, failed authentications that claimed them — the same
//! people whose tokens `token:manage` lets them manage. Server-wide entries that concern nobody
//! (failed authentications without a known user, backups) are shown to the owners of the
//! server's first workspace (the one `warren-server init` made), who run the server; the
//! operator reads everything offline with `warren-server audit`.

use std::collections::BTreeSet;

use redb::{ReadTransaction, ReadableTable, TableError};
use warren_protocol::audit::{AuditActor, AuditEntry, action_matches};
use warren_protocol::limits::MAX_PAGE;
use warren_protocol::{Id, Role};

use super::{SERVER_WIDE, Stored};
use crate::store::tables::AUDIT;
use crate::store::{StoreError, decode, read};

/// What to select.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// A user id, a user name (any case) or `operator`.
    pub actor: Option<String>,
    /// An action name or a dotted prefix (`token` selects `token.*`).
    pub action: Option<String>,
    /// Only entries at or after this time (ms since the epoch).
    pub since: Option<i64>,
    /// Only entries with a smaller id (the next page).
    pub before: Option<u64>,
    pub limit: usize,
}

impl Filter {
    fn selects(&self, entry: &AuditEntry) -> bool {
        self.actor.as_deref().is_none_or(|a| entry.actor.matches(a))
            && self
                .action
                .as_deref()
                .is_none_or(|a| action_matches(&entry.action, a))
            && self.since.is_none_or(|s| entry.at >= s)
    }

    fn limit(&self) -> usize {
        self.limit.clamp(1, MAX_PAGE)
    }
}

/// Who reads: a workspace's auditor (what they may see is decided here), or the operator.
pub enum Reader<'a> {
    /// A member of `workspace` with `role` (who holds `audit:read` there).
    Workspace {
        workspace: &'a Id,
        role: Role,
    },
    Operator,
}

/// A page of entries, newest first, and whether older ones match too.
pub fn page(
    txn: &ReadTransaction,
    reader: Reader<'_>,
    filter: &Filter,
) -> Result<(Vec<AuditEntry>, bool), StoreError> {
    let table = match txn.open_table(AUDIT) {
        Ok(t) => t,
        Err(TableError::TableDoesNotExist(_)) => return Ok((Vec::new(), false)),
        Err(e) => return Err(e.into()),
    };
    let before = filter.before.unwrap_or(u64::MAX);
    let mut candidates: Vec<Stored> = Vec::new();
    let scopes: Vec<String> = match reader {
        Reader::Operator => {
            let mut scopes = BTreeSet::new();
            for row in table.iter()? {
                scopes.insert(row?.0.value().0.to_owned());
            }
            scopes.into_iter().collect()
        }
        Reader::Workspace { workspace, .. } => {
            vec![workspace.as_str().to_owned(), SERVER_WIDE.to_owned()]
        }
    };
    let visible = match reader {
        Reader::Operator => None,
        Reader::Workspace { workspace, role } => Some(Visibility::of(txn, workspace, role)?),
    };
    let want = filter.limit() + 1;
    for scope in &scopes {
        // Newest first, within the scope; each scope gives at most `want` matches.
        let mut taken = 0;
        for row in table
            .range((scope.as_str(), 0)..(scope.as_str(), before))?
            .rev()
        {
            let (_, value) = row?;
            let stored: Stored = decode("audit", value.value())?;
            if filter.since.is_some_and(|s| stored.entry.at < s) {
                break;
            }
            let shown = visible.as_ref().is_none_or(|v| v.shows(&stored));
            if shown && filter.selects(&stored.entry) {
                candidates.push(stored);
                taken += 1;
                if taken == want {
                    break;
                }
            }
        }
    }
    candidates.sort_by_key(|s| std::cmp::Reverse(s.entry.id));
    let has_more = candidates.len() > filter.limit();
    candidates.truncate(filter.limit());
    Ok((candidates.into_iter().map(|s| s.entry).collect(), has_more))
}

/// Which server-wide entries a workspace's auditors see.
struct Visibility {
    members: BTreeSet<Id>,
    /// The reader owns the server's first workspace, so sees the entries that concern nobody.
    server_owner: bool,
}

impl Visibility {
    fn of(txn: &ReadTransaction, ws: &Id, role: Role) -> Result<Self, StoreError> {
        let rows: Vec<warren_protocol::Member> = read::list_in_workspace(
            &txn.open_table(crate::store::tables::MEMBERS)?,
            "members",
            ws.as_str(),
        )?;
        let first = first_workspace(txn)?;
        Ok(Visibility {
            members: rows.iter().map(|m| m.user_id.clone()).collect(),
            server_owner: role == Role::Owner && first.as_ref() == Some(ws),
        })
    }

    fn shows(&self, stored: &Stored) -> bool {
        if stored.entry.workspace_id.is_some() {
            return true;
        }
        let actor = match &stored.entry.actor {
            AuditActor::User { user_id, .. } => Some(user_id),
            AuditActor::Operator | AuditActor::Anonymous => None,
        };
        let concerned: Vec<&Id> = actor.into_iter().chain(stored.about.iter()).collect();
        if concerned.is_empty() {
            self.server_owner
        } else {
            concerned.iter().any(|u| self.members.contains(*u))
        }
    }
}

/// The oldest workspace of the store.
fn first_workspace(txn: &ReadTransaction) -> Result<Option<Id>, StoreError> {
    let table = txn.open_table(crate::store::tables::WORKSPACES)?;
    let mut first: Option<warren_protocol::Workspace> = None;
    for row in table.iter()? {
        let (_, value) = row?;
        let ws: warren_protocol::Workspace = decode("workspaces", value.value())?;
        if first
            .as_ref()
            .is_none_or(|f| (ws.created_at, &ws.id) < (f.created_at, &f.id))
        {
            first = Some(ws);
        }
    }
    Ok(first.map(|w| w.id))
}

/// [`page`] for a member of `workspace` (the connection checked `audit:read` already); a
/// non-member gets nothing.
pub fn for_member(
    txn: &ReadTransaction,
    workspace: &Id,
    user: &Id,
    filter: &Filter,
) -> Result<(Vec<AuditEntry>, bool), StoreError> {
    match read::member(txn, workspace, user)? {
        Some(member) => page(
            txn,
            Reader::Workspace {
                workspace,
                role: member.role,
            },
            filter,
        ),
        None => Ok((Vec::new(), false)),
    }
}
