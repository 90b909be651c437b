//! This crate's part of the OpenAPI document describes the endpoint as it is: its path, its
//! messages, and the close codes it sends; and the composition root serves it merged into the
//! API's document.

use printdesk_ws::{
    CLOSE_ACCESS_ENDED, CLOSE_CODES, CLOSE_GOING_AWAY, CLOSE_HEARTBEAT_TIMEOUT, CLOSE_LAGGED,
    CLOSE_LOG_UNAVAILABLE, CLOSE_ROLE_CHANGED, WS_PATH,
};
use serde_json::{Value, json};

/// The document as served.
fn served() -> Value {
    serde_json::to_value(printdesk_app::openapi()).unwrap()
}

fn schema<'a>(document: &'a Value, name: &str) -> &'a Value {
    &document["components"]["schemas"][name]
}

#[test]
fn the_document_names_this_endpoint() {
    let part = serde_json::to_value(printdesk_ws::openapi()).unwrap();
    assert_eq!(
        part["paths"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        [WS_PATH]
    );
    let document = served();
    let responses = &document["paths"][WS_PATH]["get"]["responses"];
    assert!(responses["101"].is_object());
    // Like every `/api/v1` operation: the token, the server and its database.
    for status in ["400", "401", "500", "503"] {
        assert!(responses[status].is_object(), "{status}");
    }
}

#[test]
fn the_document_lists_every_close_code_this_crate_sends_and_no_other() {
    let documented: Vec<u16> = CLOSE_CODES.iter().map(|(code, _)| *code).collect();
    // The server's own codes, plus the two the protocol library sends for it: 1000 (the
    // reply to a client's close) and 1002 (an invalid frame).
    let mut sent = vec![
        1000,
        1002,
        CLOSE_GOING_AWAY,
        CLOSE_HEARTBEAT_TIMEOUT,
        CLOSE_LAGGED,
        CLOSE_LOG_UNAVAILABLE,
        CLOSE_ACCESS_ENDED,
        CLOSE_ROLE_CHANGED,
    ];
    sent.sort_unstable();
    assert_eq!(documented, sent);
    assert_eq!(schema(&served(), "WsCloseCode")["enum"], json!(sent));
}

#[test]
fn the_websocket_is_documented_with_its_messages() {
    let document = served();
    let ws = &document["paths"][WS_PATH]["get"];
    assert_eq!(
        ws["responses"]["101"]["x-websocket-messages"]["$ref"],
        "#/components/schemas/WsMessage"
    );
    let messages = schema(&document, "WsMessage")["oneOf"].as_array().unwrap();
    assert_eq!(
        messages,
        &[
            json!({ "$ref": "#/components/schemas/WsHello" }),
            json!({ "$ref": "#/components/schemas/JobEvent" }),
            json!({ "$ref": "#/components/schemas/WsPrinterStatus" }),
            json!({ "$ref": "#/components/schemas/WsPrinterChanged" }),
        ]
    );
    for (message, kind) in [
        ("WsHello", "hello"),
        ("WsPrinterStatus", "printer_status"),
        ("WsPrinterChanged", "printer_changed"),
    ] {
        assert_eq!(
            schema(&document, message)["properties"]["type"]["enum"],
            json!([kind]),
            "{message}"
        );
    }
    assert_eq!(
        schema(&document, "WsPrinterStatus")["properties"]["status"]["$ref"],
        "#/components/schemas/PrinterStatus"
    );
    for name in [
        "JobEvent",
        "EventKind",
        "JobChanges",
        "FieldChange",
        "WsCloseCode",
        "PrinterStatus",
        "Printer",
    ] {
        assert!(schema(&document, name).is_object(), "{name}");
    }
}
