//! Serialising server frames. Event frames are built around an event's JSON text once and the
//! result shared by every receiver.

use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;
use warren_protocol::{ErrorCode, RequestId, ServerMessage};

use crate::hub::Frame;

/// The text of `{"type":"event","event":…}` around an event's JSON.
pub fn event_text(event_json: &str) -> String {
    let mut text = String::with_capacity(event_json.len() + 26);
    text.push_str(r#"{"type":"event","event":"#);
    text.push_str(event_json);
    text.push('}');
    text
}

/// A shareable event frame around an event's JSON (as stored, so it is serialised only once).
pub fn event_frame(seq: u64, event_json: &str) -> Arc<Frame> {
    Arc::new(Frame {
        seq,
        text: event_text(event_json).into(),
    })
}

/// Serialises any server message.
pub fn text(message: &ServerMessage) -> Utf8Bytes {
    match serde_json::to_string(message) {
        Ok(s) => s.into(),
        Err(e) => error_text(
            None,
            ErrorCode::Internal,
            &format!("cannot encode a reply: {e}"),
        ),
    }
}

/// Serialises an `error` frame.
pub fn error_text(request_id: Option<RequestId>, code: ErrorCode, message: &str) -> Utf8Bytes {
    wire_error_text(request_id, &warren_protocol::WireError::new(code, message))
}

/// Serialises an `error` frame from a wire error (with its `retry_after_ms`, if any).
pub fn wire_error_text(
    request_id: Option<RequestId>,
    error: &warren_protocol::WireError,
) -> Utf8Bytes {
    let code = error.code;
    let msg = ServerMessage::Error {
        request_id,
        code,
        message: error.message.clone(),
        retry_after_ms: error.retry_after_ms,
    };
    serde_json::to_string(&msg)
        .unwrap_or_else(|_| format!(r#"{{"type":"error","code":"{code}","message":"internal"}}"#))
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use warren_protocol::{Change, Event, Id, Workspace};

    #[test]
    fn event_frames_parse_as_server_messages() -> Result<(), serde_json::Error> {
        let ws = Id::from_random("ws", [7; 10]);
        let event = Event {
            seq: 3,
            workspace_id: ws.clone(),
            at: 5,
            actor: Id::from_random("usr", [8; 10]),
            request_id: None,
            change: Change::WorkspaceCreated {
                workspace: Workspace {
                    id: ws,
                    name: "w".into(),
                    created_at: 5,
                },
            },
        };
        let frame = event_frame(event.seq, &serde_json::to_string(&event)?);
        let parsed: ServerMessage = serde_json::from_str(frame.text.as_str())?;
        assert_eq!(parsed, ServerMessage::Event { event });
        assert_eq!(frame.seq, 3);
        Ok(())
    }
}
