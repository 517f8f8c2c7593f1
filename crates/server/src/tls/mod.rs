//! TLS with rustls: a `tls {}` block (or the `--tls*` flags) turned into a rustls server
//! configuration, and the server side of a handshake with nats-server's timeout, pinned
//! certificates and log texts. Client connections and HTTPS monitoring use it today; the
//! websocket, MQTT and cluster listeners will use the same [`TlsOptions`].

mod identity;
mod names;

pub use identity::{dn_equal, dn_rdns_match, parse_dn, Attribute, CertIdentity, DistinguishedName};

use rustls::server::{ParsedCertificate, WebPkiClientVerifier};
use rustls::{RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// nats-server's `TLS_TIMEOUT`: how long a client has to finish the handshake.
pub const DEFAULT_TLS_TIMEOUT: Duration = Duration::from_secs(2);
/// nats-server's `DEFAULT_TLS_HANDSHAKE_FIRST_FALLBACK_DELAY` (`handshake_first: auto`).
pub const DEFAULT_HANDSHAKE_FIRST_FALLBACK: Duration = Duration::from_millis(50);

/// The lowest TLS version the server accepts (`min_version`); rustls has only these two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlsVersion {
    /// TLS 1.2 (nats-server's minimum and default).
    #[default]
    V1_2,
    /// TLS 1.3 only.
    V1_3,
}

/// The parts of a `tls {}` block that make the rustls configuration (nats-server's
/// `TLSConfigOpts` as `GenTLSConfig` reads it); the `--tls*` flags replace exactly these.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TlsSpec {
    /// The server certificate chain (PEM).
    pub cert_file: Option<PathBuf>,
    /// The server certificate's private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key_file: Option<PathBuf>,
    /// CA certificates (PEM) that client certificates must chain to.
    pub ca_file: Option<PathBuf>,
    /// Require and verify a client certificate.
    pub verify: bool,
    /// TLS 1.2 cipher suites in preference order, by Go's names; `None` is nats-server's default.
    pub cipher_suites: Option<Vec<String>>,
    /// Key exchange groups in preference order, by Go's names; `None` is the default.
    pub curve_preferences: Option<Vec<String>>,
    /// The lowest protocol version accepted.
    pub min_version: TlsVersion,
}

/// When the handshake happens relative to INFO.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HandshakeFirst {
    /// INFO in plain text first, then the client upgrades (the NATS default).
    #[default]
    Off,
    /// The handshake first, INFO inside TLS (`handshake_first: true`).
    On,
    /// Handshake first if the client speaks within this delay, else INFO first
    /// (`handshake_first: auto` or a duration).
    Fallback(Duration),
}

/// The TLS of a listener: the spec, its built rustls configuration and nats-server's extras.
#[derive(Clone)]
pub struct TlsOptions {
    /// What the configuration asked for.
    pub spec: TlsSpec,
    /// `verify_and_map`: the client certificate's identity names the user.
    pub verify_and_map: bool,
    /// How long a client has to finish the handshake.
    pub timeout: Duration,
    /// SHA-256 (lower-case hex) of the client certificates' SubjectPublicKeyInfo allowed in.
    pub pinned_certs: Option<BTreeSet<String>>,
    /// Whether the handshake comes before INFO.
    pub handshake_first: HandshakeFirst,
    acceptor: TlsAcceptor,
    /// The same certificate without client verification, for HTTPS monitoring (as
    /// nats-server, which sets `NoClientCert` there).
    monitor_acceptor: TlsAcceptor,
}

impl fmt::Debug for TlsOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The rustls configuration is derived from the spec; printing it adds nothing.
        f.debug_struct("TlsOptions")
            .field("spec", &self.spec)
            .field("verify_and_map", &self.verify_and_map)
            .field("timeout", &self.timeout)
            .field("pinned_certs", &self.pinned_certs)
            .field("handshake_first", &self.handshake_first)
            .finish_non_exhaustive()
    }
}

impl PartialEq for TlsOptions {
    fn eq(&self, other: &Self) -> bool {
        self.spec == other.spec
            && self.verify_and_map == other.verify_and_map
            && self.timeout == other.timeout
            && self.pinned_certs == other.pinned_certs
            && self.handshake_first == other.handshake_first
    }
}

/// Why a TLS configuration cannot be built; texts as nats-server's `GenTLSConfig`.
#[derive(Debug, Error)]
pub enum TlsError {
    /// A certificate without its key.
    #[error("missing 'key_file' in TLS configuration")]
    MissingKeyFile,
    /// A key, or nothing, without a certificate.
    #[error("missing 'cert_file' in TLS configuration")]
    MissingCertFile,
    /// The certificate or key file cannot be read or parsed, or they do not match.
    #[error("error parsing X509 certificate/key pair: {0}")]
    KeyPair(String),
    /// The CA file cannot be read.
    #[error("open {path}: {reason}")]
    CaFile {
        /// The file named.
        path: String,
        /// Go's wording of the failure.
        reason: String,
    },
    /// The CA file holds no usable certificate.
    #[error("failed to parse root ca certificate")]
    CaParse,
    /// `verify` without `ca_file` and the system has no root certificates.
    #[error("client certificate verification needs 'ca_file': no system root certificates found")]
    NoRoots,
    /// None of the configured cipher suites or curves is one rustls implements.
    #[error("none of the configured {0} is supported by natrium")]
    NothingSupported(&'static str),
    /// rustls refused the combination.
    #[error("{0}")]
    Rustls(String),
}

/// A config-time problem with a name: unknown to nats-server (an error) or known but not
/// honoured by rustls (a warning).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameProblem {
    /// nats-server's `unrecognized cipher X` / `unrecognized curve preference X`.
    Unrecognized(String),
    /// Go knows it, rustls does not implement it.
    Unsupported(String),
}

/// Checks one `cipher_suites` entry as nats-server's `parseCipher` does.
pub fn check_cipher_suite(name: &str) -> Result<(), NameProblem> {
    classify(name, names::cipher_suite(name), "cipher suite", "cipher")
}

/// Checks one `curve_preferences` entry as nats-server's `parseCurvePreferences` does.
pub fn check_curve(name: &str) -> Result<(), NameProblem> {
    classify(
        name,
        names::curve(name),
        "curve preference",
        "curve preference",
    )
}

/// `what` names the kind in our warning, `go_what` in nats-server's error.
fn classify<T>(
    name: &str,
    known: Option<names::Known<T>>,
    what: &str,
    go_what: &str,
) -> Result<(), NameProblem> {
    match known {
        Some(names::Known::Supported(_)) => Ok(()),
        Some(names::Known::Unsupported) => Err(NameProblem::Unsupported(format!(
            "{what} {name} is not supported by rustls and is ignored"
        ))),
        None => Err(NameProblem::Unrecognized(format!(
            "unrecognized {go_what} {name}"
        ))),
    }
}

impl TlsOptions {
    /// Builds the rustls configuration for `spec` (reading the certificate, key and CA
    /// files now, so a bad file is a configuration error) with nats-server's defaults for
    /// the rest.
    pub fn new(spec: TlsSpec) -> Result<TlsOptions, TlsError> {
        let (config, monitor_config) = build_server_configs(&spec)?;
        Ok(TlsOptions {
            spec,
            verify_and_map: false,
            timeout: DEFAULT_TLS_TIMEOUT,
            pinned_certs: None,
            handshake_first: HandshakeFirst::Off,
            acceptor: TlsAcceptor::from(Arc::new(config)),
            monitor_acceptor: TlsAcceptor::from(Arc::new(monitor_config)),
        })
    }

    /// The same extras with another spec (the `--tls*` flags over a config file's block).
    pub fn with_spec(&self, spec: TlsSpec) -> Result<TlsOptions, TlsError> {
        let built = TlsOptions::new(spec)?;
        Ok(TlsOptions {
            verify_and_map: self.verify_and_map,
            timeout: self.timeout,
            pinned_certs: self.pinned_certs.clone(),
            handshake_first: self.handshake_first,
            ..built
        })
    }

    /// The acceptor HTTPS monitoring uses: no client certificate asked for.
    pub(crate) fn monitor_acceptor(&self) -> TlsAcceptor {
        self.monitor_acceptor.clone()
    }

    /// Runs the server side of a handshake on `io` within `timeout`, then checks the
    /// client certificate against `pinned_certs`.
    pub(crate) async fn accept<IO>(&self, io: IO) -> Result<TlsStream<IO>, HandshakeError>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
    {
        let stream = tokio::time::timeout(self.timeout, self.acceptor.accept(io))
            .await
            .map_err(|_| HandshakeError::Timeout)?
            .map_err(|e| HandshakeError::Failed(go_handshake_error(&e)))?;
        if let Some(pinned) = &self.pinned_certs {
            let (_, connection) = stream.get_ref();
            if !matches_pinned(connection.peer_certificates(), pinned) {
                return Err(HandshakeError::NotPinned);
            }
        }
        Ok(stream)
    }
}

/// Why a handshake did not give a usable connection; the log texts are nats-server's.
#[derive(Debug, Error)]
pub(crate) enum HandshakeError {
    /// The client did not finish within the timeout.
    #[error("TLS handshake timeout")]
    Timeout,
    /// The handshake failed.
    #[error("TLS handshake error: {0}")]
    Failed(String),
    /// The client certificate is not among `pinned_certs` (or there is none).
    #[error("TLS handshake error: certificate not pinned")]
    NotPinned,
}

/// The identity of the client certificate a handshake verified, if any.
pub(crate) fn peer_identity<IO>(stream: &TlsStream<IO>) -> Option<CertIdentity> {
    let (_, connection) = stream.get_ref();
    let leaf = connection.peer_certificates()?.first()?;
    CertIdentity::from_der(leaf.as_ref())
}

/// `TLS version 1.3, cipher suite TLS_AES_128_GCM_SHA256`, as nats-server logs at debug.
pub(crate) fn describe_session<IO>(stream: &TlsStream<IO>) -> String {
    let (_, connection) = stream.get_ref();
    let version = connection
        .protocol_version()
        .map(names::version_name)
        .unwrap_or_default();
    let suite = connection
        .negotiated_cipher_suite()
        .map(names::cipher_suite_name)
        .unwrap_or_default();
    format!("TLS version {version}, cipher suite {suite}")
}

/// The hex SHA-256 of a certificate's SubjectPublicKeyInfo: how `pinned_certs` names it.
pub fn spki_sha256_hex(cert: &CertificateDer<'_>) -> Option<String> {
    let parsed = ParsedCertificate::try_from(cert).ok()?;
    let digest = ring::digest::digest(
        &ring::digest::SHA256,
        parsed.subject_public_key_info().as_ref(),
    );
    Some(digest.as_ref().iter().map(|b| format!("{b:02x}")).collect())
}

fn matches_pinned(peer: Option<&[CertificateDer<'static>]>, pinned: &BTreeSet<String>) -> bool {
    let Some(leaf) = peer.and_then(|chain| chain.first()) else {
        tracing::debug!("Failed pinned cert test as client did not provide a certificate");
        return false;
    };
    match spki_sha256_hex(leaf) {
        Some(key_id) if pinned.contains(&key_id) => true,
        key_id => {
            tracing::debug!(
                "Failed pinned cert test for key id: {}",
                key_id.unwrap_or_default()
            );
            false
        }
    }
}

/// Go's words for the handshake failures clients meet most, so logs read as nats-server's.
fn go_handshake_error(error: &std::io::Error) -> String {
    use rustls::{CertificateError, Error, InvalidMessage};
    let Some(tls) = error.get_ref().and_then(|e| e.downcast_ref::<Error>()) else {
        return error.to_string();
    };
    match tls {
        Error::InvalidMessage(InvalidMessage::InvalidContentType) => {
            "tls: first record does not look like a TLS handshake".to_string()
        }
        Error::NoCertificatesPresented => "tls: client didn't provide a certificate".to_string(),
        Error::InvalidCertificate(CertificateError::Expired)
        | Error::InvalidCertificate(CertificateError::ExpiredContext { .. }) => {
            "tls: failed to verify certificate: x509: certificate has expired or is not yet valid"
                .to_string()
        }
        Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
            "tls: failed to verify certificate: x509: certificate signed by unknown authority"
                .to_string()
        }
        other => other.to_string(),
    }
}

/// Go's `os.PathError` wording: `no such file or directory`, not Rust's capitalised form.
fn go_io_error(error: &std::io::Error) -> String {
    let text = error.to_string();
    let text = match text.rfind(" (os error ") {
        Some(at) => &text[..at],
        None => &text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn pem_error(path: &Path, error: rustls_pki_types::pem::Error) -> String {
    match error {
        rustls_pki_types::pem::Error::Io(e) => {
            format!("open {}: {}", path.display(), go_io_error(&e))
        }
        rustls_pki_types::pem::Error::NoItemsFound => {
            format!("tls: failed to find any PEM data in {}", path.display())
        }
        other => format!("{}: {other}", path.display()),
    }
}

fn load_key_pair(
    cert_file: &Path,
    key_file: &Path,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), TlsError> {
    let chain = CertificateDer::pem_file_iter(cert_file)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| TlsError::KeyPair(pem_error(cert_file, e)))?;
    if chain.is_empty() {
        return Err(TlsError::KeyPair(
            "tls: failed to find any PEM data in certificate input".to_string(),
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key_file)
        .map_err(|e| TlsError::KeyPair(pem_error(key_file, e)))?;
    Ok((chain, key))
}

fn load_roots(spec: &TlsSpec) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    match &spec.ca_file {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| match e {
                    rustls_pki_types::pem::Error::Io(e) => TlsError::CaFile {
                        path: path.display().to_string(),
                        reason: go_io_error(&e),
                    },
                    _ => TlsError::CaParse,
                })?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(TlsError::CaParse);
            }
        }
        None => {
            // Go verifies client certificates against the system pool without a ca_file.
            let native = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(native.certs);
            if roots.is_empty() {
                return Err(TlsError::NoRoots);
            }
        }
    }
    Ok(roots)
}

/// The rustls configurations for `spec`: for clients, and for monitoring (no client
/// certificates). Names rustls cannot honour are skipped here; the config parser has warned
/// about them (`check_cipher_suite`, `check_curve`).
fn build_server_configs(spec: &TlsSpec) -> Result<(ServerConfig, ServerConfig), TlsError> {
    let (cert_file, key_file) = match (&spec.cert_file, &spec.key_file) {
        (Some(cert), Some(key)) => (cert, key),
        (Some(_), None) => return Err(TlsError::MissingKeyFile),
        (None, _) => return Err(TlsError::MissingCertFile),
    };
    let (chain, key) = load_key_pair(cert_file, key_file)?;
    // nats-server reads a ca_file even without verify, so a bad one is an error either way.
    let roots = if spec.verify || spec.ca_file.is_some() {
        Some(load_roots(spec)?)
    } else {
        None
    };

    let mut provider = rustls::crypto::ring::default_provider();
    let tls12_names: Vec<String> = match &spec.cipher_suites {
        Some(names) => names.clone(),
        None => names::DEFAULT_CIPHER_SUITES
            .iter()
            .map(|n| n.to_string())
            .collect(),
    };
    let mut suites: Vec<_> = names::TLS13_CIPHER_SUITES.to_vec();
    for name in &tls12_names {
        match names::cipher_suite(name) {
            Some(names::Known::Supported(suite)) if !suites.contains(&suite) => suites.push(suite),
            _ => {}
        }
    }
    provider.cipher_suites = suites;
    if let Some(curves) = &spec.curve_preferences {
        let mut groups = Vec::new();
        for name in curves {
            if let Some(names::Known::Supported(group)) = names::curve(name) {
                groups.push(group);
            }
        }
        if groups.is_empty() {
            return Err(TlsError::NothingSupported("curve_preferences"));
        }
        provider.kx_groups = groups;
    }
    let provider = Arc::new(provider);
    let versions: &[&rustls::SupportedProtocolVersion] = match spec.min_version {
        TlsVersion::V1_2 => &[&rustls::version::TLS13, &rustls::version::TLS12],
        TlsVersion::V1_3 => &[&rustls::version::TLS13],
    };
    let builder = || {
        ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_protocol_versions(versions)
            .map_err(|e| TlsError::Rustls(e.to_string()))
    };
    let client_builder = if let (true, Some(roots)) = (spec.verify, roots) {
        let verifier =
            WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
                .build()
                .map_err(|e| TlsError::Rustls(e.to_string()))?;
        builder()?.with_client_cert_verifier(verifier)
    } else {
        builder()?.with_no_client_auth()
    };
    let mut config = client_builder
        .with_single_cert(chain, key)
        .map_err(|e| TlsError::KeyPair(e.to_string()))?;
    // nats-server sets PreferServerCipherSuites: the configured order wins.
    config.ignore_client_order = true;
    let mut monitor = builder()?
        .with_no_client_auth()
        .with_cert_resolver(Arc::clone(&config.cert_resolver));
    monitor.ignore_client_order = true;
    Ok((config, monitor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_names_are_checked_as_nats_server_does() {
        assert_eq!(
            check_cipher_suite("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305"),
            Ok(())
        );
        assert_eq!(check_cipher_suite("TLS_AES_128_GCM_SHA256"), Ok(()));
        assert!(matches!(
            check_cipher_suite("TLS_RSA_WITH_AES_128_CBC_SHA"),
            Err(NameProblem::Unsupported(_))
        ));
        assert_eq!(
            check_cipher_suite("TLS_NOPE"),
            Err(NameProblem::Unrecognized(
                "unrecognized cipher TLS_NOPE".into()
            ))
        );
        assert_eq!(check_curve("CurveP384"), Ok(()));
        assert!(matches!(
            check_curve("CurveP521"),
            Err(NameProblem::Unsupported(_))
        ));
        assert_eq!(
            check_curve("P999"),
            Err(NameProblem::Unrecognized(
                "unrecognized curve preference P999".into()
            ))
        );
        for name in names::DEFAULT_CIPHER_SUITES {
            assert_eq!(check_cipher_suite(name), Ok(()), "{name}");
        }
    }

    #[test]
    fn io_errors_read_as_go_writes_them() {
        let missing = std::io::Error::from_raw_os_error(2);
        assert_eq!(go_io_error(&missing), "no such file or directory");
    }
}
