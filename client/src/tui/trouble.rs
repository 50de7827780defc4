//! Why the client cannot reach or use its server, in plain words: the connection screen and the
//! status bar show these instead of the raw error chain.

use crate::error::ClientError;

/// A short, plain explanation of a failed connection attempt (no "is it running?" guesswork
/// beyond what the error really says).
/// How the reason for an HTTP 429 on sign-in starts (the connection screen titles it apart).
pub const RATE_LIMITED: &str = "too many failed sign-ins from this address;";

pub fn plain_reason(error: &ClientError) -> String {
    match error {
        ClientError::Unreachable { reason, .. } => plain_io(reason),
        // The screen already says where warren is connecting: name the host, not the URL again.
        ClientError::UnknownHost { host, .. } => format!(
            "the host name {host:?} could not be found (DNS) — check the spelling of the address (--server, WARREN_SERVER or your profile) and your network"
        ),
        ClientError::Handshake { status, .. } => format!(
            "it answered HTTP {status} instead of opening a connection — the address may not be a warren server"
        ),
        ClientError::NotWebSocket { reason, .. } => format!(
            "something answered there, but it is not a warren server ({reason}) — check the address and the port"
        ),
        ClientError::Timeout(secs) => format!("the server did not answer within {secs} seconds"),
        ClientError::Disconnected(reason) => format!("the connection dropped ({reason})"),
        ClientError::AuthRateLimited { retry_after } => {
            format!("{RATE_LIMITED} try again in {retry_after} s")
        }
        // The reconnect waits at least as long as the server asked; nothing to do but wait.
        ClientError::RateLimited { .. } => {
            "the server is slowing down new connections from this token or address (too many in a short time) — warren connects again by itself".to_owned()
        }
        other => other.to_string(),
    }
}

/// Turns a low-level socket failure into words a person can act on.
fn plain_io(reason: &str) -> String {
    let lower = reason.to_lowercase();
    if lower.contains("refused") {
        "nothing is accepting connections there (connection refused) — is warren-server running?"
            .to_owned()
    } else if lower.contains("lookup")
        || lower.contains("resolve")
        || lower.contains("name or service")
        || lower.contains("nodename")
        || lower.contains("no such host")
    {
        "the host name could not be found (DNS) — check the server address".to_owned()
    } else if lower.contains("timed out") || lower.contains("no answer") {
        format!("no answer from the server ({reason}) — check the address and your network")
    } else if lower.contains("unreachable") {
        format!("the network cannot reach the server ({reason})")
    } else {
        reason.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unreachable(reason: &str) -> ClientError {
        ClientError::Unreachable {
            server: "http://example:7878".into(),
            reason: reason.into(),
        }
    }

    #[test]
    fn socket_failures_read_as_plain_words() {
        assert!(
            plain_reason(&unreachable("connection refused")).starts_with("nothing is accepting")
        );
        assert!(
            plain_reason(&unreachable(
                "failed to lookup address information: Name or service not known"
            ))
            .contains("host name could not be found")
        );
        assert!(plain_reason(&unreachable("no answer within 10 seconds")).contains("no answer"));
        let handshake = ClientError::Handshake {
            url: "x".into(),
            status: 404,
            answer: String::new(),
        };
        assert!(plain_reason(&handshake).contains("HTTP 404"));
        let other = ClientError::NotWebSocket {
            url: "ws://127.0.0.1:8000/ws".into(),
            reason: "WebSocket protocol error: HTTP version must be 1.1 or higher".into(),
        };
        let other = plain_reason(&other);
        assert!(other.contains("not a warren server"), "{other}");
        assert!(!other.contains("warren-server running"), "{other}");
    }

    #[test]
    fn an_unknown_host_is_named_in_plain_words_once() {
        let reason = plain_reason(&ClientError::UnknownHost {
            server: "http://no-such-host.invalid:7878".into(),
            host: "no-such-host.invalid".into(),
            reason: "failed to lookup address information: Name or service not known".into(),
        });
        assert!(
            reason.starts_with("the host name \"no-such-host.invalid\" could not be found"),
            "{reason}"
        );
        assert!(
            !reason.contains("http://"),
            "the screen shows the URL already: {reason}"
        );
        assert!(
            !reason.contains("lookup address"),
            "no raw resolver text: {reason}"
        );
        assert!(!reason.contains("warren-server running"), "{reason}");
    }
}
