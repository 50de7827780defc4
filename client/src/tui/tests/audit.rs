//! The audit log window: the palette opens it and one `audit` query goes out; the entries are
//! listed newest first with who, what, on what and from where (text from the server made safe);
//! a refusal is said in the window; card keys do nothing while it is open.

use crossterm::event::KeyCode;
use warren_protocol::audit::{AuditActor, AuditEntry, AuditTarget};

use super::fixture::{draw, id, key, me, press, sample_app};
use crate::tui::net::{NetEvent, NetRequest};
use crate::tui::screens::audit::AuditView;
use crate::tui::state::Overlay;

fn entries() -> Vec<AuditEntry> {
    vec![
        AuditEntry {
            id: 2,
            at: 3_600_000,
            workspace_id: Some(id("ws", 1)),
            actor: AuditActor::User {
                user_id: me().user_id,
                name: "ada".into(),
            },
            action: "member.role".into(),
            target: Some(AuditTarget {
                kind: "member".into(),
                id: "usr_x".into(),
                name: "mira\u{1b}[2J".into(),
            }),
            details: [("from", "member"), ("to", "admin")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            from: "203.0.113.7".into(),
        },
        AuditEntry {
            id: 1,
            at: 0,
            workspace_id: None,
            actor: AuditActor::Anonymous,
            action: "auth.failed".into(),
            target: None,
            details: [("count", "3")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            from: "198.51.100.23".into(),
        },
    ]
}

#[test]
fn the_palette_opens_the_audit_log_and_lists_entries_safely() {
    let mut app = sample_app();
    app.outbound.clear();
    press(&mut app, ":");
    press(&mut app, "audit");
    assert_eq!(
        app.palette_entries().first().map(|e| e.label.as_str()),
        Some("Audit log")
    );
    press(&mut app, "\n");
    assert!(matches!(
        app.overlay,
        Some(Overlay::Audit {
            view: AuditView::Loading,
            ..
        })
    ));
    assert_eq!(
        app.outbound
            .iter()
            .filter(|r| matches!(r, NetRequest::Audit))
            .count(),
        1
    );

    app.on_net(NetEvent::Audit(Ok((entries(), true))));
    let terminal = draw(&app, 80, 24);
    insta::assert_snapshot!(terminal.backend());
    let screen = format!("{:?}", terminal.backend().buffer());
    assert!(screen.contains("member.role") && screen.contains("auth.failed"));
    assert!(!screen.contains('\u{1b}'), "no escape sequence from a name");

    // Card keys do nothing here; Esc closes.
    press(&mut app, "ed");
    assert!(matches!(app.overlay, Some(Overlay::Audit { .. })));
    app.on_key(key(KeyCode::Esc));
    assert!(app.overlay.is_none());
}

#[test]
fn a_refused_audit_log_says_why_in_the_window() {
    let mut app = sample_app();
    app.open_audit();
    app.on_net(NetEvent::Audit(Err(
        "audit needs the audit:read permission, which admins and owners have".into(),
    )));
    let terminal = draw(&app, 80, 24);
    let screen = format!("{:?}", terminal.backend().buffer());
    assert!(screen.contains("Cannot show the audit log"), "{screen}");
    // An answer after the window closed changes nothing.
    app.on_key(key(KeyCode::Esc));
    app.on_net(NetEvent::Audit(Ok((entries(), false))));
    assert!(app.overlay.is_none());
}
