//! Named database constraints and the domain errors their violations mean, mapped in one
//! place (the pattern of realworld-axum-sqlx's `on_constraint`): a write says which
//! constraint may refuse it and what that refusal is in the domain's words.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use printdesk_domain::StoreError;

use crate::store::TxError;

/// A constraint of the schema that a client's input can violate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Constraint {
    /// `jobs.printer_id REFERENCES printers (id)`: a job names a printer that is gone.
    JobPrinter,
    /// `printers.id PRIMARY KEY`: a printer id that is taken.
    PrinterId,
    /// `job_prints_printer_job_id`: a second job for a print the printer named itself.
    JobPrint,
    /// `users_username_key`: a username that is taken.
    Username,
    /// `api_tokens_name_key`: a token name that is taken.
    TokenName,
}

impl Constraint {
    fn kind(self) -> DatabaseErrorKind {
        match self {
            Self::JobPrinter => DatabaseErrorKind::ForeignKeyViolation,
            Self::PrinterId | Self::JobPrint | Self::Username | Self::TokenName => {
                DatabaseErrorKind::UniqueViolation
            }
        }
    }

    /// The name PostgreSQL gives it (the migrations leave the default names).
    fn postgres_name(self) -> &'static str {
        match self {
            Self::JobPrinter => "jobs_printer_id_fkey",
            Self::PrinterId => "printers_pkey",
            Self::JobPrint => "job_prints_printer_job_id",
            Self::Username => "users_username_key",
            Self::TokenName => "api_tokens_name_key",
        }
    }

    /// What SQLite says, which names no constraint: a foreign key failure does not say which
    /// key (`jobs` has only this one), a unique one names the column.
    fn sqlite_message(self) -> &'static str {
        match self {
            Self::JobPrinter => "FOREIGN KEY constraint failed",
            Self::PrinterId => "UNIQUE constraint failed: printers.id",
            Self::JobPrint => "UNIQUE constraint failed: job_prints.printer_id",
            Self::Username => "UNIQUE constraint failed: users.username",
            Self::TokenName => "UNIQUE constraint failed: api_tokens.name",
        }
    }

    /// Whether `error` is a violation of this constraint.
    pub(crate) fn violated_by(self, error: &DieselError) -> bool {
        match error {
            DieselError::DatabaseError(kind, info) if *kind == self.kind() => {
                match info.constraint_name() {
                    Some(name) => name == self.postgres_name(),
                    None => info.message().contains(self.sqlite_message()),
                }
            }
            _ => false,
        }
    }
}

/// [`Constraint`] mapping for the results of writes.
pub(crate) trait OnConstraint<T> {
    /// A violation of `constraint` becomes the domain error `refusal` builds; every other
    /// failure stays what it was.
    fn on_constraint<E: From<StoreError>>(
        self,
        constraint: Constraint,
        refusal: impl FnOnce() -> E,
    ) -> Result<T, TxError<E>>;
}

impl<T> OnConstraint<T> for Result<T, DieselError> {
    fn on_constraint<E: From<StoreError>>(
        self,
        constraint: Constraint,
        refusal: impl FnOnce() -> E,
    ) -> Result<T, TxError<E>> {
        self.map_err(|e| {
            if constraint.violated_by(&e) {
                TxError::Domain(refusal())
            } else {
                TxError::Diesel(e)
            }
        })
    }
}

impl<T> OnConstraint<T> for Result<T, TxError<StoreError>> {
    fn on_constraint<E: From<StoreError>>(
        self,
        constraint: Constraint,
        refusal: impl FnOnce() -> E,
    ) -> Result<T, TxError<E>> {
        match self {
            Ok(value) => Ok(value),
            Err(TxError::Diesel(e)) => Err(e).on_constraint(constraint, refusal),
            Err(TxError::Domain(e)) => Err(TxError::Domain(E::from(e))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db_error(kind: DatabaseErrorKind, message: &str) -> DieselError {
        DieselError::DatabaseError(kind, Box::new(message.to_owned()))
    }

    #[test]
    fn sqlite_violations_are_recognised_by_kind_and_message() {
        let fk = db_error(
            DatabaseErrorKind::ForeignKeyViolation,
            "FOREIGN KEY constraint failed",
        );
        assert!(Constraint::JobPrinter.violated_by(&fk));
        assert!(!Constraint::PrinterId.violated_by(&fk));
        let unique = db_error(
            DatabaseErrorKind::UniqueViolation,
            "UNIQUE constraint failed: printers.id",
        );
        assert!(Constraint::PrinterId.violated_by(&unique));
        let other_unique = db_error(
            DatabaseErrorKind::UniqueViolation,
            "UNIQUE constraint failed: jobs.id",
        );
        assert!(!Constraint::PrinterId.violated_by(&other_unique));
        assert!(!Constraint::JobPrinter.violated_by(&DieselError::NotFound));
    }

    #[test]
    fn only_the_named_constraint_becomes_the_refusal() {
        let fk: Result<(), DieselError> = Err(db_error(
            DatabaseErrorKind::ForeignKeyViolation,
            "FOREIGN KEY constraint failed",
        ));
        let mapped = fk.on_constraint(Constraint::JobPrinter, || {
            StoreError::Internal("refused".into())
        });
        assert!(matches!(mapped, Err(TxError::Domain(StoreError::Internal(m))) if m == "refused"));
        let other: Result<(), DieselError> = Err(DieselError::NotFound);
        let mapped = other.on_constraint(Constraint::JobPrinter, || {
            StoreError::Internal("refused".into())
        });
        assert!(matches!(
            mapped,
            Err(TxError::Diesel(DieselError::NotFound))
        ));
    }
}
