//! Whom a Bambu Lab printer's TLS certificate is trusted as.
//!
//! The printer's certificate is issued by Bambu Lab's own CA with the printer's serial as its
//! name, and printdesk connects to an IP address; so ordinary verification (public roots, the
//! address as the name) can never succeed. Most tools switch verification off; printdesk either
//! trusts the certificate on first use and pins its SHA-256 fingerprint, or verifies it against
//! a CA the user gives, with the serial as the name.

use std::sync::{Arc, Mutex, PoisonError};

use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, Error as TlsError, RootCertStore,
    SignatureScheme,
    client::{
        WebPkiServerVerifier,
        danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
    },
    crypto::WebPkiSupportedAlgorithms,
    pki_types::{CertificateDer, ServerName, UnixTime, pem::PemObject},
};
use sha2::{Digest, Sha256};

/// How the printer's certificate is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// Trust on first use: accept the first certificate and report its fingerprint; from then
    /// on accept only a certificate with this fingerprint.
    FirstUse {
        /// The pinned fingerprint (lower-case hex SHA-256 of the DER), if one is stored.
        fingerprint: Option<String>,
    },
    /// Verify the chain against this CA (PEM), with the serial as the certificate's name.
    Ca {
        /// One or more CA certificates, PEM.
        pem: String,
    },
}

/// What the verifier saw during the last handshake, for the connector to report.
#[derive(Debug, Default)]
pub struct Observed {
    /// The fingerprint of the certificate presented.
    pub fingerprint: Option<String>,
    /// Why the certificate was refused, if it was.
    pub refusal: Option<Refusal>,
}

/// Why the verifier refused a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Another certificate than the pinned one.
    Changed,
    /// Not valid for the serial under the configured CA.
    Invalid(String),
}

/// Shared between the verifier (inside rustls) and the connector.
pub type Observation = Arc<Mutex<Observed>>;

/// The lower-case hex SHA-256 of a certificate's DER encoding.
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A rustls client configuration that checks the printer as `trust` says, recording what it
/// saw in the returned observation.
pub fn client_config(
    trust: &Trust,
    serial: &str,
) -> Result<(Arc<ClientConfig>, Observation), String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let observation = Observation::default();
    let verifier: Arc<dyn ServerCertVerifier> = match trust {
        Trust::FirstUse { fingerprint } => Arc::new(PinnedCertificate {
            pinned: fingerprint.clone(),
            observation: observation.clone(),
            algorithms: provider.signature_verification_algorithms,
        }),
        Trust::Ca { pem } => {
            let mut roots = RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                let cert = cert.map_err(|e| format!("ca_pem is not PEM: {e}"))?;
                roots
                    .add(cert)
                    .map_err(|e| format!("ca_pem holds no usable CA certificate: {e}"))?;
            }
            if roots.is_empty() {
                return Err("ca_pem holds no certificate".into());
            }
            let inner =
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .map_err(|e| format!("ca_pem cannot be used: {e}"))?;
            let name = ServerName::try_from(serial.to_owned())
                .map_err(|_| format!("the serial {serial:?} is not a certificate name"))?;
            Arc::new(CaForSerial {
                inner,
                name,
                observation: observation.clone(),
            })
        }
    };
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS set-up: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok((Arc::new(config), observation))
}

fn observe(observation: &Observation, end_entity: &CertificateDer<'_>) {
    observation
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .fingerprint = Some(fingerprint(end_entity));
}

fn refuse(observation: &Observation, refusal: Refusal) -> TlsError {
    observation
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .refusal = Some(refusal);
    TlsError::InvalidCertificate(CertificateError::ApplicationVerificationFailure)
}

/// Trust on first use. The handshake's signatures are still verified with the certificate's
/// key, so a pinned certificate cannot be replayed by someone without its private key.
#[derive(Debug)]
struct PinnedCertificate {
    pinned: Option<String>,
    observation: Observation,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for PinnedCertificate {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        observe(&self.observation, end_entity);
        match &self.pinned {
            Some(pinned) if *pinned != fingerprint(end_entity) => {
                Err(refuse(&self.observation, Refusal::Changed))
            }
            _ => Ok(ServerCertVerified::assertion()),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The CA's ordinary verification, with the printer's serial as the name instead of the
/// address printdesk connected to.
#[derive(Debug)]
struct CaForSerial {
    inner: Arc<WebPkiServerVerifier>,
    name: ServerName<'static>,
    observation: Observation,
}

impl ServerCertVerifier for CaForSerial {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        observe(&self.observation, end_entity);
        self.inner
            .verify_server_cert(end_entity, intermediates, &self.name, ocsp_response, now)
            .map_err(|e| refuse(&self.observation, Refusal::Invalid(e.to_string())))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
