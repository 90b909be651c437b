//! One error enum per access operation.

use std::time::Duration;

use super::{role::Role, user::Username};
use crate::{errors::StoreError, validation::ValidationErrors};

/// The cryptography failed (no randomness; a hasher that cannot run).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cryptography failed: {0}")]
pub struct CryptoError(pub String);

/// Why a user could not be created.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreateUserError {
    /// A field breaks its rule.
    #[error("{0}")]
    Invalid(ValidationErrors),
    /// The username is taken.
    #[error("a user named '{0}' exists already")]
    Duplicate(Username),
    /// The first-run creation was asked for, but a user exists already.
    #[error("the first user exists already")]
    NotFirst,
    /// Hashing the password failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a user could not be deleted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeleteUserError {
    /// No user has that username.
    #[error("no user has that username")]
    NotFound,
    /// It is the last admin: nobody could manage users any more.
    #[error("the last admin cannot be deleted")]
    LastAdmin,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a sign-in was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignInError {
    /// Unknown user or wrong password: the same answer for both.
    #[error("the username or the password is wrong")]
    WrongCredentials,
    /// Too many failures against this username or from this address: wait this long.
    #[error("too many failed sign-ins; try again in {} s", .0.as_secs().max(1))]
    Throttled(Duration),
    /// Making the session failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a token could not be created.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreateTokenError {
    /// A field breaks its rule.
    #[error("{0}")]
    Invalid(ValidationErrors),
    /// Another token has that name.
    #[error("a token named '{0}' exists already")]
    Duplicate(String),
    /// The role asked for is above the creator's.
    #[error("a token cannot have a role above its user's ({0})")]
    RoleTooHigh(Role),
    /// Only a signed-in user (or a token of one) can own a token.
    #[error("only a user can own a token")]
    NoUser,
    /// Making the secret failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a user (or one's own account) could not be changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpdateUserError {
    /// A field breaks its rule.
    #[error("{0}")]
    Invalid(ValidationErrors),
    /// No user has that username.
    #[error("no user has that username")]
    NotFound,
    /// The change would take the admin role from the last admin.
    #[error("the last admin must stay an admin")]
    LastAdmin,
    /// The current password given with a new one is wrong.
    #[error("the current password is wrong")]
    WrongPassword,
    /// Too many wrong passwords for this user: wait this long.
    #[error("too many wrong passwords; try again in {} s", .0.as_secs().max(1))]
    Throttled(Duration),
    /// Only a signed-in user has an account to change (not a token, not an open server).
    #[error("only a signed-in user can change their account")]
    NotSignedIn,
    /// Hashing the password failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
