//! Sessions, API tokens, and the sign-in slow-down: the values and the pure decisions about
//! them (expiry, throttling), tested without a store.

use std::{fmt, time::Duration};

use serde::Serialize;
use uuid::Uuid;

use super::{
    role::Role,
    user::{UserId, Username},
};
use crate::{clock::Timestamp, validation::FieldViolation};

/// The digest of a bearer secret (a session id or an API token): what the store keeps and
/// looks secrets up by, never the secret itself. 32 bytes (SHA-256); `Debug` shows nothing.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SecretDigest([u8; 32]);

impl SecretDigest {
    /// Wraps a digest.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// 64 lower-case hex digits, as the store keeps it.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Reads 64 hex digits.
    pub fn from_hex(hex: &str) -> Option<Self> {
        if hex.len() != 64 || !hex.is_ascii() {
            return None;
        }
        let mut bytes = [0u8; 32];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(Self(bytes))
    }
}

impl fmt::Debug for SecretDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretDigest(..)")
    }
}

/// A bearer secret just made: handed to the client once (a session cookie, a token shown at
/// creation), never stored. `Debug` redacts it.
#[derive(Clone, PartialEq, Eq)]
pub struct BearerSecret(String);

impl BearerSecret {
    /// Wraps a generated secret.
    pub fn new(secret: String) -> Self {
        Self(secret)
    }

    /// The secret, to hand to the client.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for BearerSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BearerSecret(..)")
    }
}

/// A stored password hash, in the hasher's own self-describing format (a PHC string for
/// Argon2id: algorithm, parameters and salt included). `Debug` shows nothing of it.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a hash the hasher made or the store read.
    pub fn new(hash: String) -> Self {
        Self(hash)
    }

    /// The stored form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(..)")
    }
}

/// An API token's id (a UUID): what `DELETE /tokens/{id}` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct TokenId(Uuid);

impl TokenId {
    /// A new random id.
    pub fn new() -> Self {
        Self(Uuid::new_v4())
    }

    /// Reads an id.
    pub fn parse(text: &str) -> Result<Self, uuid::Error> {
        Uuid::parse_str(text).map(Self)
    }
}

impl Default for TokenId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for TokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A token's name: what the history records as the actor of every change made with it.
/// 1–64 characters, each an ASCII letter or digit or one of `.`, `_`, `-`, `@` (the same rule
/// as the names in a tokens file).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct TokenName(String);

impl TokenName {
    /// Longest name.
    pub const MAX_CHARS: usize = 64;

    /// What a name must be, as a sentence that follows the field's name.
    pub const RULE: &'static str =
        "must be 1-64 characters, each a letter a-z or A-Z, a digit, '.', '_', '-' or '@'";

    /// Checks a name.
    pub fn parse(name: &str) -> Result<Self, FieldViolation> {
        let valid = !name.is_empty()
            && name.chars().count() <= Self::MAX_CHARS
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
        if valid {
            Ok(Self(name.to_owned()))
        } else {
            Err(FieldViolation::new("name", Self::RULE))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TokenName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An API token as stored and listed: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiToken {
    /// What `DELETE /tokens/{id}` names.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = "uuid"))]
    pub id: TokenId,
    /// The actor of its changes.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "front-desk"))]
    pub name: TokenName,
    /// The role it acts with (never above its user's).
    pub role: Role,
    /// The user it belongs to.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "anna"))]
    pub user: Username,
    /// When it was created.
    #[serde(with = "crate::timestamp")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    /// The owner's id (not part of the API).
    #[serde(skip)]
    #[cfg_attr(feature = "openapi", schema(ignore))]
    pub user_id: UserId,
}

/// A signed-in browser's session as stored (keyed by its secret's [`SecretDigest`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Whose.
    pub user_id: UserId,
    /// When the user signed in.
    pub created_at: Timestamp,
    /// When it was last used (to within [`SessionPolicy::touch_after`]).
    pub last_seen_at: Timestamp,
}

/// How long sessions last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// A session unused this long has ended.
    pub idle: Duration,
    /// A session this old has ended, however much it is used.
    pub absolute: Duration,
    /// A session's last use is written again only when the stored one is older than this:
    /// one write per session per minute, not one per request.
    pub touch_after: Duration,
}

impl Default for SessionPolicy {
    /// 12 hours idle (a shift), 7 days at most, last use written once a minute.
    fn default() -> Self {
        Self {
            idle: Duration::from_secs(12 * 3600),
            absolute: Duration::from_secs(7 * 24 * 3600),
            touch_after: Duration::from_secs(60),
        }
    }
}

/// What a session is at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    /// In use; `touch` tells whether to write its last use now.
    Live {
        /// Write `last_seen_at = now`.
        touch: bool,
    },
    /// Ended: unused too long, or too old.
    Expired,
}

impl SessionPolicy {
    /// Whether `session` is still live at `now`.
    pub fn state(&self, session: &Session, now: Timestamp) -> SessionState {
        let idle = now - session.last_seen_at;
        let age = now - session.created_at;
        if idle >= self.idle || age >= self.absolute {
            SessionState::Expired
        } else {
            SessionState::Live {
                touch: idle >= self.touch_after,
            }
        }
    }
}

/// What failed sign-ins are counted against: the username tried (whether or not such a user
/// exists, so the slow-down tells nothing about which users exist) and the client's address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ThrottleKey {
    /// A username, as tried (lower case).
    User(String),
    /// A client address.
    Address(String),
}

impl ThrottleKey {
    /// The key for a username as typed.
    pub fn user(username: &str) -> Self {
        Self::User(username.to_ascii_lowercase())
    }

    /// The stored form: `user:NAME` or `addr:ADDRESS`.
    pub fn as_stored(&self) -> String {
        match self {
            Self::User(name) => format!("user:{name}"),
            Self::Address(address) => format!("addr:{address}"),
        }
    }
}

/// Failed sign-ins counted against one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureCount {
    /// How many in a row (since the window last started afresh).
    pub failures: u32,
    /// When the last one was.
    pub last_failure: Timestamp,
}

/// How failed sign-ins are slowed down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures against one username before attempts are slowed.
    pub free_per_user: u32,
    /// Failures from one address before attempts are slowed (more: several people may share
    /// one address behind a router).
    pub free_per_address: u32,
    /// The first wait; each further failure doubles it.
    pub first_delay: Duration,
    /// The longest wait.
    pub max_delay: Duration,
    /// A key with no failure for this long starts afresh.
    pub window: Duration,
}

impl Default for ThrottlePolicy {
    /// 5 free failures per username, 20 per address; then 1 s, 2 s, 4 s, … up to 5 minutes;
    /// forgotten after 15 minutes without a failure.
    fn default() -> Self {
        Self {
            free_per_user: 5,
            free_per_address: 20,
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(300),
            window: Duration::from_secs(900),
        }
    }
}

impl ThrottlePolicy {
    /// How long an attempt against `key` must still wait at `now`, given its failures;
    /// `None`: it may go ahead.
    pub fn wait(
        &self,
        key: &ThrottleKey,
        count: Option<FailureCount>,
        now: Timestamp,
    ) -> Option<Duration> {
        let count = count?;
        let since = now - count.last_failure;
        if since >= self.window {
            return None;
        }
        let free = match key {
            ThrottleKey::User(_) => self.free_per_user,
            ThrottleKey::Address(_) => self.free_per_address,
        };
        let over = count.failures.checked_sub(free)?;
        let delay = self
            .first_delay
            .checked_mul(2u32.saturating_pow(over.min(31)))
            .unwrap_or(self.max_delay)
            .min(self.max_delay);
        let since = since.try_into().unwrap_or(Duration::ZERO);
        delay.checked_sub(since).filter(|d| !d.is_zero())
    }

    /// The count after one more failure at `now`: the window starts afresh when the last
    /// failure is older than it.
    pub fn after_failure(&self, count: Option<FailureCount>, now: Timestamp) -> FailureCount {
        let failures = match count {
            Some(c) if now - c.last_failure < self.window => c.failures.saturating_add(1),
            _ => 1,
        };
        FailureCount {
            failures,
            last_failure: now,
        }
    }
}
