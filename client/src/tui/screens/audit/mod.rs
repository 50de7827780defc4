//! The audit log window (the palette's "Audit log", owners and admins): the workspace's latest
//! audit entries, newest first, read with one `audit` query when the window opens. A refusal
//! (not an auditor) is shown in the window in plain words; nothing else is changed.

pub mod draw;
pub mod keys;

use warren_protocol::audit::AuditEntry;

use crate::tui::app::App;
use crate::tui::net::NetRequest;
use crate::tui::state::Overlay;

/// How many entries the window asks for.
pub const AUDIT_PAGE: u32 = 200;

/// What the audit window shows.
#[derive(Debug, Clone, PartialEq)]
pub enum AuditView {
    Loading,
    Loaded {
        entries: Vec<AuditEntry>,
        /// Older entries exist beyond the page (`warren audit --limit` reads them).
        more: bool,
    },
    Failed(String),
}

impl App {
    /// Opens the audit window and asks for the latest entries.
    pub fn open_audit(&mut self) {
        if self.workspace_id.is_none() {
            self.notify(
                "Not connected to a workspace yet: open the audit log once it has loaded",
                true,
            );
            return;
        }
        self.overlay = Some(Overlay::Audit {
            view: AuditView::Loading,
            scroll: 0,
        });
        self.outbound.push(NetRequest::Audit);
    }

    /// The answer to the audit query; dropped if the window was closed meanwhile.
    pub(crate) fn on_audit(&mut self, answer: Result<(Vec<AuditEntry>, bool), String>) {
        if let Some(Overlay::Audit { view, .. }) = self.overlay.as_mut() {
            *view = match answer {
                Ok((entries, more)) => AuditView::Loaded { entries, more },
                Err(why) => AuditView::Failed(why),
            };
        }
    }
}
