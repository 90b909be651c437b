//! Validated newtypes for a job's text fields. A value of one of these types obeys its rule,
//! so code holding one never checks it again.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::validation::FieldViolation;

/// Longest job name, in Unicode scalar values, after trimming.
pub const JOB_NAME_MAX_CHARS: usize = 200;
/// Longest customer name, in Unicode scalar values, after trimming.
pub const CUSTOMER_NAME_MAX_CHARS: usize = 200;
/// Longest notes, in Unicode scalar values.
pub const NOTES_MAX_CHARS: usize = 1000;
/// Longest file name, in Unicode scalar values.
pub const FILE_NAME_MAX_CHARS: usize = 255;

/// Why a text holding U+0000 is refused. No person types it, and PostgreSQL's `text` cannot
/// store it: refusing it everywhere keeps both stores holding exactly the same texts (and
/// keeps such a request a 400 rather than a failed write).
pub const NUL_CHARACTER_MESSAGE: &str = "must not contain the NUL character (U+0000)";

/// The rules, one function each, shared by the newtypes and by [`crate::JobDraft`]'s
/// garde validation so that no rule is written twice.
pub(crate) mod rules {
    use super::*;

    pub(crate) fn too_long(max: usize) -> String {
        format!("must be at most {max} characters")
    }

    /// Every stored text: no U+0000 (see [`NUL_CHARACTER_MESSAGE`]).
    pub(crate) fn no_nul(value: &str) -> Result<(), String> {
        if value.contains('\0') {
            Err(NUL_CHARACTER_MESSAGE.into())
        } else {
            Ok(())
        }
    }

    fn at_most(value: &str, max: usize) -> Result<(), String> {
        // Counted in Unicode scalar values, as the contract says, not bytes.
        if value.chars().count() > max {
            Err(too_long(max))
        } else {
            Ok(())
        }
    }

    pub(crate) fn job_name(value: &str) -> Result<(), String> {
        if value.trim().is_empty() {
            return Err("must not be empty".into());
        }
        no_nul(value)?;
        at_most(value.trim(), JOB_NAME_MAX_CHARS)
    }

    pub(crate) fn customer_name(value: &str) -> Result<(), String> {
        no_nul(value)?;
        at_most(value.trim(), CUSTOMER_NAME_MAX_CHARS)
    }

    pub(crate) fn notes(value: &str) -> Result<(), String> {
        no_nul(value)?;
        at_most(value, NOTES_MAX_CHARS)
    }

    pub(crate) fn file_name(value: &str) -> Result<(), String> {
        no_nul(value)?;
        at_most(value, FILE_NAME_MAX_CHARS)
    }

    pub(crate) const BUSINESS_NEEDS_CUSTOMER: &str = "is required for business jobs";

    pub(crate) fn garde<'a>(
        rule: fn(&str) -> Result<(), String>,
    ) -> impl FnOnce(&str, &()) -> garde::Result + 'a {
        move |value, _| rule(value).map_err(garde::Error::new)
    }

    pub(crate) fn garde_opt<'a>(
        rule: fn(&str) -> Result<(), String>,
    ) -> impl FnOnce(&Option<String>, &()) -> garde::Result + 'a {
        move |value, _| match value {
            Some(v) => rule(v).map_err(garde::Error::new),
            None => Ok(()),
        }
    }
}

macro_rules! text_newtype {
    ($(#[$doc:meta])* $name:ident, $field:literal, $rule:path, $normalise:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Checks the rule and returns the normalised value, or the violation.
            pub fn parse(raw: impl Into<String>) -> Result<Self, FieldViolation> {
                let raw: String = raw.into();
                $rule(&raw).map_err(|message| FieldViolation::new($field, message))?;
                let normalise: fn(String) -> String = $normalise;
                Ok(Self(normalise(raw)))
            }

            /// The value as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Wraps a value already known to satisfy the rule.
            pub(crate) fn new_unchecked(value: String) -> Self {
                Self(value)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = FieldViolation;
            fn try_from(raw: String) -> Result<Self, Self::Error> {
                Self::parse(raw)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }
    };
}

fn trimmed(s: String) -> String {
    let t = s.trim();
    if t.len() == s.len() { s } else { t.to_owned() }
}

fn verbatim(s: String) -> String {
    s
}

text_newtype!(
    /// A job's name: trimmed, 1–200 characters.
    ///
    /// ```
    /// use printdesk_domain::JobName;
    /// assert_eq!(JobName::parse("  Benchy ").unwrap().as_str(), "Benchy");
    /// assert!(JobName::parse("   ").is_err());
    /// assert!(JobName::parse("é".repeat(200)).is_ok());
    /// assert!(JobName::parse("é".repeat(201)).is_err());
    /// ```
    JobName, "job_name", rules::job_name, trimmed
);

text_newtype!(
    /// A business customer's name: trimmed, 1–200 characters.
    ///
    /// An empty or blank customer name is no customer at all; [`crate::JobDraft`] turns it into
    /// `None` before this type is built, so `parse("")` is an error here.
    ///
    /// ```
    /// use printdesk_domain::CustomerName;
    /// assert_eq!(CustomerName::parse(" ACME ").unwrap().as_str(), "ACME");
    /// ```
    CustomerName, "customer_name", customer_name_rule, trimmed
);

fn customer_name_rule(value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err("must not be empty".into());
    }
    rules::customer_name(value)
}

text_newtype!(
    /// Free-text notes on a job, at most 1000 characters, kept exactly as written.
    Notes, "notes", rules::notes, verbatim
);

text_newtype!(
    /// The name of the sliced file a job printed, at most 255 characters.
    ///
    /// Deliberately not checked against any file store: files get cleaned up, records stay.
    FileName, "file_name", rules::file_name, verbatim
);
