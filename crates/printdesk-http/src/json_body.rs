//! Request bodies: `application/json` only (415), at most 64 KiB (413), a JSON object (422);
//! and [`ObjectReader`], which reads typed fields out of that object, reporting unknown keys
//! (400) and wrong JSON types (422) field by field.

use actix_web::{
    FromRequest, HttpRequest,
    dev::Payload,
    error::{JsonPayloadError, PayloadError},
    web,
};
use futures_util::future::LocalBoxFuture;
use printdesk_domain::{FieldViolation, Nullable, ValidationErrors};
use serde_json::{Map, Value};

use crate::problem::{Problem, ProblemKind};

/// The largest request body accepted, in bytes.
pub const BODY_LIMIT: usize = 64 * 1024;

/// The JSON extractor configuration: content type required, 64 KiB limit, and every failure
/// turned into a problem.
pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(BODY_LIMIT)
        .content_type_required(true)
        .error_handler(|error, _req| body_problem(error).into())
}

/// The same limit for extractors that read raw bytes or text.
pub fn payload_config() -> web::PayloadConfig {
    web::PayloadConfig::new(BODY_LIMIT)
}

/// The problem for a body that could not be read as JSON.
pub fn body_problem(error: JsonPayloadError) -> Problem {
    match error {
        JsonPayloadError::OverflowKnownLength { .. }
        | JsonPayloadError::Overflow { .. }
        | JsonPayloadError::Payload(PayloadError::Overflow) => too_large(),
        JsonPayloadError::ContentType => Problem::new(
            ProblemKind::UnsupportedMediaType,
            "The request body must be JSON sent with Content-Type: application/json.",
        ),
        JsonPayloadError::Deserialize(e) => Problem::new(
            ProblemKind::MalformedBody,
            format!("The request body is not valid JSON: {e}."),
        ),
        JsonPayloadError::Payload(e) => {
            tracing::debug!(error = %e, "could not read the request body");
            Problem::new(
                ProblemKind::BadRequest,
                "The request body could not be read completely.",
            )
        }
        other => {
            tracing::error!(error = %other, "unexpected JSON extractor error");
            Problem::internal()
        }
    }
}

fn too_large() -> Problem {
    Problem::new(
        ProblemKind::PayloadTooLarge,
        format!(
            "The request body is larger than the limit of {BODY_LIMIT} bytes ({} KiB).",
            BODY_LIMIT / 1024
        ),
    )
}

/// A request body that is a JSON object, keys and raw values. Nothing is checked yet beyond
/// the content type, the size and the JSON syntax.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonObject(pub Map<String, Value>);

impl FromRequest for JsonObject {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json = web::Json::<Value>::from_request(req, payload);
        Box::pin(async move {
            match json.await?.into_inner() {
                Value::Object(map) => Ok(Self(map)),
                other => Err(Problem::new(
                    ProblemKind::MalformedBody,
                    format!(
                        "The request body must be a JSON object, not {}.",
                        json_type_name(&other)
                    ),
                )
                .into()),
            }
        })
    }
}

fn json_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Reads typed fields out of a JSON object, one call per field, collecting every field of the
/// wrong type; [`ObjectReader::finish`] reports them all at once (422).
#[derive(Debug)]
pub struct ObjectReader {
    object: Map<String, Value>,
    wrong_type: Vec<FieldViolation>,
}

impl ObjectReader {
    /// Starts reading `object`.
    pub fn new(object: JsonObject) -> Self {
        Self {
            object: object.0,
            wrong_type: Vec::new(),
        }
    }

    /// Refuses the body (400) if any key is one it may not have. `refusal` returns why a key
    /// is not accepted (`"is not editable"`), or `None` for a key that is. Every refused key
    /// is named, in the `errors` entries and in the `detail`.
    pub fn refuse_keys(
        &self,
        refusal: impl Fn(&str) -> Option<&'static str>,
    ) -> Result<(), Problem> {
        let refused = self
            .object
            .keys()
            .filter_map(|key| refusal(key).map(|why| FieldViolation::new(key.as_str(), why)))
            .collect();
        match ValidationErrors::from_violations(refused) {
            None => Ok(()),
            Some(errors) => Err(Problem::validation(&errors)),
        }
    }

    /// A string field: absent → `None`; anything but a string (`null` too) is the wrong type.
    pub fn string(&mut self, key: &str) -> Option<String> {
        self.parsed(key, "must be a string", |v| match v {
            Value::String(s) => Some(s),
            _ => None,
        })
    }

    /// A boolean field: absent → `None`; anything but `true` or `false` is the wrong type.
    pub fn boolean(&mut self, key: &str) -> Option<bool> {
        self.parsed(key, "must be true or false", |v| v.as_bool())
    }

    /// A string field that may be cleared: absent → keep, `null` → clear, a string → set.
    pub fn nullable_string(&mut self, key: &str) -> Nullable<String> {
        match self.object.remove(key) {
            None => Nullable::Keep,
            Some(Value::Null) => Nullable::Clear,
            Some(Value::String(s)) => Nullable::Set(s),
            Some(_) => {
                self.wrong(key, "must be a string or null");
                Nullable::Keep
            }
        }
    }

    /// A field whose value `parse` converts; a value it refuses is reported with `message`.
    pub fn parsed<T>(
        &mut self,
        key: &str,
        message: &str,
        parse: impl FnOnce(Value) -> Option<T>,
    ) -> Option<T> {
        let value = self.object.remove(key)?;
        let parsed = parse(value);
        if parsed.is_none() {
            self.wrong(key, message);
        }
        parsed
    }

    /// Reports `key` (a field path, such as `connection.port`) as of the wrong type.
    pub(crate) fn wrong(&mut self, key: &str, message: &str) {
        self.wrong_type.push(FieldViolation::new(key, message));
    }

    /// Succeeds when every field read had the right type; otherwise the 422 naming each.
    pub fn finish(self) -> Result<(), Problem> {
        match ValidationErrors::from_violations(self.wrong_type) {
            None => Ok(()),
            Some(errors) => Err(Problem::new(ProblemKind::WrongType, errors.to_string())
                .with_errors(errors.violations().iter().cloned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn reader(value: Value) -> ObjectReader {
        let Value::Object(map) = value else {
            panic!("not an object")
        };
        ObjectReader::new(JsonObject(map))
    }

    #[test]
    fn reads_typed_fields_and_reports_every_wrong_type() {
        let mut r = reader(json!({ "a": "x", "b": true, "c": null, "d": 3, "e": null }));
        assert_eq!(r.string("a").as_deref(), Some("x"));
        assert_eq!(r.boolean("b"), Some(true));
        assert_eq!(r.nullable_string("c"), Nullable::Clear);
        assert_eq!(r.nullable_string("d"), Nullable::Keep);
        assert_eq!(r.string("e"), None);
        assert_eq!(r.string("absent"), None);
        let problem = r.finish().unwrap_err();
        assert_eq!(problem.kind(), ProblemKind::WrongType);
        assert_eq!(
            problem.detail(),
            "d must be a string or null; e must be a string"
        );
        assert_eq!(problem.errors().len(), 2);
    }

    #[test]
    fn refuses_keys_naming_each() {
        let r = reader(json!({ "id": 1, "ok": 2, "zz": 3 }));
        let problem = r
            .refuse_keys(|k| (k != "ok").then_some("is not allowed"))
            .unwrap_err();
        assert_eq!(problem.kind(), ProblemKind::Validation);
        assert_eq!(problem.detail(), "id is not allowed; zz is not allowed");
    }
}
