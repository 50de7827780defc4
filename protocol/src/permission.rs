//! Who may do what: the permissions, which roles hold them, and which permission every command,
//! query and subscription needs. This is the one table the server checks (commands in the writer,
//! queries and subscriptions on the connection) and that `docs/permissions.md` is generated from.

use crate::command::Command;
use crate::model::Role;

macro_rules! permissions {
    ($($variant:ident => $name:literal, $doc:literal;)*) => {
        /// One thing a member may do.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Permission {
            $(#[doc = $doc] $variant,)*
        }

        impl Permission {
            /// Every permission, in documentation order.
            pub const ALL: &'static [Permission] = &[$(Permission::$variant,)*];

            /// The name people and messages use, such as `board:manage`.
            pub fn name(self) -> &'static str {
                match self { $(Permission::$variant => $name,)* }
            }

            /// What the permission allows, in a few words.
            pub fn description(self) -> &'static str {
                match self { $(Permission::$variant => $doc,)* }
            }
        }
    };
}

permissions! {
    WorkspaceRead => "workspace:read", "read boards, cards, rooms, messages and events; subscribe";
    WorkspaceManage => "workspace:manage", "rename the workspace";
    BoardManage => "board:manage", "create and rename boards; add, rename, move and delete columns";
    CardCreate => "card:create", "create cards";
    CardEditOwn => "card:edit_own", "edit, move and delete cards you created or are assigned";
    CardEditAny => "card:edit_any", "edit, move and delete any card";
    RoomManage => "room:manage", "create rooms";
    ChatPost => "chat:post", "post messages; edit and delete your own";
    ChatModerate => "chat:moderate", "delete anyone's message";
    MemberManage => "member:manage", "change members' roles (not to or from owner) and remove members";
    OwnerManage => "owner:manage", "make members owners and change or remove owners";
    TokenManage => "token:manage", "list, create, revoke and rotate other members' tokens (bots' too)";
    AuditRead => "audit:read", "read the audit log: who changed members, roles, bots, tokens and the workspace, and failed sign-ins";
    WorkspaceDelete => "workspace:delete", "delete the workspace and everything in it";
    JobManage => "job:manage", "create, edit and delete jobs";
    RunStart => "run:start", "start runs of jobs; cancel and retry your own";
    RunManage => "run:manage", "cancel and retry anyone's runs";
    RunApprove => "run:approve", "approve or reject runs of protected jobs";
    RunExecute => "run:execute", "execute runs as a worker: take assignments, report progress, send logs";
    ProviderManage => "provider:manage", "add, change, test and remove model providers";
    AgentManage => "agent:manage", "add, change, disable and remove agents";
    AgentAsk => "agent:ask", "ask agents (`@name` in a room, `agent ask`)";
    BudgetManage => "budget:manage", "set and clear spending budgets";
}

/// Every role, most powerful first.
pub const ROLES: [Role; 5] = [
    Role::Owner,
    Role::Admin,
    Role::Member,
    Role::Viewer,
    Role::Bot,
];

impl Role {
    /// The permissions the role holds.
    pub fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Role::Owner => Permission::ALL,
            Role::Admin => &[
                WorkspaceRead,
                WorkspaceManage,
                BoardManage,
                CardCreate,
                CardEditOwn,
                CardEditAny,
                RoomManage,
                ChatPost,
                ChatModerate,
                MemberManage,
                TokenManage,
                AuditRead,
                JobManage,
                RunStart,
                RunManage,
                RunApprove,
                ProviderManage,
                AgentManage,
                AgentAsk,
                BudgetManage,
            ],
            Role::Member => &[
                WorkspaceRead,
                CardCreate,
                CardEditOwn,
                ChatPost,
                RunStart,
                AgentAsk,
            ],
            // Read-only, but may comment.
            Role::Viewer => &[WorkspaceRead, ChatPost],
            // Works on what it is assigned, reports in chat.
            Role::Bot => &[WorkspaceRead, CardEditOwn, ChatPost, RunExecute],
        }
    }

    /// Whether the role holds a permission.
    pub fn may(self, permission: Permission) -> bool {
        self.permissions().contains(&permission)
    }

    /// The role's wire name, such as `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
            Role::Viewer => "viewer",
            Role::Bot => "bot",
        }
    }

    /// Parses a role name.
    pub fn parse(name: &str) -> Option<Role> {
        ROLES
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(name.trim()))
    }
}

/// What a request needs: `permission`, or, for something the actor owns (a card they created
/// or are assigned, their own message), the weaker `or_own`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requirement {
    pub permission: Permission,
    pub or_own: Option<Permission>,
}

const fn needs(permission: Permission) -> Requirement {
    Requirement {
        permission,
        or_own: None,
    }
}

const fn needs_or_own(permission: Permission, own: Permission) -> Requirement {
    Requirement {
        permission,
        or_own: Some(own),
    }
}

/// Every command by wire name with what it needs: the table the server enforces.
pub const COMMANDS: &[(&str, Requirement)] = &[
    ("create_board", needs(Permission::BoardManage)),
    ("rename_board", needs(Permission::BoardManage)),
    ("add_column", needs(Permission::BoardManage)),
    ("rename_column", needs(Permission::BoardManage)),
    ("move_column", needs(Permission::BoardManage)),
    ("delete_column", needs(Permission::BoardManage)),
    ("create_card", needs(Permission::CardCreate)),
    (
        "update_card",
        needs_or_own(Permission::CardEditAny, Permission::CardEditOwn),
    ),
    (
        "move_card",
        needs_or_own(Permission::CardEditAny, Permission::CardEditOwn),
    ),
    (
        "delete_card",
        needs_or_own(Permission::CardEditAny, Permission::CardEditOwn),
    ),
    ("create_room", needs(Permission::RoomManage)),
    ("post_message", needs(Permission::ChatPost)),
    ("edit_message", needs(Permission::ChatPost)),
    (
        "delete_message",
        needs_or_own(Permission::ChatModerate, Permission::ChatPost),
    ),
    ("rename_workspace", needs(Permission::WorkspaceManage)),
    ("set_member_role", needs(Permission::MemberManage)),
    ("remove_member", needs(Permission::MemberManage)),
    ("create_job", needs(Permission::JobManage)),
    ("update_job", needs(Permission::JobManage)),
    ("delete_job", needs(Permission::JobManage)),
    ("start_run", needs(Permission::RunStart)),
    (
        "cancel_run",
        needs_or_own(Permission::RunManage, Permission::RunStart),
    ),
    ("approve_run", needs(Permission::RunApprove)),
    ("reject_run", needs(Permission::RunApprove)),
    (
        "retry_run",
        needs_or_own(Permission::RunManage, Permission::RunStart),
    ),
    ("report_run_started", needs(Permission::RunExecute)),
    ("report_run_finished", needs(Permission::RunExecute)),
    ("create_provider", needs(Permission::ProviderManage)),
    ("update_provider", needs(Permission::ProviderManage)),
    ("delete_provider", needs(Permission::ProviderManage)),
    ("test_provider", needs(Permission::ProviderManage)),
    ("create_agent", needs(Permission::AgentManage)),
    ("update_agent", needs(Permission::AgentManage)),
    ("delete_agent", needs(Permission::AgentManage)),
    ("ask_agent", needs(Permission::AgentAsk)),
    ("decide_tool", needs(Permission::RunApprove)),
    ("revoke_approval", needs(Permission::RunApprove)),
    ("set_budget", needs(Permission::BudgetManage)),
    ("clear_budget", needs(Permission::BudgetManage)),
    ("start_model_call", needs(Permission::RunExecute)),
    ("finish_model_call", needs(Permission::RunExecute)),
    ("call_tool", needs(Permission::RunExecute)),
    ("report_provider_health", needs(Permission::RunExecute)),
    // Last: tests/tests/permissions.rs tries every command in this order, and an owner's
    // attempt at this one deletes the workspace.
    ("delete_workspace", needs(Permission::WorkspaceDelete)),
];

/// Every query (and `subscribe`) by wire name with what it needs.
pub const QUERIES: &[(&str, Requirement)] = &[
    ("subscribe", needs(Permission::WorkspaceRead)),
    ("snapshot", needs(Permission::WorkspaceRead)),
    ("messages", needs(Permission::WorkspaceRead)),
    ("events", needs(Permission::WorkspaceRead)),
    ("audit", needs(Permission::AuditRead)),
    ("presence", needs(Permission::WorkspaceRead)),
    ("jobs", needs(Permission::WorkspaceRead)),
    ("runs", needs(Permission::WorkspaceRead)),
    ("run", needs(Permission::WorkspaceRead)),
    ("workers", needs(Permission::WorkspaceRead)),
    ("log", needs(Permission::WorkspaceRead)),
    ("log_subscribe", needs(Permission::WorkspaceRead)),
    ("worker_hello", needs(Permission::RunExecute)),
    ("providers", needs(Permission::WorkspaceRead)),
    ("agents", needs(Permission::WorkspaceRead)),
    ("approvals", needs(Permission::WorkspaceRead)),
    ("budgets", needs(Permission::WorkspaceRead)),
    ("usage", needs(Permission::WorkspaceRead)),
    ("run_watch", needs(Permission::WorkspaceRead)),
    ("agent_delta", needs(Permission::RunExecute)),
];

/// Account requests about a workspace (and so needing a permission there), by wire name.
pub const ACCOUNT: &[(&str, Requirement)] = &[
    ("add_bot", needs(Permission::MemberManage)),
    ("create_invite", needs(Permission::MemberManage)),
    ("list_invites", needs(Permission::MemberManage)),
    ("revoke_invite", needs(Permission::MemberManage)),
];

/// What an account request with this wire name needs in its workspace; unlisted names fail
/// closed.
pub fn account_requirement(name: &str) -> Requirement {
    requirement_of(ACCOUNT, name)
}

/// What a command needs. Every command is in [`COMMANDS`] (a test checks it); an unlisted one
/// would need `owner:manage`, so a forgotten entry fails closed.
pub fn command_requirement(command: &Command) -> Requirement {
    command_named(command.name())
}

/// What the command with this wire name needs; unlisted names fail closed.
pub fn command_named(name: &str) -> Requirement {
    requirement_of(COMMANDS, name)
}

/// What a query (or `subscribe`) needs, by wire name; unlisted names fail closed.
pub fn query_requirement(name: &str) -> Requirement {
    requirement_of(QUERIES, name)
}

fn requirement_of(table: &[(&str, Requirement)], name: &str) -> Requirement {
    table
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(needs(Permission::OwnerManage), |(_, r)| *r)
}

/// The roles holding a permission, as words for a message: "admins and owners".
pub fn holders(permission: Permission) -> String {
    let names: Vec<&str> = ROLES
        .into_iter()
        .rev()
        .filter(|r| r.may(permission))
        .map(|r| match r {
            Role::Owner => "owners",
            Role::Admin => "admins",
            Role::Member => "members",
            Role::Viewer => "viewers",
            Role::Bot => "bots",
        })
        .collect();
    match names.as_slice() {
        [] => "nobody".to_owned(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// Why `role` may not send the request named `request` (such as `create_board`), for the
/// `forbidden` error: the permission it needs, who holds it, and what to do.
pub fn denial(role: Role, permission: Permission, request: &str) -> String {
    format!(
        "{request} needs the {} permission ({}), which {} have; your role here is {} — ask an \
         admin or owner",
        permission.name(),
        permission.description(),
        holders(permission),
        role.as_str(),
    )
}

/// The permission tables as markdown: the body of `docs/permissions.md` (a test keeps the file
/// equal to this).
pub fn markdown() -> String {
    let mut out = String::new();
    out.push_str("## Roles and their permissions\n\n| permission | what it allows |");
    for role in ROLES {
        out.push_str(&format!(" {} |", role.as_str()));
    }
    out.push_str("\n|---|---|");
    out.push_str(&"---|".repeat(ROLES.len()));
    out.push('\n');
    for p in Permission::ALL {
        out.push_str(&format!("| `{}` | {} |", p.name(), p.description()));
        for role in ROLES {
            out.push_str(if role.may(*p) { " ✓ |" } else { " |" });
        }
        out.push('\n');
    }
    for (title, table) in [("Commands", COMMANDS), ("Queries and subscribing", QUERIES)] {
        out.push_str(&format!(
            "\n## {title}\n\n| request | needs | or, for your own |\n|---|---|---|\n"
        ));
        for (name, need) in table {
            let own = need
                .or_own
                .map_or_else(String::new, |p| format!("`{}`", p.name()));
            out.push_str(&format!(
                "| `{name}` | `{}` | {own} |\n",
                need.permission.name()
            ));
        }
    }
    out.push_str(
        "\n## Account requests (bots, invites and tokens)\n\n| request | on your own tokens | on another \
         member's |\n|---|---|---|\n",
    );
    for (name, need) in ACCOUNT {
        out.push_str(&format!(
            "| `{name}` | — | `{}` in the workspace{} |\n",
            need.permission.name(),
            if *name == "create_invite" {
                format!(" (`{}` to invite an owner)", Permission::OwnerManage.name())
            } else {
                String::new()
            }
        ));
    }
    for name in [
        "create_token",
        "list_tokens",
        "revoke_token",
        "rotate_token",
    ] {
        let own = if name == "list_tokens" {
            "anyone, any scope"
        } else {
            "anyone, with a full-scope token"
        };
        out.push_str(&format!(
            "| `{name}` | {own} | `{}` in a workspace you share |\n",
            Permission::TokenManage.name()
        ));
    }
    out.push_str(
        "| `revoke_other_tokens` | anyone, with a full-scope token (your own tokens only) | — |\n",
    );
    out.push_str("\n## Token scopes\n\nA token's scope narrows its user's role: the effective \
         permissions are those the role has and the scope allows.\n\n| scope | allows |\n|---|---|\n");
    for scope in crate::account::TokenScope::ALL {
        let allowed: Vec<String> = Permission::ALL
            .iter()
            .filter(|p| scope.allows(**p))
            .map(|p| format!("`{}`", p.name()))
            .collect();
        let allowed = if scope == crate::account::TokenScope::Full {
            "everything the role may do, and managing tokens".to_owned()
        } else {
            allowed.join(", ")
        };
        out.push_str(&format!("| `{}` | {allowed} |\n", scope.as_str()));
    }
    out
}

/// Why a token of `scope` may not send `request` although the user's role may.
pub fn scope_denial(scope: crate::account::TokenScope, request: &str) -> String {
    format!(
        "{request} is not allowed with a token of scope {}; use a full-scope token (warren token \
         create --scope full)",
        scope.as_str()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_may_everything_and_roles_nest_where_the_matrix_says() {
        for p in Permission::ALL {
            assert!(Role::Owner.may(*p), "{p:?}");
        }
        for p in Role::Member.permissions() {
            assert!(Role::Admin.may(*p), "admins may what members may: {p:?}");
        }
        for p in Role::Viewer.permissions() {
            assert!(Role::Member.may(*p), "members may what viewers may: {p:?}");
        }
        assert!(!Role::Admin.may(Permission::OwnerManage));
        assert!(!Role::Viewer.may(Permission::CardCreate));
        assert!(!Role::Bot.may(Permission::CardCreate));
    }

    #[test]
    fn unknown_names_fail_closed() {
        assert_eq!(
            query_requirement("nope").permission,
            Permission::OwnerManage
        );
    }

    #[test]
    fn holders_read_as_words() {
        assert_eq!(holders(Permission::OwnerManage), "owners");
        assert_eq!(holders(Permission::BoardManage), "admins and owners");
        assert_eq!(
            holders(Permission::ChatPost),
            "bots, viewers, members, admins and owners"
        );
    }
}
