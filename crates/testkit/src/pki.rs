//! A certificate authority made for one test (rcgen): a server certificate for 127.0.0.1 and
//! `localhost`, a client certificate for mutual TLS, and a second, unrelated CA whose trust
//! must be refused. Written as PEM files into a directory the test owns.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType,
};

/// The PEM files of a test PKI.
#[derive(Debug, Clone)]
pub struct TestPki {
    /// The CA that signed the server's and the client's certificates.
    pub ca_cert: PathBuf,
    /// A CA that signed nothing here: trusting only it must fail.
    pub other_ca_cert: PathBuf,
    /// The server's certificate (SANs 127.0.0.1 and localhost) and key.
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    /// A client certificate (for mutual TLS) and key.
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
}

impl TestPki {
    /// Makes the CAs and certificates and writes them into `dir`.
    ///
    /// # Panics
    /// If rcgen or the file system fails (a test set-up error).
    pub fn create(dir: &Path) -> TestPki {
        let (ca, ca_key) = authority("shardslap test CA");
        let (other, _) = authority("an unrelated CA");
        let server_key = KeyPair::generate().expect("server key");
        let mut server = CertificateParams::new(vec!["localhost".to_owned()]).expect("params");
        server
            .subject_alt_names
            .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server = server
            .signed_by(&server_key, &ca, &ca_key)
            .expect("server certificate");
        let client_key = KeyPair::generate().expect("client key");
        let mut client = CertificateParams::new(vec!["client".to_owned()]).expect("params");
        client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let client = client
            .signed_by(&client_key, &ca, &ca_key)
            .expect("client certificate");
        let write = |name: &str, pem: String| {
            let path = dir.join(name);
            std::fs::write(&path, pem).unwrap_or_else(|e| panic!("writing {name}: {e}"));
            path
        };
        TestPki {
            ca_cert: write("ca.pem", ca.pem()),
            other_ca_cert: write("other-ca.pem", other.pem()),
            server_cert: write("server.pem", server.pem()),
            server_key: write("server-key.pem", server_key.serialize_pem()),
            client_cert: write("client.pem", client.pem()),
            client_key: write("client-key.pem", client_key.serialize_pem()),
        }
    }
}

/// A self-signed CA certificate and its key.
fn authority(name: &str) -> (Certificate, KeyPair) {
    let key = KeyPair::generate().expect("CA key");
    let mut params = CertificateParams::new(Vec::new()).expect("params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let cert = params.self_signed(&key).expect("CA certificate");
    (cert, key)
}
