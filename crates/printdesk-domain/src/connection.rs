//! How printdesk reaches a printer: the connection settings of each kind, validated, with the
//! secrets kept in whatever form the holder needs (sealed in the store, plain in a connector).

use std::{fmt, str::FromStr};

use crate::{
    secret::SealedSecret,
    validation::{FieldViolation, ValidationErrors},
};

/// The protocol a printer speaks (`connection.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(rename_all = "snake_case"))]
pub enum ConnectionKind {
    /// Bambu Lab LAN mode: MQTT over TLS, user `bblp`.
    BambuLab,
    /// OctoPrint: REST and its push socket.
    Octoprint,
    /// Klipper's Moonraker: JSON-RPC over WebSocket.
    Moonraker,
    /// Prusa's PrusaLink: REST.
    Prusalink,
}

impl ConnectionKind {
    /// Every kind.
    pub const ALL: [ConnectionKind; 4] = [
        Self::BambuLab,
        Self::Octoprint,
        Self::Moonraker,
        Self::Prusalink,
    ];

    /// The wire and storage name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::BambuLab => "bambu_lab",
            Self::Octoprint => "octoprint",
            Self::Moonraker => "moonraker",
            Self::Prusalink => "prusalink",
        }
    }

    /// The settings a connection of this kind may hold, required ones first.
    const fn settings(self) -> &'static [&'static str] {
        match self {
            Self::BambuLab => &[
                "host",
                "serial",
                "access_code",
                "port",
                "tls_fingerprint",
                "ca_pem",
            ],
            Self::Octoprint => &["base_url", "api_key"],
            Self::Moonraker => &["base_url", "api_key"],
            Self::Prusalink => &["base_url", "username", "password", "api_key"],
        }
    }
}

impl fmt::Display for ConnectionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ConnectionKind {
    type Err = FieldViolation;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                FieldViolation::new(
                    "connection.kind",
                    "must be one of bambu_lab, octoprint, moonraker, prusalink",
                )
            })
    }
}

/// The port Bambu Lab printers serve MQTT over TLS on.
pub const BAMBU_DEFAULT_PORT: u16 = 8883;

macro_rules! text_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            /// The value as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_newtype!(
    /// A printer's host name or IP address, without scheme, port or path: trimmed, 1–253
    /// characters, no spaces or `/`.
    Host
);
text_newtype!(
    /// A Bambu Lab printer's serial number (also the name on its certificate): 1–32 ASCII
    /// letters and digits.
    BambuSerial
);
text_newtype!(
    /// The root of a printer's HTTP API: an `http://` or `https://` URL, trimmed, without a
    /// trailing `/`, at most 2048 characters.
    BaseUrl
);
text_newtype!(
    /// The SHA-256 fingerprint of a printer's TLS certificate, as 64 lowercase hex digits.
    TlsFingerprint
);
text_newtype!(
    /// A CA certificate in PEM, to verify a printer's certificate against.
    CaPem
);
text_newtype!(
    /// A user name for HTTP digest authentication: trimmed, 1–255 characters.
    Username
);

fn no_control(field: &str, value: &str) -> Result<(), FieldViolation> {
    if value.chars().any(char::is_control) {
        Err(FieldViolation::new(
            field,
            "must not contain control characters",
        ))
    } else {
        Ok(())
    }
}

impl Host {
    /// Checks a host given for `field`.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldViolation> {
        let host = raw.trim();
        if host.is_empty() {
            return Err(FieldViolation::new(field, "must not be empty"));
        }
        no_control(field, host)?;
        if host.len() > 253 || host.contains(|c: char| c.is_whitespace() || c == '/') {
            return Err(FieldViolation::new(
                field,
                "must be a host name or IP address (no scheme, path or spaces)",
            ));
        }
        Ok(Self(host.to_owned()))
    }
}

impl BambuSerial {
    /// Checks a serial given for `field`.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldViolation> {
        let serial = raw.trim();
        if serial.is_empty()
            || serial.len() > 32
            || !serial.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(FieldViolation::new(
                field,
                "must be 1–32 letters and digits",
            ));
        }
        Ok(Self(serial.to_owned()))
    }
}

impl BaseUrl {
    /// Longest URL.
    pub const MAX_CHARS: usize = 2048;

    /// Checks a URL given for `field`.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldViolation> {
        let url = raw.trim().trim_end_matches('/');
        let authority = url
            .strip_prefix("http://")
            .or_else(|| url.strip_prefix("https://"))
            .map(|rest| rest.split('/').next().unwrap_or(""));
        let shape_ok = authority.is_some_and(|a| !a.is_empty())
            && !url.contains(char::is_whitespace)
            && !url.contains(char::is_control);
        if !shape_ok {
            return Err(FieldViolation::new(
                field,
                "must be an http:// or https:// URL",
            ));
        }
        if url.chars().count() > Self::MAX_CHARS {
            return Err(FieldViolation::new(
                field,
                crate::fields::rules::too_long(Self::MAX_CHARS),
            ));
        }
        Ok(Self(url.to_owned()))
    }
}

impl TlsFingerprint {
    /// The fingerprint of a certificate whose SHA-256 digest is `digest`.
    pub fn from_sha256(digest: &[u8; 32]) -> Self {
        use fmt::Write;
        let mut hex = String::with_capacity(64);
        for b in digest {
            let _ = write!(hex, "{b:02x}");
        }
        Self(hex)
    }

    /// Reads a stored fingerprint: 64 hex digits, either case.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldViolation> {
        if raw.len() == 64 && raw.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(Self(raw.to_ascii_lowercase()))
        } else {
            Err(FieldViolation::new(
                field,
                "must be a SHA-256 fingerprint (64 hex digits)",
            ))
        }
    }
}

impl CaPem {
    /// Longest PEM text accepted.
    pub const MAX_CHARS: usize = 32 * 1024;

    /// Checks a PEM text given for `field`: it must hold a certificate block.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldViolation> {
        let pem = raw.trim();
        let begin = pem.find("-----BEGIN CERTIFICATE-----");
        let end = pem.rfind("-----END CERTIFICATE-----");
        if pem.contains(|c: char| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
            return Err(FieldViolation::new(
                field,
                "must not contain control characters other than line breaks and tabs",
            ));
        }
        if !matches!((begin, end), (Some(b), Some(e)) if b < e) {
            return Err(FieldViolation::new(
                field,
                "must be a PEM certificate (-----BEGIN CERTIFICATE----- …)",
            ));
        }
        if pem.chars().count() > Self::MAX_CHARS {
            return Err(FieldViolation::new(
                field,
                crate::fields::rules::too_long(Self::MAX_CHARS),
            ));
        }
        Ok(Self(pem.to_owned()))
    }
}

impl Username {
    /// Checks a user name given for `field`.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldViolation> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(FieldViolation::new(field, "must not be empty"));
        }
        no_control(field, name)?;
        if name.chars().count() > 255 {
            return Err(FieldViolation::new(
                field,
                crate::fields::rules::too_long(255),
            ));
        }
        Ok(Self(name.to_owned()))
    }
}

/// A Bambu Lab printer in LAN mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BambuLabConnection<S> {
    /// Where it is.
    pub host: Host,
    /// Its MQTT port ([`BAMBU_DEFAULT_PORT`] unless given).
    pub port: u16,
    /// Its serial number: the MQTT topic and the name on its certificate.
    pub serial: BambuSerial,
    /// The LAN access code shown on the printer's screen.
    pub access_code: S,
    /// The certificate trusted on first use; set by monitoring, cleared by a client.
    pub tls_fingerprint: Option<TlsFingerprint>,
    /// A CA to verify the certificate against instead of trusting it on first use.
    pub ca_pem: Option<CaPem>,
}

/// A printer driven by OctoPrint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OctoprintConnection<S> {
    /// OctoPrint's address.
    pub base_url: BaseUrl,
    /// An application or user API key.
    pub api_key: S,
}

/// A Klipper printer through Moonraker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoonrakerConnection<S> {
    /// Moonraker's address.
    pub base_url: BaseUrl,
    /// An API key, when Moonraker requires one.
    pub api_key: Option<S>,
}

/// How printdesk signs in to PrusaLink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrusalinkAuth<S> {
    /// HTTP digest authentication.
    Digest {
        /// The user name.
        username: Username,
        /// Its password.
        password: S,
    },
    /// An `X-Api-Key` header (older firmware).
    ApiKey(S),
}

/// A Prusa printer through PrusaLink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrusalinkConnection<S> {
    /// PrusaLink's address.
    pub base_url: BaseUrl,
    /// How to sign in.
    pub auth: PrusalinkAuth<S>,
}

/// A printer's connection settings, valid for their kind. `S` is how the secrets are held:
/// [`SealedSecret`] where they are stored or shown, [`Secret`] in the connector that uses them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrinterConnection<S> {
    /// `kind: bambu_lab`.
    BambuLab(BambuLabConnection<S>),
    /// `kind: octoprint`.
    Octoprint(OctoprintConnection<S>),
    /// `kind: moonraker`.
    Moonraker(MoonrakerConnection<S>),
    /// `kind: prusalink`.
    Prusalink(PrusalinkConnection<S>),
}

impl<S> PrinterConnection<S> {
    /// Its kind.
    pub fn kind(&self) -> ConnectionKind {
        match self {
            Self::BambuLab(_) => ConnectionKind::BambuLab,
            Self::Octoprint(_) => ConnectionKind::Octoprint,
            Self::Moonraker(_) => ConnectionKind::Moonraker,
            Self::Prusalink(_) => ConnectionKind::Prusalink,
        }
    }

    /// The same settings with every secret converted by `convert` (to seal or open them).
    pub fn try_map_secrets<T, E>(
        self,
        mut convert: impl FnMut(S) -> Result<T, E>,
    ) -> Result<PrinterConnection<T>, E> {
        Ok(match self {
            Self::BambuLab(c) => PrinterConnection::BambuLab(BambuLabConnection {
                host: c.host,
                port: c.port,
                serial: c.serial,
                access_code: convert(c.access_code)?,
                tls_fingerprint: c.tls_fingerprint,
                ca_pem: c.ca_pem,
            }),
            Self::Octoprint(c) => PrinterConnection::Octoprint(OctoprintConnection {
                base_url: c.base_url,
                api_key: convert(c.api_key)?,
            }),
            Self::Moonraker(c) => PrinterConnection::Moonraker(MoonrakerConnection {
                base_url: c.base_url,
                api_key: c.api_key.map(convert).transpose()?,
            }),
            Self::Prusalink(c) => PrinterConnection::Prusalink(PrusalinkConnection {
                base_url: c.base_url,
                auth: match c.auth {
                    PrusalinkAuth::Digest { username, password } => PrusalinkAuth::Digest {
                        username,
                        password: convert(password)?,
                    },
                    PrusalinkAuth::ApiKey(key) => PrusalinkAuth::ApiKey(convert(key)?),
                },
            }),
        })
    }

    /// The settings as flat fields, for a store's row or a patch's merge.
    pub fn into_fields(self) -> ConnectionFields<S> {
        let kind = Some(self.kind().as_str().to_owned());
        match self {
            Self::BambuLab(c) => ConnectionFields {
                kind,
                host: Some(c.host.0),
                port: Some(i64::from(c.port)),
                serial: Some(c.serial.0),
                access_code: Some(c.access_code),
                tls_fingerprint: c.tls_fingerprint.map(|f| f.0),
                ca_pem: c.ca_pem.map(|p| p.0),
                ..ConnectionFields::default()
            },
            Self::Octoprint(c) => ConnectionFields {
                kind,
                base_url: Some(c.base_url.0),
                api_key: Some(c.api_key),
                ..ConnectionFields::default()
            },
            Self::Moonraker(c) => ConnectionFields {
                kind,
                base_url: Some(c.base_url.0),
                api_key: c.api_key,
                ..ConnectionFields::default()
            },
            Self::Prusalink(c) => {
                let (username, password, api_key) = match c.auth {
                    PrusalinkAuth::Digest { username, password } => {
                        (Some(username.0), Some(password), None)
                    }
                    PrusalinkAuth::ApiKey(key) => (None, None, Some(key)),
                };
                ConnectionFields {
                    kind,
                    base_url: Some(c.base_url.0),
                    username,
                    password,
                    api_key,
                    ..ConnectionFields::default()
                }
            }
        }
    }
}

impl PrinterConnection<SealedSecret> {
    /// The certificate fingerprint trusted on first use, if this kind has one and it is set.
    pub fn tls_fingerprint(&self) -> Option<&TlsFingerprint> {
        match self {
            Self::BambuLab(c) => c.tls_fingerprint.as_ref(),
            _ => None,
        }
    }
}

/// Shows a connection as responses do: every setting, secrets as `"set"` or `null`.
impl serde::Serialize for PrinterConnection<SealedSecret> {
    fn serialize<Z: serde::Serializer>(&self, serializer: Z) -> Result<Z::Ok, Z::Error> {
        use serde::ser::SerializeMap;
        let shown = |s: Option<&SealedSecret>| s.map(|_| SealedSecret::SHOWN_AS);
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("kind", self.kind().as_str())?;
        match self {
            Self::BambuLab(c) => {
                map.serialize_entry("host", c.host.as_str())?;
                map.serialize_entry("port", &c.port)?;
                map.serialize_entry("serial", c.serial.as_str())?;
                map.serialize_entry("access_code", &shown(Some(&c.access_code)))?;
                map.serialize_entry(
                    "tls_fingerprint",
                    &c.tls_fingerprint.as_ref().map(TlsFingerprint::as_str),
                )?;
                map.serialize_entry("ca_pem", &c.ca_pem.as_ref().map(CaPem::as_str))?;
            }
            Self::Octoprint(c) => {
                map.serialize_entry("base_url", c.base_url.as_str())?;
                map.serialize_entry("api_key", &shown(Some(&c.api_key)))?;
            }
            Self::Moonraker(c) => {
                map.serialize_entry("base_url", c.base_url.as_str())?;
                map.serialize_entry("api_key", &shown(c.api_key.as_ref()))?;
            }
            Self::Prusalink(c) => {
                map.serialize_entry("base_url", c.base_url.as_str())?;
                let (username, password, api_key) = match &c.auth {
                    PrusalinkAuth::Digest { username, password } => {
                        (Some(username.as_str()), Some(password), None)
                    }
                    PrusalinkAuth::ApiKey(key) => (None, None, Some(key)),
                };
                map.serialize_entry("username", &username)?;
                map.serialize_entry("password", &shown(password))?;
                map.serialize_entry("api_key", &shown(api_key))?;
            }
        }
        map.end()
    }
}

/// A connection's settings as flat, unchecked fields: what a patch laid over the stored
/// settings gives, and what a store keeps in its row. [`ConnectionFields::validate`] turns
/// them into a [`PrinterConnection`], judging every rule of the kind at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionFields<S> {
    /// The kind's wire name.
    pub kind: Option<String>,
    /// `bambu_lab`: host name or address.
    pub host: Option<String>,
    /// `bambu_lab`: MQTT port.
    pub port: Option<i64>,
    /// `bambu_lab`: serial number.
    pub serial: Option<String>,
    /// `bambu_lab`: access code.
    pub access_code: Option<S>,
    /// `bambu_lab`: certificate fingerprint (server-owned).
    pub tls_fingerprint: Option<String>,
    /// `bambu_lab`: CA certificate.
    pub ca_pem: Option<String>,
    /// `octoprint`, `moonraker`, `prusalink`: the API's root URL.
    pub base_url: Option<String>,
    /// `octoprint`, `moonraker`, `prusalink`: API key.
    pub api_key: Option<S>,
    /// `prusalink`: digest user name.
    pub username: Option<String>,
    /// `prusalink`: digest password.
    pub password: Option<S>,
}

impl<S> Default for ConnectionFields<S> {
    fn default() -> Self {
        Self {
            kind: None,
            host: None,
            port: None,
            serial: None,
            access_code: None,
            tls_fingerprint: None,
            ca_pem: None,
            base_url: None,
            api_key: None,
            username: None,
            password: None,
        }
    }
}

/// The field path of a connection setting in errors.
fn path(setting: &str) -> String {
    format!("connection.{setting}")
}

/// Collects the violations of one connection while its settings are checked.
struct Checker {
    kind: ConnectionKind,
    violations: Vec<FieldViolation>,
}

impl Checker {
    /// A setting the kind requires: its check's result, or a violation when it is missing.
    fn required<T, U>(
        &mut self,
        setting: &str,
        value: Option<T>,
        check: impl FnOnce(&str, T) -> Result<U, FieldViolation>,
    ) -> Option<U> {
        if value.is_none() {
            self.violations.push(FieldViolation::new(
                path(setting),
                format!("is required for a {} connection", self.kind),
            ));
        }
        self.optional(setting, value, check)
    }

    /// A setting the kind may have: its check's result, `None` when absent or refused.
    fn optional<T, U>(
        &mut self,
        setting: &str,
        value: Option<T>,
        check: impl FnOnce(&str, T) -> Result<U, FieldViolation>,
    ) -> Option<U> {
        match check(&path(setting), value?) {
            Ok(v) => Some(v),
            Err(violation) => {
                self.violations.push(violation);
                None
            }
        }
    }
}

fn port(field: &str, raw: i64) -> Result<u16, FieldViolation> {
    u16::try_from(raw)
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| FieldViolation::new(field, "must be a port number, 1–65535"))
}

impl<S> ConnectionFields<S> {
    /// The names of the settings that are present.
    fn present(&self) -> Vec<&'static str> {
        [
            ("host", self.host.is_some()),
            ("port", self.port.is_some()),
            ("serial", self.serial.is_some()),
            ("access_code", self.access_code.is_some()),
            ("tls_fingerprint", self.tls_fingerprint.is_some()),
            ("ca_pem", self.ca_pem.is_some()),
            ("base_url", self.base_url.is_some()),
            ("api_key", self.api_key.is_some()),
            ("username", self.username.is_some()),
            ("password", self.password.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, present)| present.then_some(name))
        .collect()
    }

    /// Checks every rule of the kind at once: the kind's required settings are present, no
    /// setting of another kind is, and each value is well-formed. `secret` checks or converts
    /// each secret, given its field path.
    pub fn validate<T>(
        self,
        mut secret: impl FnMut(&str, S) -> Result<T, FieldViolation>,
    ) -> Result<PrinterConnection<T>, ValidationErrors> {
        let kind = match self.kind.as_deref().map(str::parse::<ConnectionKind>) {
            None => {
                return Err(ValidationErrors::single(FieldViolation::new(
                    "connection.kind",
                    "is required",
                )));
            }
            Some(Err(violation)) => return Err(ValidationErrors::single(violation)),
            Some(Ok(kind)) => kind,
        };
        let mut c = Checker {
            kind,
            violations: Vec::new(),
        };
        for setting in self.present() {
            if !kind.settings().contains(&setting) {
                c.violations.push(FieldViolation::new(
                    path(setting),
                    format!("is not a setting of a {kind} connection"),
                ));
            }
        }
        let url = |f: &str, v: String| BaseUrl::parse(f, &v);
        let built = match kind {
            ConnectionKind::BambuLab => {
                let host = c.required("host", self.host, |f, v| Host::parse(f, &v));
                let serial = c.required("serial", self.serial, |f, v| BambuSerial::parse(f, &v));
                let access_code = c.required("access_code", self.access_code, &mut secret);
                let port = c.optional("port", self.port, port);
                let tls_fingerprint =
                    c.optional("tls_fingerprint", self.tls_fingerprint, |f, v| {
                        TlsFingerprint::parse(f, &v)
                    });
                let ca_pem = c.optional("ca_pem", self.ca_pem, |f, v| CaPem::parse(f, &v));
                match (host, serial, access_code) {
                    (Some(host), Some(serial), Some(access_code)) => {
                        Some(PrinterConnection::BambuLab(BambuLabConnection {
                            host,
                            port: port.unwrap_or(BAMBU_DEFAULT_PORT),
                            serial,
                            access_code,
                            tls_fingerprint,
                            ca_pem,
                        }))
                    }
                    _ => None,
                }
            }
            ConnectionKind::Octoprint => {
                let base_url = c.required("base_url", self.base_url, url);
                let api_key = c.required("api_key", self.api_key, &mut secret);
                match (base_url, api_key) {
                    (Some(base_url), Some(api_key)) => {
                        Some(PrinterConnection::Octoprint(OctoprintConnection {
                            base_url,
                            api_key,
                        }))
                    }
                    _ => None,
                }
            }
            ConnectionKind::Moonraker => {
                let base_url = c.required("base_url", self.base_url, url);
                let api_key = c.optional("api_key", self.api_key, &mut secret);
                base_url.map(|base_url| {
                    PrinterConnection::Moonraker(MoonrakerConnection { base_url, api_key })
                })
            }
            ConnectionKind::Prusalink => {
                let base_url = c.required("base_url", self.base_url, url);
                let digest = self.username.is_some() || self.password.is_some();
                let auth =
                    match (self.api_key, digest) {
                        (Some(_), true) => {
                            c.violations.push(FieldViolation::new(
                                path("api_key"),
                                "cannot be combined with username and password",
                            ));
                            None
                        }
                        (Some(key), false) => c
                            .optional("api_key", Some(key), &mut secret)
                            .map(PrusalinkAuth::ApiKey),
                        (None, true) => {
                            let username = c
                                .required("username", self.username, |f, v| Username::parse(f, &v));
                            let password = c.required("password", self.password, &mut secret);
                            username.zip(password).map(|(username, password)| {
                                PrusalinkAuth::Digest { username, password }
                            })
                        }
                        (None, false) => {
                            c.violations.push(FieldViolation::new(
                                path("api_key"),
                                "or username and password are required for a prusalink connection",
                            ));
                            None
                        }
                    };
                base_url.zip(auth).map(|(base_url, auth)| {
                    PrinterConnection::Prusalink(PrusalinkConnection { base_url, auth })
                })
            }
        };
        match (built, ValidationErrors::from_violations(c.violations)) {
            (Some(connection), None) => Ok(connection),
            (_, Some(errors)) => Err(errors),
            (None, None) => unreachable!("a setting that is missing or refused is a violation"),
        }
    }
}

/// A printer the monitor is to watch, with its connection's secrets opened.
#[derive(Debug, Clone)]
pub struct MonitoredPrinter {
    /// The printer, as stored (its `connection` sealed), with its last status.
    pub printer: crate::Printer,
    /// Its connection with the secrets in plain text, or why they did not open (a key
    /// other than the one that sealed them: the monitor reports it in the printer's status).
    pub connection: Result<PrinterConnection<crate::Secret>, crate::SealError>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

    #[test]
    fn a_ca_certificate_is_a_pem_block_without_stray_control_characters() {
        let f = "connection.ca_pem";
        assert_eq!(CaPem::parse(f, PEM).unwrap().as_str(), PEM.trim());
        assert!(CaPem::parse(f, &PEM.replace('\n', "\r\n")).is_ok());
        assert!(CaPem::parse(f, &PEM.replace("MIIB", "MI\0IB")).is_err());
        assert!(CaPem::parse(f, "-----END CERTIFICATE----- -----BEGIN CERTIFICATE-----").is_err());
    }

    #[test]
    fn hosts_urls_and_serials_keep_to_their_shapes() {
        let f = "connection.x";
        assert_eq!(
            Host::parse(f, " 192.168.1.50 ").unwrap().as_str(),
            "192.168.1.50"
        );
        assert!(Host::parse(f, "fe80::1").is_ok());
        for bad in ["", "http://h", "a b", "h/x", "h\0"] {
            assert!(Host::parse(f, bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            BaseUrl::parse(f, "https://octopi.local/ ")
                .unwrap()
                .as_str(),
            "https://octopi.local"
        );
        for bad in [
            "octopi.local",
            "ftp://x",
            "http://",
            "http:// x",
            "http://x\0",
        ] {
            assert!(BaseUrl::parse(f, bad).is_err(), "{bad:?}");
        }
        assert!(BambuSerial::parse(f, "01S00C123456789").is_ok());
        for bad in ["", "01S-00C", &"A".repeat(33)] {
            assert!(BambuSerial::parse(f, bad).is_err(), "{bad:?}");
        }
        assert!(TlsFingerprint::parse(f, &"AB".repeat(32)).is_ok());
        assert_eq!(
            TlsFingerprint::parse(f, &"AB".repeat(32)).unwrap().as_str(),
            "ab".repeat(32)
        );
        assert!(TlsFingerprint::parse(f, "abc").is_err());
    }
}
