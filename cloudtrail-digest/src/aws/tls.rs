//! TLS for the session's HTTP client: rustls with ring, checking certificates as
//! reqwest's own set-up does (the platform verifier over the system's trust roots), but
//! reading those roots at the first certificate to check, not when the client is made.
//!
//! Reading them (every file of `/etc/ssl/certs` on Debian) took about a third of the CPU
//! of a re-audit in S3 with a ledger, before its first request. Deferred, it overlaps
//! the first connection's round trips, and a session that only speaks plain HTTP to an
//! endpoint named so never reads them (nor needs any installed).

use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use rustls_platform_verifier::Verifier;

/// The client configuration for reqwest: TLS 1.2 and 1.3, HTTP/1.1 (the only version
/// the client speaks), SNI, certificates checked by [`LazyRoots`].
pub(crate) fn client_config() -> Result<ClientConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(rustls::ALL_VERSIONS)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(LazyRoots::new(provider)))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The platform verifier, made (and the system's roots read) on first use.
#[derive(Debug)]
pub(crate) struct LazyRoots {
    provider: Arc<CryptoProvider>,
    verifier: OnceLock<Result<Verifier, rustls::Error>>,
}

impl LazyRoots {
    pub(crate) fn new(provider: Arc<CryptoProvider>) -> LazyRoots {
        LazyRoots {
            provider,
            verifier: OnceLock::new(),
        }
    }

    fn verifier(&self) -> Result<&Verifier, rustls::Error> {
        self.verifier
            .get_or_init(|| {
                Verifier::new(Arc::clone(&self.provider)).map_err(|e| {
                    rustls::Error::General(format!("the system's trust roots could not be read: {e}"))
                })
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Whether the roots have been read.
    #[cfg(test)]
    fn loaded(&self) -> bool {
        self.verifier.get().is_some()
    }
}

impl ServerCertVerifier for LazyRoots {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.verifier()?
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.verifier()?.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.verifier()?.verify_tls13_signature(message, cert, dss)
    }

    /// Asked for the first message of every handshake: the schemes of the provider,
    /// which is what the platform verifier answers, without reading the roots.
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use std::net::{TcpListener, TcpStream};
    use std::path::PathBuf;

    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::PrivateKeyDer;
    use rustls::{ClientConnection, ServerConfig, ServerConnection};

    use super::*;

    #[test]
    fn the_roots_are_read_at_the_first_certificate_not_before() {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let lazy = LazyRoots::new(Arc::clone(&provider));
        let schemes = lazy.supported_verify_schemes();
        assert!(!lazy.loaded(), "asking the schemes read the roots");
        // What the platform verifier itself answers.
        let eager = Verifier::new(provider).unwrap();
        assert_eq!(schemes, eager.supported_verify_schemes());
        assert!(client_config().is_ok());
        // A certificate that is none: refused, by the verifier made for it.
        let refused = lazy.verify_server_cert(
            &CertificateDer::from(vec![0u8; 8]),
            &[],
            &ServerName::try_from("s3.amazonaws.com").unwrap(),
            &[],
            UnixTime::now(),
        );
        assert!(refused.is_err());
        assert!(lazy.loaded());
    }

    /// `testdata/tls/`: a certificate no system trusts, made once with openssl for
    /// `localhost` and 127.0.0.1, valid for a hundred years, and its key.
    fn fixture(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../testdata/tls")
            .join(name)
    }

    /// The session's configuration checks the server's certificate: one the system's
    /// roots do not vouch for ends the handshake, as reqwest's own set-up would.
    #[test]
    fn an_untrusted_certificate_ends_the_handshake() {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let cert = CertificateDer::from_pem_file(fixture("localhost.crt")).unwrap();
        let key = PrivateKeyDer::from_pem_file(fixture("localhost.key")).unwrap();
        let server_config = Arc::new(
            ServerConfig::builder_with_provider(provider)
                .with_protocol_versions(rustls::ALL_VERSIONS)
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(vec![cert], key)
                .unwrap(),
        );
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut socket, _) = listener.accept().unwrap();
            let mut conn = ServerConnection::new(server_config).unwrap();
            // Until the client gives up on the certificate.
            while conn.complete_io(&mut socket).is_ok() && conn.is_handshaking() {}
        });
        let mut socket = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let name = ServerName::try_from("localhost").unwrap();
        let mut conn = ClientConnection::new(Arc::new(client_config().unwrap()), name).unwrap();
        let mut outcome = Ok((0, 0));
        while conn.is_handshaking() {
            outcome = conn.complete_io(&mut socket);
            if outcome.is_err() {
                break;
            }
        }
        let err = outcome.expect_err("the handshake went through with an untrusted certificate");
        let inner = err.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>());
        // Which reason depends on the system's roots; a refusal of the certificate
        // it must be.
        assert!(
            matches!(inner, Some(rustls::Error::InvalidCertificate(_))),
            "{err}"
        );
        drop(socket);
        server.join().unwrap();
    }
}
