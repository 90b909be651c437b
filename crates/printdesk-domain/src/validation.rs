use std::fmt;

use serde::Serialize;

/// One broken rule: which field, and a message a person can read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldViolation {
    /// The field's wire name, e.g. `job_name`.
    pub field: String,
    /// What is wrong, phrased to follow the field name ("must not be empty").
    pub message: String,
}

impl FieldViolation {
    /// A violation of `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl FieldViolation {
    /// The violation of a `printer_id` that names no printer. Adapters that detect it
    /// themselves (a foreign key) report it with this, so the message is the same everywhere.
    pub fn unknown_printer(id: &crate::PrinterId) -> Self {
        Self::new("printer_id", format!("names no printer ('{id}')"))
    }
}

impl fmt::Display for FieldViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.field, self.message)
    }
}

/// Every rule a value broke, reported together so a form can mark all fields at once.
///
/// Never empty: a value that breaks no rule is `Ok`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationErrors(Vec<FieldViolation>);

impl ValidationErrors {
    /// Wraps violations; `None` when there are none.
    pub fn from_violations(violations: Vec<FieldViolation>) -> Option<Self> {
        (!violations.is_empty()).then_some(Self(violations))
    }

    /// A single violation.
    pub fn single(violation: FieldViolation) -> Self {
        Self(vec![violation])
    }

    /// The violations, in field order.
    pub fn violations(&self) -> &[FieldViolation] {
        &self.0
    }

    /// Adds one more violation.
    pub fn push(&mut self, violation: FieldViolation) {
        self.0.push(violation);
    }
}

impl fmt::Display for ValidationErrors {
    /// All violations as one sentence: `job_name must not be empty; notes must be at most …`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, v) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{v}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}
