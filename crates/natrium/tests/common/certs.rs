//! Certificates made inside the tests with rcgen: a CA, server certificates for 127.0.0.1,
//! and client certificates (valid, expired, or from another CA), written as PEM files.

use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A certificate and key written to disk.
#[derive(Debug, Clone)]
pub struct CertFiles {
    /// The certificate (PEM).
    pub cert: PathBuf,
    /// Its private key (PEM, PKCS#8).
    pub key: PathBuf,
    /// hex SHA-256 of its SubjectPublicKeyInfo, as `pinned_certs` lists it.
    pub spki_sha256: String,
}

/// A test CA and a scratch directory for the files it issues; removed on drop.
pub struct Pki {
    dir: PathBuf,
    ca_cert: Certificate,
    ca_key: KeyPair,
    /// The CA certificate (PEM), for `ca_file` and for clients' root stores.
    pub ca_file: PathBuf,
}

/// What kind of leaf certificate to issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    /// Valid from yesterday-ish for years.
    Current,
    /// Expired in 2001.
    Expired,
}

impl Pki {
    /// A fresh CA named `name`, its files under a new scratch directory.
    pub fn new(name: &str) -> Pki {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("natrium-pki-{name}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("pki dir");
        let ca_key = KeyPair::generate().expect("CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, format!("Natrium Test CA {name}"));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = params.self_signed(&ca_key).expect("CA certificate");
        let ca_file = dir.join("ca.pem");
        std::fs::write(&ca_file, ca_cert.pem()).expect("write CA");
        Pki {
            dir,
            ca_cert,
            ca_key,
            ca_file,
        }
    }

    /// A server certificate for 127.0.0.1 and localhost.
    pub fn server(&self, stem: &str, validity: Validity) -> CertFiles {
        let params = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .expect("server params");
        self.issue(stem, params, ExtendedKeyUsagePurpose::ServerAuth, validity)
    }

    /// A client certificate with `common_name` (and an email SAN `<common_name>@natrium.test`).
    pub fn client(&self, stem: &str, common_name: &str, validity: Validity) -> CertFiles {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("client params");
        params
            .distinguished_name
            .push(DnType::CommonName, common_name.to_string());
        params.subject_alt_names = vec![rcgen::SanType::Rfc822Name(
            format!("{common_name}@natrium.test")
                .try_into()
                .expect("email SAN"),
        )];
        self.issue(stem, params, ExtendedKeyUsagePurpose::ClientAuth, validity)
    }

    /// A client certificate whose only identity is its subject `CN=<common_name>` (no SAN).
    pub fn client_dn_only(&self, stem: &str, common_name: &str) -> CertFiles {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("client params");
        params
            .distinguished_name
            .push(DnType::CommonName, common_name.to_string());
        self.issue(
            stem,
            params,
            ExtendedKeyUsagePurpose::ClientAuth,
            Validity::Current,
        )
    }

    /// The scratch directory, for config files next to the certificates.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn issue(
        &self,
        stem: &str,
        mut params: CertificateParams,
        usage: ExtendedKeyUsagePurpose,
        validity: Validity,
    ) -> CertFiles {
        params.extended_key_usages = vec![usage];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        if validity == Validity::Expired {
            params.not_before = rcgen::date_time_ymd(2000, 1, 1);
            params.not_after = rcgen::date_time_ymd(2001, 1, 1);
        }
        let key = KeyPair::generate().expect("leaf key");
        let cert = params
            .signed_by(&key, &self.ca_cert, &self.ca_key)
            .expect("leaf certificate");
        let cert_path = self.dir.join(format!("{stem}-cert.pem"));
        let key_path = self.dir.join(format!("{stem}-key.pem"));
        std::fs::write(&cert_path, cert.pem()).expect("write cert");
        std::fs::write(&key_path, key.serialize_pem()).expect("write key");
        let digest = ring::digest::digest(&ring::digest::SHA256, &key.public_key_der());
        CertFiles {
            cert: cert_path,
            key: key_path,
            spki_sha256: digest.as_ref().iter().map(|b| format!("{b:02x}")).collect(),
        }
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
