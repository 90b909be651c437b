//! The OpenAPI document as served (the HTTP API's, with the WebSocket's part merged in by the
//! composition root): a snapshot, so that every change to the API is a reviewed diff of
//! `tests/snapshots/openapi__openapi.snap`, and the properties no snapshot review should have
//! to catch. The WebSocket's own part is checked in `printdesk-ws`'s `tests/openapi.rs`.
//!
//! After an intended change: `INSTA_UPDATE=always cargo test -p printdesk-http --test openapi`
//! (or `cargo insta review`), then review and commit the snapshot. CI (`CI=true`) never
//! writes snapshots: a mismatch fails the test.

use printdesk_domain::{
    CUSTOMER_NAME_MAX_CHARS, FILE_NAME_MAX_CHARS, JOB_NAME_MAX_CHARS, JobField, JobStatus, Limit,
    NOTES_MAX_CHARS, PrinterName, PrinterType,
};
use serde_json::Value;

/// The document as served: the HTTP API's with the WebSocket's part, merged by the
/// composition root.
fn document() -> Value {
    serde_json::to_value(printdesk_app::openapi()).expect("the document serialises")
}

/// Every (path, method, operation) of the document.
fn operations(document: &Value) -> Vec<(String, String, Value)> {
    document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .iter()
                .map(move |(method, op)| (path.clone(), method.clone(), op.clone()))
        })
        .collect()
}

/// Follows a local `$ref` (`#/components/…`).
fn resolve<'a>(document: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let pointer = reference.strip_prefix('#').expect("a local reference");
            document
                .pointer(pointer)
                .unwrap_or_else(|| panic!("{reference} resolves"))
        }
        None => value,
    }
}

fn schema<'a>(document: &'a Value, name: &str) -> &'a Value {
    &document["components"]["schemas"][name]
}

#[test]
fn the_document_is_as_reviewed() {
    insta::assert_json_snapshot!("openapi", document());
}

#[test]
fn it_is_openapi_3_1_with_bearer_tokens_required_by_default() {
    let document = document();
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(
        document["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert_eq!(
        document["components"]["securitySchemes"]["session"],
        serde_json::json!({ "type": "apiKey", "in": "cookie", "name": "printdesk_session",
            "description": document["components"]["securitySchemes"]["session"]["description"] })
    );
    assert_eq!(
        document["security"],
        serde_json::json!([{ "bearer": [] }, { "session": [] }])
    );
    // Only the operations endpoints, signing in and the first run say they need none.
    for (path, method, op) in operations(&document) {
        let public = op.get("security") == Some(&serde_json::json!([{}]));
        assert_eq!(
            public,
            !path.starts_with("/api/v1/")
                || printdesk_http::auth::PUBLIC_PATHS.contains(&path.as_str()),
            "{method} {path}: security {:?}",
            op.get("security")
        );
    }
}

#[test]
fn operation_ids_are_unique_and_every_path_parameter_is_declared() {
    let document = document();
    let mut ids = Vec::new();
    for (path, method, op) in operations(&document) {
        ids.push(
            op["operationId"]
                .as_str()
                .expect("an operationId")
                .to_owned(),
        );
        let declared: Vec<&str> = op["parameters"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .filter(|p| p["in"] == "path")
                    .map(|p| p["name"].as_str().unwrap())
                    .collect()
            })
            .unwrap_or_default();
        let templated: Vec<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        assert_eq!(declared, templated, "{method} {path}");
    }
    let count = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), count, "duplicate operationIds: {ids:?}");
}

#[test]
fn every_api_error_is_a_problem_and_every_api_operation_lists_the_common_ones() {
    let document = document();
    for (path, method, op) in operations(&document) {
        let responses = op["responses"].as_object().unwrap();
        for (status, response) in responses {
            let response = resolve(&document, response);
            if status.starts_with('4') || status.starts_with('5') {
                let content = response["content"]
                    .as_object()
                    .unwrap_or_else(|| panic!("{method} {path} {status} has no body"));
                assert_eq!(
                    content.keys().collect::<Vec<_>>(),
                    ["application/problem+json"],
                    "{method} {path} {status}"
                );
                assert_eq!(
                    content["application/problem+json"]["schema"]["$ref"],
                    "#/components/schemas/Problem",
                    "{method} {path} {status}"
                );
            }
        }
        if !path.starts_with("/api/v1/") {
            continue;
        }
        let mut common = vec!["401", "500", "503"];
        if op.get("requestBody").is_some() {
            common.extend(["413", "415", "422"]);
            let body = &op["requestBody"]["content"]["application/json"]["schema"];
            let body = resolve(&document, body);
            assert_eq!(
                body["additionalProperties"], false,
                "{method} {path}: unknown members are refused, so the schema says so"
            );
        }
        for status in common {
            assert!(
                responses.contains_key(status),
                "{method} {path} does not list {status}"
            );
        }
    }
}

#[test]
fn timestamps_are_date_time_strings() {
    let document = document();
    for (schema_name, fields) in [
        (
            "Job",
            &[
                "created_at",
                "updated_at",
                "started_at",
                "completed_at",
                "discovery_time",
            ][..],
        ),
        ("Printer", &["created_at"][..]),
        ("JobEvent", &["at"][..]),
    ] {
        for field in fields {
            let property = &schema(&document, schema_name)["properties"][field];
            assert_eq!(property["format"], "date-time", "{schema_name}.{field}");
            let types = match &property["type"] {
                Value::String(t) => vec![t.as_str()],
                Value::Array(ts) => ts.iter().map(|t| t.as_str().unwrap()).collect(),
                other => panic!("{schema_name}.{field}: type {other}"),
            };
            assert!(
                types.contains(&"string"),
                "{schema_name}.{field}: {types:?}"
            );
        }
    }
}

#[test]
fn limits_and_enumerations_are_the_domains() {
    let document = document();
    let job = &schema(&document, "Job")["properties"];
    for (field, max) in [
        ("job_name", JOB_NAME_MAX_CHARS),
        ("customer_name", CUSTOMER_NAME_MAX_CHARS),
        ("notes", NOTES_MAX_CHARS),
        ("file_name", FILE_NAME_MAX_CHARS),
    ] {
        assert_eq!(job[field]["maxLength"], max, "Job.{field}");
    }
    for body in ["NewJob", "JobEdit"] {
        let properties = &schema(&document, body)["properties"];
        assert_eq!(properties["notes"]["maxLength"], NOTES_MAX_CHARS, "{body}");
        assert_eq!(
            properties["file_name"]["maxLength"], FILE_NAME_MAX_CHARS,
            "{body}"
        );
        // Exactly the editable fields.
        let mut names: Vec<&str> = properties
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut editable: Vec<&str> = JobField::EDITABLE.iter().map(|f| f.as_str()).collect();
        names.sort_unstable();
        editable.sort_unstable();
        assert_eq!(names, editable, "{body}");
    }
    assert_eq!(
        schema(&document, "Printer")["properties"]["name"]["maxLength"],
        PrinterName::MAX_CHARS
    );
    let statuses: Vec<&str> = JobStatus::ALL.iter().map(|s| s.as_str()).collect();
    assert_eq!(
        schema(&document, "JobStatus")["enum"],
        serde_json::json!(statuses)
    );
    let types: Vec<&str> = PrinterType::ALL.iter().map(|t| t.as_str()).collect();
    assert_eq!(
        schema(&document, "PrinterType")["enum"],
        serde_json::json!(types)
    );
    let mut changes: Vec<&str> = schema(&document, "JobChanges")["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut tracked: Vec<&str> = JobField::ALL.iter().map(|f| f.as_str()).collect();
    changes.sort_unstable();
    tracked.sort_unstable();
    assert_eq!(changes, tracked);
    let list = &document["paths"]["/api/v1/jobs"]["get"]["parameters"];
    let limit = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "limit")
        .unwrap();
    assert_eq!(limit["schema"]["maximum"], Limit::MAX);
    assert_eq!(limit["schema"]["minimum"], 1);
    assert_eq!(limit["schema"]["default"], Limit::default().get());
}
