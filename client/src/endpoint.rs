//! Server addresses: what users type (`http://host:port`, `ws://host:port`, `https://…`,
//! `wss://…`, or a bare `host:port`) normalised into the WebSocket URL the client dials.

use crate::error::ClientError;

/// A validated server address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The address as shown to people and stored in the profile, such as `http://127.0.0.1:7878`.
    pub display: String,
    /// True for `https` / `wss`.
    pub tls: bool,
    /// Host name or IP address (IPv6 without brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Path prefix the server is mounted under, without a trailing slash (usually empty).
    pub base_path: String,
    /// A PEM file of a private CA to trust besides the platform's roots (TLS only).
    pub ca_file: Option<std::path::PathBuf>,
}

impl Endpoint {
    /// Parses and normalises a server address.
    pub fn parse(input: &str) -> Result<Self, ClientError> {
        let bad = |reason: &str| ClientError::BadUrl {
            url: input.to_owned(),
            reason: reason.to_owned(),
        };
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(bad("it is empty"));
        }
        let (scheme, rest) = match trimmed.split_once("://") {
            Some((s, r)) => (s.to_ascii_lowercase(), r),
            None => ("http".to_owned(), trimmed),
        };
        let tls = match scheme.as_str() {
            "http" | "ws" => false,
            "https" | "wss" => true,
            _ => return Err(bad("the scheme must be http, https, ws or wss")),
        };
        let (authority, path) = match rest.find(['/', '?', '#']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if path.contains(['?', '#']) {
            return Err(bad("a query string or fragment is not allowed"));
        }
        if authority.contains('@') {
            return Err(bad("user info is not allowed; pass the token with --token"));
        }
        let (host, port) =
            split_host_port(authority).ok_or_else(|| bad("cannot read host:port"))?;
        if host.is_empty() {
            return Err(bad("the host is missing"));
        }
        let port = match port {
            Some(p) => p
                .parse::<u16>()
                .map_err(|_| bad("the port is not a number from 1 to 65535"))?,
            None if tls => 443,
            None => 80,
        };
        if port == 0 {
            return Err(bad("the port is not a number from 1 to 65535"));
        }
        let mut base_path = path.trim_end_matches('/').to_owned();
        if base_path.ends_with("/ws") {
            base_path.truncate(base_path.len() - 3);
        }
        let host_text = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.to_ascii_lowercase()
        };
        let display = format!(
            "{}://{host_text}:{port}{base_path}",
            if tls { "https" } else { "http" }
        );
        Ok(Self {
            display,
            tls,
            host: host.to_ascii_lowercase(),
            port,
            base_path,
            ca_file: None,
        })
    }

    /// The same address, also trusting the CA certificates in `ca_file` (for `https`/`wss`).
    pub fn with_ca_file(mut self, ca_file: Option<std::path::PathBuf>) -> Self {
        self.ca_file = ca_file;
        self
    }

    /// The WebSocket URL to dial, such as `ws://127.0.0.1:7878/ws`.
    pub fn ws_url(&self) -> String {
        let scheme = if self.tls { "wss" } else { "ws" };
        format!(
            "{scheme}://{}:{}{}/ws",
            self.host_for_url(),
            self.port,
            self.base_path
        )
    }

    fn host_for_url(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        }
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.display)
    }
}

/// Splits `host:port`, `host`, `[v6]:port` or `[v6]`.
fn split_host_port(authority: &str) -> Option<(&str, Option<&str>)> {
    if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        return match after {
            "" => Some((host, None)),
            _ => Some((host, Some(after.strip_prefix(':')?))),
        };
    }
    match authority.rsplit_once(':') {
        Some((host, _)) if host.contains(':') => None,
        Some((host, port)) => Some((host, Some(port))),
        None => Some((authority, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ws(input: &str) -> String {
        match Endpoint::parse(input) {
            Ok(e) => e.ws_url(),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn normalises_common_forms() {
        assert_eq!(ws("http://127.0.0.1:7878"), "ws://127.0.0.1:7878/ws");
        assert_eq!(ws("ws://127.0.0.1:7878/"), "ws://127.0.0.1:7878/ws");
        assert_eq!(ws("ws://127.0.0.1:7878/ws"), "ws://127.0.0.1:7878/ws");
        assert_eq!(ws("HTTPS://Example.COM"), "wss://example.com:443/ws");
        assert_eq!(
            ws("wss://example.com:8443/warren/"),
            "wss://example.com:8443/warren/ws"
        );
        assert_eq!(ws("localhost:9000"), "ws://localhost:9000/ws");
        assert_eq!(ws("http://[::1]:7373"), "ws://[::1]:7373/ws");
    }

    #[test]
    fn display_form_is_http() {
        let e = Endpoint::parse("ws://127.0.0.1:7878/ws").ok();
        assert_eq!(
            e.map(|e| e.display),
            Some("http://127.0.0.1:7878".to_owned())
        );
    }

    #[test]
    fn rejects_nonsense() {
        for bad in [
            "",
            "ftp://x:1",
            "http://:80",
            "http://host:port",
            "http://host:0",
            "http://host:70000",
            "http://u:p@host:1",
            "http://host:1/?a=b",
            "http://::1:80",
        ] {
            assert!(ws(bad).starts_with("error: "), "{bad:?} should be rejected");
        }
    }
}
