//! This crate's part of the OpenAPI document: the path `GET /api/v1/ws`, its parameters, its
//! answers, and the schemas of the messages the server sends on the socket and of its close
//! codes (as the crate's documentation describes them). The composition root merges it into
//! the HTTP API's document (`printdesk_http::openapi::document`), which also adds the answers
//! every `/api/v1` operation can give (401, 500, 503).
//!
//! The messages are written as JSON by the hub and the session rather than serialised from a
//! type, so their schemas are declared here, beside the constants they document.

use printdesk_domain::{JobEvent, Printer, monitoring::PrinterStatus};
use printdesk_http::Problem;
use utoipa::{
    OpenApi, PartialSchema, ToSchema,
    openapi::{
        self, ContentBuilder, KnownFormat, Ref, RefOr, Required, Schema, SchemaFormat,
        extensions::ExtensionsBuilder,
        path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItemBuilder},
        response::ResponseBuilder,
        schema::{ObjectBuilder, OneOfBuilder, Type},
        tag::TagBuilder,
    },
};

use crate::{
    CLOSE_ACCESS_ENDED, CLOSE_GOING_AWAY, CLOSE_HEARTBEAT_TIMEOUT, CLOSE_LAGGED,
    CLOSE_LOG_UNAVAILABLE, CLOSE_ROLE_CHANGED, WS_PATH,
};

/// The tag of the WebSocket's operation.
const TAG: &str = "live";

/// The WebSocket's part of the API document: the `/api/v1/ws` path and its schemas.
pub fn openapi() -> openapi::OpenApi {
    let mut document = WsDoc::openapi();
    document.paths.paths.insert(
        WS_PATH.to_owned(),
        PathItemBuilder::new()
            .operation(HttpMethod::Get, subscribe())
            .build(),
    );
    document.tags = Some(vec![
        TagBuilder::new()
            .name(TAG)
            .description(Some("Live updates over a WebSocket (`docs/websocket.md`)."))
            .build(),
    ]);
    document
}

#[derive(OpenApi)]
#[openapi(components(schemas(
    WsMessage,
    WsHello,
    WsPrinterStatus,
    WsPrinterChanged,
    WsCloseCode,
    JobEvent
)))]
struct WsDoc;

/// `GET /api/v1/ws`: not an HTTP operation a generator can call, but documented like one so
/// that the upgrade, its parameters, its errors and the message schemas are in one place.
fn subscribe() -> openapi::path::Operation {
    let since = ParameterBuilder::new()
        .name("since")
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(
            "The last `seq` the client received: first every stored event after it is \
             replayed, then live ones follow, with no gap and no duplicate.",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                .minimum(Some(0)),
        ));
    let job_id = ParameterBuilder::new()
        .name("job_id")
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(
            "Only events about this job (the `hello` is sent all the same).",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::Custom("uuid".into()))),
        ));
    let protocol = ParameterBuilder::new()
        .name("Sec-WebSocket-Protocol")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "`printdesk.bearer.<token>`: the token for a client that cannot set \
             `Authorization` on a WebSocket (a browser). The server echoes the subprotocol \
             in its 101.",
        ))
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)));

    let mut switching = ResponseBuilder::new()
        .description(
            "Switching Protocols: the connection is a WebSocket. The server sends JSON text \
             frames, each a `WsMessage`: first one `WsHello`, then `JobEvent`s in \
             increasing `seq`, and `WsPrinterStatus` and `WsPrinterChanged` messages about \
             printers. The client needs to send nothing; pings are answered. The server \
             closes with a `WsCloseCode` and the reason `… reconnect with since=N`.",
        )
        .build();
    // 101 has no body: the messages that follow are named by an extension.
    switching.extensions = Some(
        ExtensionsBuilder::new()
            .add(
                "x-websocket-messages",
                serde_json::json!({ "$ref": format!("#/components/schemas/{}", WsMessage::name()) }),
            )
            .add(
                "x-websocket-close-codes",
                serde_json::json!({ "$ref": format!("#/components/schemas/{}", WsCloseCode::name()) }),
            )
            .build(),
    );
    let bad_request = ResponseBuilder::new()
        .description(
            "A parameter is invalid or unknown (each is named in `errors`), or the request is \
             not a WebSocket upgrade.",
        )
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(Problem::name())))
                .build(),
        )
        .build();

    // 401, 500 and 503 are added with every other `/api/v1` operation's when the document is
    // assembled.
    OperationBuilder::new()
        .tag(TAG)
        .operation_id(Some("subscribe"))
        .summary(Some("Live updates (WebSocket)"))
        .description(Some(
            "Upgrades to a WebSocket that delivers every committed change to a job, in `seq` \
             order, exactly once, whichever instance made it, and the printers' live status. \
             Reconnect with `since` to get everything missed. See `docs/websocket.md`.",
        ))
        .parameter(since)
        .parameter(job_id)
        .parameter(protocol)
        .response("101", switching)
        .response("400", bad_request)
        .build()
}

/// `{"type":"hello","seq":N}`: the first message on a new WebSocket.
#[derive(ToSchema)]
#[schema(example = json!({ "type": "hello", "seq": 1042 }))]
#[allow(
    dead_code,
    reason = "a schema of a message written as JSON; never built"
)]
struct WsHello {
    /// Always `hello`.
    #[schema(rename = "type", schema_with = hello)]
    kind: String,
    /// The newest event this instance had delivered when the client subscribed; without
    /// `since`, the client receives every event after it. 0 before the first event.
    #[schema(minimum = 0)]
    seq: i64,
}

fn hello() -> ObjectBuilder {
    literal("hello").description(Some("Always `hello`."))
}

/// `{"type":"printer_status","printer_id":"…","status":{…}}`: a monitored printer's live
/// status, right after `hello` (one per monitored printer) and whenever it changes (at most
/// once a second for progress alone). It has no `seq` and is not part of the job history.
#[derive(ToSchema)]
#[schema(example = json!({
    "type": "printer_status", "printer_id": "bambu-x1c-1",
    "status": { "state": "printing", "online": true, "file": "benchy.3mf", "progress": 42.0,
                "remaining_s": 1260, "job_id": null, "last_seen": "2026-11-28T16:34:28.123Z",
                "error": null }
}))]
#[allow(
    dead_code,
    reason = "a schema of a message written as JSON; never built"
)]
struct WsPrinterStatus {
    /// Always `printer_status`.
    #[schema(rename = "type", schema_with = printer_status)]
    kind: String,
    /// The printer.
    #[schema(pattern = "^[a-z0-9_-]{1,64}$")]
    printer_id: String,
    /// Its status, as `GET /api/v1/printers/{id}` shows it.
    status: PrinterStatus,
}

fn printer_status() -> ObjectBuilder {
    literal("printer_status").description(Some("Always `printer_status`."))
}

/// `{"type":"printer_changed","printer_id":"…","printer":{…}}`: a printer was registered or
/// edited (`printer` as `GET /api/v1/printers/{id}` returns it), or deleted (`printer` is
/// null). It has no `seq` and is not part of the job history.
#[derive(ToSchema)]
#[schema(example = json!({ "type": "printer_changed", "printer_id": "bambu-x1c-1", "printer": null }))]
#[allow(
    dead_code,
    reason = "a schema of a message written as JSON; never built"
)]
struct WsPrinterChanged {
    /// Always `printer_changed`.
    #[schema(rename = "type", schema_with = printer_changed)]
    kind: String,
    /// The printer.
    #[schema(pattern = "^[a-z0-9_-]{1,64}$")]
    printer_id: String,
    /// The printer as it is now; null once it is deleted.
    #[schema(required = true)]
    printer: Option<Printer>,
}

fn printer_changed() -> ObjectBuilder {
    literal("printer_changed").description(Some("Always `printer_changed`."))
}

/// A string that is always `value`.
fn literal(value: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some([value]))
}

/// A message from the server on the WebSocket.
struct WsMessage;

impl PartialSchema for WsMessage {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(Ref::from_schema_name(WsHello::name()))
            .item(Ref::from_schema_name(JobEvent::name()))
            .item(Ref::from_schema_name(WsPrinterStatus::name()))
            .item(Ref::from_schema_name(WsPrinterChanged::name()))
            .description(Some(
                "A message from the server: one `WsHello` first, then `JobEvent`s (`type` \
                 `job_created`, `job_updated` or `job_deleted`), strictly increasing in `seq`. \
                 Without `job_id`, consecutive events have consecutive `seq`s: a jump means \
                 something was lost, and reconnecting with `since` repairs it. Printer \
                 messages (`printer_status`, `printer_changed`) carry no `seq`.",
            ))
            .into()
    }
}

impl ToSchema for WsMessage {}

/// Every close code the server sends, and when: its own, and the two the protocol library
/// sends for it (1000, the reply to a client's close; 1002, an invalid frame).
pub const CLOSE_CODES: [(u16, &str); 8] = [
    (
        1000,
        "the reply to the client's own close frame (or the client's own code)",
    ),
    (
        CLOSE_GOING_AWAY,
        "the server is shutting down: reconnect with since=N, to another instance or after a \
         pause",
    ),
    (
        1002,
        "the client sent an invalid frame (the reason says which): fix the client",
    ),
    (
        CLOSE_LOG_UNAVAILABLE,
        "the event log could not be read for a replay: reconnect after a pause with since=N",
    ),
    (
        CLOSE_HEARTBEAT_TIMEOUT,
        "nothing (not even a pong) heard from the client for 30 s: reconnect with since=N",
    ),
    (
        CLOSE_LAGGED,
        "the client could not keep up (more than 4096 events behind, or its connection took \
         nothing for 10 s): reconnect with since=N",
    ),
    (
        CLOSE_ACCESS_ENDED,
        "the socket's session ended (signed out, expired, ended by an admin, its user deleted \
         or given a new password or role) or its token was revoked: sign in again (or get a \
         new token), then reconnect with since=N",
    ),
    (
        CLOSE_ROLE_CHANGED,
        "the role the socket acts with changed: re-read who you are (GET /api/v1/session), \
         then reconnect with since=N",
    ),
];

/// The close codes the server sends, with what the client should do.
struct WsCloseCode;

impl PartialSchema for WsCloseCode {
    fn schema() -> RefOr<Schema> {
        let table: Vec<String> = CLOSE_CODES
            .iter()
            .map(|(code, when)| format!("- {code}: {when}"))
            .collect();
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .enum_values(Some(CLOSE_CODES.iter().map(|(code, _)| *code)))
            .description(Some(format!(
                "A close code the server sends. The close reason ends with \
                 `reconnect with since=N`, N being the last `seq` sent before the close \
                 frame, so reconnecting with it loses and repeats nothing.\n\n{}",
                table.join("\n")
            )))
            .into()
    }
}

impl ToSchema for WsCloseCode {}
