//! Secrets a printer connection needs (access codes, API keys, passwords): the plain value,
//! which never leaves the process in a response or a log line, and the sealed value, which is
//! what gets stored.

use std::fmt;

use crate::validation::FieldViolation;

/// A secret in plain text, such as a Bambu Lab access code.
///
/// Its `Debug` and `Display` print `<redacted>`, and it implements no `Serialize`, so it
/// cannot end up in a log line or a response by accident. Only [`Secret::expose`] shows it,
/// for the one place that needs it: the connector talking to the printer.
///
/// ```
/// use printdesk_domain::Secret;
/// let code = Secret::parse("connection.access_code", "12345678").unwrap();
/// assert_eq!(format!("{code:?} {code}"), "Secret(<redacted>) <redacted>");
/// assert_eq!(code.expose(), "12345678");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Longest secret, in Unicode scalar values.
    pub const MAX_CHARS: usize = 512;

    /// Checks a secret given for `field`: not empty, at most [`Secret::MAX_CHARS`], no control
    /// characters. It is not trimmed: a secret is whatever the printer expects.
    pub fn parse(field: &str, raw: impl Into<String>) -> Result<Self, FieldViolation> {
        let raw = raw.into();
        if raw.is_empty() {
            Err(FieldViolation::new(field, "must not be empty"))
        } else if raw.chars().any(char::is_control) {
            Err(FieldViolation::new(
                field,
                "must not contain control characters",
            ))
        } else if raw.chars().count() > Self::MAX_CHARS {
            Err(FieldViolation::new(
                field,
                crate::fields::rules::too_long(Self::MAX_CHARS),
            ))
        } else {
            Ok(Self(raw))
        }
    }

    /// A secret an adapter got back from [`SecretSealer::open`]; no rule is checked again.
    pub fn from_opened(plain: String) -> Self {
        Self(plain)
    }

    /// The plain value. Call it only to hand the secret to the printer.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A secret as a client sent it, not checked yet (a patch holds these). Its `Debug` redacts
/// it like [`Secret`]'s; [`Secret::parse`] checks it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretText(String);

impl SecretText {
    /// Wraps what the client sent.
    pub fn new(raw: impl Into<String>) -> Self {
        Self(raw.into())
    }

    /// Checks it for `field`.
    pub fn check(self, field: &str) -> Result<Secret, FieldViolation> {
        Secret::parse(field, self.0)
    }
}

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretText(<redacted>)")
    }
}

/// A secret as a [`SecretSealer`] sealed it: opaque bytes that only the sealer's key opens.
/// This is what the store keeps; a copy of the database without the key reveals nothing.
///
/// Serialised (in a printer's `connection`) it is the word `"set"`, never its bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedSecret(Vec<u8>);

impl SealedSecret {
    /// Wraps bytes a sealer produced or a store read back.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The sealed bytes, to store.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealedSecret({} bytes)", self.0.len())
    }
}

impl serde::Serialize for SealedSecret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(SealedSecret::SHOWN_AS)
    }
}

impl SealedSecret {
    /// What responses show in place of a secret that is set.
    pub const SHOWN_AS: &'static str = "set";
}

/// Why a secret could not be sealed or opened. The message never contains the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// The sealed bytes do not open with this key: another key sealed them, or they are
    /// damaged.
    #[error("a stored secret does not open with this key (sealed with another key, or damaged)")]
    WrongKey,
    /// The sealer failed otherwise.
    #[error("sealing failed: {0}")]
    Failed(String),
}

/// The port that keeps secrets unreadable at rest: seals them before they are stored, opens
/// them for the connector that needs them.
///
/// Implementations MUST use authenticated encryption with a key kept outside the database,
/// MUST give different bytes for two seals of the same secret (a fresh nonce each time), and
/// MUST refuse with [`SealError::WrongKey`] bytes they did not seal.
pub trait SecretSealer: Send + Sync + fmt::Debug {
    /// Seals a secret for storage.
    fn seal(&self, secret: &Secret) -> Result<SealedSecret, SealError>;

    /// Opens a stored secret.
    fn open(&self, sealed: &SealedSecret) -> Result<Secret, SealError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_must_be_non_empty_printable_and_bounded() {
        let field = "connection.api_key";
        assert_eq!(
            Secret::parse(field, "").unwrap_err(),
            FieldViolation::new(field, "must not be empty")
        );
        assert_eq!(
            Secret::parse(field, "ab\ncd").unwrap_err().message,
            "must not contain control characters"
        );
        assert!(Secret::parse(field, "x".repeat(Secret::MAX_CHARS)).is_ok());
        assert_eq!(
            Secret::parse(field, "x".repeat(Secret::MAX_CHARS + 1))
                .unwrap_err()
                .message,
            "must be at most 512 characters"
        );
        // Not trimmed: spaces may be part of a password.
        assert_eq!(Secret::parse(field, " pw ").unwrap().expose(), " pw ");
    }

    #[test]
    fn neither_form_shows_the_value() {
        let secret = Secret::parse("f", "hunter2").unwrap();
        assert!(!format!("{secret:?}{secret}").contains("hunter2"));
        let sealed = SealedSecret::from_bytes(b"hunter2".to_vec());
        assert!(!format!("{sealed:?}").contains("hunter2"));
        assert_eq!(serde_json::to_string(&sealed).unwrap(), r#""set""#);
    }
}
