//! The ports of access control: where users, sessions, tokens and sign-in failures are kept
//! ([`AccessStore`]), and the cryptography they need ([`AccessCrypto`]). Each method's
//! documentation is its contract; the store's contract suite runs the same tests against the
//! in-memory store, SQLite and PostgreSQL.

use std::fmt::Debug;

use async_trait::async_trait;

use super::{
    credential::{
        ApiToken, BearerSecret, FailureCount, PasswordHash, SecretDigest, Session, ThrottleKey,
        TokenId,
    },
    edit::UserChanges,
    errors::{CreateTokenError, CreateUserError, CryptoError, DeleteUserError, UpdateUserError},
    user::{Password, User, UserId, Username},
};
use crate::{clock::Timestamp, errors::StoreError};

/// The count a failed sign-in leaves, given the stored one (`None`: no failure stored, or
/// forgotten). The store runs it inside the transaction that holds the key's row, so two
/// instances counting at once lose no failure.
pub type FailureUpdate = Box<dyn Fn(Option<FailureCount>) -> FailureCount + Send + Sync>;

/// Whether deleting this user may go ahead, given the user and how many admins there are
/// (the user included). Run by the store inside the deletion's transaction (again, if the
/// transaction is retried after a conflict).
pub type UserDeletion = Box<dyn Fn(&User, usize) -> Result<(), DeleteUserError> + Send + Sync>;

/// Whether changing this user may go ahead, given the user as stored and how many admins there
/// are (the user included); `Ok(true)` when it ends the user's other sessions. Run by the store
/// inside the change's transaction (again, if the transaction is retried after a conflict).
pub type UserUpdate = Box<dyn Fn(&User, usize) -> Result<bool, UpdateUserError> + Send + Sync>;

/// Users, sessions, API tokens and failed sign-ins, shared by every instance on one database
/// (so a session or a revocation made on one is seen by all).
#[async_trait]
pub trait AccessStore: Send + Sync + Debug {
    /// Stores a new user with its password hash.
    ///
    /// - MUST refuse a username that is taken with [`CreateUserError::Duplicate`], writing
    ///   nothing.
    /// - With `only_if_first`, MUST refuse with [`CreateUserError::NotFirst`] when any user
    ///   exists, atomically: of two concurrent first-user creations exactly one succeeds.
    async fn insert_user(
        &self,
        user: &User,
        password: &PasswordHash,
        only_if_first: bool,
    ) -> Result<(), CreateUserError>;

    /// The user with this username and its password hash, if there is one.
    async fn user_by_username(
        &self,
        username: &Username,
    ) -> Result<Option<(User, PasswordHash)>, StoreError>;

    /// Every user, by username.
    async fn list_users(&self) -> Result<Vec<User>, StoreError>;

    /// Whether any user exists.
    async fn any_user(&self) -> Result<bool, StoreError>;

    /// Deletes the user if `decide` allows it, with its sessions and tokens, in one
    /// transaction.
    ///
    /// - MUST answer [`DeleteUserError::NotFound`] for an unknown username, without calling
    ///   `decide`.
    /// - MUST call `decide` with the user and the number of admins (the user included) as
    ///   they are inside the transaction, and delete nothing when it refuses.
    /// - After a deletion, MUST NOT return the user's sessions or tokens any more.
    async fn delete_user(
        &self,
        username: &Username,
        decide: UserDeletion,
    ) -> Result<User, DeleteUserError>;

    /// Changes a user if `decide` allows it, in one transaction: its display name, role and
    /// password hash as far as `changes` gives them; when `decide` answers `true`, also ends
    /// every session of the user except the one with digest `keep` (the editor's own).
    /// Returns the user as changed.
    ///
    /// - MUST answer [`UpdateUserError::NotFound`] for an unknown username, without calling
    ///   `decide`.
    /// - MUST call `decide` with the user and the number of admins (the user included) as
    ///   they are inside the transaction, and change nothing when it refuses.
    /// - After a change, [`AccessStore::session`] and [`AccessStore::token`] MUST return the
    ///   changed user, and [`AccessStore::user_by_username`] the new password hash.
    async fn update_user(
        &self,
        username: &Username,
        changes: &UserChanges,
        keep: Option<SecretDigest>,
        decide: UserUpdate,
    ) -> Result<User, UpdateUserError>;

    /// Stores a new session under its secret's digest.
    async fn insert_session(
        &self,
        digest: &SecretDigest,
        session: &Session,
    ) -> Result<(), StoreError>;

    /// The session with this digest and its user, if both exist.
    ///
    /// - MUST return the user as stored now (a changed role counts at once).
    async fn session(&self, digest: &SecretDigest) -> Result<Option<(Session, User)>, StoreError>;

    /// Sets a session's last use (nothing when it does not exist).
    async fn touch_session(&self, digest: &SecretDigest, at: Timestamp) -> Result<(), StoreError>;

    /// Ends a session (nothing when it does not exist).
    async fn delete_session(&self, digest: &SecretDigest) -> Result<(), StoreError>;

    /// Ends every session of a user; returns how many there were.
    async fn delete_sessions_of(&self, user: &UserId) -> Result<usize, StoreError>;

    /// Stores a new API token under its secret's digest.
    ///
    /// - MUST refuse a name that another token has with [`CreateTokenError::Duplicate`].
    async fn insert_token(
        &self,
        digest: &SecretDigest,
        token: &ApiToken,
    ) -> Result<(), CreateTokenError>;

    /// The token with this digest and its user as stored now, if both exist.
    async fn token(&self, digest: &SecretDigest) -> Result<Option<(ApiToken, User)>, StoreError>;

    /// Every token (never a secret), by name.
    async fn list_tokens(&self) -> Result<Vec<ApiToken>, StoreError>;

    /// Revokes a token; whether it existed. After it, [`AccessStore::token`] MUST NOT find it.
    async fn delete_token(&self, id: &TokenId) -> Result<bool, StoreError>;

    /// The failed sign-ins stored for each key, in the order of `keys`.
    async fn sign_in_failures(
        &self,
        keys: &[ThrottleKey],
    ) -> Result<Vec<Option<FailureCount>>, StoreError>;

    /// Counts a failed sign-in against each key: stores `update(stored count)`.
    ///
    /// - MUST apply `update` to each key's count inside one transaction that holds the
    ///   key's row, so concurrent failures (on any instance) are all counted.
    async fn record_sign_in_failure(
        &self,
        keys: &[ThrottleKey],
        update: FailureUpdate,
    ) -> Result<(), StoreError>;

    /// Forgets the failures counted against `key`.
    async fn clear_sign_in_failures(&self, key: &ThrottleKey) -> Result<(), StoreError>;

    /// Deletes what can no longer count: sessions last used before `idle_before` or created
    /// before `created_before`, and failure counts whose last failure is before
    /// `failures_before`. Returns how many sessions went.
    ///
    /// - MUST keep every session and count that is newer on both counts.
    async fn purge(&self, cutoffs: Purge) -> Result<usize, StoreError>;
}

/// What [`AccessStore::purge`] deletes: everything older than these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Purge {
    /// Sessions last used before this.
    pub idle_before: Timestamp,
    /// Sessions created before this.
    pub created_before: Timestamp,
    /// Failure counts whose last failure is before this.
    pub failures_before: Timestamp,
}

/// The cryptography of access control: password hashing, random secrets, their digests.
#[async_trait]
pub trait AccessCrypto: Send + Sync + Debug {
    /// Hashes a new password (with a fresh salt).
    async fn hash_password(&self, password: &Password) -> Result<PasswordHash, CryptoError>;

    /// Whether `password` is the one `stored` was made from.
    ///
    /// - With `stored` `None` (no such user), MUST do the same work as for a stored hash made
    ///   with the current parameters, and return `false`: an unknown user takes as long as a
    ///   wrong password.
    /// - MUST return `false` for a hash it cannot read.
    async fn verify_password(
        &self,
        password: &Password,
        stored: Option<&PasswordHash>,
    ) -> Result<bool, CryptoError>;

    /// A new random secret of at least 256 bits, with `prefix` in front (e.g. `pd_` for API
    /// tokens), made of characters valid in a cookie, a header and a WebSocket subprotocol.
    fn new_secret(&self, prefix: &str) -> Result<BearerSecret, CryptoError>;

    /// The digest a secret is stored and looked up by: equal secrets, equal digests, and
    /// nothing of the secret to be learned from it.
    fn digest(&self, secret: &str) -> SecretDigest;
}
