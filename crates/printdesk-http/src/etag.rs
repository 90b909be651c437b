//! Entity tags: a job's `ETag` is its version in quotes (`"7"`), and `If-Match` is how a client
//! says "only if the job is still at the version I saw".

use std::{
    convert::Infallible,
    future::{Ready, ready},
};

use actix_web::{
    FromRequest, HttpRequest,
    dev::Payload,
    http::header::{self, HeaderName, HeaderValue},
};
use printdesk_domain::{Version, VersionCondition};
use utoipa::IntoParams;

/// `If-Match` as the OpenAPI document describes it.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code, reason = "describes the header, which `IfMatch` reads")]
pub struct IfMatchParam {
    /// Only if the job is still at this version: its `ETag` as read (`"3"`). A list matches
    /// when any tag is the current version; weak tags (`W/"3"`) count as their version; `*`
    /// matches any. Absent: the change is applied whatever the version (last write wins).
    #[param(rename = "If-Match", nullable = false)]
    if_match: Option<String>,
}

/// The `ETag` header for a job at `version`: `"<version>"`.
pub fn header(version: Version) -> (HeaderName, HeaderValue) {
    let value = HeaderValue::from_str(&format!("\"{version}\""))
        .expect("a quoted integer is a valid header value");
    (header::ETAG, value)
}

/// The request's `If-Match` precondition, as the domain judges it.
///
/// - No `If-Match`, or `*`: [`VersionCondition::Any`] (for `*` any current version will do;
///   without the header the change is applied whatever the version: last write wins).
/// - Otherwise [`VersionCondition::OneOf`] the versions its tags name, from every `If-Match`
///   header. Weak tags (`W/"3"`) count as their version; tags that are not versions are
///   dropped, so a list of only such tags matches nothing (412 with the current job).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfMatch(VersionCondition);

impl IfMatch {
    /// Parses every `If-Match` header of the request.
    pub fn from_request(req: &HttpRequest) -> Self {
        let mut values = req.headers().get_all(header::IF_MATCH).peekable();
        if values.peek().is_none() {
            return Self(VersionCondition::Any);
        }
        let mut versions = Vec::new();
        for value in values {
            // A header that is not visible ASCII cannot name one of our tags.
            let Ok(value) = value.to_str() else { continue };
            for tag in value.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                if tag == "*" {
                    return Self(VersionCondition::Any);
                }
                if let Some(version) = parse_tag(tag) {
                    versions.push(version);
                }
            }
        }
        Self(VersionCondition::OneOf(versions))
    }

    /// The condition to hand to the domain.
    pub fn into_condition(self) -> VersionCondition {
        self.0
    }
}

/// `"7"` or `W/"7"` → version 7; anything else → `None`.
fn parse_tag(tag: &str) -> Option<Version> {
    let tag = tag.strip_prefix("W/").unwrap_or(tag);
    let inner = tag.strip_prefix('"')?.strip_suffix('"')?;
    if inner.is_empty() || !inner.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    inner.parse::<i64>().ok().map(Version::new)
}

impl FromRequest for IfMatch {
    type Error = Infallible;
    type Future = Ready<Result<Self, Infallible>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self::from_request(req)))
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn if_match(values: &[&str]) -> IfMatch {
        let mut req = TestRequest::default();
        for v in values {
            req = req.append_header((header::IF_MATCH, *v));
        }
        IfMatch::from_request(&req.to_http_request())
    }

    #[test]
    fn etag_is_the_quoted_version() {
        let (name, value) = header(Version::new(7));
        assert_eq!(name, header::ETAG);
        assert_eq!(value, "\"7\"");
    }

    fn versions(ns: &[i64]) -> IfMatch {
        IfMatch(VersionCondition::OneOf(
            ns.iter().copied().map(Version::new).collect(),
        ))
    }

    #[test]
    fn parses_strong_weak_star_and_lists() {
        assert_eq!(if_match(&[]), IfMatch(VersionCondition::Any));
        assert_eq!(if_match(&["*"]), IfMatch(VersionCondition::Any));
        assert_eq!(if_match(&["\"3\""]), versions(&[3]));
        assert_eq!(if_match(&["W/\"4\""]), versions(&[4]));
        assert_eq!(if_match(&["\"1\", W/\"2\"", "\"5\""]), versions(&[1, 2, 5]));
        assert_eq!(if_match(&["\"1\", *"]), IfMatch(VersionCondition::Any));
    }

    #[test]
    fn tags_that_are_not_versions_match_nothing() {
        assert_eq!(if_match(&["\"abc\""]), versions(&[]));
        assert_eq!(if_match(&["7"]), versions(&[]));
        assert_eq!(if_match(&["\"-1\""]), versions(&[]));
        assert_eq!(if_match(&["\"\""]), versions(&[]));
        assert!(
            !if_match(&["\"abc\""])
                .into_condition()
                .admits(Version::FIRST)
        );
    }
}
