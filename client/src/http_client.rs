//! Plain HTTP requests to a warren server (`POST /join`), with `reqwest`. TLS is the same rustls
//! configuration the WebSocket uses ([`crate::tls::client_config`]: the platform's roots, the
//! `--ca-file`, the ring provider), handed to reqwest as it is.

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use warren_protocol::WireError;

use crate::endpoint::Endpoint;
use crate::error::ClientError;

/// How long a request may take, connecting included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A refused request: the HTTP status, the server's error body and `Retry-After` (seconds).
#[derive(Debug, Clone)]
pub struct Refusal {
    pub status: u16,
    pub error: Option<WireError>,
    pub retry_after: Option<u64>,
}

/// POSTs `body` as JSON to `path` (such as `/join`) of the server, with a bearer token if given.
/// `Ok(Err(refusal))` is an answer that is not 2xx.
pub async fn post_json<B: Serialize, T: DeserializeOwned>(
    endpoint: &Endpoint,
    path: &str,
    body: &B,
    token: Option<&str>,
) -> Result<Result<T, Refusal>, ClientError> {
    // reqwest builds a TLS configuration even for plain http; it must find the same (ring)
    // provider the rest of the client uses. Installing it twice is harmless.
    let _ = rustls::crypto::CryptoProvider::install_default(
        (*warren_server::tls::crypto_provider()).clone(),
    );
    let mut builder = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(crate::connection::CONNECT_TIMEOUT)
        .user_agent(crate::connection::CLIENT_NAME);
    if endpoint.tls {
        let config = crate::tls::client_config(endpoint.ca_file.as_deref())?;
        builder = builder.use_preconfigured_tls((*config).clone());
    }
    let client = builder.build().map_err(|e| ClientError::Tls {
        server: endpoint.display.clone(),
        reason: e.to_string(),
    })?;
    let url = format!("{}{path}", endpoint.display);
    let mut request = client.post(&url).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.map_err(|e| send_error(endpoint, &e))?;
    let status = response.status();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    let bytes = response
        .bytes()
        .await
        .map_err(|e| ClientError::Disconnected(e.to_string()))?;
    if status.is_success() {
        return serde_json::from_slice(&bytes).map(Ok).map_err(|e| {
            ClientError::Protocol(format!("the answer to POST {path} does not parse: {e}"))
        });
    }
    Ok(Err(Refusal {
        status: status.as_u16(),
        error: serde_json::from_slice(&bytes).ok(),
        retry_after,
    }))
}

/// The TLS failure inside an I/O error, however deeply the connector wrapped it (reqwest's
/// connector wraps tokio-rustls's `io::Error` in another one).
fn tls_in_io(mut io: &std::io::Error) -> Option<String> {
    loop {
        if let Some(tls) = crate::tls::tls_failure(io) {
            return Some(tls);
        }
        io = io.get_ref()?.downcast_ref::<std::io::Error>()?;
    }
}

/// Why a request did not get an answer, in the client's words.
fn send_error(endpoint: &Endpoint, e: &reqwest::Error) -> ClientError {
    if e.is_timeout() {
        return ClientError::Timeout(REQUEST_TIMEOUT.as_secs());
    }
    let mut reasons = Vec::new();
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && let Some(tls) = tls_in_io(io)
        {
            return ClientError::Tls {
                server: endpoint.display.clone(),
                reason: tls,
            };
        }
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return ClientError::Tls {
                server: endpoint.display.clone(),
                reason: tls.to_string(),
            };
        }
        reasons.push(err.to_string());
        source = err.source();
    }
    ClientError::Unreachable {
        server: endpoint.display.clone(),
        reason: reasons.last().cloned().unwrap_or_default(),
    }
}
