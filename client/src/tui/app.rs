//! The application state of the full-screen client and how it changes when the server speaks.
//! Key handling lives in [`super::input`]; drawing in [`super::view`]; each screen's own state,
//! keys and drawing in its folder under [`super::screens`]. Nothing here touches the terminal or
//! the socket: network work is queued in [`App::outbound`] for the event loop.

use std::cell::RefCell;
use std::collections::HashMap;

use ratatui::text::Line;
use tokio::time::Instant;
use warren_protocol::{Change, Command, Id, Member, ServerMessage, Workspace};

use super::model::Model;
use super::net::{NetEvent, NetRequest};
use super::notices::{self, NoticeLog};
use super::outbox::Outbox;
use super::screens::Tab;
use super::screens::board::BoardUi;
use super::screens::chat::ChatUi;
use super::state::{ConnState, Notice, Overlay};
use crate::connection::new_request_id;
use crate::keymap::Keymap;
use crate::theme::Theme;

/// Rendered message bodies by (message, width, edit time).
pub type RenderCache = HashMap<(Id, u16, Option<i64>), Vec<Line<'static>>>;

/// How long a "someone is typing" hint lasts without a new typing frame.
pub const TYPING_TTL: std::time::Duration = std::time::Duration::from_secs(5);

/// The whole state of the full-screen client.
pub struct App {
    /// The workspace as the server confirmed it.
    pub model: Model,
    /// `model` with pending changes applied; `None` when nothing is pending.
    projected: Option<Model>,
    pub outbox: Outbox,
    pub me: Option<Member>,
    pub workspace_id: Option<Id>,
    /// Every workspace the user belongs to (from `welcome`), for switching.
    pub workspaces: Vec<Workspace>,
    /// Who is online in this workspace (the last `presence` frame), by user id.
    pub online: Vec<Id>,
    pub server: String,
    /// The server's URL as others sign in to it (`warren join --server`, `warren login --server`);
    /// `server` is a label, which for the local store names its folder. Empty until launch sets it.
    pub server_url: String,
    pub conn: ConnState,
    /// The replay after (re)subscribing has finished.
    pub synced: bool,
    pub tab: Tab,
    pub board: BoardUi,
    pub chat: ChatUi,
    pub runs: super::screens::runs::RunsUi,
    pub stats: super::screens::stats::StatsUi,
    /// Streamed text of agent runs in progress, and what is watched.
    pub streams: super::agents::stream::Streams,
    /// The approval prompt on screen and since when (a key too soon does not answer it).
    pub approval: super::agents::guard::ApprovalGuard,
    pub overlay: Option<Overlay>,
    pub notice: Option<Notice>,
    /// The current notice's deadline and the recent notices (`:messages`).
    pub notices: NoticeLog,
    pub keymap: Keymap,
    pub theme: Theme,
    /// Copy with OSC 52 (`[ui] osc52 = true`).
    pub osc52: bool,
    /// Where config.toml is, for messages that tell the user to edit it.
    pub config_path: Option<String>,
    /// Text to put on the clipboard, written to the terminal by the event loop.
    pub copy_request: Option<String>,
    /// The last delete, undoable for a few seconds.
    pub undo: Option<super::undo::Undoable>,
    /// Requests for the network task, drained by the event loop.
    pub outbound: Vec<NetRequest>,
    pub quit: bool,
    /// A board this client created, shown as soon as the server confirms it.
    pub pending_board: Option<Id>,
    /// The local time zone, for showing times: each instant gets the offset in force then, so
    /// last winter's messages show winter time.
    pub zone: jiff::tz::TimeZone,
    /// The largest useful scroll offset of the open overlay, as last drawn (a renderer memo, so
    /// scrolling past the end does not have to be scrolled back).
    pub overlay_max_scroll: std::cell::Cell<Option<usize>>,
    /// Rendered message bodies by (message, width, edit time): a memo for the renderer.
    pub chat_render_cache: RefCell<RenderCache>,
    /// Where the outbox is kept between runs; `None` keeps it in memory only (the demo).
    pub outbox_dir: Option<std::path::PathBuf>,
    /// Whose outbox this is, known once connected.
    pub outbox_key: Option<super::outbox_file::OutboxKey>,
    /// Overlays under the open one, shown again when it closes (a confirmation over the card
    /// editor, the editor over a card's details).
    pub under: Vec<Overlay>,
}

impl App {
    /// A new app showing nothing yet (until the first snapshot).
    pub fn new(keymap: Keymap, theme: Theme, server: String) -> Self {
        Self {
            model: Model::default(),
            projected: None,
            outbox: Outbox::default(),
            me: None,
            workspace_id: None,
            workspaces: Vec::new(),
            online: Vec::new(),
            server_url: server.clone(),
            server,
            conn: ConnState::Connecting,
            synced: false,
            tab: Tab::Board,
            board: BoardUi::default(),
            chat: ChatUi::default(),
            runs: super::screens::runs::RunsUi::default(),
            stats: super::screens::stats::StatsUi::default(),
            streams: super::agents::stream::Streams::default(),
            approval: super::agents::guard::ApprovalGuard::default(),
            overlay: None,
            notice: None,
            notices: NoticeLog::default(),
            keymap,
            theme,
            osc52: false,
            config_path: None,
            copy_request: None,
            undo: None,
            outbound: Vec::new(),
            quit: false,
            pending_board: None,
            chat_render_cache: RefCell::new(HashMap::new()),
            overlay_max_scroll: std::cell::Cell::new(None),
            zone: crate::localtime::zone(),
            outbox_dir: None,
            outbox_key: None,
            under: Vec::new(),
        }
    }

    /// `at_ms` as a local calendar day and time of day.
    pub fn day_and_time(&self, at_ms: i64) -> (String, String) {
        crate::localtime::day_and_time_in(&self.zone, at_ms)
    }

    /// `at_ms` as `YYYY-MM-DD HH:MM` on the local clock.
    pub fn local_minutes(&self, at_ms: i64) -> String {
        crate::localtime::minutes_in(&self.zone, at_ms)
    }

    /// The workspace as the user should see it: confirmed state plus pending changes.
    pub fn view(&self) -> &Model {
        self.projected.as_ref().unwrap_or(&self.model)
    }

    /// Recomputes the optimistic view after the model or the outbox changed.
    pub fn reproject(&mut self) {
        self.projected = if self.outbox.is_empty() {
            None
        } else {
            let actor = self.me.as_ref().map(|m| m.user_id.clone());
            actor.map(|a| self.outbox.project(&self.model, &a, now_ms()))
        };
    }

    /// Shows a message in the status line for a few seconds (see [`super::notices`]).
    pub fn notify(&mut self, text: impl Into<String>, error: bool) {
        self.notify_at(text, error, Instant::now());
    }

    /// Queues a command: it shows at once, and is sent now or after the next reconnect.
    pub fn submit(&mut self, command: Command) {
        let request_id = match new_request_id() {
            Ok(id) => id,
            Err(e) => {
                self.notify(format!("cannot make a request id: {e}"), true);
                return;
            }
        };
        self.outbox.push(request_id, command);
        self.keep_outbox();
        self.flush_outbox();
        self.reproject();
    }

    fn flush_outbox(&mut self) {
        if self.conn != ConnState::Connected {
            return;
        }
        for pending in self.outbox.take_unsent() {
            self.outbound.push(NetRequest::Command {
                request_id: pending.request_id,
                command: pending.command,
            });
        }
    }

    /// Handles what the network task reports.
    pub fn on_net(&mut self, event: NetEvent) {
        self.on_net_event(event);
        self.follow_pending_board();
        self.refresh_agents(Instant::now());
    }

    fn on_net_event(&mut self, event: NetEvent) {
        match event {
            NetEvent::Connecting => {
                if !matches!(self.conn, ConnState::Connected) {
                    self.conn = ConnState::Connecting;
                }
            }
            NetEvent::Connected(welcome, workspace) => {
                self.me = Some(welcome.user.clone());
                self.workspaces = welcome
                    .workspaces
                    .iter()
                    .cloned()
                    .map(|mut w| {
                        w.name = crate::sanitize::line(&w.name);
                        w
                    })
                    .collect();
                self.workspace_id = Some(workspace);
                self.conn = ConnState::Connected;
                self.synced = false;
                self.restore_outbox(&welcome.user.user_id);
                self.outbox.mark_all_unsent();
                self.flush_outbox();
                // A subscription ends with its connection: follow the open run's log again.
                if let Some(open) = self.runs.open.as_ref().filter(|o| o.agent.is_none()) {
                    self.outbound.push(super::net::NetRequest::LogFollow {
                        run_id: open.run_id.clone(),
                        tail: super::screens::runs::TAIL,
                    });
                }
                for history in self.model.history.values_mut() {
                    history.loading = false;
                }
                // Watches end with their connection too: `refresh_agents` sends them again; the
                // open agent run's steps are read again.
                self.streams.reset();
                if let Some(number) = self
                    .runs
                    .open
                    .as_ref()
                    .filter(|o| o.agent.is_some())
                    .and_then(|o| {
                        self.model
                            .runs
                            .iter()
                            .find(|r| r.id == o.run_id)
                            .map(|r| r.number)
                    })
                {
                    self.outbound.push(NetRequest::RunSteps { number });
                }
            }
            NetEvent::Disconnected { reason, retry_at } => {
                self.conn = match retry_at {
                    Some(at) => ConnState::Reconnecting { at, reason },
                    None => ConnState::Offline { reason },
                };
                self.outbox.mark_all_unsent();
            }
            NetEvent::Refused { message } => {
                self.conn = ConnState::Refused { message };
                self.outbox.mark_all_unsent();
            }
            NetEvent::Push(message) => self.on_push(*message),
            NetEvent::Acked(request_id, ack) => {
                if self.outbox.resolve(&request_id).is_some() {
                    self.keep_outbox();
                }
                self.clear_error_notice();
                // The ack carries the event; apply it now if it is next (the event frame that
                // follows is then skipped by sequence number).
                self.apply_event(&ack.event);
                self.reproject();
            }
            NetEvent::Rejected(request_id, error) => {
                let refused = self.outbox.resolve(&request_id);
                if let Some(p) = &refused {
                    self.forget_undo_of(&p.command);
                }
                let what = refused.as_ref().map_or_else(
                    || "make that change".to_owned(),
                    |p| notices::attempt(&p.command),
                );
                // Untrusted server text: one line, no control characters, before it goes anywhere.
                let why = crate::sanitize::line(&notices::reason(
                    &error,
                    refused.as_ref().map(|p| &p.command),
                ));
                self.notify(format!("Could not {what}: {why}"), true);
                if let Some(refused) = refused {
                    self.keep_outbox();
                    self.reopen_refused(refused.command, &why);
                }
                self.reproject();
            }
            NetEvent::Page {
                room_id,
                messages,
                has_more,
            } => {
                self.model.apply_page(&room_id, messages, has_more);
            }
            NetEvent::Account(answer) => self.on_account(answer),
            NetEvent::Audit(answer) => self.on_audit(answer),
            NetEvent::LogPage(request, page) => {
                if let Some(open) = self.runs.open.as_mut()
                    && open.run_id == request.run_id
                {
                    open.log.source_mut().on_page(&request, page);
                    match open.log.source_mut().take_found() {
                        Some(super::screens::runs::remote::Found::At(pos)) => {
                            open.log.show_position(pos);
                        }
                        Some(super::screens::runs::remote::Found::Nowhere) => {
                            open.log.say("not found in the rest of the log");
                        }
                        None => {}
                    }
                }
            }
            NetEvent::RunSteps(number, answer) => self.on_run_steps(number, answer),
            NetEvent::Budgets(answer) => self.on_budgets(answer),
            NetEvent::Approvals(answer) => self.on_grants(answer),
            NetEvent::Usage(answer) => self.stats.on_usage(answer),
            NetEvent::SlowedDown { retry_in } => {
                // Not an error: the change stays in the outbox and goes out by itself.
                self.notify(notices::slowed_down(retry_in), false);
            }
            NetEvent::PageFailed { room_id, error } => {
                if let Some(h) = self.model.history.get_mut(&room_id) {
                    h.loading = false;
                }
                self.notify(
                    format!("Could not load the room's messages: {error} — they load again when you reopen the room"),
                    true,
                );
            }
        }
    }

    fn on_push(&mut self, message: ServerMessage) {
        match message {
            ServerMessage::Snapshot { state }
                if self
                    .workspace_id
                    .as_ref()
                    .is_none_or(|w| w == &state.workspace.id) =>
            {
                self.model.apply_snapshot(state);
                self.clamp_selection();
                self.reproject();
                self.ensure_history();
            }
            ServerMessage::Event { event } => {
                self.apply_event(&event);
                self.reproject();
            }
            ServerMessage::Synced { .. } => {
                self.synced = true;
                self.ensure_history();
            }
            ServerMessage::Typing { room_id, user_id } => {
                let until = Instant::now() + TYPING_TTL;
                let list = self.chat.typing.entry(room_id).or_default();
                list.retain(|(u, _)| u != &user_id);
                list.push((user_id, until));
            }
            // A server without agents refuses `run_watch`: streaming is just not there.
            ServerMessage::Error {
                request_id: Some(id),
                ..
            } if self.streams.watch_requests.remove(&id) => {}
            ServerMessage::Error { code, message, .. } => {
                self.notify(
                    format!("The server reported a problem ({code}): {message}"),
                    true,
                );
            }
            ServerMessage::Presence {
                workspace_id,
                online,
            } => {
                if self.workspace_id.as_ref() == Some(&workspace_id) {
                    self.online = online;
                }
            }
            ServerMessage::Snapshot { .. }
            | ServerMessage::Resync { .. }
            | ServerMessage::Welcome { .. }
            | ServerMessage::Ack { .. }
            | ServerMessage::Result { .. }
            | ServerMessage::AccountResult { .. }
            | ServerMessage::Pong { .. } => {}
            ServerMessage::LogLines { run_id, lines } => {
                if let Some(open) = self.runs.open.as_mut()
                    && open.run_id == run_id
                {
                    open.log.source_mut().on_live(lines);
                }
            }
            ServerMessage::RunWatching {
                request_id,
                partials,
            } => {
                self.streams.watch_requests.remove(&request_id);
                self.streams.on_watching(partials);
            }
            ServerMessage::AgentDelta {
                run_id,
                step,
                offset,
                text,
            } => {
                self.streams.on_delta(&run_id, step, offset, &text);
            }
            ServerMessage::LogEnd { run_id, lines, .. } => {
                if let Some(open) = self.runs.open.as_mut()
                    && open.run_id == run_id
                {
                    open.log.source_mut().on_end(lines);
                }
            }
            // Frames for workers, and the end of a subscription's replay (nothing to do).
            ServerMessage::LogSynced { .. }
            | ServerMessage::WorkerWelcome { .. }
            | ServerMessage::Assign { .. }
            | ServerMessage::CancelRun { .. }
            | ServerMessage::LogAck { .. }
            | ServerMessage::LogRefused { .. } => {}
        }
    }

    fn apply_event(&mut self, event: &warren_protocol::Event) {
        // A late frame or ack of a workspace the user switched away from.
        if self
            .workspace_id
            .as_ref()
            .is_some_and(|w| w != &event.workspace_id)
        {
            return;
        }
        if !self.model.apply_event(event) {
            return;
        }
        if let Change::WorkspaceDeleted { workspace } = &event.change {
            self.workspace_deleted(workspace, &event.actor);
        }
        if let Change::MemberRemoved { user_id } = &event.change
            && self.me.as_ref().map(|m| &m.user_id) == Some(user_id)
        {
            self.notify(
                "You were removed from this workspace; an admin or owner can add you again",
                true,
            );
        }
        self.streams_after(&event.change);
        self.grants_on_event(event);
        for tab in Tab::ALL {
            tab.screen().on_event(self, event);
        }
        self.clamp_selection();
    }

    /// Keeps every screen's indexes (board, column, room) inside what exists.
    pub fn clamp_selection(&mut self) {
        for tab in Tab::ALL {
            tab.screen().clamp(self);
        }
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
