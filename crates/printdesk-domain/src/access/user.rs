//! Users and the values they are made of.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::role::Role;
use crate::{
    clock::Timestamp,
    validation::{FieldViolation, ValidationErrors},
};

/// A user's stable id (a UUID), which sessions and tokens refer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(Uuid);

impl UserId {
    /// A new random id.
    pub fn new() -> Self {
        Self(Uuid::new_v4())
    }

    /// Reads a stored id.
    pub fn parse(text: &str) -> Result<Self, uuid::Error> {
        Uuid::parse_str(text).map(Self)
    }
}

impl Default for UserId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What a person signs in with: 1–64 characters, each an ASCII letter or digit or one of
/// `.`, `_`, `-`, `@`, kept in lower case (so `Anna` and `anna` are one user).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    /// Longest username.
    pub const MAX_CHARS: usize = 64;

    /// Checks a username and lower-cases it.
    pub fn parse(raw: &str) -> Result<Self, FieldViolation> {
        let violation = |message: &str| FieldViolation::new("username", message);
        if raw.is_empty() {
            return Err(violation("must not be empty"));
        }
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(violation("must be at most 64 characters"));
        }
        if !raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
        {
            return Err(violation(
                "may contain only letters a-z, digits and '.', '_', '-', '@'",
            ));
        }
        Ok(Self(raw.to_ascii_lowercase()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The name the history shows for a user ("Anna Berg"): trimmed, 1–100 characters, no
/// control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct DisplayName(String);

impl DisplayName {
    /// Longest display name.
    pub const MAX_CHARS: usize = 100;

    /// Trims and checks a display name.
    pub fn parse(raw: &str) -> Result<Self, FieldViolation> {
        let violation = |message: String| FieldViolation::new("display_name", message);
        let name = raw.trim();
        if name.is_empty() {
            return Err(violation("must not be empty".into()));
        }
        if name.chars().any(char::is_control) {
            return Err(violation("must not contain control characters".into()));
        }
        if name.chars().count() > Self::MAX_CHARS {
            return Err(violation(crate::fields::rules::too_long(Self::MAX_CHARS)));
        }
        Ok(Self(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A password as typed: 8–1,024 characters. Never shown: `Debug` and `Display` redact it, and
/// it is neither serialisable nor stored (only its hash is, see
/// [`PasswordHash`](super::PasswordHash)).
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Shortest password.
    pub const MIN_CHARS: usize = 8;
    /// Longest password (hashing a megabyte on every sign-in attempt would be a cheap attack).
    pub const MAX_CHARS: usize = 1024;

    /// Checks a new password's length.
    pub fn new(raw: impl Into<String>) -> Result<Self, FieldViolation> {
        let raw = raw.into();
        let chars = raw.chars().count();
        if chars < Self::MIN_CHARS {
            return Err(FieldViolation::new(
                "password",
                format!("must be at least {} characters", Self::MIN_CHARS),
            ));
        }
        if chars > Self::MAX_CHARS {
            return Err(FieldViolation::new(
                "password",
                crate::fields::rules::too_long(Self::MAX_CHARS),
            ));
        }
        Ok(Self(raw))
    }

    /// A password presented at sign-in, unchecked: a wrong one is simply wrong, however long
    /// (cut at [`Password::MAX_CHARS`], so a huge one costs no more to hash).
    pub fn presented(raw: &str) -> Self {
        Self(raw.chars().take(Self::MAX_CHARS).collect())
    }

    /// The characters, for the hasher only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(..)")
    }
}

/// A person who signs in: who they are and what they may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    /// What they sign in with (lower case).
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "anna"))]
    pub username: Username,
    /// What the history shows.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "Anna Berg"))]
    pub display_name: DisplayName,
    /// What they may do.
    pub role: Role,
    /// When the user was created.
    #[serde(with = "crate::timestamp")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    /// The stable id sessions and tokens refer to (not part of the API).
    #[serde(skip)]
    #[cfg_attr(feature = "openapi", schema(ignore))]
    pub id: UserId,
}

/// A user to create, as a request or a command line gives it: unchecked.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct UserDraft {
    /// See [`Username`].
    pub username: String,
    /// See [`DisplayName`]; empty: the username.
    #[serde(default)]
    pub display_name: Option<String>,
    /// See [`Role`].
    pub role: Role,
    /// See [`Password`].
    pub password: String,
}

impl UserDraft {
    /// Checks every field, reporting every broken rule at once.
    pub fn validate(self) -> Result<(Username, DisplayName, Role, Password), ValidationErrors> {
        let username = Username::parse(&self.username);
        let display_name = match self.display_name.as_deref().map(str::trim) {
            None | Some("") => DisplayName::parse(&self.username),
            Some(name) => DisplayName::parse(name),
        };
        let password = Password::new(self.password);
        match (username, display_name, password) {
            (Ok(u), Ok(d), Ok(p)) => Ok((u, d, self.role, p)),
            (u, d, p) => {
                let violations = [u.err(), d.err(), p.err()].into_iter().flatten().collect();
                Err(ValidationErrors::from_violations(violations)
                    .expect("at least one field failed"))
            }
        }
    }
}
