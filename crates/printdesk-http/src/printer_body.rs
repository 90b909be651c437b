//! The printer body, shared by registration (`POST /printers`) and the edit
//! (`PATCH /printers/{id}`): which keys it may hold, down into `connection`, each field's JSON
//! type, and its translation into a [`NewPrinter`] or a [`PrinterPatch`].
//!
//! Only the *shape* is checked here (400 for a key that is not a field or not a connection
//! setting, 422 for a wrong JSON type). Which settings a kind requires, and every value's
//! rule, belong to the domain and are judged on the printer as it will be.

use printdesk_domain::{
    ConnectionPatch, ConnectionTestRequest, FieldViolation, NewPrinter, Nullable, PrinterPatch,
    SecretText, ValidationErrors,
};
use serde_json::{Map, Value};

use crate::{
    json_body::{JsonObject, ObjectReader},
    problem::Problem,
};

/// Which request the body is for: `id` may be given at registration only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    Register,
    Edit,
}

/// Why a key may not appear in a printer body, or `None` for one that may.
fn refusal(key: &str, purpose: Purpose) -> Option<&'static str> {
    match key {
        "name" | "printer_type" | "location" | "connection" | "monitoring" => None,
        "id" if purpose == Purpose::Register => None,
        "id" => Some("is set at registration and cannot be changed"),
        "created_at" | "status" => Some("is set by the server and cannot be changed"),
        _ => Some("is not a field of a printer"),
    }
}

/// Every setting of every kind; the domain judges which ones the kind takes.
const CONNECTION_SETTINGS: [&str; 11] = [
    "kind",
    "host",
    "port",
    "serial",
    "access_code",
    "tls_fingerprint",
    "ca_pem",
    "base_url",
    "api_key",
    "username",
    "password",
];

/// Why a key may not appear in a connection test's body, or `None` for one that may.
fn test_refusal(key: &str) -> Option<&'static str> {
    match key {
        "connection" | "printer_id" => None,
        _ => Some("is not a member of a connection test (connection, printer_id)"),
    }
}

/// Every key of the body (and of its `connection` object) that may not be there → 400,
/// naming each.
fn refuse_keys(body: &Map<String, Value>, purpose: Purpose) -> Result<(), Problem> {
    refuse_keys_by(body, |key| refusal(key, purpose))
}

fn refuse_keys_by(
    body: &Map<String, Value>,
    refusal: impl Fn(&str) -> Option<&'static str>,
) -> Result<(), Problem> {
    let mut refused: Vec<FieldViolation> = body
        .keys()
        .filter_map(|key| refusal(key).map(|why| FieldViolation::new(key.as_str(), why)))
        .collect();
    if let Some(Value::Object(connection)) = body.get("connection") {
        refused.extend(
            connection
                .keys()
                .filter(|key| !CONNECTION_SETTINGS.contains(&key.as_str()))
                .map(|key| {
                    FieldViolation::new(format!("connection.{key}"), "is not a connection setting")
                }),
        );
    }
    match ValidationErrors::from_violations(refused) {
        None => Ok(()),
        Some(errors) => Err(Problem::validation(&errors)),
    }
}

/// The fields a printer body names, each of the right JSON type, none checked against the
/// rules yet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PrinterFields {
    id: Nullable<String>,
    name: Option<String>,
    printer_type: Option<String>,
    location: Nullable<String>,
    connection: Nullable<ConnectionPatch>,
    monitoring: Option<bool>,
}

impl PrinterFields {
    /// Reads a printer body: refused keys → 400 naming each, then wrong JSON types → 422
    /// naming each (a connection setting as `connection.port`).
    pub(crate) fn from_body(body: JsonObject, purpose: Purpose) -> Result<Self, Problem> {
        refuse_keys(&body.0, purpose)?;
        let mut reader = ObjectReader::new(body);
        let connection = reader.parsed("connection", "must be an object or null", |v| match v {
            Value::Null => Some(None),
            Value::Object(map) => Some(Some(map)),
            _ => None,
        });
        let connection = match connection {
            None => Nullable::Keep,
            Some(None) => Nullable::Clear,
            Some(Some(map)) => Nullable::Set(connection_patch(map, &mut reader)),
        };
        let fields = Self {
            id: reader.nullable_string("id"),
            name: reader.string("name"),
            printer_type: reader.string("printer_type"),
            location: reader.nullable_string("location"),
            connection,
            monitoring: reader.boolean("monitoring"),
        };
        reader.finish()?;
        Ok(fields)
    }

    /// A registration: an absent `name` or `printer_type` is empty, and so refused by the
    /// rules; `connection: null` is a manual printer.
    pub(crate) fn into_new(self) -> NewPrinter {
        NewPrinter {
            id: self.id.apply(None),
            name: self.name.unwrap_or_default(),
            printer_type: self.printer_type.unwrap_or_default(),
            location: self.location.apply(None),
            connection: match self.connection {
                Nullable::Set(c) => Some(c),
                Nullable::Keep | Nullable::Clear => None,
            },
            monitoring: self.monitoring,
        }
    }

    /// The edit: every absent field keeps its stored value, `null` clears.
    pub(crate) fn into_patch(self) -> PrinterPatch {
        PrinterPatch {
            name: self.name,
            printer_type: self.printer_type,
            location: self.location,
            connection: self.connection,
            monitoring: self.monitoring,
        }
    }
}

/// Reads a connection test's body (`POST /printers/test`) as a registration's is read:
/// refused keys → 400 naming each (down into `connection`), then wrong JSON types → 422
/// naming each. An absent `connection` is left to the domain, which names it with the rules.
pub(crate) fn connection_test(body: JsonObject) -> Result<ConnectionTestRequest, Problem> {
    refuse_keys_by(&body.0, test_refusal)?;
    let mut reader = ObjectReader::new(body);
    let connection = reader.parsed("connection", "must be an object", |v| match v {
        Value::Object(map) => Some(map),
        _ => None,
    });
    let connection = connection.map(|map| connection_patch(map, &mut reader));
    let printer_id = reader.string("printer_id");
    reader.finish()?;
    Ok(ConnectionTestRequest {
        connection,
        printer_id,
    })
}

/// Reads the `connection` object's settings; wrong types are reported to `reader` under
/// their path (`connection.port`).
fn connection_patch(mut map: Map<String, Value>, reader: &mut ObjectReader) -> ConnectionPatch {
    let mut take =
        |key: &str, message: &str, parse: fn(Value) -> Option<Value>| match map.remove(key) {
            None => Nullable::Keep,
            Some(Value::Null) => Nullable::Clear,
            Some(value) => match parse(value) {
                Some(v) => Nullable::Set(v),
                None => {
                    reader.wrong(&format!("connection.{key}"), message);
                    Nullable::Keep
                }
            },
        };
    let is_string = |v: Value| v.is_string().then_some(v);
    let is_integer = |v: Value| (v.is_i64() || v.is_u64()).then_some(v);
    const TEXT: &str = "must be a string or null";
    let mut text = |key: &str| -> Nullable<String> {
        match take(key, TEXT, is_string) {
            Nullable::Set(Value::String(s)) => Nullable::Set(s),
            Nullable::Clear => Nullable::Clear,
            _ => Nullable::Keep,
        }
    };
    let kind = text("kind");
    let host = text("host");
    let serial = text("serial");
    let access_code = text("access_code");
    let tls_fingerprint = text("tls_fingerprint");
    let ca_pem = text("ca_pem");
    let base_url = text("base_url");
    let api_key = text("api_key");
    let username = text("username");
    let password = text("password");
    let port = match take("port", "must be an integer or null", is_integer) {
        // Too large for an i64 is out of range all the same: the domain says so.
        Nullable::Set(v) => Nullable::Set(v.as_i64().unwrap_or(i64::MAX)),
        Nullable::Clear => Nullable::Clear,
        Nullable::Keep => Nullable::Keep,
    };
    let secret = |n: Nullable<String>| match n {
        Nullable::Set(s) => Nullable::Set(SecretText::new(s)),
        Nullable::Clear => Nullable::Clear,
        Nullable::Keep => Nullable::Keep,
    };
    ConnectionPatch {
        // The kind names what the settings mean; `null` for it is no kind at all.
        kind: match kind {
            Nullable::Set(k) => Some(k),
            Nullable::Clear => {
                reader.wrong("connection.kind", "must be a string");
                None
            }
            Nullable::Keep => None,
        },
        host,
        port,
        serial,
        access_code: secret(access_code),
        tls_fingerprint,
        ca_pem,
        base_url,
        api_key: secret(api_key),
        username,
        password: secret(password),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::problem::ProblemKind;

    #[test]
    fn each_schema_names_exactly_the_members_the_reader_accepts() {
        use crate::openapi::property_names;
        // Every key `refusal` knows, accepted or not, in the bodies' order.
        const KNOWN: [&str; 8] = [
            "id",
            "name",
            "printer_type",
            "location",
            "connection",
            "monitoring",
            "created_at",
            "status",
        ];
        for (purpose, properties) in [
            (Purpose::Register, property_names::<NewPrinter>()),
            (Purpose::Edit, property_names::<PrinterPatch>()),
        ] {
            let accepted: Vec<&str> = KNOWN
                .into_iter()
                .filter(|key| refusal(key, purpose).is_none())
                .collect();
            assert_eq!(properties, accepted, "{purpose:?}");
            assert!(refusal("colour", purpose).is_some());
        }
        assert_eq!(property_names::<ConnectionPatch>(), CONNECTION_SETTINGS);
    }

    fn read(body: Value, purpose: Purpose) -> Result<PrinterFields, Problem> {
        let Value::Object(map) = body else {
            panic!("not an object")
        };
        PrinterFields::from_body(JsonObject(map), purpose)
    }

    fn named(problem: &Problem) -> Vec<&str> {
        problem.errors().iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn a_full_edit_becomes_a_patch_with_every_field() {
        let patch = read(
            json!({ "name": "X1C", "printer_type": "bambu_lab", "location": null,
                    "monitoring": false,
                    "connection": { "kind": "bambu_lab", "host": "h", "port": 1883,
                                    "serial": null, "access_code": "c", "tls_fingerprint": null } }),
            Purpose::Edit,
        )
        .unwrap()
        .into_patch();
        assert_eq!(
            patch,
            PrinterPatch {
                name: Some("X1C".into()),
                printer_type: Some("bambu_lab".into()),
                location: Nullable::Clear,
                monitoring: Some(false),
                connection: Nullable::Set(ConnectionPatch {
                    kind: Some("bambu_lab".into()),
                    host: Nullable::Set("h".into()),
                    port: Nullable::Set(1883),
                    serial: Nullable::Clear,
                    access_code: Nullable::Set(SecretText::new("c")),
                    tls_fingerprint: Nullable::Clear,
                    ..ConnectionPatch::default()
                }),
            }
        );
        assert!(
            read(json!({}), Purpose::Edit)
                .unwrap()
                .into_patch()
                .is_empty()
        );
    }

    #[test]
    fn unknown_and_server_owned_keys_are_each_named_down_into_the_connection() {
        let problem = read(
            json!({ "id": "x", "status": {}, "colour": 1,
                    "connection": { "kind": "octoprint", "apikey": "k", "url": "u" } }),
            Purpose::Edit,
        )
        .unwrap_err();
        assert_eq!(problem.kind(), ProblemKind::Validation);
        assert_eq!(
            named(&problem),
            [
                "colour",
                "id",
                "status",
                "connection.apikey",
                "connection.url"
            ]
        );
        assert!(
            problem
                .detail()
                .contains("connection.apikey is not a connection setting")
        );
        // `id` is fine at registration.
        assert!(read(json!({ "id": "x" }), Purpose::Register).is_ok());
    }

    #[test]
    fn wrong_types_are_each_named_with_their_path() {
        let problem = read(
            json!({ "name": null, "monitoring": "yes",
                    "connection": { "kind": null, "port": "8883", "host": 5, "api_key": 1 } }),
            Purpose::Edit,
        )
        .unwrap_err();
        assert_eq!(problem.kind(), ProblemKind::WrongType);
        let mut fields = named(&problem);
        fields.sort_unstable();
        assert_eq!(
            fields,
            [
                "connection.api_key",
                "connection.host",
                "connection.kind",
                "connection.port",
                "monitoring",
                "name"
            ]
        );
        let problem = read(json!({ "connection": [] }), Purpose::Register).unwrap_err();
        assert_eq!(
            problem.errors(),
            [FieldViolation::new(
                "connection",
                "must be an object or null"
            )]
        );
    }

    #[test]
    fn a_connection_test_takes_a_connection_and_a_printer_id_only() {
        assert_eq!(
            property_names_of_test(),
            ["connection", "printer_id"],
            "the schema names what the reader takes"
        );
        let Value::Object(body) = json!({ "printer_id": "x1c",
            "connection": { "kind": "bambu_lab", "host": "h", "access_code": "c" } })
        else {
            unreachable!()
        };
        let request = connection_test(JsonObject(body)).unwrap();
        assert_eq!(request.printer_id.as_deref(), Some("x1c"));
        let connection = request.connection.unwrap();
        assert_eq!(connection.host, Nullable::Set("h".into()));
        assert_eq!(connection.access_code, Nullable::Set(SecretText::new("c")));

        let Value::Object(body) = json!({ "name": "X", "connection": { "url": "u" } }) else {
            unreachable!()
        };
        let problem = connection_test(JsonObject(body)).unwrap_err();
        assert_eq!(problem.kind(), ProblemKind::Validation);
        assert_eq!(named(&problem), ["name", "connection.url"]);

        let Value::Object(body) = json!({ "connection": null, "printer_id": 7 }) else {
            unreachable!()
        };
        let problem = connection_test(JsonObject(body)).unwrap_err();
        assert_eq!(problem.kind(), ProblemKind::WrongType);
        assert_eq!(named(&problem), ["connection", "printer_id"]);
    }

    fn property_names_of_test() -> Vec<String> {
        crate::openapi::property_names::<ConnectionTestRequest>()
    }

    #[test]
    fn a_wrong_type_never_echoes_a_secret() {
        let problem = read(
            json!({ "connection": { "password": ["hunter2"] } }),
            Purpose::Edit,
        )
        .unwrap_err();
        assert!(!problem.body().contains("hunter2"));
    }
}
