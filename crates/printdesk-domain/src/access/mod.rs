//! Access control: users with roles, their sign-in sessions, API tokens, and the permission
//! table every request is checked against.
//!
//! - A [`User`] has a [`Username`], a [`DisplayName`] (what the history records) and a
//!   [`Role`] (`viewer` < `operator` < `admin`).
//! - [`PERMISSIONS`] says which role each [`Operation`] needs; the HTTP adapter maps each
//!   route to an operation and asks [`Principal::may`].
//! - Sessions and tokens are random secrets handed out once and stored only as their
//!   [`SecretDigest`]; sessions end after [`SessionPolicy`]'s idle or absolute lifetime.
//! - Failed sign-ins are counted per username and per client address in the store (so every
//!   instance sees them) and slowed down by [`ThrottlePolicy`]; an unknown user costs the same
//!   password check as a wrong password.
//! - Users are changed by an admin ([`UserEdit`]) or by themselves ([`AccountEdit`], a new
//!   password only with the current one); [`UserChanges::check`] keeps one admin at least and
//!   says when the change ends the user's other sessions.
//! - Password hashing and randomness are the [`AccessCrypto`] port's (Argon2id in
//!   `printdesk-secrets`): the domain decides, and does no cryptography itself.

mod credential;
mod edit;
mod errors;
#[cfg(feature = "testing")]
mod in_memory;
mod ports;
mod role;
mod service;
mod user;

pub use credential::{
    ApiToken, BearerSecret, FailureCount, PasswordHash, SecretDigest, Session, SessionPolicy,
    SessionState, ThrottleKey, ThrottlePolicy, TokenId, TokenName,
};
pub use edit::{AccountEdit, CheckedEdit, UserChanges, UserEdit};
pub use errors::{
    CreateTokenError, CreateUserError, CryptoError, DeleteUserError, SignInError, UpdateUserError,
};
#[cfg(feature = "testing")]
pub use in_memory::{InMemoryAccessStore, TestCrypto};
pub use ports::{AccessCrypto, AccessStore, FailureUpdate, Purge, UserDeletion, UserUpdate};
pub use role::{Forbidden, Operation, PERMISSIONS, Role, UnknownRole};
pub use service::{AccessService, Principal, SignedIn, TOKEN_PREFIX, Via};
pub use user::{DisplayName, Password, User, UserDraft, UserId, Username};
