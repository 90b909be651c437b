//! Changing a user: what an admin may change (`PATCH /users/{username}`), what users may change
//! of their own account, and the rules both keep — never fewer than one admin, and a new
//! password or role ends the user's other sessions.

use serde::Deserialize;

use super::{
    credential::PasswordHash,
    errors::UpdateUserError,
    role::Role,
    user::{DisplayName, Password, User},
};
use crate::validation::{FieldViolation, ValidationErrors};

/// An admin's change to a user, as a request gives it: unchecked; `None` keeps the field.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct UserEdit {
    /// See [`DisplayName`].
    pub display_name: Option<String>,
    /// See [`Role`].
    pub role: Option<Role>,
    /// A new password (see [`Password`]).
    pub password: Option<String>,
}

/// A user's change to their own account: no role, and a new password only with the current
/// one (a page left signed in on a shared computer must not let anyone lock its owner out).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AccountEdit {
    /// See [`DisplayName`].
    pub display_name: Option<String>,
    /// A new password (see [`Password`]).
    pub password: Option<String>,
    /// The password now; required with `password`.
    pub current_password: Option<String>,
}

/// A checked change: what [`UserEdit`] and [`AccountEdit`] become.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedEdit {
    /// The new display name, if it changes.
    pub display_name: Option<DisplayName>,
    /// The new role, if it changes.
    pub role: Option<Role>,
    /// The new password, if it changes.
    pub password: Option<Password>,
}

impl UserEdit {
    /// Checks every field given, reporting every broken rule at once. An edit of no field is
    /// valid and changes nothing (as a `PATCH` with `{}`).
    pub fn validate(self) -> Result<CheckedEdit, ValidationErrors> {
        let display_name = self.display_name.as_deref().map(DisplayName::parse);
        let password = self.password.map(Password::new);
        let mut violations = Vec::new();
        let display_name = display_name
            .transpose()
            .map_err(|v| violations.push(v))
            .ok()
            .flatten();
        let password = password
            .transpose()
            .map_err(|v| violations.push(v))
            .ok()
            .flatten();
        match ValidationErrors::from_violations(violations) {
            Some(errors) => Err(errors),
            None => Ok(CheckedEdit {
                display_name,
                role: self.role,
                password,
            }),
        }
    }
}

impl AccountEdit {
    /// Checks every field given, reporting every broken rule at once: a new password needs
    /// `current_password`. Returns the change and the
    /// current password to verify (with a new password only).
    pub fn validate(self) -> Result<(CheckedEdit, Option<Password>), ValidationErrors> {
        let edit = UserEdit {
            display_name: self.display_name,
            role: None,
            password: self.password,
        };
        let wants_password = edit.password.is_some();
        let checked = edit.validate();
        let mut violations = match &checked {
            Ok(_) => Vec::new(),
            Err(errors) => errors.violations().to_vec(),
        };
        let current = match (wants_password, self.current_password) {
            (true, Some(current)) => Some(Password::presented(&current)),
            (true, None) => {
                violations.push(FieldViolation::new(
                    "current_password",
                    "is required to change the password",
                ));
                None
            }
            (false, _) => None,
        };
        match ValidationErrors::from_violations(violations) {
            Some(errors) => Err(errors),
            None => Ok((checked.expect("no violation"), current)),
        }
    }
}

/// A checked change with the new password hashed: what the store writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserChanges {
    /// The new display name, if it changes.
    pub display_name: Option<DisplayName>,
    /// The new role, if it changes.
    pub role: Option<Role>,
    /// The new password's hash, if it changes.
    pub password: Option<PasswordHash>,
}

impl UserChanges {
    /// Whether the change may go ahead on `user` as stored now, with `admins` admins (the user
    /// included); `Ok(true)` when it ends the user's other sessions.
    ///
    /// - An admin who is the only one keeps the admin role ([`UpdateUserError::LastAdmin`]):
    ///   nobody could manage users any more.
    /// - A new password ends every other session (one who learnt the old password is signed
    ///   out); so does a different role (a page signed in with the old role shows and offers
    ///   what the new one may not do, and is better asked to sign in afresh). A display name
    ///   ends nothing.
    pub fn check(&self, user: &User, admins: usize) -> Result<bool, UpdateUserError> {
        let role_changes = self.role.is_some_and(|role| role != user.role);
        if role_changes && user.role == Role::Admin && admins <= 1 {
            return Err(UpdateUserError::LastAdmin);
        }
        Ok(role_changes || self.password.is_some())
    }

    /// `user` with the changes applied.
    pub fn apply(&self, user: &User) -> User {
        User {
            display_name: self
                .display_name
                .clone()
                .unwrap_or_else(|| user.display_name.clone()),
            role: self.role.unwrap_or(user.role),
            ..user.clone()
        }
    }
}
