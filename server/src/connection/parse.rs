//! Turning a text frame into a [`ClientMessage`], or into the structured error that says exactly
//! what is wrong with it.

use serde::Deserialize;
use warren_protocol::limits::MAX_FRAME_BYTES;
use warren_protocol::{ClientMessage, ErrorCode, Id, RequestId, WireError};

use crate::logs::lines::Lines;

/// The message types a client may send.
const KNOWN_TYPES: [&str; 15] = [
    "hello",
    "subscribe",
    "command",
    "query",
    "account",
    "typing",
    "ping",
    "log_subscribe",
    "log_unsubscribe",
    "worker_hello",
    "heartbeat",
    "log_chunk",
    "agent_delta",
    "run_watch",
    "run_unwatch",
];

/// A frame that could not be parsed, with the request id to echo when one was readable.
#[derive(Debug)]
pub struct ParseFailure {
    pub request_id: Option<RequestId>,
    pub error: WireError,
}

/// A `log_chunk` frame's fields, read straight into their types.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LogChunkFrame {
    #[serde(rename = "type")]
    kind: String,
    run_id: Id,
    chunk: u64,
    lines: Lines,
}

/// A worker's `log_chunk`, its lines in one buffer.
#[derive(Debug, PartialEq, Eq)]
pub struct LogChunk {
    pub run_id: Id,
    pub chunk: u64,
    pub lines: Lines,
}

/// The fast path for the most frequent large frame, a worker's `log_chunk` (as workers write
/// it: the tag first): one typed pass that appends every line's text to one buffer
/// ([`Lines`]), without the [`serde_json::Value`] tree and the tagged enum's buffering of the
/// general path, and without a `String` per line. `None` for anything it does not take (a
/// frame over the size limit, a duplicate field, a bad value, another tag): [`parse`] then
/// accepts or refuses it exactly as before.
pub fn log_chunk(text: &str) -> Option<LogChunk> {
    if text.len() > MAX_FRAME_BYTES || !text.starts_with(r#"{"type":"log_chunk""#) {
        return None;
    }
    let frame: LogChunkFrame = serde_json::from_str(text).ok()?;
    (frame.kind == "log_chunk").then_some(LogChunk {
        run_id: frame.run_id,
        chunk: frame.chunk,
        lines: frame.lines,
    })
}

/// Parses one text frame.
pub fn parse(text: &str) -> Result<ClientMessage, ParseFailure> {
    let fail = |request_id, code, message: String| ParseFailure {
        request_id,
        error: WireError::new(code, message),
    };
    if text.len() > MAX_FRAME_BYTES {
        return Err(fail(
            None,
            ErrorCode::FrameTooLarge,
            format!(
                "the frame is {} bytes; the limit is {MAX_FRAME_BYTES}; split the content or shorten it",
                text.len()
            ),
        ));
    }
    general(text)
}

/// Parses a frame through a JSON tree, to say precisely what is wrong with it.
fn general(text: &str) -> Result<ClientMessage, ParseFailure> {
    let fail = |request_id, code, message: String| ParseFailure {
        request_id,
        error: WireError::new(code, message),
    };
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        fail(
            None,
            ErrorCode::BadFrame,
            format!("the frame is not valid JSON ({e}); send one JSON object per text frame"),
        )
    })?;
    let Some(object) = value.as_object() else {
        return Err(fail(
            None,
            ErrorCode::BadFrame,
            "the frame is JSON but not an object; send {\"type\": ...}".into(),
        ));
    };
    let request_id = object
        .get("request_id")
        .and_then(|v| v.as_str())
        .and_then(|s| RequestId::parse(s).ok());
    let kind = object.get("type").and_then(|v| v.as_str());
    match kind {
        None => {
            return Err(fail(
                request_id,
                ErrorCode::UnknownType,
                format!(
                    "the frame has no \"type\" field; use one of: {}",
                    KNOWN_TYPES.join(", ")
                ),
            ));
        }
        Some(k) if !KNOWN_TYPES.contains(&k) => {
            return Err(fail(
                request_id,
                ErrorCode::UnknownType,
                format!(
                    "unknown message type {:?}; use one of: {}",
                    k.chars().take(40).collect::<String>(),
                    KNOWN_TYPES.join(", ")
                ),
            ));
        }
        Some(_) => {}
    }
    // A command or query object without its own "type" gets the same code as a frame without
    // one (docs/protocol.md §3).
    for (field, what) in [("command", "command"), ("query", "query")] {
        if let Some(inner) = object.get(field).and_then(|v| v.as_object())
            && !inner.get("type").is_some_and(serde_json::Value::is_string)
        {
            return Err(fail(
                request_id,
                ErrorCode::UnknownType,
                format!(
                    "the {what} has no \"type\" field; name the {what}, such as {{\"type\": \"{}\", ...}}",
                    if field == "command" {
                        "create_card"
                    } else {
                        "snapshot"
                    }
                ),
            ));
        }
    }
    serde_json::from_value(value).map_err(|e| {
        let message = e.to_string();
        let code = if message.contains("invalid id") || message.contains("invalid request id") {
            ErrorCode::InvalidId
        } else if message.contains("unknown variant") {
            ErrorCode::UnknownType
        } else {
            ErrorCode::InvalidField
        };
        fail(request_id, code, message)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_chunk_fast_path_takes_what_the_general_path_takes_and_nothing_else() {
        let id = "run_0123456789abcdefghjk";
        let line = r#"{"n":1,"ts":5,"stream":"out","text":"a \u001b[31mred\u001b[0m \"q\" ✓"}"#;
        let compact = r#"[1,5,"out","a \u001b[31mred\u001b[0m \"q\" ✓"]"#;
        let frames = [
            format!(r#"{{"type":"log_chunk","run_id":"{id}","chunk":0,"lines":[{line},{line}]}}"#),
            format!(r#"{{"type":"log_chunk","run_id":"{id}","chunk":3,"lines":[]}}"#),
            format!(r#"{{"type":"log_chunk", "run_id":"{id}","chunk":0,"lines":[{line}]}}"#),
            // The compact form, mixed with the object form.
            format!(
                r#"{{"type":"log_chunk","run_id":"{id}","chunk":1,"lines":[{compact},{line},[2,5,"err","x",true]]}}"#
            ),
            // Refused by both, each the general path's way.
            r#"{"type":"log_chunk","run_id":"NOPE","chunk":0,"lines":[]}"#.to_owned(),
            format!(r#"{{"type":"log_chunk","run_id":"{id}","chunk":-1,"lines":[]}}"#),
            format!(r#"{{"type":"log_chunk","run_id":"{id}","chunk":0,"lines":[],"x":1}}"#),
            format!(r#"{{"type":"log_chunk","run_id":"{id}","chunk":0,"lines":[{{"n":1}}]}}"#),
            format!(r#"{{"type":"log_chunk","run_id":"{id}","chunk":0,"lines":[[1,5,"out"]]}}"#),
            format!(
                r#"{{"type":"log_chunk","run_id":"{id}","chunk":0,"lines":[[1,5,"out","x",true,3]]}}"#
            ),
            format!(
                r#"{{"type":"log_chunk","run_id":"{id}","chunk":0,"lines":[[1,5,"out","x",3]]}}"#
            ),
            format!(
                r#"{{"type":"log_chunk","run_id":"{id}","chunk":0,"lines":[[1,5,"loud","x"]]}}"#
            ),
            format!(r#"{{"type":"log_chunk","run_id":"{id}","chunk":0,"chunk":1,"lines":[]}}"#),
            format!(r#"{{"type":"log_chunk","run_id":"{id}","chunk":0,"lines":[]"#),
            format!(r#"{{"type":"log_chunk","type":"ping","run_id":"{id}","chunk":0,"lines":[]}}"#),
        ];
        let mut fast = 0;
        for frame in &frames {
            let general = general(frame);
            if let Some(chunk) = log_chunk(frame) {
                fast += 1;
                let message = ClientMessage::LogChunk {
                    run_id: chunk.run_id,
                    chunk: chunk.chunk,
                    lines: chunk.lines.to_vec(),
                };
                assert_eq!(general.as_ref().ok(), Some(&message), "{frame}");
            }
        }
        assert_eq!(fast, 4, "the four good frames take the fast path");
        assert!(parse(&frames[4]).is_err_and(|f| f.error.code == ErrorCode::InvalidId));
    }

    fn code(text: &str) -> ErrorCode {
        match parse(text) {
            Ok(m) => panic!("parsed {m:?}"),
            Err(f) => f.error.code,
        }
    }

    #[test]
    fn classifies_bad_frames() {
        assert_eq!(code("{not json"), ErrorCode::BadFrame);
        assert_eq!(code("[1,2]"), ErrorCode::BadFrame);
        assert_eq!(code(r#"{"x":1}"#), ErrorCode::UnknownType);
        assert_eq!(code(r#"{"type":"launch"}"#), ErrorCode::UnknownType);
        assert_eq!(code(r#"{"type":"hello"}"#), ErrorCode::InvalidField);
        assert_eq!(
            code(r#"{"type":"hello","protocol":1,"extra":true}"#),
            ErrorCode::InvalidField
        );
        assert_eq!(
            code(
                r#"{"type":"command","request_id":"r1","command":{"type":"delete_card","card_id":"NOPE"}}"#
            ),
            ErrorCode::InvalidId
        );
        assert_eq!(
            code(r#"{"type":"command","request_id":"r1","command":{"type":"explode"}}"#),
            ErrorCode::UnknownType
        );
        let big = format!(
            r#"{{"type":"ping","pad":"{}"}}"#,
            "x".repeat(MAX_FRAME_BYTES)
        );
        assert_eq!(code(&big), ErrorCode::FrameTooLarge);
    }

    #[test]
    fn a_missing_inner_type_is_unknown_type() {
        assert_eq!(
            code(r#"{"type":"command","request_id":"r1","command":{"card_id":"card_a"}}"#),
            ErrorCode::UnknownType
        );
        assert_eq!(
            code(r#"{"type":"query","request_id":"r1","query":{}}"#),
            ErrorCode::UnknownType
        );
    }

    #[test]
    fn echoes_a_readable_request_id() {
        let failure = parse(r#"{"type":"command","request_id":"abc","command":{}}"#).err();
        assert_eq!(
            failure.and_then(|f| f.request_id).map(|r| r.to_string()),
            Some("abc".to_owned())
        );
    }

    #[test]
    fn parses_good_frames() {
        assert!(matches!(
            parse(r#"{"type":"ping","nonce":4}"#),
            Ok(ClientMessage::Ping { nonce: 4 })
        ));
    }
}
