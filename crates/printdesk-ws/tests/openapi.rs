//! The OpenAPI document (written in `printdesk-http`, which cannot depend on this crate)
//! describes this endpoint as it is: its path, and the close codes it sends.

use printdesk_http::openapi::{self, schema::CLOSE_CODES};
use printdesk_ws::{
    CLOSE_GOING_AWAY, CLOSE_HEARTBEAT_TIMEOUT, CLOSE_LAGGED, CLOSE_LOG_UNAVAILABLE, WS_PATH,
};

#[test]
fn the_document_names_this_endpoint() {
    assert_eq!(openapi::WS_PATH, WS_PATH);
    let document = serde_json::to_value(openapi::openapi()).unwrap();
    assert!(document["paths"][WS_PATH]["get"]["responses"]["101"].is_object());
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
    ];
    sent.sort_unstable();
    assert_eq!(documented, sent);
    let document = serde_json::to_value(openapi::openapi()).unwrap();
    assert_eq!(
        document["components"]["schemas"]["WsCloseCode"]["enum"],
        serde_json::json!(sent)
    );
}
