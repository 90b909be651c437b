//! The endpoint's query string: `?since=N&job_id=UUID`, both optional.
//!
//! Every invalid parameter is reported at once (400 problem+json, one `errors` entry each),
//! before the connection is upgraded. Unknown parameters are refused, so that a typo
//! (`sinse=`) is not silently a subscription without replay.

use actix_web::web;
use printdesk_domain::{FieldViolation, JobId, Seq, ValidationErrors};
use printdesk_http::{Problem, ProblemKind};

const PARAMETERS: [&str; 2] = ["since", "job_id"];

/// What a client asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Subscription {
    /// Replay the stored events after this one first.
    pub since: Option<Seq>,
    /// Only events about this job.
    pub job_id: Option<JobId>,
}

impl Subscription {
    pub(crate) fn parse(query_string: &str) -> Result<Self, Problem> {
        let pairs = web::Query::<Vec<(String, String)>>::from_query(query_string)
            .map_err(|e| {
                Problem::new(
                    ProblemKind::BadRequest,
                    format!("The query string could not be decoded: {e}."),
                )
            })?
            .into_inner();
        let mut subscription = Self::default();
        let mut violations = Vec::new();
        let mut seen: Vec<&str> = Vec::new();
        for (key, value) in &pairs {
            let Some(&name) = PARAMETERS.iter().find(|p| **p == key.as_str()) else {
                violations.push(FieldViolation::new(
                    key.as_str(),
                    format!("is not a known parameter (use {})", PARAMETERS.join(", ")),
                ));
                continue;
            };
            if seen.contains(&name) {
                violations.push(FieldViolation::new(name, "must be given at most once"));
                continue;
            }
            seen.push(name);
            match name {
                "since" => match value.parse::<i64>() {
                    Ok(n) if n >= 0 => subscription.since = Some(Seq::new(n)),
                    _ => violations.push(FieldViolation::new(
                        "since",
                        "must be a whole number, 0 or more (the last seq you received)",
                    )),
                },
                _ => match value.parse::<JobId>() {
                    Ok(id) => subscription.job_id = Some(id),
                    Err(_) => {
                        violations.push(FieldViolation::new("job_id", "must be a job id (a UUID)"))
                    }
                },
            }
        }
        match ValidationErrors::from_violations(violations) {
            None => Ok(subscription),
            Some(errors) => Err(Problem::validation(&errors)),
        }
    }

    /// Whether the client wants events about `job_id`.
    pub(crate) fn wants(&self, job_id: JobId) -> bool {
        self.job_id.is_none_or(|wanted| wanted == job_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_query_is_live_only_for_every_job() {
        assert_eq!(Subscription::parse("").unwrap(), Subscription::default());
    }

    #[test]
    fn since_and_job_id_are_read() {
        let id = "0190f4a0-0000-7000-8000-000000000001";
        let s = Subscription::parse(&format!("since=42&job_id={id}")).unwrap();
        assert_eq!(s.since, Some(Seq::new(42)));
        assert_eq!(s.job_id, Some(id.parse().unwrap()));
        assert!(s.wants(id.parse().unwrap()));
        assert!(!s.wants(JobId::generate()));
    }

    #[test]
    fn every_bad_parameter_is_reported() {
        let problem = Subscription::parse("since=-1&job_id=x&sinse=3&since=2").unwrap_err();
        let fields: Vec<_> = problem.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["since", "job_id", "sinse", "since"]);
        assert_eq!(problem.kind(), ProblemKind::Validation);
    }

    #[test]
    fn since_must_be_a_number() {
        for bad in [
            "since=abc",
            "since=1.5",
            "since=",
            "since=99999999999999999999",
        ] {
            assert!(Subscription::parse(bad).is_err(), "{bad}");
        }
    }
}
