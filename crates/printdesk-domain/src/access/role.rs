//! Roles and what each operation needs: the one permission table.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What a user (or a token) may do. Ordered: each role may do everything the roles below it
/// may, so "needs `Operator`" means `role >= Role::Operator`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads jobs, printers, history and exports.
    #[default]
    Viewer,
    /// Also creates, edits, moves and deletes jobs.
    Operator,
    /// Also manages printers, users and tokens.
    Admin,
}

impl Role {
    /// Every role, lowest first.
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Operator, Role::Admin];

    /// The wire and storage name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Operator => "operator",
            Self::Admin => "admin",
        }
    }

    /// The role of a wire or storage name.
    pub fn parse(name: &str) -> Result<Self, UnknownRole> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == name)
            .ok_or(UnknownRole)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not `viewer`, `operator` or `admin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("must be one of viewer, operator, admin")]
pub struct UnknownRole;

/// Everything the API lets a caller do, as far as permissions go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// List, read, export jobs; read their history; follow the live events.
    ReadJobs,
    /// Record a job.
    CreateJobs,
    /// Edit a job, one or in bulk.
    EditJobs,
    /// Move a job through the status workflow.
    MoveJobs,
    /// Delete a job.
    DeleteJobs,
    /// List and read printers and their status.
    ReadPrinters,
    /// Register, change and delete printers and their connections.
    ManagePrinters,
    /// List, create and delete users; end their sessions.
    ManageUsers,
    /// List, create and revoke API tokens.
    ManageTokens,
}

/// The permission table: the lowest role each operation needs. The HTTP adapter looks every
/// route's operation up here; nothing else decides who may do what.
pub const PERMISSIONS: [(Operation, Role); 9] = [
    (Operation::ReadJobs, Role::Viewer),
    (Operation::ReadPrinters, Role::Viewer),
    (Operation::CreateJobs, Role::Operator),
    (Operation::EditJobs, Role::Operator),
    (Operation::MoveJobs, Role::Operator),
    (Operation::DeleteJobs, Role::Operator),
    (Operation::ManagePrinters, Role::Admin),
    (Operation::ManageUsers, Role::Admin),
    (Operation::ManageTokens, Role::Admin),
];

impl Operation {
    /// The lowest role that may do this, from [`PERMISSIONS`].
    pub fn required_role(self) -> Role {
        PERMISSIONS
            .iter()
            .find(|(op, _)| *op == self)
            .map(|(_, role)| *role)
            // Every operation has a row (a test checks it); none is the strictest answer.
            .unwrap_or(Role::Admin)
    }

    /// Whether `role` may do this; else the refusal, naming the role needed.
    pub fn check(self, role: Role) -> Result<(), Forbidden> {
        let needed = self.required_role();
        if role >= needed {
            Ok(())
        } else {
            Err(Forbidden {
                operation: self,
                needed,
                had: role,
            })
        }
    }
}

/// A caller whose role is too low for what it asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("this needs the {needed} role; you have {had}")]
pub struct Forbidden {
    /// What was asked.
    pub operation: Operation,
    /// The lowest role that may do it.
    pub needed: Role,
    /// The caller's role.
    pub had: Role,
}
