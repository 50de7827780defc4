//! Account requests: managing API tokens and invites while the server runs. Most change no
//! workspace (no event is made) and their answers may carry a secret, shown once, so they travel
//! as their own frames (`account` / `account_result`) instead of commands, whose events every
//! member sees.

use serde::{Deserialize, Serialize};

use crate::id::Id;
use crate::invite::InviteInfo;
use crate::model::{Member, Role, Workspace};
use crate::permission::Permission;

/// What a token may be used for, on top of its user's role: the effective permissions are the
/// role's permissions that the scope allows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenScope {
    /// Everything the user's role may do, including managing tokens.
    #[default]
    Full,
    /// Reading only: snapshots, history, events, subscriptions.
    Read,
    /// Reading and chatting.
    Chat,
    /// Reading and working on assigned cards (workers and bots); run permissions join it when
    /// runs arrive.
    Runs,
}

impl TokenScope {
    /// Every scope.
    pub const ALL: [TokenScope; 4] = [
        TokenScope::Full,
        TokenScope::Read,
        TokenScope::Chat,
        TokenScope::Runs,
    ];

    /// The wire name, such as `read`.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::Full => "full",
            TokenScope::Read => "read",
            TokenScope::Chat => "chat",
            TokenScope::Runs => "runs",
        }
    }

    /// Parses a scope name.
    pub fn parse(name: &str) -> Option<TokenScope> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(name.trim()))
    }

    /// Whether a token of this scope may use `permission` (if the role has it).
    pub fn allows(self, permission: Permission) -> bool {
        use Permission::*;
        match self {
            TokenScope::Full => true,
            TokenScope::Read => permission == WorkspaceRead,
            TokenScope::Chat => matches!(permission, WorkspaceRead | ChatPost),
            TokenScope::Runs => matches!(permission, WorkspaceRead | CardEditOwn | ChatPost),
        }
    }
}

/// A token as its owner (or an admin) sees it: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenInfo {
    /// `tok_…`: names the token in `revoke_token` and `rotate_token`.
    pub id: Id,
    pub user_id: Id,
    pub name: String,
    pub scope: TokenScope,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    /// When the token stops working; `null` for never.
    pub expires_at: Option<i64>,
    /// The token this connection authenticated with.
    pub current: bool,
    /// When a connection last signed in with it (ms since the epoch, to the minute); `null` if
    /// never. Sign-ins within a minute of the recorded one do not move it.
    #[serde(default)]
    pub last_used_at: Option<i64>,
}

/// An account request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum AccountOp {
    /// Mints a token, for yourself or (with `token:manage`) for a member of a workspace you
    /// administer, such as a bot. The answer carries the secret once.
    CreateToken {
        name: String,
        #[serde(default)]
        scope: TokenScope,
        /// Milliseconds since the Unix epoch; absent for a token that does not expire.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expires_at: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user_id: Option<Id>,
    },
    /// Lists your tokens, or (with `token:manage`) another member's.
    ListTokens {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user_id: Option<Id>,
    },
    /// Adds a bot member to a workspace (with `member:manage`) and mints its first token, of
    /// `scope` (default `runs`). Makes a `member_added` event; the answer carries the secret
    /// once.
    AddBot {
        workspace_id: Id,
        name: String,
        #[serde(default = "runs")]
        scope: TokenScope,
    },
    /// Creates a workspace with you as its owner (a `Main` board with the default columns and a
    /// `general` room, as `init` makes). Needs a full-scope token.
    CreateWorkspace { name: String },
    /// Revokes a token at once: its live connections are closed (close code 4001).
    RevokeToken { token_id: Id },
    /// Mints a replacement with the same name, scope and user; the old token keeps working for
    /// `grace_secs` (0: it stops now), then expires.
    RotateToken {
        token_id: Id,
        #[serde(default)]
        grace_secs: u64,
    },
    /// Signs out everywhere else: revokes every token of yours except the one this connection
    /// uses; their live connections close (4001).
    RevokeOtherTokens {},
    /// Makes an invite to a workspace (with `member:manage` there; an `owner` invite needs
    /// `owner:manage`). The answer carries the code once; the server keeps only its hash.
    CreateInvite {
        workspace_id: Id,
        /// The role newcomers get (default `member`; not `bot`: add bots with `add_bot`).
        #[serde(default = "member")]
        role: Role,
        /// Seconds it works (default 7 days, at most 30 days).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expires_in_secs: Option<u64>,
        /// How many people it may let in (default 1, at most 100).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        uses: Option<u32>,
    },
    /// Lists a workspace's invites, never their codes (with `member:manage` there).
    ListInvites { workspace_id: Id },
    /// Revokes an invite at once (with `member:manage` in its workspace).
    RevokeInvite { invite_id: Id },
}

impl AccountOp {
    /// The wire name, such as `create_token`.
    pub fn name(&self) -> &'static str {
        match self {
            AccountOp::CreateToken { .. } => "create_token",
            AccountOp::ListTokens { .. } => "list_tokens",
            AccountOp::RevokeToken { .. } => "revoke_token",
            AccountOp::RotateToken { .. } => "rotate_token",
            AccountOp::AddBot { .. } => "add_bot",
            AccountOp::CreateWorkspace { .. } => "create_workspace",
            AccountOp::RevokeOtherTokens {} => "revoke_other_tokens",
            AccountOp::CreateInvite { .. } => "create_invite",
            AccountOp::ListInvites { .. } => "list_invites",
            AccountOp::RevokeInvite { .. } => "revoke_invite",
        }
    }
}

fn runs() -> TokenScope {
    TokenScope::Runs
}

fn member() -> Role {
    Role::Member
}

/// The answer to an [`AccountOp`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum AccountResult {
    /// `secret` is the whole token (`wrn_…`): shown this once, stored nowhere.
    TokenCreated {
        token: TokenInfo,
        secret: String,
    },
    Tokens {
        tokens: Vec<TokenInfo>,
    },
    TokenRevoked {
        token_id: Id,
    },
    /// The new workspace; subscribe to it (or name it with `workspace_id`) to use it.
    WorkspaceCreated {
        workspace: Workspace,
    },
    /// The new bot member and its first token, with the secret shown this once.
    BotAdded {
        member: Member,
        token: TokenInfo,
        secret: String,
    },
    /// `old` with its new `expires_at`, and the replacement with its secret.
    TokenRotated {
        old: TokenInfo,
        token: TokenInfo,
        secret: String,
    },
    /// The tokens `revoke_other_tokens` revoked (possibly none).
    TokensRevoked {
        token_ids: Vec<Id>,
    },
    /// The new invite and its `code` (`wri_…`), shown this once: pass it on to the newcomer.
    InviteCreated {
        invite: InviteInfo,
        code: String,
    },
    /// A workspace's invites, newest first, never their codes.
    Invites {
        invites: Vec<InviteInfo>,
    },
    InviteRevoked {
        invite_id: Id,
    },
}
