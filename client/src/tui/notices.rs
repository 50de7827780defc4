//! Status messages: what the status line says after something happened, in plain words. A
//! message clears itself after a few seconds (errors stay a little longer), an error is cleared
//! by the next change the server accepts, and the recent ones are kept for the messages window
//! (`:messages`) so nothing shown too briefly is lost.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;
use warren_protocol::{Command, WireError};

use super::app::{App, now_ms};
use super::state::Notice;

/// How long an informational message stays.
pub const INFO_TTL: Duration = Duration::from_secs(5);
/// How long an error stays (unless a later success clears it).
pub const ERROR_TTL: Duration = Duration::from_secs(10);
/// How many messages the messages window keeps.
pub const KEEP: usize = 50;

/// A message as the messages window lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    /// Wall-clock milliseconds since the Unix epoch.
    pub at_ms: i64,
    pub text: String,
    pub error: bool,
}

/// The current message's deadline and the recent messages.
#[derive(Debug, Default)]
pub struct NoticeLog {
    /// When the current message goes away.
    pub until: Option<Instant>,
    /// The most recent messages, oldest first.
    pub recent: VecDeque<Logged>,
}

impl App {
    /// Shows a message in the status line until `now` + its lifetime, and logs it.
    pub fn notify_at(&mut self, text: impl Into<String>, error: bool, now: Instant) {
        let text = crate::sanitize::line(&text.into());
        self.notices.recent.push_back(Logged {
            at_ms: now_ms(),
            text: text.clone(),
            error,
        });
        while self.notices.recent.len() > KEEP {
            self.notices.recent.pop_front();
        }
        self.notices.until = Some(now + if error { ERROR_TTL } else { INFO_TTL });
        self.notice = Some(Notice { text, error });
    }

    /// Clears the current message once its time is up.
    pub fn expire_notice(&mut self, now: Instant) {
        if self.notices.until.is_some_and(|until| until <= now) {
            self.notice = None;
            self.notices.until = None;
        }
    }

    /// A change the server accepted: an error message about an earlier one is out of date.
    pub fn clear_error_notice(&mut self) {
        if self.notice.as_ref().is_some_and(|n| n.error) {
            self.notice = None;
            self.notices.until = None;
        }
    }

    /// When the current message goes away, for the event loop's wake-up.
    pub fn notice_deadline(&self) -> Option<Instant> {
        self.notice.as_ref().and(self.notices.until)
    }
}

/// The status line while the server rate-limits this client: what happens next, in whole
/// seconds (rounded up), and that nothing was lost.
pub fn slowed_down(retry_in: Duration) -> String {
    let ms = u64::try_from(retry_in.as_millis()).unwrap_or(u64::MAX);
    format!(
        "Slowed down by the server: retrying in {} s",
        crate::retry::whole_secs(ms)
    )
}

/// Why the server refused `command`, in the user's words: the server names the request by its
/// wire name (`create_room needs the room:manage permission …`, for API clients); after "Could
/// not create the room #x:" that name is said as "that".
pub fn reason(error: &WireError, command: Option<&Command>) -> String {
    let message = error.message.trim();
    command
        .and_then(|c| message.strip_prefix(c.name()))
        .and_then(|rest| rest.strip_prefix(' '))
        .map_or_else(|| message.to_owned(), |rest| format!("that {rest}"))
}

/// What a command was trying to do, as the end of "Could not …".
pub fn attempt(command: &Command) -> String {
    match command {
        Command::CreateBoard { name, .. } => format!("create the board “{name}”"),
        Command::CreateCard { title, .. } => format!("create the card “{title}”"),
        Command::UpdateCard { .. } => "save the card".to_owned(),
        Command::MoveCard { .. } => "move the card".to_owned(),
        Command::DeleteCard { .. } => "delete the card".to_owned(),
        Command::CreateRoom { name, .. } => format!("create the room #{name}"),
        Command::PostMessage { .. } => "send the message".to_owned(),
        Command::EditMessage { .. } => "edit the message".to_owned(),
        Command::DeleteMessage { .. } => "delete the message".to_owned(),
        Command::RenameBoard { name, .. } => format!("rename the board to “{name}”"),
        Command::AddColumn { name, .. } => format!("add the column “{name}”"),
        Command::RenameColumn { name, .. } => format!("rename the column to “{name}”"),
        Command::MoveColumn { .. } => "move the column".to_owned(),
        Command::DeleteColumn { .. } => "delete the column".to_owned(),
        Command::RenameWorkspace { name } => format!("rename the workspace to “{name}”"),
        Command::SetMemberRole { role, .. } => format!("make the member {}", role.as_str()),
        Command::RemoveMember { .. } => "remove the member".to_owned(),
        Command::DeleteWorkspace { .. } => "delete the workspace".to_owned(),
        Command::CreateJob { name, .. } => format!("create the job “{name}”"),
        Command::UpdateJob { .. } => "save the job".to_owned(),
        Command::DeleteJob { .. } => "delete the job".to_owned(),
        Command::StartRun { .. } => "start the run".to_owned(),
        Command::CancelRun { .. } => "cancel the run".to_owned(),
        Command::ApproveRun { .. } => "approve the run".to_owned(),
        Command::RejectRun { .. } => "reject the run".to_owned(),
        Command::RetryRun { .. } => "retry the run".to_owned(),
        Command::ReportRunStarted { .. } => "report the run started".to_owned(),
        Command::ReportRunFinished { .. } => "report the run finished".to_owned(),
        Command::CreateProvider { name, .. } => format!("add the provider “{name}”"),
        Command::UpdateProvider { .. } => "save the provider".to_owned(),
        Command::DeleteProvider { .. } => "remove the provider".to_owned(),
        Command::TestProvider { .. } => "test the provider".to_owned(),
        Command::CreateAgent { name, .. } => format!("add the agent “{name}”"),
        Command::UpdateAgent { .. } => "save the agent".to_owned(),
        Command::DeleteAgent { .. } => "remove the agent".to_owned(),
        Command::AskAgent { .. } => "ask the agent".to_owned(),
        Command::DecideTool { .. } => "decide the tool call".to_owned(),
        Command::RevokeApproval { .. } => "revoke the approval".to_owned(),
        Command::SetBudget { .. } => "set the budget".to_owned(),
        Command::ClearBudget { .. } => "clear the budget".to_owned(),
        Command::StartModelCall { .. } => "start the model call".to_owned(),
        Command::FinishModelCall { .. } => "report the model call".to_owned(),
        Command::CallTool { .. } => "call the tool".to_owned(),
        Command::ReportProviderHealth { .. } => "report the provider's health".to_owned(),
    }
}
