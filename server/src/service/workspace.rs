//! Creating a workspace with its owner (`warren-server init`) and managing API tokens.

use warren_protocol::account::TokenScope;
use warren_protocol::{Change, Command, Id, Member, Role, Workspace};

use warren_protocol::audit::AuditActor;

use super::{ApplyError, Ctx, append_event, apply, next_seq, now_ms, text};
use crate::audit::{self, Record, Source, details, target};
use crate::auth::{self, MintedToken};
use crate::store::records::{TokenRecord, UserRecord};
use crate::store::tables::{MEMBERS, TOKENS, USERS, WORKSPACES};
use crate::store::{Store, StoreError, encode, read};

/// What `init` created.
pub struct Bootstrapped {
    pub workspace: Workspace,
    pub owner: UserRecord,
    pub token: MintedToken,
}

/// Checks the names `init` was given, before anything is created: returns them trimmed, or a
/// `validation` error saying what is wrong.
pub fn validate_init(
    owner_name: &str,
    workspace_name: &str,
) -> Result<(String, String), ApplyError> {
    Ok((
        text::one_line("the owner name (--owner)", owner_name, 64)?,
        text::one_line("the workspace name (--workspace)", workspace_name, 100)?,
    ))
}

/// Creates an owner account, a workspace with a default board and a `general` room, and the
/// owner's first API token, in one transaction whose events start the workspace's stream.
/// Run it inside [`crate::store::create_with`] so that a failure leaves no store behind.
pub fn bootstrap(
    store: &Store,
    owner_name: &str,
    workspace_name: &str,
) -> Result<Bootstrapped, ApplyError> {
    let (owner_name, workspace_name) = validate_init(owner_name, workspace_name)?;
    let now = now_ms();
    let owner = UserRecord {
        id: auth::new_id("usr")?,
        name: owner_name,
        created_at: now,
    };
    let workspace = Workspace {
        id: auth::new_id("ws")?,
        name: workspace_name,
        created_at: now,
    };
    let member = Member {
        user_id: owner.id.clone(),
        name: owner.name.clone(),
        role: Role::Owner,
    };
    let token = auth::mint(&owner.id, "created by init", now)?;
    let txn = store.begin_write()?;
    insert_member(&txn, &workspace.id, &owner, &member, &token.record)?;
    seed(&txn, &workspace, member, now)?;
    audit::append(
        &txn,
        now,
        Record {
            workspace: Some(workspace.id.clone()),
            actor: AuditActor::Operator,
            action: "workspace.create",
            target: Some(target::workspace(&workspace)),
            details: details([("owner", owner.name.as_str())]),
            from: Source::Cli,
            about: vec![owner.id.clone()],
        },
    )?;
    txn.commit().map_err(StoreError::from)?;
    Ok(Bootstrapped {
        workspace,
        owner,
        token,
    })
}

/// Starts a new workspace's stream inside `txn`: stores the workspace, then its first events —
/// `workspace_created`, `member_added` for `owner` (whose membership the caller stores), a
/// `Main` board with the default columns and a `general` room. Returns the event of the first.
pub fn seed(
    txn: &redb::WriteTransaction,
    workspace: &Workspace,
    owner: Member,
    now: i64,
) -> Result<(warren_protocol::Event, String), ApplyError> {
    txn.open_table(WORKSPACES)?.insert(
        workspace.id.as_str(),
        encode("workspaces", workspace)?.as_slice(),
    )?;
    let owner_id = owner.user_id.clone();
    let mut first = None;
    let changes = [
        Change::WorkspaceCreated {
            workspace: workspace.clone(),
        },
        Change::MemberAdded { member: owner },
    ];
    for change in changes {
        let ctx = Ctx {
            workspace: &workspace.id,
            actor: &owner_id,
            role: Role::Owner,
            scope: TokenScope::Full,
            now,
            seq: next_seq(txn, &workspace.id)?,
            from: Source::Unknown,
        };
        let appended = append_event(txn, &ctx, None, change)?;
        first.get_or_insert(appended);
    }
    let commands = [
        Command::CreateBoard {
            board_id: None,
            name: "Main".into(),
            columns: None,
        },
        Command::CreateRoom {
            room_id: None,
            name: "general".into(),
            topic: "Team-wide chat".into(),
        },
    ];
    for command in &commands {
        let ctx = Ctx {
            workspace: &workspace.id,
            actor: &owner_id,
            role: Role::Owner,
            scope: TokenScope::Full,
            now,
            seq: next_seq(txn, &workspace.id)?,
            from: Source::Unknown,
        };
        // Boards and rooms only: no run state is involved.
        let (state, mut fx) = (
            crate::runs::RunState::default(),
            crate::runs::effects::Effects::default(),
        );
        let change = apply(txn, &ctx, command, &state, &mut fx)?;
        append_event(txn, &ctx, None, change)?;
    }
    first.ok_or_else(|| ApplyError::reject(warren_protocol::ErrorCode::Internal, "no first event"))
}

/// Creates workspace `workspace_id` named `name` with `user` as its owner, inside the writer's
/// transaction. Returns the `workspace_created` event (the first of the new stream).
pub fn create(
    txn: &redb::WriteTransaction,
    user: &Id,
    workspace_id: &Id,
    name: &str,
    (now, from): (i64, Source),
) -> Result<(warren_protocol::Event, String), ApplyError> {
    let name = text::one_line(
        "a workspace name",
        name,
        warren_protocol::limits::MAX_NAME_CHARS,
    )?;
    let owner: UserRecord = read::get_json(&txn.open_table(USERS)?, "users", user.as_str())?
        .ok_or_else(|| {
            ApplyError::reject(
                warren_protocol::ErrorCode::NotFound,
                "your account no longer exists",
            )
        })?;
    if redb::ReadableTable::get(&txn.open_table(WORKSPACES)?, workspace_id.as_str())?.is_some() {
        return Err(ApplyError::reject(
            warren_protocol::ErrorCode::Conflict,
            format!("workspace {workspace_id} already exists"),
        ));
    }
    let workspace = Workspace {
        id: workspace_id.clone(),
        name,
        created_at: now,
    };
    let member = Member {
        user_id: owner.id.clone(),
        name: owner.name.clone(),
        role: Role::Owner,
    };
    txn.open_table(MEMBERS)?.insert(
        (workspace.id.as_str(), owner.id.as_str()),
        encode("members", &member)?.as_slice(),
    )?;
    let first = seed(txn, &workspace, member, now)?;
    audit::append(
        txn,
        now,
        Record {
            workspace: Some(workspace.id.clone()),
            actor: audit::user_actor(txn, user)?,
            action: "workspace.create",
            target: Some(target::workspace(&workspace)),
            details: Default::default(),
            from,
            about: Vec::new(),
        },
    )?;
    Ok(first)
}

/// Adds a new user to a workspace with a role, and mints the user's first token. Writes the
/// `member_added` event directly, so it must run while no server is serving the store (like
/// `init`): it is for seeding and administration, not for a live workspace.
pub fn add_member(
    store: &Store,
    workspace_id: &Id,
    name: &str,
    role: Role,
) -> Result<(UserRecord, MintedToken), ApplyError> {
    let name = text::one_line("a member name", name, 64)?;
    let now = now_ms();
    let user = UserRecord {
        id: auth::new_id("usr")?,
        name,
        created_at: now,
    };
    let member = Member {
        user_id: user.id.clone(),
        name: user.name.clone(),
        role,
    };
    let token = auth::mint(&user.id, "created with the member", now)?;
    let txn = store.begin_write()?;
    insert_member(&txn, workspace_id, &user, &member, &token.record)?;
    let ctx = Ctx {
        workspace: workspace_id,
        actor: &user.id,
        role,
        scope: TokenScope::Full,
        now,
        seq: next_seq(&txn, workspace_id)?,
        from: Source::Cli,
    };
    ctx.audit(
        &txn,
        "member.add",
        Some(target::member(&member)),
        details([("role", role.as_str())]),
    )?;
    append_event(&txn, &ctx, None, Change::MemberAdded { member })?;
    txn.commit().map_err(StoreError::from)?;
    Ok((user, token))
}

/// Stores a user, their membership of a workspace and their token.
pub(super) fn insert_member(
    txn: &redb::WriteTransaction,
    workspace_id: &Id,
    user: &UserRecord,
    member: &Member,
    token: &TokenRecord,
) -> Result<(), StoreError> {
    txn.open_table(USERS)?
        .insert(user.id.as_str(), encode("users", user)?.as_slice())?;
    txn.open_table(MEMBERS)?.insert(
        (workspace_id.as_str(), user.id.as_str()),
        encode("members", member)?.as_slice(),
    )?;
    txn.open_table(TOKENS)?
        .insert(token.id.as_str(), encode("tokens", token)?.as_slice())?;
    Ok(())
}

/// The store's first workspace (the one `init` made), for offline administration.
pub fn first_workspace(store: &Store) -> Result<Workspace, ApplyError> {
    let txn = store.begin_read()?;
    let table = txn.open_table(WORKSPACES)?;
    let mut all: Vec<Workspace> = Vec::new();
    for entry in redb::ReadableTable::iter(&table)? {
        let (_, value) = entry?;
        all.push(crate::store::decode("workspaces", value.value())?);
    }
    all.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    all.into_iter().next().ok_or_else(|| {
        ApplyError::reject(
            warren_protocol::ErrorCode::NotFound,
            "the store has no workspace; run 'warren-server init' first",
        )
    })
}

/// Mints and stores a new token for a user (the first owner when `user` is `None`).
pub fn create_token(
    store: &Store,
    user_name: Option<&str>,
    label: &str,
) -> Result<(MintedToken, UserRecord), ApplyError> {
    let users = {
        let txn = store.begin_read()?;
        let table = txn.open_table(USERS)?;
        let mut users: Vec<UserRecord> = Vec::new();
        for entry in redb::ReadableTable::iter(&table)? {
            let (_, value) = entry?;
            users.push(crate::store::decode("users", value.value())?);
        }
        users.sort_by_key(|u| u.created_at);
        users
    };
    let user = match user_name {
        Some(name) => users.into_iter().find(|u| u.name == name).ok_or_else(|| {
            ApplyError::reject(
                warren_protocol::ErrorCode::NotFound,
                format!("no user named {name:?}; see the users with 'warren-server token list'"),
            )
        })?,
        None => users.into_iter().next().ok_or_else(|| {
            ApplyError::reject(
                warren_protocol::ErrorCode::NotFound,
                "the store has no users; run 'warren-server init' first",
            )
        })?,
    };
    let label = text::one_line("a token label", label, 100)?;
    let now = now_ms();
    let token = auth::mint(&user.id, &label, now)?;
    let txn = store.begin_write()?;
    txn.open_table(TOKENS)?.insert(
        token.record.id.as_str(),
        encode("tokens", &token.record)?.as_slice(),
    )?;
    audit::append(
        &txn,
        now,
        token_record("token.create", &token.record, &user),
    )?;
    txn.commit().map_err(StoreError::from)?;
    Ok((token, user))
}

/// Deletes a token; returns whether it existed.
pub fn revoke_token(store: &Store, token_id: &Id) -> Result<bool, StoreError> {
    let txn = store.begin_write()?;
    let removed: Option<TokenRecord> = match txn.open_table(TOKENS)?.remove(token_id.as_str())? {
        Some(bytes) => Some(crate::store::decode("tokens", bytes.value())?),
        None => None,
    };
    if let Some(record) = &removed {
        let user: Option<UserRecord> =
            read::get_json(&txn.open_table(USERS)?, "users", record.user_id.as_str())?;
        let user = user.unwrap_or_else(|| UserRecord {
            id: record.user_id.clone(),
            name: String::new(),
            created_at: 0,
        });
        audit::append(&txn, now_ms(), token_record("token.revoke", record, &user))?;
    }
    txn.commit()?;
    Ok(removed.is_some())
}

/// The audit record of an offline token command.
fn token_record(action: &'static str, token: &TokenRecord, user: &UserRecord) -> Record {
    Record {
        workspace: None,
        actor: AuditActor::Operator,
        action,
        target: Some(target::token(token)),
        details: details([
            ("user", user.id.as_str()),
            ("user_name", user.name.as_str()),
        ]),
        from: Source::Cli,
        about: vec![user.id.clone()],
    }
}

/// Every token with the name of its user.
pub fn list_tokens(store: &Store) -> Result<Vec<(TokenRecord, String)>, StoreError> {
    let txn = store.begin_read()?;
    let mut out = Vec::new();
    for record in read::tokens(&txn)? {
        let name =
            read::user(&txn, record.user_id.as_str())?.map_or_else(|| "?".to_owned(), |u| u.name);
        out.push((record, name));
    }
    out.sort_by_key(|(r, _)| r.created_at);
    Ok(out)
}

/// Resolves a presented token to its user and record, or `None` if it is malformed, unknown,
/// revoked or expired.
pub fn authenticate(
    store: &Store,
    presented: &str,
) -> Result<Option<(UserRecord, TokenRecord)>, StoreError> {
    let Some((token_id, secret)) = auth::parse(presented) else {
        return Ok(None);
    };
    let txn = store.begin_read()?;
    let Some(record) = read::token(&txn, &token_id)? else {
        return Ok(None);
    };
    if !auth::verify(&record, secret) || record.expires_at.is_some_and(|at| at <= now_ms()) {
        return Ok(None);
    }
    Ok(read::user(&txn, record.user_id.as_str())?.map(|user| (user, record)))
}
