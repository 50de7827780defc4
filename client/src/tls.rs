//! TLS for `https://` and `wss://` servers: rustls trusting the platform's root certificates
//! plus, for a private CA, the certificates of a PEM file (`--ca-file`, `WARREN_CA_FILE` or the
//! profile's `ca_file`). Also the one warning about plain connections that leave the machine.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::endpoint::Endpoint;
use crate::error::ClientError;

/// Built configurations by CA file, so reconnects do not read the system store again.
type Cache = Mutex<HashMap<Option<PathBuf>, Arc<rustls::ClientConfig>>>;

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(Cache::default)
}

fn ca_error(path: &Path, reason: impl std::fmt::Display) -> ClientError {
    ClientError::CaFile {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

/// The certificates of a PEM file.
pub fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, ClientError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .map_err(|e| ca_error(path, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| ca_error(path, e))?;
    if certs.is_empty() {
        return Err(ca_error(path, "it holds no CERTIFICATE block"));
    }
    Ok(certs)
}

/// The client configuration trusting the platform's roots and the CA file, if any.
pub fn client_config(ca_file: Option<&Path>) -> Result<Arc<rustls::ClientConfig>, ClientError> {
    let key = ca_file.map(Path::to_path_buf);
    if let Some(config) = cache().lock().ok().and_then(|c| c.get(&key).cloned()) {
        return Ok(config);
    }
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    if let Some(path) = ca_file {
        let (added, _) = roots.add_parsable_certificates(read_ca_file(path)?);
        if added == 0 {
            return Err(ca_error(
                path,
                "none of its certificates can be used as a CA",
            ));
        }
    }
    if roots.is_empty() {
        return Err(ClientError::Tls {
            server: "(any)".to_owned(),
            reason: "this system has no root certificates".to_owned(),
        });
    }
    let provider = warren_server::tls::crypto_provider();
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError::Tls {
            server: "(any)".to_owned(),
            reason: e.to_string(),
        })?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let config = Arc::new(config);
    if let Ok(mut c) = cache().lock() {
        c.insert(key, config.clone());
    }
    Ok(config)
}

/// The TLS failure inside an I/O error from the handshake, if that is what it is.
pub fn tls_failure(e: &std::io::Error) -> Option<String> {
    let inner = e.get_ref()?;
    let tls = inner.downcast_ref::<rustls::Error>()?;
    Some(match tls {
        rustls::Error::InvalidCertificate(cert) => describe_certificate_error(cert),
        other => other.to_string(),
    })
}

/// Why a certificate was refused, in words.
fn describe_certificate_error(error: &rustls::CertificateError) -> String {
    use rustls::CertificateError as E;
    match error {
        E::UnknownIssuer => {
            "the server's certificate is signed by a CA this client does not trust".to_owned()
        }
        E::NotValidForName | E::NotValidForNameContext { .. } => {
            "the server's certificate is not for this address".to_owned()
        }
        E::Expired | E::ExpiredContext { .. } => "the server's certificate has expired".to_owned(),
        E::NotValidYet | E::NotValidYetContext { .. } => {
            "the server's certificate is not valid yet (check the clocks)".to_owned()
        }
        E::Revoked => "the server's certificate is revoked".to_owned(),
        E::Other(other) if format!("{other:?}").contains("CaUsedAsEndEntity") => {
            "the server presents a CA certificate as its own (a self-signed certificate marked \
             CA:TRUE); serve a certificate signed by that CA instead (docs/deploy.md shows how)"
                .to_owned()
        }
        other => format!("the server's certificate is refused ({other})"),
    }
}

/// True when the address is this machine (a name `localhost` or a loopback IP), where plain
/// `http://` never crosses a network.
pub fn is_loopback(endpoint: &Endpoint) -> bool {
    if endpoint.host == "localhost" || endpoint.host.ends_with(".localhost") {
        return true;
    }
    endpoint
        .host
        .parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

/// Whether a connection to `endpoint` deserves the plain-text warning.
pub fn needs_plain_warning(endpoint: &Endpoint) -> bool {
    !endpoint.tls && !is_loopback(endpoint)
}

/// Prints, once per process and on stderr, that a plain connection leaves this machine.
/// Only the line-mode CLI calls it: the full-screen client owns the terminal.
pub fn warn_if_plain(endpoint: &Endpoint) {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if needs_plain_warning(endpoint) && !WARNED.swap(true, Ordering::Relaxed) {
        eprintln!(
            "warren: warning: {} is not encrypted and not on this machine; the token and all \
             data cross the network in the clear — use https:// (the server needs --tls-cert \
             and --tls-key) or an SSH tunnel to a loopback address",
            endpoint.display
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(url: &str) -> Endpoint {
        Endpoint::parse(url).expect("valid url")
    }

    #[test]
    fn plain_connections_off_this_machine_are_warned_about() {
        for quiet in [
            "http://127.0.0.1:7878",
            "http://127.8.0.1:1",
            "http://localhost:7878",
            "ws://[::1]:7878",
            "https://example.com",
            "wss://10.0.0.5:8443",
        ] {
            assert!(!needs_plain_warning(&endpoint(quiet)), "{quiet}");
        }
        for loud in [
            "http://example.com:7878",
            "ws://10.0.0.5:7878",
            "http://[2001:db8::1]:7878",
        ] {
            assert!(needs_plain_warning(&endpoint(loud)), "{loud}");
        }
    }

    #[test]
    fn a_ca_file_without_certificates_is_refused_with_a_next_step() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, "not a certificate\n").expect("write");
        let err = client_config(Some(&path))
            .expect_err("no certificate")
            .to_string();
        assert!(err.contains("ca.pem") && err.contains("--ca-file"), "{err}");
        let missing = client_config(Some(&dir.path().join("nope.pem")))
            .expect_err("missing")
            .to_string();
        assert!(missing.contains("nope.pem"), "{missing}");
    }
}
