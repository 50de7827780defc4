//! The client's error type. Every variant renders as one line that says what went wrong and what
//! to do next, and maps to a process exit code (1 for usage mistakes, 2 for everything the server,
//! the network or the local setup is responsible for).

use warren_protocol::{ErrorCode, WireError};

/// Exit code for a command line that cannot be run as written.
pub const EXIT_USAGE: i32 = 1;
/// Exit code for a server, authentication, network or configuration failure.
pub const EXIT_FAILURE: i32 = 2;

/// Everything that can go wrong while running a client command.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Neither flags, environment nor the profile name a server.
    #[error(
        "no warren server configured — run 'warren login --server URL --token TOKEN' (or pass --server and --token)"
    )]
    NotConfigured,
    /// A server is known but no token for it.
    #[error(
        "no token for {server} — pass --token, set WARREN_TOKEN or run 'warren login --server {server} --token TOKEN'"
    )]
    NoToken { server: String },
    /// The server URL cannot be used.
    #[error("invalid server URL {url:?}: {reason} — use a URL like http://127.0.0.1:7878")]
    BadUrl { url: String, reason: String },
    /// The TCP connection or WebSocket upgrade failed below the HTTP level.
    #[error(
        "cannot reach the warren server at {server}: {reason} — is warren-server running? (start it with 'warren-server serve')"
    )]
    Unreachable { server: String, reason: String },
    /// The TLS handshake failed (an untrusted certificate, say).
    #[error(
        "TLS with {server} failed: {reason} — if its certificate comes from a private CA, pass --ca-file CA.pem (or WARREN_CA_FILE; 'warren login --ca-file' saves it in the profile); check that the address is the name on the certificate and that the server serves TLS"
    )]
    Tls { server: String, reason: String },
    /// The CA file cannot be used.
    #[error(
        "cannot use the CA file {path}: {reason} — pass a PEM file holding the CA certificate with --ca-file or WARREN_CA_FILE"
    )]
    CaFile { path: String, reason: String },
    /// The server answered the upgrade with 401.
    #[error(
        "the server refused the token ({code}): {message} — check --token / WARREN_TOKEN or run 'warren login'"
    )]
    Unauthorized { code: String, message: String },
    /// Too many failed authentications came from this address; the server answered 429.
    #[error(
        "too many failed sign-ins from this address; try again in {retry_after} s (check the token or invite code before you do)"
    )]
    AuthRateLimited { retry_after: u64 },
    /// `POST /join` refused the invite or the name.
    #[error("could not join ({code}): {message}")]
    JoinRefused { code: String, message: String },
    /// The server's host name did not resolve to an address.
    #[error(
        "cannot find the server {server}: the host name {host:?} could not be resolved ({reason}) — check the spelling of the address (--server, WARREN_SERVER or your profile) and your network"
    )]
    UnknownHost {
        server: String,
        host: String,
        reason: String,
    },
    /// Something answered at the address, but not as an HTTP/1.1 server that speaks WebSocket.
    #[error(
        "asked {url} to open a WebSocket, but what answered there is not a warren server ({reason}) — check the address and the port (another program may be listening on it)"
    )]
    NotWebSocket { url: String, reason: String },
    /// The server answered the upgrade with some other HTTP status.
    #[error(
        "asked {url} to open a WebSocket, but it answered HTTP {status} ({answer}) — this URL may not be a warren server; check the address and any path after the port"
    )]
    Handshake {
        url: String,
        status: u16,
        answer: String,
    },
    /// The server answered the upgrade with 429: this token or address opened connections faster
    /// than it allows.
    #[error(
        "{server} is slowing down new connections: {message} — wait {} s and try again (close clients you do not need)", crate::retry::whole_secs(*retry_after_ms)
    )]
    RateLimited {
        server: String,
        message: String,
        /// How long the server asked to wait, in milliseconds.
        retry_after_ms: u64,
    },
    /// The local workspace's data dir or store cannot be used.
    #[error(
        "the local workspace in {path}: {reason} — check that directory, or set WARREN_DATA_DIR to another one"
    )]
    LocalData { path: String, reason: String },
    /// The local workspace's store is held by another process.
    #[error(
        "the local workspace in {dir} is in use by another warren{} — use that one, quit it first, or set WARREN_DATA_DIR to another directory", pid.map(|p| format!(" (pid {p})")).unwrap_or_default()
    )]
    LocalInUse { dir: String, pid: Option<u32> },
    /// The server answered a request with an `error` frame.
    #[error("the server rejected the request ({}): {}{}", .0.code, .0.message, server_hint(.0.code))]
    Server(WireError),
    /// The connection closed or broke while a request was in flight.
    #[error(
        "lost the connection to the server: {0} — check that warren-server is still running and try again"
    )]
    Disconnected(String),
    /// The server did not answer in time.
    #[error(
        "the server did not answer within {0} seconds — check that warren-server is responsive and try again"
    )]
    Timeout(u64),
    /// The server sent something this client does not understand.
    #[error(
        "unexpected answer from the server: {0} — the server and client versions may not match"
    )]
    Protocol(String),
    /// A board, column, card, room or member named on the command line does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The command line is well-formed for clap but cannot be run (a bad card reference, say).
    #[error("{0}")]
    Usage(String),
    /// A run followed with `--follow` did not succeed. Exits with the job's own exit code when it
    /// failed with one, else 1; the message is one line saying how it ended.
    #[error("{message}")]
    RunEnded { message: String, code: i32 },
    /// The profile file cannot be read or written.
    #[error("config file {path}: {reason}")]
    Config { path: String, reason: String },
    /// Writing the output failed.
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),
}

/// A next step for codes whose server message cannot know the CLI's commands; other codes' messages
/// already say what to do.
fn server_hint(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::NotFound => {
            " — it may have been deleted; see what exists with 'warren card list' or 'warren room list'"
        }
        ErrorCode::NoWorkspace => " — pass --workspace ID_OR_NAME",
        ErrorCode::ShuttingDown | ErrorCode::Internal => " — try again in a moment",
        ErrorCode::UnsupportedProtocol => " — upgrade the warren client or server",
        ErrorCode::RateLimited => {
            " — this token is sending faster than the server allows; wait a little and try again"
        }
        _ => "",
    }
}

impl ClientError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            ClientError::Usage(_) => EXIT_USAGE,
            ClientError::RunEnded { code, .. } => *code,
            _ => EXIT_FAILURE,
        }
    }

    /// True when the error is a closed stdout (`warren events | head`), which is not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, ClientError::Output(e) if e.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

/// Shorthand for results of client operations.
pub type Result<T, E = ClientError> = std::result::Result<T, E>;
