//! "Test connection" (the [`ConnectorProbe`]) against the suites' peers: domain connections
//! built from their parts, and a loopback port where nothing listens.

use std::net::TcpListener;

use printdesk_domain::{
    BambuLabConnection, BambuSerial, BaseUrl, ConnectionTester, ConnectionTrial, Host,
    MoonrakerConnection, OctoprintConnection, PrinterConnection, PrusalinkAuth,
    PrusalinkConnection, Secret, TlsFingerprint, Username,
};
use printdesk_monitor::ConnectorProbe;

fn secret(value: &str) -> Secret {
    Secret::parse("secret", value).expect("a valid secret")
}

fn url(base_url: &str) -> BaseUrl {
    BaseUrl::parse("base_url", base_url).expect("a valid URL")
}

/// A Bambu Lab printer on loopback, its certificate trusted as `fingerprint` (first use
/// when `None`).
pub fn bambu(
    port: u16,
    serial: &str,
    access_code: &str,
    fingerprint: Option<&str>,
) -> PrinterConnection<Secret> {
    PrinterConnection::BambuLab(BambuLabConnection {
        host: Host::parse("host", "127.0.0.1").expect("a host"),
        port,
        serial: BambuSerial::parse("serial", serial).expect("a serial"),
        access_code: secret(access_code),
        tls_fingerprint: fingerprint
            .map(|f| TlsFingerprint::parse("tls_fingerprint", f).expect("a fingerprint")),
        ca_pem: None,
    })
}

pub fn octoprint(base_url: &str, api_key: &str) -> PrinterConnection<Secret> {
    PrinterConnection::Octoprint(OctoprintConnection {
        base_url: url(base_url),
        api_key: secret(api_key),
    })
}

pub fn moonraker(base_url: &str, api_key: Option<&str>) -> PrinterConnection<Secret> {
    PrinterConnection::Moonraker(MoonrakerConnection {
        base_url: url(base_url),
        api_key: api_key.map(secret),
    })
}

/// PrusaLink with digest authentication as `maker`.
pub fn prusalink(base_url: &str, password: &str) -> PrinterConnection<Secret> {
    PrinterConnection::Prusalink(PrusalinkConnection {
        base_url: url(base_url),
        auth: PrusalinkAuth::Digest {
            username: Username::parse("username", "maker").expect("a user"),
            password: secret(password),
        },
    })
}

/// A loopback port nothing listens on (it was free a moment ago).
pub fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// One test of `connection`, as the printer dialog's "Test connection" runs it.
pub async fn test(connection: &PrinterConnection<Secret>) -> ConnectionTrial {
    ConnectorProbe::default().try_connection(connection).await
}

/// The sentence of a trial that did not reach the printer.
pub fn unreachable(trial: &ConnectionTrial) -> &str {
    match trial {
        ConnectionTrial::Unreachable(sentence) => sentence,
        other => panic!("expected an unreachable printer, got {other:?}"),
    }
}
