//! Workspace and account management from the full-screen client, the same as the CLI's
//! `workspace`, `bot` and `token` commands: new / rename / delete workspace (the name typed again)
//! and handing it to a member, adding a bot, and the tokens window (new, revoke, rotate, sign out
//! everywhere else). Requests go out as `account` frames or commands; a secret that comes back (a
//! bot's or a new token) is shown once in the secret window and kept nowhere else.

pub mod draw;
pub mod keys;

use warren_protocol::account::{AccountOp, AccountResult, TokenInfo, TokenScope};
use warren_protocol::{Command, Id, Role};

use crate::tui::app::App;
use crate::tui::net::NetRequest;
use crate::tui::prompt::{Prompt, PromptFor};
use crate::tui::state::{Confirmable, Overlay};

/// A secret on screen, shown this once (a bot's first token, a new or rotated token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownSecret {
    pub title: String,
    /// What it is and what to do with it, in plain words.
    pub about: String,
    pub secret: String,
}

/// What the tokens window shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokensView {
    Loading,
    Loaded(Vec<TokenInfo>),
    Failed(String),
}

/// How long a rotated token keeps working, as the CLI's default.
pub const ROTATE_GRACE_SECS: u64 = 3600;

impl App {
    fn account(&mut self, op: AccountOp) {
        self.outbound.push(NetRequest::Account { op });
    }

    fn connected_workspace(&mut self, what: &str) -> Option<Id> {
        let id = self.workspace_id.clone();
        if id.is_none() {
            self.notify(
                format!("Not connected to a workspace yet: {what} once it has loaded"),
                true,
            );
        }
        id
    }

    /// The current workspace's name, as the replica knows it (empty before it has loaded).
    fn workspace_name(&self) -> String {
        self.view()
            .workspace
            .as_ref()
            .map(|w| w.name.clone())
            .unwrap_or_default()
    }

    /// Asks for the name of a new workspace.
    pub fn workspace_new(&mut self) {
        self.open_prompt(Prompt::new(
            "New workspace (you become its owner)",
            "",
            PromptFor::NewWorkspace,
        ));
    }

    /// Asks for the workspace's new name.
    pub fn workspace_rename(&mut self) {
        let name = self.workspace_name();
        self.open_prompt(Prompt::new(
            "Rename the workspace",
            &name,
            PromptFor::RenameWorkspace,
        ));
    }

    /// Asks for the workspace's name again before deleting it.
    pub fn workspace_delete(&mut self) {
        let name = self.workspace_name();
        self.open_prompt(Prompt::new(
            format!("Delete {name} and everything in it, for everyone? Type its name (owners)"),
            "",
            PromptFor::DeleteWorkspace,
        ));
    }

    /// Asks for a new bot's name.
    pub fn bot_add(&mut self) {
        self.open_prompt(Prompt::new(
            "New bot's name (admins; its token is shown once)",
            "",
            PromptFor::BotName,
        ));
    }

    /// The answer to one of this module's prompts (never empty: the prompt refuses that).
    pub(crate) fn account_prompt(&mut self, purpose: &PromptFor, answer: String) {
        match purpose {
            PromptFor::NewWorkspace => {
                self.close_overlay();
                self.account(AccountOp::CreateWorkspace { name: answer });
            }
            PromptFor::RenameWorkspace => {
                self.close_overlay();
                self.submit(Command::RenameWorkspace { name: answer });
            }
            PromptFor::DeleteWorkspace => {
                self.close_overlay();
                // The server checks the name too: a wrong one deletes nothing.
                self.submit(Command::DeleteWorkspace { name: answer });
            }
            PromptFor::BotName => {
                let Some(workspace_id) = self.connected_workspace("add a bot") else {
                    return;
                };
                self.close_overlay();
                self.account(AccountOp::AddBot {
                    workspace_id,
                    name: answer,
                    scope: TokenScope::Runs,
                });
            }
            PromptFor::TokenName => {
                self.close_overlay();
                self.account(AccountOp::CreateToken {
                    name: answer,
                    scope: TokenScope::Full,
                    expires_at: None,
                    user_id: None,
                });
            }
            _ => {}
        }
    }

    /// Asks before handing the workspace to the selected member of the members window.
    pub fn member_owner(&mut self) {
        let Some(Overlay::Members { selected }) = &self.overlay else {
            return;
        };
        let Some(member) = self.members_listed().get(*selected).cloned() else {
            return;
        };
        if self
            .me
            .as_ref()
            .is_some_and(|me| me.user_id == member.user_id)
        {
            self.notify(
                "Pick the member who should own the workspace, not yourself",
                true,
            );
            return;
        }
        self.overlay = Some(Overlay::Confirm {
            prompt: format!(
                "Hand the workspace to {}? They become owner, you become an admin.",
                member.name
            ),
            what: Confirmable::Transfer(member.user_id),
        });
    }

    /// Hands the workspace over: the new owner first, so it is never without one.
    pub(crate) fn transfer(&mut self, user_id: Id) {
        let Some(me) = self.me.as_ref().map(|m| m.user_id.clone()) else {
            return;
        };
        self.submit(Command::SetMemberRole {
            user_id,
            role: Role::Owner,
        });
        self.submit(Command::SetMemberRole {
            user_id: me,
            role: Role::Admin,
        });
    }

    /// Opens the tokens window and asks for the list.
    pub fn tokens(&mut self) {
        self.overlay = Some(Overlay::Tokens {
            view: TokensView::Loading,
            selected: 0,
        });
        self.account(AccountOp::ListTokens { user_id: None });
    }

    fn selected_token(&self) -> Option<TokenInfo> {
        let Some(Overlay::Tokens {
            view: TokensView::Loaded(tokens),
            selected,
        }) = &self.overlay
        else {
            return None;
        };
        tokens.get(*selected).cloned()
    }

    /// Asks for a new token's name.
    pub fn token_new(&mut self) {
        self.open_prompt(Prompt::new(
            "New token's name (a machine, a script); shown once",
            "",
            PromptFor::TokenName,
        ));
    }

    /// Asks before revoking the selected token.
    pub fn token_revoke(&mut self) {
        let Some(token) = self.selected_token() else {
            return;
        };
        let warning = if token.current {
            " This is the token this window uses: warren disconnects and you need another."
        } else {
            " Its connections close at once."
        };
        self.overlay = Some(Overlay::Confirm {
            prompt: format!("Revoke the token {} ({})?{warning}", token.name, token.id),
            what: Confirmable::RevokeToken(token.id),
        });
    }

    /// Rotates the selected token: a new one now, the old one works for an hour more.
    pub fn token_rotate(&mut self) {
        let Some(token) = self.selected_token() else {
            return;
        };
        self.account(AccountOp::RotateToken {
            token_id: token.id,
            grace_secs: ROTATE_GRACE_SECS,
        });
    }

    /// Asks before signing out everywhere else.
    pub fn token_revoke_others(&mut self) {
        self.overlay = Some(Overlay::Confirm {
            prompt: "Sign out everywhere else? Every token of yours but this window's is revoked."
                .to_owned(),
            what: Confirmable::RevokeOtherTokens,
        });
    }

    pub(crate) fn confirmed_revoke(&mut self, token_id: Option<Id>) {
        match token_id {
            Some(token_id) => self.account(AccountOp::RevokeToken { token_id }),
            None => self.account(AccountOp::RevokeOtherTokens {}),
        }
    }

    /// Answers to the account requests of this module.
    pub(crate) fn on_account_result(&mut self, result: AccountResult) {
        match result {
            AccountResult::WorkspaceCreated { workspace } => {
                self.notify(
                    format!(
                        "Created workspace {}: switch to it from the palette",
                        workspace.name
                    ),
                    false,
                );
                if !self.workspaces.iter().any(|w| w.id == workspace.id) {
                    self.workspaces.push(workspace);
                }
            }
            AccountResult::BotAdded { member, secret, .. } => {
                let about = format!(
                    "The bot {} can sign in with this token (scope runs). Give it to the bot's \
                     machine: warren login --server {} --token TOKEN",
                    member.name, self.server_url
                );
                self.show_secret(
                    format!("Bot {}'s token — shown once", member.name),
                    about,
                    secret,
                );
            }
            AccountResult::TokenCreated { token, secret } => {
                let about = format!(
                    "Use it with: warren login --server {} --token TOKEN",
                    self.server_url
                );
                self.show_secret(format!("Token {} — shown once", token.name), about, secret);
            }
            AccountResult::TokenRotated { old, token, secret } => {
                let about = format!(
                    "The new token for {}; the old one ({}) works for one more hour.",
                    token.name, old.id
                );
                self.show_secret(
                    format!("Token {} rotated — shown once", token.name),
                    about,
                    secret,
                );
            }
            AccountResult::Tokens { tokens } => {
                if let Some(Overlay::Tokens { view, selected }) = self.overlay.as_mut() {
                    *selected = (*selected).min(tokens.len().saturating_sub(1));
                    *view = TokensView::Loaded(tokens);
                }
            }
            AccountResult::TokenRevoked { token_id } => {
                self.notify(
                    format!("Revoked {token_id}; its connections are closed"),
                    false,
                );
                self.tokens();
            }
            AccountResult::TokensRevoked { token_ids } => {
                self.notify(
                    format!(
                        "Signed out everywhere else: {} token(s) revoked",
                        token_ids.len()
                    ),
                    false,
                );
                self.tokens();
            }
            _ => {}
        }
    }

    fn show_secret(&mut self, title: String, about: String, secret: String) {
        self.notify(format!("{title}: copy it now"), false);
        self.overlay = Some(Overlay::Secret(ShownSecret {
            title,
            about,
            secret,
        }));
    }

    /// Moves the tokens window's selection.
    pub(crate) fn move_token_selection(&mut self, delta: isize) {
        if let Some(Overlay::Tokens {
            view: TokensView::Loaded(tokens),
            selected,
        }) = self.overlay.as_mut()
        {
            let n = tokens.len().max(1) as isize;
            *selected = ((*selected as isize + delta).clamp(0, n - 1)) as usize;
        }
    }
}
