//! Invitations: what an admin makes with the `create_invite` account request (a code, shown
//! once) and what a newcomer sends to `POST /join` with it. The server keeps only a hash of the
//! code; an invite names its workspace and the role the newcomer gets.

use serde::{Deserialize, Serialize};

use crate::id::Id;
use crate::model::{Role, Workspace};

/// Prefix of every invite code (`wri_` + 16 characters naming the invite + 32 of secret), so a
/// leaked code is recognisable by secret scanners and never mistaken for a token.
pub const INVITE_PREFIX: &str = "wri_";

/// How long an invite works when `create_invite` names no expiry: 7 days.
pub const DEFAULT_INVITE_SECS: u64 = 7 * 24 * 60 * 60;
/// The longest an invite may work: 30 days.
pub const MAX_INVITE_SECS: u64 = 30 * 24 * 60 * 60;
/// The most people one invite may let in.
pub const MAX_INVITE_USES: u32 = 100;

/// Whether an invite can still be used, as `list_invites` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InviteState {
    Active,
    Expired,
    UsedUp,
    Revoked,
}

impl InviteState {
    /// The wire name, such as `used_up`.
    pub fn as_str(self) -> &'static str {
        match self {
            InviteState::Active => "active",
            InviteState::Expired => "expired",
            InviteState::UsedUp => "used_up",
            InviteState::Revoked => "revoked",
        }
    }
}

/// An invite as admins see it: never its code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InviteInfo {
    /// `inv_…`: names the invite in `revoke_invite`.
    pub id: Id,
    pub workspace_id: Id,
    /// The role a newcomer gets.
    pub role: Role,
    /// The member who made it.
    pub created_by: Id,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    pub expires_at: i64,
    /// How many people it may let in, in all.
    pub uses: u32,
    /// How many more it may let in.
    pub uses_left: u32,
    pub state: InviteState,
}

/// The body of `POST /join`. With an `Authorization: Bearer` token the signed-in user joins
/// (and `name` is not used); without one, a new user named `name` is made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JoinRequest {
    /// The invite code, `wri_…`.
    pub invite: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The user a join made or added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JoinedUser {
    pub id: Id,
    pub name: String,
}

/// The answer to `POST /join` (HTTP 200).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Joined {
    pub user: JoinedUser,
    pub workspace: Workspace,
    pub role: Role,
    /// The new user's first API token (`wrn_…`), shown this once; absent when a signed-in user
    /// joined with their own token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}
