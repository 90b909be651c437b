//! The customers: `GET /customers?q=&limit=`, the customer names the jobs have with their job
//! counts, for the job form's autocomplete and the list's customer filter.

use actix_web::{HttpResponse, web};
use printdesk_domain::{
    CUSTOMERS_MAX_LIMIT, CustomerCount, CustomerQuery, FieldViolation, NUL_CHARACTER_MESSAGE,
    ValidationErrors,
};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use crate::{ApiState, problem::Problem};

/// The parameters (the handler reads the pairs itself, so that an unknown or repeated one is
/// refused like everywhere else).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(
    dead_code,
    reason = "describes the query string, which `customer_query` reads"
)]
pub struct CustomerParams {
    /// The beginning of the name, ignoring case and accents (`mul` finds `Müller GmbH`,
    /// `strasse` finds `Straße 5`); at most 200 characters; empty or absent: every name.
    #[param(pattern = "^[^\\u0000]*$", max_length = 200, example = "mül")]
    q: Option<String>,
    /// The most names to return.
    #[param(minimum = 1, maximum = 100, default = 10)]
    limit: Option<u32>,
}

/// The names found.
#[derive(Serialize, ToSchema)]
pub(crate) struct Customers {
    /// Each name the jobs have exactly as they have it (names that differ in case or accents
    /// are separate entries), with its jobs; most jobs first, then in the list's text order.
    customers: Vec<CustomerCount>,
}

/// The query `pairs` ask for: `q` and `limit`, each at most once, nothing else.
fn customer_query(pairs: &[(String, String)]) -> Result<CustomerQuery, Problem> {
    let mut violations = Vec::new();
    let (mut q, mut limit) = (None, None);
    let mut seen: Vec<&str> = Vec::new();
    for (name, value) in pairs {
        if !matches!(name.as_str(), "q" | "limit") {
            violations.push(FieldViolation::new(
                name.as_str(),
                "is not a known parameter (use q, limit)",
            ));
            continue;
        }
        if seen.contains(&name.as_str()) {
            violations.push(FieldViolation::new(
                name.as_str(),
                "must be given at most once",
            ));
            continue;
        }
        seen.push(name);
        if name == "q" {
            if value.contains('\0') {
                violations.push(FieldViolation::new("q", NUL_CHARACTER_MESSAGE));
            } else {
                q = Some(value.as_str());
            }
        } else {
            match value.parse::<u32>() {
                Ok(n) => limit = Some(n),
                Err(_) => violations.push(FieldViolation::new(
                    "limit",
                    format!("must be between 1 and {CUSTOMERS_MAX_LIMIT}"),
                )),
            }
        }
    }
    let parsed = CustomerQuery::parse(q, limit);
    if let Err(errors) = &parsed {
        for violation in errors.violations() {
            if !violations.iter().any(|v| v.field == violation.field) {
                violations.push(violation.clone());
            }
        }
    }
    match ValidationErrors::from_violations(violations) {
        Some(errors) => Err(Problem::validation(&errors)),
        None => Ok(parsed.expect("no violation")),
    }
}

/// List customers
///
/// The customer names the jobs have that begin with `q` (ignoring case and accents), each
/// with how many jobs have it, most jobs first: for an autocomplete. Jobs without a customer
/// are not counted.
#[utoipa::path(
    get,
    path = "/api/v1/customers",
    tag = "jobs",
    operation_id = "listCustomers",
    params(CustomerParams),
    responses(
        (status = 200, description = "The names, most jobs first.", body = Customers,
            example = json!({ "customers": [
                { "name": "Müller GmbH", "jobs": 12 }, { "name": "MÜLLER AG", "jobs": 1 }
            ] })),
        (status = 400, description = "`q` is longer than 200 characters, `limit` is not 1 to \
            100, or a parameter is unknown or repeated; each is named in `errors`.",
            body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn list(
    state: web::Data<ApiState>,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, Problem> {
    let query = customer_query(&query.into_inner())?;
    let customers = state.jobs.customers(&query).await?;
    Ok(HttpResponse::Ok().json(Customers { customers }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn fields(problem: &Problem) -> Vec<&str> {
        problem.errors().iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn q_and_limit_are_read() {
        let query = customer_query(&pairs(&[("q", " MÜL "), ("limit", "25")])).unwrap();
        assert_eq!(query.prefix(), "mul");
        assert_eq!(query.limit(), 25);
        assert_eq!(customer_query(&[]).unwrap().limit(), 10);
    }

    #[test]
    fn every_bad_parameter_is_named() {
        let problem = customer_query(&pairs(&[
            ("q", &"x".repeat(201)),
            ("limit", "0"),
            ("sort", "name"),
        ]))
        .unwrap_err();
        assert_eq!(fields(&problem), ["sort", "q", "limit"]);
        let problem = customer_query(&pairs(&[
            ("limit", "many"),
            ("q", "a"),
            ("q", "b"),
            ("q", "\0"),
        ]))
        .unwrap_err();
        assert_eq!(fields(&problem), ["limit", "q", "q"]);
        let problem = customer_query(&pairs(&[("q", "\0")])).unwrap_err();
        assert_eq!(fields(&problem), ["q"]);
        assert!(customer_query(&pairs(&[("limit", "101")])).is_err());
        assert!(customer_query(&pairs(&[("q", &"ü".repeat(200))])).is_ok());
    }
}
