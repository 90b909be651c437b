//! The customers use case (`GET /customers`): the customer names the jobs have, with how many
//! jobs each, for an autocomplete.
//!
//! Customers are the jobs' free-text `customer_name`s; there is no customer record. A name
//! matches a query when its folded form ([`crate::search::fold`]: case, accents and
//! compatibility forms ignored, `ß` as `ss`) begins with the folded query, so `mul` finds
//! `Müller GmbH` and `MÜLLER AG`, and `gmbh` finds neither (the job list's search finds
//! words inside names). Names are listed as stored: `Müller GmbH` and `MÜLLER GMBH` are two
//! entries (the `customer` filter of the list takes them as one), which is what shows a
//! shop that a customer is written two ways.
//!
//! The order is an autocomplete's: the names with the most jobs first, ties in the list's
//! text order ([`crate::search::collate`]), then by the stored text.

use std::cmp::Ordering;

use serde::Serialize;

use crate::{
    search::{SEARCH_MAX_CHARS, TermRange, collate, fold},
    validation::{FieldViolation, ValidationErrors},
};

/// The most names one request returns.
pub const CUSTOMERS_MAX_LIMIT: u32 = 100;

/// The names a request returns when it does not say.
pub const CUSTOMERS_DEFAULT_LIMIT: u32 = 10;

/// The folded form of a customer name that [`CustomerQuery`] matches against: the search's
/// folding ([`fold`]), which a store keeps beside the name so that a prefix is one index range.
///
/// ```
/// use printdesk_domain::customer_fold;
/// assert_eq!(customer_fold("MÜLLER GmbH"), "muller gmbh");
/// assert_eq!(customer_fold("Straße 5"), "strasse 5");
/// ```
pub fn customer_fold(name: &str) -> String {
    fold(name)
}

/// Which customer names to list: those beginning with a prefix, at most `limit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerQuery {
    /// The folded prefix; empty matches every name.
    prefix: String,
    limit: u32,
}

impl CustomerQuery {
    /// The query for `q` (trimmed; empty or absent: every name) and `limit` (1 to
    /// [`CUSTOMERS_MAX_LIMIT`], [`CUSTOMERS_DEFAULT_LIMIT`] when absent). `q` longer than
    /// [`SEARCH_MAX_CHARS`] characters and a `limit` out of bounds are refused, both reported.
    ///
    /// ```
    /// use printdesk_domain::CustomerQuery;
    /// let q = CustomerQuery::parse(Some(" Mül "), None).unwrap();
    /// assert_eq!(q.prefix(), "mul");
    /// assert_eq!(q.limit(), 10);
    /// assert!(q.matches("Müller GmbH"));
    /// assert!(!q.matches("ACME Müller"));
    /// assert!(CustomerQuery::parse(Some(&"x".repeat(201)), Some(0)).is_err());
    /// ```
    pub fn parse(q: Option<&str>, limit: Option<u32>) -> Result<Self, ValidationErrors> {
        let mut violations = Vec::new();
        let q = q.unwrap_or_default();
        if q.chars().count() > SEARCH_MAX_CHARS {
            violations.push(FieldViolation::new(
                "q",
                format!("must be at most {SEARCH_MAX_CHARS} characters"),
            ));
        }
        let limit = limit.unwrap_or(CUSTOMERS_DEFAULT_LIMIT);
        if !(1..=CUSTOMERS_MAX_LIMIT).contains(&limit) {
            violations.push(FieldViolation::new(
                "limit",
                format!("must be between 1 and {CUSTOMERS_MAX_LIMIT}"),
            ));
        }
        match ValidationErrors::from_violations(violations) {
            Some(errors) => Err(errors),
            None => Ok(Self {
                prefix: customer_fold(q.trim()),
                limit,
            }),
        }
    }

    /// The folded prefix a name's [`customer_fold`] must begin with; empty for every name.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The most names to return.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// The folded names that match, as a range in code point order (UTF-8 byte order):
    /// `None` when every name matches.
    pub fn range(&self) -> Option<TermRange> {
        (!self.prefix.is_empty()).then(|| TermRange::starting_with(self.prefix.clone()))
    }

    /// Whether the customer name `name` matches.
    pub fn matches(&self, name: &str) -> bool {
        customer_fold(name).starts_with(&self.prefix)
    }
}

/// A customer name and how many jobs have it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerCount {
    /// The name, exactly as the jobs have it.
    #[cfg_attr(feature = "openapi", schema(example = "Müller GmbH"))]
    pub name: String,
    /// How many jobs have exactly this name.
    #[cfg_attr(feature = "openapi", schema(example = 12))]
    pub jobs: u64,
}

/// The order of [`crate::JobRepository::customers`]: most jobs first, then the list's text
/// order of the names, then their stored text (for names the collation cannot tell apart).
pub fn customer_order(a: &CustomerCount, b: &CustomerCount) -> Ordering {
    b.jobs
        .cmp(&a.jobs)
        .then_with(|| collate(&a.name, &b.name))
        .then_with(|| a.name.cmp(&b.name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(name: &str, jobs: u64) -> CustomerCount {
        CustomerCount {
            name: name.into(),
            jobs,
        }
    }

    #[test]
    fn a_prefix_is_folded_and_trimmed() {
        let q = CustomerQuery::parse(Some("  MÜL"), None).unwrap();
        assert!(q.matches("Müller GmbH"));
        assert!(q.matches("muller"));
        assert!(q.matches("MULLER AG"));
        assert!(!q.matches("Mueller GmbH"), "no transliteration");
        assert!(!q.matches("Schmül"), "a prefix of the whole name");
        assert!(
            CustomerQuery::parse(Some("strasse"), None)
                .unwrap()
                .matches("Straße 5")
        );
    }

    #[test]
    fn an_empty_query_matches_every_name() {
        for q in [None, Some(""), Some("   ")] {
            let q = CustomerQuery::parse(q, Some(5)).unwrap();
            assert_eq!(q.range(), None);
            assert!(q.matches("anything"));
        }
    }

    #[test]
    fn the_range_holds_exactly_the_folded_names_with_the_prefix() {
        let range = CustomerQuery::parse(Some("mu"), None)
            .unwrap()
            .range()
            .unwrap();
        assert_eq!(range.prefix, "mu");
        assert_eq!(range.end.as_deref(), Some("mv"));
    }

    #[test]
    fn q_and_limit_bounds_are_reported_together() {
        assert!(CustomerQuery::parse(Some(&"ü".repeat(200)), Some(100)).is_ok());
        let errors = CustomerQuery::parse(Some(&"ü".repeat(201)), Some(101)).unwrap_err();
        let fields: Vec<_> = errors
            .violations()
            .iter()
            .map(|v| v.field.as_str())
            .collect();
        assert_eq!(fields, ["q", "limit"]);
        assert!(CustomerQuery::parse(None, Some(0)).is_err());
        assert!(CustomerQuery::parse(None, Some(1)).is_ok());
    }

    #[test]
    fn most_jobs_first_then_text_order() {
        let mut names = [
            count("Zylinder", 3),
            count("Ölwanne", 1),
            count("aufkleber", 1),
            count("ACME", 7),
        ];
        names.sort_by(customer_order);
        let names: Vec<_> = names.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["ACME", "Zylinder", "aufkleber", "Ölwanne"]);
    }
}
