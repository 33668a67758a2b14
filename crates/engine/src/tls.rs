//! `--tls`: rustls's client configuration, built once from the run's [`TlsSettings`], and the
//! name each server's certificate is checked against. The driver opens one rustls session
//! per connection from it (at connect time, never per request); the preflight proves a
//! handshake with every server first, so a wrong CA or a missing client certificate fails
//! in one line before anything is measured.

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore};
use shardslap_config::{TlsSettings, TlsTrust};

use crate::EngineError;

/// How long the preflight waits after a handshake for a server's refusal of the client.
const REFUSAL_WAIT: Duration = Duration::from_millis(200);

/// The run's TLS client: one configuration, and a name for each server.
#[derive(Debug)]
pub struct TlsClient {
    config: Arc<ClientConfig>,
    /// The name each server's certificate must carry, by its resolved address.
    names: Vec<(SocketAddr, ServerName<'static>)>,
}

impl TlsClient {
    /// The client `settings` describe for `servers` (each with its `-s` host).
    ///
    /// # Errors
    /// A PEM file without what it should hold, a key that does not fit its certificate, or a
    /// server name that is neither a DNS name nor an IP address.
    pub fn new(
        settings: &TlsSettings,
        servers: &[(SocketAddr, &str)],
    ) -> Result<TlsClient, EngineError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|err| tls_error(format!("cannot set up TLS: {err}")))?;
        let builder = match &settings.trust {
            TlsTrust::CaFile(path) => builder.with_root_certificates(root_store(path)?),
            TlsTrust::Insecure => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyCertificate { provider })),
        };
        let mut config = match &settings.identity {
            Some(identity) => {
                let chain = certificates("--tls-cert", &identity.cert)?;
                let key = PrivateKeyDer::from_pem_file(&identity.key).map_err(|err| {
                    tls_error(format!(
                        "--tls-key {}: no private key ({err})",
                        identity.key.display()
                    ))
                })?;
                builder.with_client_auth_cert(chain, key).map_err(|err| {
                    tls_error(format!(
                        "--tls-cert {} and --tls-key {} do not make a client identity: {err}",
                        identity.cert.display(),
                        identity.key.display()
                    ))
                })?
            }
            None => builder.with_no_client_auth(),
        };
        if settings.identity.is_some() {
            // memcached (OpenSSL) sets no session id context, so it cannot resume a session
            // whose client it verified, and answers the attempt with an internal-error alert:
            // with a client certificate every connection makes a full handshake.
            config.resumption = rustls::client::Resumption::disabled();
        }
        let names = servers
            .iter()
            .map(|&(addr, host)| {
                let name = settings.server_name.as_deref().unwrap_or(host);
                let name = ServerName::try_from(name.to_owned()).map_err(|_| {
                    tls_error(format!(
                        "'{name}' is not a name a TLS certificate can carry; \
                         pass --tls-server-name"
                    ))
                })?;
                Ok((addr, name))
            })
            .collect::<Result<_, EngineError>>()?;
        Ok(TlsClient {
            config: Arc::new(config),
            names,
        })
    }

    /// A new session with the server at `addr`.
    pub(crate) fn session(&self, addr: SocketAddr) -> Result<ClientConnection, rustls::Error> {
        let name = self
            .names
            .iter()
            .find(|(known, _)| *known == addr)
            .map_or_else(
                || ServerName::IpAddress(addr.ip().into()),
                |(_, name)| name.clone(),
            );
        ClientConnection::new(self.config.clone(), name)
    }

    /// Connects to `addr` and completes one handshake, so that a certificate the run's
    /// trust refuses (or a server that wants a client certificate) fails before the run.
    ///
    /// # Errors
    /// The connect's or the handshake's failure, in words.
    pub(crate) fn probe(&self, addr: SocketAddr, timeout: Duration) -> Result<(), String> {
        let mut tcp = TcpStream::connect_timeout(&addr, timeout).map_err(|err| err.to_string())?;
        tcp.set_read_timeout(Some(timeout))
            .and_then(|()| tcp.set_write_timeout(Some(timeout)))
            .map_err(|err| err.to_string())?;
        let mut session = self.session(addr).map_err(|err| err.to_string())?;
        while session.is_handshaking() {
            match session.complete_io(&mut tcp) {
                Ok(_) => {}
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => {
                    return Err("the server closed the connection during the handshake".into())
                }
                Err(err) => return Err(handshake_reason(&err)),
            }
        }
        // A TLS 1.3 server checks a client certificate after the client's last flight, so a
        // refusal comes as an alert after the handshake: wait a moment for one. (No request is
        // sent: it would move the server's byte counters the run is compared with.)
        tcp.set_read_timeout(Some(REFUSAL_WAIT))
            .map_err(|err| err.to_string())?;
        loop {
            match session.read_tls(&mut tcp) {
                Ok(0) => return Err("the server closed the connection after the handshake".into()),
                Ok(_) => {
                    session
                        .process_new_packets()
                        .map_err(|err| format!("TLS handshake failed: {err}"))?;
                }
                // (A signal, such as the start-up's own timers, is not the server's answer.)
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err)
                    if matches!(
                        err.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Ok(())
                }
                Err(err) => return Err(err.to_string()),
            }
        }
    }
}

/// A handshake failure in words: rustls's error without the io wrapping.
fn handshake_reason(err: &io::Error) -> String {
    err.get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .map_or_else(
            || err.to_string(),
            |tls| format!("TLS handshake failed: {tls}"),
        )
}

/// Every certificate in the PEM file `path`; at least one.
fn certificates(flag: &str, path: &Path) -> Result<Vec<CertificateDer<'static>>, EngineError> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|err| tls_error(format!("{flag} {}: {err}", path.display())))?;
    if certs.is_empty() {
        return Err(tls_error(format!(
            "{flag} {}: no PEM certificate in it",
            path.display()
        )));
    }
    Ok(certs)
}

fn root_store(path: &Path) -> Result<RootCertStore, EngineError> {
    let mut roots = RootCertStore::empty();
    let (added, _ignored) = roots.add_parsable_certificates(certificates("--tls-ca", path)?);
    if added == 0 {
        return Err(tls_error(format!(
            "--tls-ca {}: no usable CA certificate in it",
            path.display()
        )));
    }
    Ok(roots)
}

fn tls_error(message: String) -> EngineError {
    EngineError::Tls(message)
}

/// `--tls-insecure`: any certificate is accepted, but the handshake's signatures are still
/// checked, so the session is encrypted with the key of whoever holds that certificate.
#[derive(Debug)]
struct AnyCertificate {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
