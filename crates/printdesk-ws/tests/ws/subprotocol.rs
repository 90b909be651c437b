//! The token subprotocol: a browser that offers `printdesk.bearer.<token>` (it cannot set an
//! `Authorization` header on a WebSocket) gets it echoed in the `101`, or it would drop the
//! connection. Whether the token is valid is the authentication middleware's business, tested
//! with the server binary (`crates/printdesk/tests/auth.rs`); this stack has no tokens.

use futures_util::StreamExt;
use printdesk_store_diesel::test_support::TestDatabase;
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::{client_async, tungstenite::client::IntoClientRequest};

use crate::helpers::{PATIENCE, Stack};

const PROTOCOL: &str = "sec-websocket-protocol";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bearer_subprotocol_is_echoed() {
    let db = TestDatabase::sqlite();
    let stack = Stack::start(&db).await;
    for (offered, echoed) in [
        (
            "printdesk.bearer.pd_abc-_123",
            Some("printdesk.bearer.pd_abc-_123"),
        ),
        (
            "printdesk.bearer.pd_abc, chat",
            Some("printdesk.bearer.pd_abc"),
        ),
        ("", None),
    ] {
        let mut request = stack.ws_url("").into_client_request().unwrap();
        if !offered.is_empty() {
            request
                .headers_mut()
                .insert(PROTOCOL, offered.parse().unwrap());
        }
        let stream = TcpStream::connect(stack.addr).await.unwrap();
        // The client fails the handshake if an offered subprotocol is not echoed.
        let (mut ws, response) = client_async(request, stream)
            .await
            .unwrap_or_else(|e| panic!("handshake offering {offered:?}: {e}"));
        assert_eq!(
            response
                .headers()
                .get(PROTOCOL)
                .map(|v| v.to_str().unwrap()),
            echoed,
            "{offered}"
        );
        let hello = tokio::time::timeout(PATIENCE, ws.next())
            .await
            .expect("a hello in time")
            .expect("a frame")
            .expect("a message");
        let hello: Value = serde_json::from_str(hello.to_text().unwrap()).unwrap();
        assert_eq!(hello["type"], "hello");
    }
}
