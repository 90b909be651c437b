//! The printer edit (`PATCH /printers/{id}`) and the registration it shares its rules with:
//! JSON merge-patch semantics down into the connection, every rule judged on the printer as it
//! will be, new secrets sealed before anything is stored.

use crate::{
    clock::Timestamp,
    connection::{ConnectionFields, PrinterConnection},
    monitoring::PrinterStatus,
    patch::Nullable,
    printer::{NewPrinter, Printer, PrinterId, PrinterName, PrinterType},
    secret::{SealError, SealedSecret, Secret, SecretSealer, SecretText},
    validation::{FieldViolation, ValidationErrors},
};

/// A partial edit of a printer's `connection`, laid over the stored settings key by key:
/// an absent key keeps the stored value, `null` clears it, a value replaces it. Changing
/// `kind` starts from no settings at all, so the new kind's required settings must be given.
///
/// Values are raw client input, checked only once they are laid over the stored settings.
///
/// With the `openapi` feature this is also the document's `Connection` schema.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
// Read by utoipa only: `additionalProperties: false`, since the adapter refuses other settings.
#[cfg_attr(feature = "openapi", serde(deny_unknown_fields))]
#[cfg_attr(
    feature = "openapi",
    schema(
        as = Connection,
        description = "A printer's connection as a client sends it. Each `kind` takes its own \
settings (a\nsetting of another kind is refused, 400, naming it); secrets (`access_code`,\n\
`api_key`, `password`) are write-only: responses show `\"set\"` or null."
    )
)]
pub struct ConnectionPatch {
    /// The kind's wire name (`bambu_lab`, `octoprint`, `moonraker`, `prusalink`): required in
    /// a new connection and when changing kind. Not null.
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = crate::ConnectionKind, required = false)
    )]
    pub kind: Option<String>,
    /// `bambu_lab`: host name or IP address.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub host: Nullable<String>,
    /// `bambu_lab`: MQTT port, 1–65535; cleared, the default 8883.
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = Option<i64>, minimum = 1, maximum = 65535)
    )]
    pub port: Nullable<i64>,
    /// `bambu_lab`: serial number, 1–32 letters and digits.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub serial: Nullable<String>,
    /// `bambu_lab`: LAN access code (write-only).
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = Option<String>, min_length = 1, write_only)
    )]
    pub access_code: Nullable<SecretText>,
    /// `bambu_lab`: server-owned; a client may only clear it (trust the next certificate).
    #[cfg_attr(
        feature = "openapi",
        schema(required = false, schema_with = openapi::null_only)
    )]
    pub tls_fingerprint: Nullable<String>,
    /// `bambu_lab`: a CA certificate (PEM) to verify the printer against instead of
    /// trusting its first certificate.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub ca_pem: Nullable<String>,
    /// `octoprint`, `moonraker`, `prusalink`: the API's root URL, `http://` or `https://`.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub base_url: Nullable<String>,
    /// `octoprint`, `moonraker`, `prusalink`: API key (write-only).
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = Option<String>, min_length = 1, write_only)
    )]
    pub api_key: Nullable<SecretText>,
    /// `prusalink`: digest user name.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub username: Nullable<String>,
    /// `prusalink`: digest password (write-only).
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = Option<String>, min_length = 1, write_only)
    )]
    pub password: Nullable<SecretText>,
}

#[cfg(feature = "openapi")]
mod openapi {
    use utoipa::openapi::schema::{ObjectBuilder, Type};

    /// `tls_fingerprint`: the only value a client may send is `null`.
    pub(super) fn null_only() -> ObjectBuilder {
        ObjectBuilder::new()
            .schema_type(Type::Null)
            .description(Some(
                "`bambu_lab`: set by printdesk on first connection (SHA-256 of the certificate); \
             only `null` is accepted, to clear it and trust the printer's next certificate.",
            ))
    }
}

/// A secret while a connection is merged: kept sealed as stored, or given by the client.
#[derive(Debug)]
enum SecretSlot {
    Stored(SealedSecret),
    Given(SecretText),
}

/// A secret once checked: the stored one, or a new one still to be sealed.
#[derive(Debug)]
enum CheckedSecret {
    Stored(SealedSecret),
    New(Secret),
}

fn merged<T>(patch: Nullable<T>, stored: Option<T>) -> Option<T> {
    match patch {
        Nullable::Keep => stored,
        Nullable::Clear => None,
        Nullable::Set(v) => Some(v),
    }
}

impl ConnectionPatch {
    /// The settings once laid over `stored`, and the violation of a client setting the
    /// server-owned `tls_fingerprint`.
    fn apply_to(
        self,
        stored: Option<&PrinterConnection<SealedSecret>>,
    ) -> (ConnectionFields<SecretSlot>, Option<FieldViolation>) {
        let base = match stored.filter(|c| self.is_of_kind(c)) {
            Some(c) => c.clone().into_fields().map_secrets(SecretSlot::Stored),
            None => ConnectionFields::default(),
        };
        self.apply_over(base)
    }

    /// Whether the patch keeps `stored`'s kind (names none, or the same).
    fn is_of_kind(&self, stored: &PrinterConnection<SealedSecret>) -> bool {
        self.kind
            .as_deref()
            .is_none_or(|kind| kind == stored.kind().as_str())
    }

    /// The connection to test (`ConnectionTestRequest`): these settings as for a new printer,
    /// with `stored`'s secrets and trusted fingerprint standing in for those left out (same
    /// kind only; PrusaLink's stored password only with a `username`, its stored API key only
    /// without), every rule checked at once, the secrets opened with `sealer`.
    pub(crate) fn opened_for_test(
        self,
        stored: Option<&PrinterConnection<SealedSecret>>,
        sealer: &dyn SecretSealer,
    ) -> Result<PrinterConnection<Secret>, Refusal> {
        let digest = matches!(self.username, Nullable::Set(_));
        let base = match stored.filter(|c| self.kind.is_some() && self.is_of_kind(c)) {
            Some(c) => {
                let f = c.clone().into_fields().map_secrets(SecretSlot::Stored);
                ConnectionFields {
                    access_code: f.access_code,
                    tls_fingerprint: f.tls_fingerprint,
                    api_key: f.api_key.filter(|_| !digest),
                    password: f.password.filter(|_| digest),
                    ..ConnectionFields::default()
                }
            }
            None => ConnectionFields::default(),
        };
        let (fields, refused) = self.apply_over(base);
        let mut sealing = None;
        let opened = fields.validate(|field, slot| match slot {
            SecretSlot::Given(text) => text.check(field),
            SecretSlot::Stored(sealed) => sealer.open(&sealed).map_err(|e| {
                if e != SealError::WrongKey {
                    sealing = Some(e);
                }
                FieldViolation::new(
                    field,
                    "is stored sealed with another secret key than this instance's \
                     (printdesk.key), so it cannot be used: type it again",
                )
            }),
        });
        if let Some(e) = sealing {
            return Err(Refusal::Sealing(e));
        }
        let mut violations = match opened {
            Ok(connection) if refused.is_none() => return Ok(connection),
            Ok(_) => Vec::new(),
            Err(errors) => errors.violations().to_vec(),
        };
        violations.extend(refused);
        let errors = ValidationErrors::from_violations(violations)
            .expect("a refused fingerprint or a broken rule is a violation");
        Err(Refusal::Invalid(errors))
    }

    /// The settings once laid over `base`, and the violation of a client setting the
    /// server-owned `tls_fingerprint`.
    fn apply_over(
        self,
        base: ConnectionFields<SecretSlot>,
    ) -> (ConnectionFields<SecretSlot>, Option<FieldViolation>) {
        let given = |n: Nullable<SecretText>| match n {
            Nullable::Keep => Nullable::Keep,
            Nullable::Clear => Nullable::Clear,
            Nullable::Set(text) => Nullable::Set(SecretSlot::Given(text)),
        };
        let (tls_fingerprint, refused) = match self.tls_fingerprint {
            Nullable::Keep => (base.tls_fingerprint, None),
            Nullable::Clear => (None, None),
            Nullable::Set(_) => (
                base.tls_fingerprint,
                Some(FieldViolation::new(
                    "connection.tls_fingerprint",
                    "is set by printdesk when it first connects; it can only be cleared (null)",
                )),
            ),
        };
        let fields = ConnectionFields {
            kind: self.kind.or(base.kind),
            host: merged(self.host, base.host),
            port: merged(self.port, base.port),
            serial: merged(self.serial, base.serial),
            access_code: merged(given(self.access_code), base.access_code),
            tls_fingerprint,
            ca_pem: merged(self.ca_pem, base.ca_pem),
            base_url: merged(self.base_url, base.base_url),
            api_key: merged(given(self.api_key), base.api_key),
            username: merged(self.username, base.username),
            password: merged(given(self.password), base.password),
        };
        (fields, refused)
    }
}

impl<S> ConnectionFields<S> {
    fn map_secrets<T>(self, f: impl Fn(S) -> T) -> ConnectionFields<T> {
        ConnectionFields {
            kind: self.kind,
            host: self.host,
            port: self.port,
            serial: self.serial,
            access_code: self.access_code.map(&f),
            tls_fingerprint: self.tls_fingerprint,
            ca_pem: self.ca_pem,
            base_url: self.base_url,
            api_key: self.api_key.map(&f),
            username: self.username,
            password: self.password.map(&f),
        }
    }
}

/// A partial edit of a printer: every field is optional, an absent field keeps its stored
/// value, `null` clears (`location`, `connection`).
///
/// ```
/// use printdesk_domain::{ConnectionPatch, Nullable, PrinterPatch};
/// // Move a Bambu Lab printer to a new address; its access code stays as stored.
/// let patch = PrinterPatch {
///     connection: Nullable::Set(ConnectionPatch {
///         host: Nullable::Set("192.168.1.60".into()),
///         ..ConnectionPatch::default()
///     }),
///     ..PrinterPatch::default()
/// };
/// assert!(!patch.is_empty());
/// ```
///
/// With the `openapi` feature this is also the document's `PrinterPatch` schema (the body of
/// `PATCH /printers/{id}`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
// Read by utoipa only: `additionalProperties: false`, since the adapter refuses other members.
#[cfg_attr(feature = "openapi", serde(deny_unknown_fields))]
#[cfg_attr(
    feature = "openapi",
    schema(
        description = "A printer edit (`PATCH /printers/{id}`): merge-patch, every member \
optional; any other\nmember (`id`, `created_at`, `status`, …) is refused (400).",
        example = json!({ "connection": { "host": "192.168.1.60" } })
    )
)]
pub struct PrinterPatch {
    /// New display name: trimmed, 1–100 characters after trimming. Not null.
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = String, required = false, min_length = 1, pattern = "^[^\\u0000]*$")
    )]
    pub name: Option<String>,
    /// New kind of printer. Not null.
    #[cfg_attr(feature = "openapi", schema(value_type = PrinterType, required = false))]
    pub printer_type: Option<String>,
    /// New location; `null` or blank clears it.
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = Option<String>, pattern = "^[^\\u0000]*$")
    )]
    pub location: Nullable<String>,
    /// New connection settings, merged setting by setting into the stored ones; `null` makes
    /// it a manual printer.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<ConnectionPatch>))]
    pub connection: Nullable<ConnectionPatch>,
    /// Whether printdesk watches the printer (`false` pauses monitoring and keeps the
    /// settings). Absent: `true` when a connection is added to a printer that had none,
    /// `false` when the connection is cleared, else unchanged. Not null.
    #[cfg_attr(feature = "openapi", schema(value_type = bool, required = false))]
    pub monitoring: Option<bool>,
}

/// Why a printer's new state was refused.
#[derive(Debug)]
pub(crate) enum Refusal {
    Invalid(ValidationErrors),
    Sealing(SealError),
}

impl PrinterPatch {
    /// Whether the patch names no field at all (`{}`).
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.printer_type.is_none()
            && self.location.is_keep()
            && self.connection.is_keep()
            && self.monitoring.is_none()
    }

    /// The printer as this patch leaves `current`: every rule checked at once, new secrets
    /// sealed with `sealer`; `None` when nothing changes.
    pub(crate) fn decide(
        self,
        current: &Printer,
        sealer: &dyn SecretSealer,
    ) -> Result<Option<Printer>, Refusal> {
        let had_connection = current.connection.is_some();
        let (connection, refused) = match self.connection {
            Nullable::Keep => (
                current
                    .connection
                    .clone()
                    .map(|c| c.into_fields().map_secrets(SecretSlot::Stored)),
                None,
            ),
            Nullable::Clear => (None, None),
            Nullable::Set(patch) => {
                let (fields, refused) = patch.apply_to(current.connection.as_ref());
                (Some(fields), refused)
            }
        };
        let monitoring = self.monitoring.unwrap_or(match connection {
            None => false,
            Some(_) if !had_connection => true,
            Some(_) => current.monitoring,
        });
        let draft = PrinterDraft {
            name: self
                .name
                .unwrap_or_else(|| current.name.as_str().to_owned()),
            printer_type: self
                .printer_type
                .unwrap_or_else(|| current.printer_type.as_str().to_owned()),
            location: self.location.apply(current.location.clone()),
            connection,
            monitoring,
            refused: refused.into_iter().collect(),
        };
        let printer = draft.validate(Ok(current.id.clone()), current.created_at, sealer)?;
        let printer = printer.with_status(Some(current.status.clone()));
        Ok((printer != *current).then_some(printer))
    }
}

impl NewPrinter {
    /// Checks every rule at once and builds the printer, sealing its secrets with `sealer`.
    pub(crate) fn decide(
        self,
        created_at: Timestamp,
        sealer: &dyn SecretSealer,
    ) -> Result<Printer, Refusal> {
        let id = match self.id {
            Some(raw) => PrinterId::parse(raw).map_err(|v| FieldViolation::new("id", v.message)),
            None => Ok(PrinterId::generate()),
        };
        let (connection, refused) = match self.connection {
            Some(patch) => {
                let (fields, refused) = patch.apply_to(None);
                (Some(fields), refused)
            }
            None => (None, None),
        };
        let draft = PrinterDraft {
            name: self.name,
            printer_type: self.printer_type,
            location: self.location,
            monitoring: self.monitoring.unwrap_or(connection.is_some()),
            connection,
            refused: refused.into_iter().collect(),
        };
        draft.validate(id, created_at, sealer)
    }
}

/// A printer as a create or an edit would leave it, not validated yet.
struct PrinterDraft {
    name: String,
    printer_type: String,
    location: Option<String>,
    connection: Option<ConnectionFields<SecretSlot>>,
    monitoring: bool,
    /// Violations found while the patch was laid over the stored printer.
    refused: Vec<FieldViolation>,
}

impl PrinterDraft {
    fn validate(
        self,
        id: Result<PrinterId, FieldViolation>,
        created_at: Timestamp,
        sealer: &dyn SecretSealer,
    ) -> Result<Printer, Refusal> {
        let mut violations = Vec::new();
        let id = id.map_err(|v| violations.push(v)).ok();
        let name = PrinterName::parse(self.name)
            .map_err(|v| violations.push(v))
            .ok();
        let printer_type = self
            .printer_type
            .parse::<PrinterType>()
            .map_err(|v| violations.push(v))
            .ok();
        let location = NewPrinter::location(self.location).map_err(|v| violations.push(v));
        let connection = match self.connection {
            None => None,
            Some(fields) => fields
                .validate(|field, slot| match slot {
                    SecretSlot::Stored(sealed) => Ok(CheckedSecret::Stored(sealed)),
                    SecretSlot::Given(text) => text.check(field).map(CheckedSecret::New),
                })
                .map_err(|e| violations.extend_from_slice(e.violations()))
                .ok(),
        };
        violations.extend(self.refused);
        let connection_given =
            connection.is_some() || violations.iter().any(|v| v.field.starts_with("connection"));
        if self.monitoring && !connection_given {
            violations.push(FieldViolation::new(
                "monitoring",
                "needs a connection to watch the printer through",
            ));
        }
        if let Some(errors) = ValidationErrors::from_violations(violations) {
            return Err(Refusal::Invalid(errors));
        }
        let (Some(id), Some(name), Some(printer_type), Ok(location)) =
            (id, name, printer_type, location)
        else {
            unreachable!("every refused field is a violation");
        };
        let connection = connection
            .map(|c| {
                c.try_map_secrets(|secret| match secret {
                    CheckedSecret::Stored(sealed) => Ok(sealed),
                    CheckedSecret::New(secret) => sealer.seal(&secret),
                })
            })
            .transpose()
            .map_err(Refusal::Sealing)?;
        let monitoring = self.monitoring && connection.is_some();
        Ok(Printer {
            id,
            name,
            printer_type,
            location,
            created_at,
            connection,
            monitoring,
            status: PrinterStatus::default(),
        })
    }
}
