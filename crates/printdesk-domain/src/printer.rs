use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::{
    clock::Timestamp,
    connection::PrinterConnection,
    errors::CreatePrinterError,
    monitoring::PrinterStatus,
    printer_patch::{ConnectionPatch, Refusal},
    secret::{SealedSecret, SecretSealer},
    validation::FieldViolation,
};

/// A printer's id: a UUID or a slug such as `bambu-x1c-1`; 1–64 of `[a-z0-9_-]`.
///
/// ```
/// use printdesk_domain::PrinterId;
/// assert!(PrinterId::parse("bambu-x1c-1").is_ok());
/// assert!(PrinterId::parse("Bambu X1C").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PrinterId(String);

impl PrinterId {
    /// Longest id.
    pub const MAX_LEN: usize = 64;

    /// Checks the id's shape.
    pub fn parse(raw: impl Into<String>) -> Result<Self, FieldViolation> {
        let raw = raw.into();
        let shape_ok = !raw.is_empty()
            && raw.len() <= Self::MAX_LEN
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if shape_ok {
            Ok(Self(raw))
        } else {
            Err(FieldViolation::new(
                "printer_id",
                "must be 1–64 characters of a–z, 0–9, '-' or '_'",
            ))
        }
    }

    /// A fresh random id, for printers created without one.
    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PrinterId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for PrinterId {
    type Error = FieldViolation;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(raw)
    }
}

impl From<PrinterId> for String {
    fn from(id: PrinterId) -> String {
        id.0
    }
}

/// A printer's display name: trimmed, 1–100 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PrinterName(String);

impl PrinterName {
    /// Longest name, in Unicode scalar values.
    pub const MAX_CHARS: usize = 100;

    /// Trims and checks the name.
    pub fn parse(raw: impl Into<String>) -> Result<Self, FieldViolation> {
        let raw = raw.into();
        let name = raw.trim();
        if name.is_empty() {
            Err(FieldViolation::new("name", "must not be empty"))
        } else if let Err(message) = crate::fields::rules::no_nul(name) {
            Err(FieldViolation::new("name", message))
        } else if name.chars().count() > Self::MAX_CHARS {
            Err(FieldViolation::new(
                "name",
                crate::fields::rules::too_long(Self::MAX_CHARS),
            ))
        } else {
            Ok(Self(name.to_owned()))
        }
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PrinterName {
    type Error = FieldViolation;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(raw)
    }
}

impl From<PrinterName> for String {
    fn from(name: PrinterName) -> String {
        name.0
    }
}

/// The kind of printer, which tells integrations how to talk to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PrinterType {
    /// Bambu Lab (X1, P1, A1 …).
    BambuLab,
    /// Prusa (PrusaLink / Prusa Connect).
    Prusa,
    /// Anything driven by OctoPrint.
    Octoprint,
    /// Klipper with Moonraker.
    Klipper,
    /// Anything else.
    Other,
}

impl PrinterType {
    /// Every type.
    pub const ALL: [PrinterType; 5] = [
        Self::BambuLab,
        Self::Prusa,
        Self::Octoprint,
        Self::Klipper,
        Self::Other,
    ];

    /// The wire and storage name (`"bambu_lab"`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::BambuLab => "bambu_lab",
            Self::Prusa => "prusa",
            Self::Octoprint => "octoprint",
            Self::Klipper => "klipper",
            Self::Other => "other",
        }
    }
}

impl FromStr for PrinterType {
    type Err = FieldViolation;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| {
                FieldViolation::new(
                    "printer_type",
                    "must be one of bambu_lab, prusa, octoprint, klipper, other",
                )
            })
    }
}

/// A printer in the farm.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Printer {
    /// Its id: a UUID or a slug such as `bambu-x1c-1`, 1–64 of `a-z`, `0-9`, `-`, `_`.
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = String, pattern = "^[a-z0-9_-]{1,64}$", example = "bambu-x1c-1")
    )]
    pub id: PrinterId,
    /// Its display name: trimmed, 1–100 characters.
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = String, min_length = 1, max_length = 100)
    )]
    pub name: PrinterName,
    /// Its kind.
    pub printer_type: PrinterType,
    /// Where it stands, free text (trimmed, at most 200 characters); null when not given.
    #[cfg_attr(
        feature = "openapi",
        schema(required = true, min_length = 1, max_length = 200)
    )]
    pub location: Option<String>,
    /// When it was registered.
    #[serde(with = "crate::timestamp")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    /// How printdesk reaches it; null for a manual printer. Secrets show as `"set"`.
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = Option<Object>, required = true, example = json!({
            "kind": "bambu_lab", "host": "192.168.1.50", "port": 8883,
            "serial": "01S00C123456789", "access_code": "set", "tls_fingerprint": null,
            "ca_pem": null
        }))
    )]
    pub connection: Option<PrinterConnection<SealedSecret>>,
    /// Whether printdesk watches it; never true without a connection.
    pub monitoring: bool,
    /// Its live state; `unknown` when it is not monitored.
    pub status: PrinterStatus,
}

impl Printer {
    /// Whether printdesk watches this printer: monitoring is on and it has a connection.
    pub fn is_monitored(&self) -> bool {
        self.monitoring && self.connection.is_some()
    }

    /// The printer showing `stored` as its status, or `unknown` when it is not monitored
    /// (a status stored while it was is stale once monitoring is off).
    pub fn with_status(self, stored: Option<PrinterStatus>) -> Self {
        let status = match stored {
            Some(status) if self.is_monitored() => status,
            _ => PrinterStatus::default(),
        };
        Self { status, ..self }
    }
}

/// What a client supplies to register a printer, before validation.
///
/// With the `openapi` feature this is also the document's `NewPrinter` schema (the body of
/// `POST /printers`), whose members an adapter's reader must accept, and no other.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
// Read by utoipa only: `additionalProperties: false`, since the adapter refuses other members.
#[cfg_attr(feature = "openapi", serde(deny_unknown_fields))]
#[cfg_attr(
    feature = "openapi",
    schema(
        description = "A printer to register (`POST /printers`). Any other member is refused (400).",
        example = json!({
            "id": "bambu-x1c-1", "name": "Bambu X1C #1", "printer_type": "bambu_lab",
            "location": "Shelf A",
            "connection": { "kind": "bambu_lab", "host": "192.168.1.50",
                            "serial": "01S00C123456789", "access_code": "12345678" }
        })
    )
)]
pub struct NewPrinter {
    /// A UUID or a slug such as `bambu-x1c-1` (1–64 of `a-z`, `0-9`, `-`, `_`); absent or
    /// null: a UUID is generated.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[a-z0-9_-]{1,64}$"))]
    pub id: Option<String>,
    /// Display name: trimmed, 1–100 characters after trimming.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, pattern = "^[^\\u0000]*$"))]
    pub name: String,
    /// The kind of printer, as its wire name.
    #[cfg_attr(feature = "openapi", schema(value_type = PrinterType))]
    pub printer_type: String,
    /// Where it stands: trimmed, at most 200 characters; blank becomes null.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[^\\u0000]*$"))]
    pub location: Option<String>,
    /// How printdesk reaches it; absent or null: a manual printer.
    pub connection: Option<ConnectionPatch>,
    /// Whether printdesk watches it; default `true` when a connection is given. `true`
    /// without a connection is refused. Not null.
    #[cfg_attr(feature = "openapi", schema(value_type = bool, required = false))]
    pub monitoring: Option<bool>,
}

impl NewPrinter {
    /// Longest location, in Unicode scalar values.
    pub const LOCATION_MAX_CHARS: usize = 200;

    /// Checks every rule at once and builds the printer, its new secrets sealed by `sealer`.
    pub fn validate(
        self,
        created_at: Timestamp,
        sealer: &dyn SecretSealer,
    ) -> Result<Printer, CreatePrinterError> {
        self.decide(created_at, sealer)
            .map_err(|refusal| match refusal {
                Refusal::Invalid(errors) => CreatePrinterError::Invalid(errors),
                Refusal::Sealing(e) => CreatePrinterError::Secrets(e),
            })
    }

    /// The location rule: trimmed, blank is `None`, at most [`Self::LOCATION_MAX_CHARS`].
    pub(crate) fn location(raw: Option<String>) -> Result<Option<String>, FieldViolation> {
        let location = raw.map(|l| l.trim().to_owned()).filter(|l| !l.is_empty());
        if let Some(l) = &location {
            if let Err(message) = crate::fields::rules::no_nul(l) {
                return Err(FieldViolation::new("location", message));
            } else if l.chars().count() > Self::LOCATION_MAX_CHARS {
                return Err(FieldViolation::new(
                    "location",
                    crate::fields::rules::too_long(Self::LOCATION_MAX_CHARS),
                ));
            }
        }
        Ok(location)
    }
}
