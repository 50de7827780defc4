//! The audit log as clients read it: who did what to whom, when and from where. The server
//! appends an entry in the same transaction as the change it records (member, role, bot, token,
//! workspace and backup actions) and, aggregated per address per minute, for failed
//! authentications. Entries are read with the `audit` query (`audit:read`, owners and admins).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::id::Id;

/// Who made an audited change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum AuditActor {
    /// A user, with their name when the entry was written.
    User { user_id: Id, name: String },
    /// The operator: through the admin socket or an offline `warren-server` command.
    Operator,
    /// Nobody known: a failed authentication.
    Anonymous,
}

impl AuditActor {
    /// Whether `key` names this actor: a user id, a user name (any case) or `operator`.
    pub fn matches(&self, key: &str) -> bool {
        let key = key.trim().trim_start_matches('@');
        match self {
            AuditActor::User { user_id, name } => {
                user_id.as_str() == key || name.eq_ignore_ascii_case(key)
            }
            AuditActor::Operator => key.eq_ignore_ascii_case("operator"),
            AuditActor::Anonymous => key.eq_ignore_ascii_case("anonymous"),
        }
    }

    /// A short name for people: the user's name, `operator` or `anonymous`.
    pub fn label(&self) -> &str {
        match self {
            AuditActor::User { name, .. } => name,
            AuditActor::Operator => "operator",
            AuditActor::Anonymous => "anonymous",
        }
    }
}

/// What an audited action was done to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditTarget {
    /// `member`, `token`, `workspace`, `user`, `invite` or `backup`.
    pub kind: String,
    /// Its id (`usr_…`, `tok_…`, `ws_…`); empty where it has none.
    pub id: String,
    /// Its name or label, when it has one.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
}

/// One entry of the audit log. Never holds a secret (token secrets, invite codes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditEntry {
    /// Unique on the server and increasing: a later entry has a larger id.
    pub id: u64,
    /// Milliseconds since the Unix epoch.
    pub at: i64,
    /// The workspace the action changed; `null` for server-wide actions (tokens, failed
    /// authentications, backups).
    pub workspace_id: Option<Id>,
    pub actor: AuditActor,
    /// A stable dotted name such as `member.role` or `token.revoke` (see `docs/protocol.md`).
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<AuditTarget>,
    /// Action-specific facts, such as `{"from": "member", "to": "admin"}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub details: BTreeMap<String, String>,
    /// Where the request came from: the peer's IP address, `admin socket`, `cli` (an offline
    /// `warren-server` command) or `unknown`.
    pub from: String,
}

/// Whether `action` is selected by the filter `prefix`: the same name, or a name under it
/// (`token` selects `token.create` and `token.revoke`, not `tokens.x`).
pub fn action_matches(action: &str, prefix: &str) -> bool {
    let prefix = prefix.trim().trim_end_matches('.');
    prefix.is_empty()
        || action == prefix
        || action
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_selects_whole_dotted_parts() {
        assert!(action_matches("token.revoke", "token"));
        assert!(action_matches("token.revoke", "token."));
        assert!(action_matches("token.revoke", "token.revoke"));
        assert!(!action_matches("tokens.revoke", "token"));
        assert!(!action_matches("token.revoke", "token.rev"));
        assert!(action_matches("member.role", ""));
    }

    #[test]
    fn actors_match_by_id_name_or_kind() {
        let ada = AuditActor::User {
            user_id: Id::parse("usr_8d3f6h1k4m7p0r2t").expect("id"),
            name: "Ada".into(),
        };
        assert!(ada.matches("ada"));
        assert!(ada.matches("@Ada"));
        assert!(ada.matches("usr_8d3f6h1k4m7p0r2t"));
        assert!(!ada.matches("grace"));
        assert!(AuditActor::Operator.matches("operator"));
        assert!(!AuditActor::Operator.matches("ada"));
    }
}
