//! Request bodies: `application/json` only (415), in an encoding the server decodes (415), at
//! most 64 KiB (413), JSON (422) without a key twice in any object (400), and an object (422);
//! and [`ObjectReader`], which reads typed fields out of that object, reporting unknown keys
//! (400) and wrong JSON types (422) field by field.

use std::{cell::RefCell, fmt};

use actix_web::{
    FromRequest, HttpMessage, HttpRequest,
    dev::Payload,
    error::{JsonPayloadError, PayloadError},
    http::header,
    web,
};
use futures_util::future::LocalBoxFuture;
use printdesk_domain::{FieldViolation, Nullable, ValidationErrors};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::problem::{Problem, ProblemKind};

/// The largest request body accepted, in bytes.
pub const BODY_LIMIT: usize = 64 * 1024;

/// The deepest nesting of arrays and objects a body may have (the JSON parser's own limit:
/// the body's object is level 1).
pub const NESTING_LIMIT: usize = 127;

/// The `Content-Encoding` values the server decodes (and `identity`, which is none).
const ENCODINGS: [&str; 4] = ["identity", "gzip", "x-gzip", "deflate"];

/// The JSON extractor configuration: content type required, 64 KiB limit, and every failure
/// turned into a problem.
pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(BODY_LIMIT)
        .content_type_required(true)
        .content_type(|mime| mime.essence_str() == "application/json")
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
        JsonPayloadError::ContentType => wrong_content_type(),
        JsonPayloadError::Deserialize(e) => Problem::new(
            ProblemKind::MalformedBody,
            format!("The request body is not valid JSON: {e}."),
        ),
        JsonPayloadError::Payload(e) => payload_problem(&e),
        other => {
            tracing::error!(error = %other, "unexpected JSON extractor error");
            Problem::internal()
        }
    }
}

fn payload_problem(error: &PayloadError) -> Problem {
    match error {
        PayloadError::Overflow => too_large(),
        PayloadError::Io(e) if e.kind() == std::io::ErrorKind::TimedOut => Problem::new(
            ProblemKind::RequestTimeout,
            "The request body did not arrive in time: send it whole, without pauses, and \
             try again.",
        ),
        PayloadError::EncodingCorrupted => Problem::new(
            ProblemKind::BadRequest,
            "The request body could not be decoded as its Content-Encoding says.",
        ),
        e => {
            tracing::debug!(error = %e, "could not read the request body");
            Problem::new(
                ProblemKind::BadRequest,
                "The request body could not be read completely.",
            )
        }
    }
}

fn wrong_content_type() -> Problem {
    Problem::new(
        ProblemKind::UnsupportedMediaType,
        "The request body must be JSON sent with Content-Type: application/json (UTF-8, \
         the only charset accepted).",
    )
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

/// `Content-Type: application/json`, with no parameter but `charset=utf-8`.
fn check_content_type(req: &HttpRequest) -> Result<(), Problem> {
    let mime = match req.mime_type() {
        Ok(Some(mime)) => mime,
        _ => return Err(wrong_content_type()),
    };
    let charset_ok = mime
        .params()
        .all(|(name, value)| name == "charset" && value.as_str().eq_ignore_ascii_case("utf-8"));
    if mime.essence_str() == "application/json" && charset_ok {
        Ok(())
    } else {
        Err(wrong_content_type())
    }
}

/// No `Content-Encoding`, or one the server decodes.
fn check_content_encoding(req: &HttpRequest) -> Result<(), Problem> {
    let mut values = req.headers().get_all(header::CONTENT_ENCODING).peekable();
    if values.peek().is_none() {
        return Ok(());
    }
    let mut codings = Vec::new();
    for value in values {
        let Ok(text) = value.to_str() else {
            return Err(unsupported_encoding());
        };
        codings.extend(
            text.split(',')
                .map(|c| c.trim().to_ascii_lowercase())
                .filter(|c| !c.is_empty()),
        );
    }
    // One coding the server decodes; a chain of them is not decoded.
    match codings.as_slice() {
        [one] if ENCODINGS.contains(&one.as_str()) => Ok(()),
        _ => Err(unsupported_encoding()),
    }
}

fn unsupported_encoding() -> Problem {
    Problem::new(
        ProblemKind::UnsupportedMediaType,
        "The request body's Content-Encoding is not one the server decodes: send it \
         uncompressed, or with Content-Encoding: gzip or deflate.",
    )
    .with_header(
        header::ACCEPT_ENCODING,
        header::HeaderValue::from_static("gzip, deflate"),
    )
}

/// Parses `bytes` as a JSON object, refusing any object (at any depth) that has a key twice:
/// JSON leaves duplicates undefined, and "the last one wins" would let
/// `{"status":"completed","status":"running"}` mean something no reader of it expects.
pub(crate) fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, Problem> {
    let duplicate = RefCell::new(None);
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let parsed = StrictValue {
        path: String::new(),
        duplicate: &duplicate,
    }
    .deserialize(&mut deserializer)
    .and_then(|value| deserializer.end().map(|()| value));
    let value = match parsed {
        Ok(value) => value,
        Err(e) => {
            if let Some(key) = duplicate.into_inner() {
                return Err(Problem::new(
                    ProblemKind::BadRequest,
                    format!(
                        "The request body has the key {key} more than once; send each key once."
                    ),
                )
                .with_errors([FieldViolation::new(key, "appears more than once")]));
            }
            if e.to_string().starts_with("recursion limit exceeded") {
                return Err(Problem::new(
                    ProblemKind::MalformedBody,
                    format!(
                        "The request body is nested deeper than {NESTING_LIMIT} levels of \
                         arrays and objects."
                    ),
                ));
            }
            return Err(Problem::new(
                ProblemKind::MalformedBody,
                format!("The request body is not valid JSON: {e}."),
            ));
        }
    };
    match value {
        Value::Object(map) => Ok(map),
        other => Err(Problem::new(
            ProblemKind::MalformedBody,
            format!(
                "The request body must be a JSON object, not {}.",
                json_type_name(&other)
            ),
        )),
    }
}

/// A JSON value whose objects may not repeat a key; `path` is where it is in the body
/// (`connection.port`), `duplicate` receives the path of the first repeated key.
struct StrictValue<'a> {
    path: String,
    duplicate: &'a RefCell<Option<String>>,
}

impl StrictValue<'_> {
    fn child(&self, step: &str) -> Self {
        Self {
            path: if self.path.is_empty() {
                step.to_owned()
            } else if step.starts_with('[') {
                format!("{}{step}", self.path)
            } else {
                format!("{}.{step}", self.path)
            },
            duplicate: self.duplicate,
        }
    }
}

impl<'de> DeserializeSeed<'de> for StrictValue<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self.child(&format!("[{}]", items.len())))? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                let path = self.child(&key).path;
                *self.duplicate.borrow_mut() = Some(path);
                return Err(de::Error::custom("duplicate key"));
            }
            let value = map.next_value_seed(self.child(&key))?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// A request body that is a JSON object, keys and raw values. Nothing is checked yet beyond
/// the content type and encoding, the size, the JSON syntax and that no key is repeated.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonObject(pub Map<String, Value>);

impl FromRequest for JsonObject {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // Read (and decoded) only once the headers are accepted.
        let body = check_content_type(req)
            .and_then(|()| check_content_encoding(req))
            .map(|()| web::Bytes::from_request(req, payload));
        Box::pin(async move {
            let bytes = body?
                .await
                .map_err(|e| match e.as_error::<PayloadError>() {
                    Some(e) => payload_problem(e),
                    None => {
                        tracing::debug!(error = %e, "could not read the request body");
                        Problem::new(
                            ProblemKind::BadRequest,
                            "The request body could not be read completely.",
                        )
                    }
                })?;
            Ok(Self(parse_object(&bytes)?))
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
    fn a_key_twice_in_any_object_is_named() {
        for (body, key) in [
            (r#"{"status":"completed","status":"running"}"#, "status"),
            (
                r#"{"connection":{"host":"a","port":1,"host":"b"}}"#,
                "connection.host",
            ),
            (r#"{"ids":[{"a":1},{"b":1,"b":2}]}"#, "ids[1].b"),
        ] {
            let problem = parse_object(body.as_bytes()).unwrap_err();
            assert_eq!(problem.kind(), ProblemKind::BadRequest, "{body}");
            assert!(
                problem.detail().contains(&format!("the key {key} more")),
                "{}",
                problem.detail()
            );
            assert_eq!(problem.errors()[0].field, key);
        }
        let same_key_elsewhere = r#"{"a":{"x":1},"b":{"x":2},"c":[1,1]}"#;
        assert_eq!(
            Value::Object(parse_object(same_key_elsewhere.as_bytes()).unwrap()),
            serde_json::from_str::<Value>(same_key_elsewhere).unwrap()
        );
    }

    #[test]
    fn the_nesting_limit_is_the_documented_one() {
        let nested = |depth: usize| {
            // The body's object is level 1; the rest are arrays.
            format!(
                "{{\"a\":{}0{}}}",
                "[".repeat(depth - 1),
                "]".repeat(depth - 1)
            )
        };
        assert!(parse_object(nested(NESTING_LIMIT).as_bytes()).is_ok());
        let problem = parse_object(nested(NESTING_LIMIT + 1).as_bytes()).unwrap_err();
        assert_eq!(problem.kind(), ProblemKind::MalformedBody);
        assert_eq!(
            problem.detail(),
            "The request body is nested deeper than 127 levels of arrays and objects."
        );
    }

    #[test]
    fn values_read_as_serde_reads_them() {
        let body =
            r#"{"s":"é\u0041","n":-1,"u":18446744073709551615,"f":1.5,"b":true,"z":null,"e":{}}"#;
        assert_eq!(
            Value::Object(parse_object(body.as_bytes()).unwrap()),
            serde_json::from_str::<Value>(body).unwrap()
        );
        assert_eq!(
            parse_object(b"[1]").unwrap_err().detail(),
            "The request body must be a JSON object, not an array."
        );
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
