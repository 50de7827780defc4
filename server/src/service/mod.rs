//! The domain services: validate a command against current state and apply it inside the caller's
//! write transaction, producing the [`Change`] that becomes the command's event.
//!
//! Each service checks everything it needs *before* it writes, so a rejected command leaves the
//! transaction untouched and the rest of its group commit goes ahead.

pub mod agent_runs;
pub mod agents;
mod boards;
pub mod budgets;
mod chat;
mod columns;
pub mod follow;
pub mod invites;
mod job_rules;
pub mod jobs;
pub mod members;
pub mod providers;
pub mod run_notes;
mod run_params;
pub mod runs;
mod text;
pub mod tokens;
pub mod workspace;
mod workspace_delete;

use redb::WriteTransaction;
use warren_protocol::account::TokenScope;
use warren_protocol::permission::{self, Permission, Requirement};
use warren_protocol::{Change, Command, ErrorCode, Event, Id, RequestId, Role, WireError};

use crate::audit::Source;
use crate::auth::{self, RandomError};
use crate::store::tables::{EVENTS, HEADS};
use crate::store::{StoreError, read};

/// Why a command was not applied.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The command is invalid in the current state; nothing was written.
    #[error("{0}")]
    Rejected(WireError),
    /// The store failed; the whole transaction must be dropped.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No randomness for a new id; the whole transaction must be dropped.
    #[error(transparent)]
    Random(#[from] RandomError),
}

impl ApplyError {
    /// A rejection with a code and a message.
    pub fn reject(code: ErrorCode, message: impl Into<String>) -> Self {
        ApplyError::Rejected(WireError::new(code, message))
    }
}

impl From<redb::StorageError> for ApplyError {
    fn from(e: redb::StorageError) -> Self {
        ApplyError::Store(e.into())
    }
}

impl From<redb::TableError> for ApplyError {
    fn from(e: redb::TableError) -> Self {
        ApplyError::Store(e.into())
    }
}

/// Who is acting, where, when, and under which sequence number the resulting event will be stored.
pub struct Ctx<'a> {
    pub workspace: &'a Id,
    pub actor: &'a Id,
    /// The actor's role in the workspace.
    pub role: Role,
    /// What the actor's token may be used for.
    pub scope: TokenScope,
    pub now: i64,
    pub seq: u64,
    /// Where the request came from (for the audit log: [`Ctx::audit`]).
    pub from: Source,
}

impl Ctx<'_> {
    fn ws(&self) -> &str {
        self.workspace.as_str()
    }

    /// Checks the actor may send `command` at all. Commands that the actor may send only for
    /// things they own (see [`Requirement::or_own`]) pass here and are checked again, on the
    /// thing itself, by [`Ctx::check_own`].
    pub fn check(&self, command: &Command) -> Result<(), ApplyError> {
        let need = permission::command_requirement(command);
        if self.may(need.permission) || need.or_own.is_some_and(|p| self.may(p)) {
            Ok(())
        } else {
            Err(self.denied(need, command.name()))
        }
    }

    /// Checks the actor may make the account request `name` (such as `add_bot`) here.
    pub fn check_account(&self, name: &str) -> Result<(), ApplyError> {
        let need = permission::account_requirement(name);
        if self.may(need.permission) {
            Ok(())
        } else {
            Err(self.denied(need, name))
        }
    }

    /// For a command allowed only on the actor's own things: passes when the actor holds the
    /// full permission, or `owned` is true.
    pub fn check_own(
        &self,
        command: &str,
        need: Requirement,
        owned: bool,
    ) -> Result<(), ApplyError> {
        if self.may(need.permission) || (owned && need.or_own.is_some_and(|p| self.may(p))) {
            Ok(())
        } else {
            Err(self.denied(need, command))
        }
    }

    /// Whether the actor's role holds `permission` and their token's scope allows it.
    pub fn may(&self, permission: Permission) -> bool {
        self.role.may(permission) && self.scope.allows(permission)
    }

    fn denied(&self, need: Requirement, command: &str) -> ApplyError {
        if self.role.may(need.permission) {
            return ApplyError::reject(
                ErrorCode::Forbidden,
                permission::scope_denial(self.scope, command),
            );
        }
        let mut message = permission::denial(self.role, need.permission, command);
        if let Some(own) = need.or_own.filter(|p| self.may(*p)) {
            message.push_str(&format!(" (with {} you may do it to your own)", own.name()));
        }
        ApplyError::reject(ErrorCode::Forbidden, message)
    }
}

/// Uses the client's id if it has the right kind, or mints one.
fn pick_id(requested: Option<&Id>, prefix: &str) -> Result<Id, ApplyError> {
    match requested {
        Some(id) if id.prefix() == prefix => Ok(id.clone()),
        Some(id) => Err(ApplyError::reject(
            ErrorCode::InvalidId,
            format!("{id} is not a {prefix} id; {prefix} ids start with '{prefix}_'"),
        )),
        None => Ok(auth::new_sortable_id(prefix)?),
    }
}

/// Validates and applies one command, returning the change it made.
/// Run commands share the writer's run state (`state`) and leave work for after the commit
/// (`fx`: frames to workers, secrets to forget).
pub fn apply(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    command: &Command,
    state: &crate::runs::RunState,
    fx: &mut crate::runs::effects::Effects,
) -> Result<Change, ApplyError> {
    match command {
        Command::CreateProvider {
            provider_id,
            name,
            kind,
            base_url,
            key_env,
            models,
            price,
            context_tokens,
        } => providers::create_provider(
            txn,
            ctx,
            &providers::NewProvider {
                provider_id: provider_id.as_ref(),
                name,
                kind: *kind,
                base_url,
                key_env: key_env.as_deref(),
                models,
                price: *price,
                context_tokens: *context_tokens,
            },
        ),
        Command::UpdateProvider {
            provider_id,
            name,
            base_url,
            key_env,
            models,
            price,
            context_tokens,
        } => providers::update_provider(
            txn,
            ctx,
            provider_id,
            &providers::ProviderChanges {
                name: name.as_deref(),
                base_url: base_url.as_deref(),
                key_env: key_env.as_ref().map(Option::as_deref),
                models: models.as_deref(),
                price: *price,
                context_tokens: *context_tokens,
            },
        ),
        Command::DeleteProvider { provider_id } => {
            providers::delete_provider(txn, ctx, provider_id)
        }
        Command::ReportProviderHealth {
            provider_id,
            state,
            last_error,
            message,
        } => providers::report_health(
            txn,
            ctx,
            provider_id,
            *state,
            *last_error,
            message.as_deref(),
        ),
        Command::CreateAgent {
            agent_id,
            name,
            providers,
            model,
            prompt,
            tools,
            auto_approve,
            max_steps,
            max_tokens,
            max_wall_secs,
        } => agents::create_agent(
            txn,
            ctx,
            &agents::NewAgent {
                agent_id: agent_id.as_ref(),
                name,
                providers,
                model: model.as_deref(),
                prompt,
                tools,
                auto_approve,
                max_steps: *max_steps,
                max_tokens: *max_tokens,
                max_wall_secs: *max_wall_secs,
            },
        ),
        Command::UpdateAgent {
            agent_id,
            name,
            providers,
            model,
            prompt,
            tools,
            auto_approve,
            max_steps,
            max_tokens,
            max_wall_secs,
            disabled,
        } => agents::update_agent(
            txn,
            ctx,
            agent_id,
            &agents::AgentChanges {
                name: name.as_deref(),
                providers: providers.as_deref(),
                model: model.as_ref().map(Option::as_deref),
                prompt: prompt.as_deref(),
                tools: tools.as_deref(),
                auto_approve: auto_approve.as_deref(),
                max_steps: *max_steps,
                max_tokens: *max_tokens,
                max_wall_secs: *max_wall_secs,
                disabled: *disabled,
            },
        ),
        Command::DeleteAgent { agent_id } => agents::delete_agent(txn, ctx, agent_id),
        // Raising or clearing a budget may queue paused runs again (its follow-up): the
        // scheduler looks at the queue after the batch.
        Command::SetBudget {
            scope,
            limit,
            period,
        } => {
            fx.schedule = true;
            budgets::set_budget(txn, ctx, scope, *limit, *period)
        }
        Command::ClearBudget { scope } => {
            fx.schedule = true;
            budgets::clear_budget(txn, ctx, scope)
        }
        Command::TestProvider { .. }
        | Command::AskAgent { .. }
        | Command::DecideTool { .. }
        | Command::RevokeApproval { .. }
        | Command::StartModelCall { .. }
        | Command::FinishModelCall { .. }
        | Command::CallTool { .. } => agent_runs::apply(txn, ctx, command, state, fx),
        Command::CreateJob {
            job_id,
            name,
            command,
            description,
            params,
            timeout_secs,
            retries,
            tags,
            protected,
            concurrency,
        } => {
            let new = jobs::NewJob {
                job_id: job_id.as_ref(),
                name,
                command,
                description,
                params,
                timeout_secs: *timeout_secs,
                retries: *retries,
                tags,
                protected: *protected,
                concurrency: *concurrency,
            };
            jobs::create_job(txn, ctx, &new)
        }
        Command::UpdateJob {
            job_id,
            name,
            command,
            description,
            params,
            timeout_secs,
            retries,
            tags,
            protected,
            concurrency,
        } => {
            let changes = jobs::JobChanges {
                name: name.as_deref(),
                command: command.as_deref(),
                description: description.as_deref(),
                params: params.as_deref(),
                timeout_secs: *timeout_secs,
                retries: *retries,
                tags: tags.as_deref(),
                protected: *protected,
                concurrency: *concurrency,
            };
            let change = jobs::update_job(txn, ctx, job_id, &changes)?;
            fx.schedule = true;
            Ok(change)
        }
        Command::DeleteJob { job_id } => {
            let change = jobs::delete_job(txn, ctx, job_id)?;
            fx.schedule = true;
            Ok(change)
        }
        Command::StartRun { .. }
        | Command::CancelRun { .. }
        | Command::ApproveRun { .. }
        | Command::RejectRun { .. }
        | Command::RetryRun { .. }
        | Command::ReportRunStarted { .. }
        | Command::ReportRunFinished { .. } => runs::apply(txn, ctx, command, state, fx),
        Command::CreateBoard {
            board_id,
            name,
            columns,
        } => boards::create_board(txn, ctx, board_id.as_ref(), name, columns.as_deref()),
        Command::RenameBoard { board_id, name } => columns::rename_board(txn, ctx, board_id, name),
        Command::AddColumn {
            board_id,
            column_id,
            name,
            index,
        } => columns::add_column(txn, ctx, board_id, column_id.as_ref(), name, *index),
        Command::RenameColumn {
            board_id,
            column_id,
            name,
        } => columns::rename_column(txn, ctx, board_id, column_id, name),
        Command::MoveColumn {
            board_id,
            column_id,
            index,
        } => columns::move_column(txn, ctx, board_id, column_id, *index),
        Command::DeleteColumn {
            board_id,
            column_id,
            move_cards_to,
        } => columns::delete_column(txn, ctx, board_id, column_id, move_cards_to.as_ref()),
        Command::CreateCard { .. } => boards::create_card(txn, ctx, command),
        Command::UpdateCard { .. } => boards::update_card(txn, ctx, command),
        Command::MoveCard {
            card_id,
            column_id,
            position,
        } => boards::move_card(txn, ctx, card_id, column_id, position),
        Command::DeleteCard { card_id } => boards::delete_card(txn, ctx, card_id),
        Command::CreateRoom {
            room_id,
            name,
            topic,
        } => chat::create_room(txn, ctx, room_id.as_ref(), name, topic),
        Command::PostMessage {
            message_id,
            room_id,
            body,
        } => chat::post_message(txn, ctx, message_id.as_ref(), room_id, body),
        Command::EditMessage { message_id, body } => chat::edit_message(txn, ctx, message_id, body),
        Command::DeleteMessage { message_id } => chat::delete_message(txn, ctx, message_id),
        Command::RenameWorkspace { name } => members::rename_workspace(txn, ctx, name),
        Command::SetMemberRole { user_id, role } => {
            members::set_member_role(txn, ctx, user_id, *role)
        }
        Command::RemoveMember { user_id } => members::remove_member(txn, ctx, user_id),
        Command::DeleteWorkspace { name } => workspace_delete::delete_workspace(txn, ctx, name),
    }
}

/// The sequence number the next event of a workspace will get.
pub fn next_seq(txn: &WriteTransaction, workspace: &Id) -> Result<u64, StoreError> {
    Ok(read::head(&txn.open_table(HEADS)?, workspace.as_str())? + 1)
}

/// Appends the event for an applied change at `ctx.seq` and advances the workspace head.
/// Returns the event and its stored JSON, which is also the text clients receive.
pub fn append_event(
    txn: &WriteTransaction,
    ctx: &Ctx<'_>,
    request_id: Option<&RequestId>,
    change: Change,
) -> Result<(Event, String), StoreError> {
    let (event, json) = unstored_event(ctx, request_id, change)?;
    txn.open_table(EVENTS)?
        .insert((ctx.ws(), ctx.seq), json.as_bytes())?;
    txn.open_table(HEADS)?.insert(ctx.ws(), ctx.seq)?;
    Ok((event, json))
}

/// The event for an applied change at `ctx.seq` and its JSON, without storing it: only for
/// `workspace_deleted`, whose log is deleted with it.
pub fn unstored_event(
    ctx: &Ctx<'_>,
    request_id: Option<&RequestId>,
    change: Change,
) -> Result<(Event, String), StoreError> {
    let event = Event {
        seq: ctx.seq,
        workspace_id: ctx.workspace.clone(),
        at: ctx.now,
        actor: ctx.actor.clone(),
        request_id: request_id.cloned(),
        change,
    };
    let json = serde_json::to_string(&event).map_err(|source| StoreError::Corrupt {
        table: "events",
        source,
    })?;
    Ok((event, json))
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
