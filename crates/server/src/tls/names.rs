//! nats-server's (Go's) names for cipher suites and curves, mapped onto what rustls offers.
//!
//! Go knows more suites than rustls implements (RC4, 3DES, CBC, static RSA key exchange);
//! those names are accepted, as nats-server accepts them, but cannot be honoured: the caller
//! warns about them. A name Go does not know is a configuration error, as in nats-server.

use rustls::crypto::ring::{cipher_suite, kx_group};
use rustls::crypto::SupportedKxGroup;
use rustls::SupportedCipherSuite;

/// What a Go name stands for in rustls.
pub(crate) enum Known<T> {
    /// rustls implements it.
    Supported(T),
    /// Go knows it, rustls does not implement it.
    Unsupported,
}

/// The suites both Go and rustls (with *ring*) implement, by Go's name.
const SUPPORTED_CIPHER_SUITES: [(&str, SupportedCipherSuite); 9] = [
    (
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    ),
    (
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
        cipher_suite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    ),
    (
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        cipher_suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    ),
    (
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        cipher_suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    ),
    (
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
        cipher_suite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ),
    (
        "TLS_AES_128_GCM_SHA256",
        cipher_suite::TLS13_AES_128_GCM_SHA256,
    ),
    (
        "TLS_AES_256_GCM_SHA384",
        cipher_suite::TLS13_AES_256_GCM_SHA384,
    ),
    (
        "TLS_CHACHA20_POLY1305_SHA256",
        cipher_suite::TLS13_CHACHA20_POLY1305_SHA256,
    ),
];

/// Suites in nats-server's `cipherMap` that rustls does not implement (RC4, 3DES, CBC,
/// static RSA key exchange).
const UNSUPPORTED_CIPHER_SUITES: [&str; 15] = [
    "TLS_RSA_WITH_RC4_128_SHA",
    "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_RSA_WITH_AES_256_CBC_SHA",
    "TLS_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
    "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
];

/// Looks up a Go cipher suite name (nats-server's `cipherMap`).
pub(crate) fn cipher_suite(name: &str) -> Option<Known<SupportedCipherSuite>> {
    if let Some((_, suite)) = SUPPORTED_CIPHER_SUITES.iter().find(|(n, _)| *n == name) {
        return Some(Known::Supported(*suite));
    }
    UNSUPPORTED_CIPHER_SUITES
        .contains(&name)
        .then_some(Known::Unsupported)
}

/// Go's name of a negotiated suite, as nats-server logs it.
pub(crate) fn cipher_suite_name(suite: SupportedCipherSuite) -> String {
    SUPPORTED_CIPHER_SUITES
        .iter()
        .find(|(_, known)| known.suite() == suite.suite())
        .map(|(name, _)| name.to_string())
        .unwrap_or_else(|| format!("{:?}", suite.suite()))
}

/// nats-server's default TLS 1.2 suites (`defaultCipherSuites`); all are in rustls.
pub(crate) const DEFAULT_CIPHER_SUITES: [&str; 6] = [
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
];

/// The TLS 1.3 suites. Go does not let TLS 1.3 suites be configured, so nats-server offers
/// all of them whatever `cipher_suites` says; so do we.
pub(crate) const TLS13_CIPHER_SUITES: [SupportedCipherSuite; 3] = [
    cipher_suite::TLS13_AES_128_GCM_SHA256,
    cipher_suite::TLS13_AES_256_GCM_SHA384,
    cipher_suite::TLS13_CHACHA20_POLY1305_SHA256,
];

/// Looks up a Go curve name (nats-server's `curvePreferenceMap`).
pub(crate) fn curve(name: &str) -> Option<Known<&'static dyn SupportedKxGroup>> {
    use Known::{Supported, Unsupported};
    Some(match name {
        "X25519" => Supported(kx_group::X25519),
        "CurveP256" => Supported(kx_group::SECP256R1),
        "CurveP384" => Supported(kx_group::SECP384R1),
        "CurveP521" => Unsupported,
        _ => return None,
    })
}

/// A protocol version as nats-server logs it (`tlsVersion`).
pub(crate) fn version_name(version: rustls::ProtocolVersion) -> String {
    match version {
        rustls::ProtocolVersion::TLSv1_2 => "1.2".to_string(),
        rustls::ProtocolVersion::TLSv1_3 => "1.3".to_string(),
        other => format!("Unknown [0x{:x}]", u16::from(other)),
    }
}
