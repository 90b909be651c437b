//! # printdesk-ws
//!
//! Live updates: every committed change to a job reaches every connected WebSocket client, in
//! `seq` order, exactly once, whichever instance made it; a client that reconnects with the
//! last `seq` it saw gets everything it missed.
//!
//! ## How
//!
//! The event log (`job_events`, written in the same transaction as each change) is the source
//! of truth. An [`EventHub`] is the domain's [`EventPublisher`](printdesk_domain::EventPublisher),
//! but `publish` only *wakes* the hub's tailer. The tailer reads
//! [`events_after`](printdesk_domain::EventLog::events_after) the last `seq` it delivered
//! and broadcasts each event, serialised to JSON once, to every client. It is also woken by
//! PostgreSQL notifications from other instances and by a periodic poll (1 s), so a lost
//! wake-up delays an event but never loses it.
//!
//! The composition root (`printdesk-app`) creates the hub, starts its tailer with the store's
//! notifications, and mounts [`service`] before `printdesk_http::api_scope()` (whose
//! `/api/v1` scope would otherwise answer 404 for it) and before the page's catch-all route.
//!
//! ## The protocol: `GET /api/v1/ws`
//!
//! Query parameters, both optional:
//!
//! | parameter | meaning |
//! |---|---|
//! | `since=N` | first replay every stored event with `seq` > `N`, then continue live |
//! | `job_id=UUID` | only events about this job (the `hello` is sent all the same) |
//!
//! An invalid or unknown parameter is answered before the upgrade with
//! `400 application/problem+json` (`type`, `title`, `status`, `detail`, and one `errors` entry
//! per parameter), like every other error of the API.
//!
//! Server → client, text frames, one JSON object each:
//!
//! 1. `{"type":"hello","seq":N}` once, first: `N` is the newest event this instance had
//!    delivered when the client subscribed. A client without `since` receives every event
//!    after `N`; one that wants to load state first and then follow changes can load, then
//!    connect with `since` set to the `seq` it loaded at.
//! 2. Then events, in strictly increasing `seq` order, with no gap and no duplicate (with
//!    `job_id`, the gaps are the other jobs' events), exactly as the API contract shows them:
//!    `{"seq":1042,"type":"job_updated","at":"…","job_id":"…","actor":null,"job":{…},
//!    "changes":{"notes":{"old":null,"new":"re-sliced"}}}`; `type` is `job_created`,
//!    `job_updated` or `job_deleted`.
//!
//! With `since=N`, the events after `N` come from the log first, then live ones; the seam
//! has no gap and no duplicate. `N` may be ahead of what this instance has delivered (a client
//! moving between instances): it then gets only events after `N`.
//!
//! Client → server: nothing is needed. Pings are answered with pongs; any frame counts as a
//! sign of life; a close frame is answered with a close frame and the connection ends.
//!
//! ## Heartbeat, slow clients, close codes
//!
//! The server pings every 10 s. A client from which nothing has arrived (not even a pong)
//! for 30 s is dropped. Each client has a bounded queue: the broadcast keeps at most 4096
//! events, and the connection's own outgoing buffer is bounded too. A client that falls more
//! than that behind, or whose connection accepts nothing for 10 s while an event waits, is
//! closed; it should reconnect with `since`. Other clients and the server's memory are
//! unaffected. After a close frame the server waits up to 5 s for the client's close frame
//! before dropping the connection, so that a client still reading its backlog gets all of it.
//! Close codes the server sends:
//!
//! | code | reason text | when | the client should |
//! |---|---|---|---|
//! | 1000 (or the client's own code) | | reply to the client's close | — |
//! | [`CLOSE_GOING_AWAY`] 1001 | `server shutting down; reconnect with since=N` | the server is stopping ([`EventHub::shut_down`]) | reconnect with `since=N` (another instance, or after a pause) |
//! | 1002 | the frame error | the client sent an invalid frame | fix itself |
//! | [`CLOSE_LOG_UNAVAILABLE`] 1011 | `event log unavailable; reconnect with since=N` | the replay could not read the database | reconnect after a pause, with `since=N` |
//! | [`CLOSE_HEARTBEAT_TIMEOUT`] 4000 | `no pong; reconnect with since=N` | nothing heard for 30 s (sent if it fits; usually the socket is just dropped) | reconnect with `since=N` |
//! | [`CLOSE_LAGGED`] 4008 | `lagged; reconnect with since=N` | the client could not keep up | reconnect with `since=N` |
//! | [`CLOSE_ACCESS_ENDED`] 4401 | `access ended; sign in again, then reconnect with since=N` | the session the socket was opened with ended (signed out, expired, ended by an admin, its user deleted or given a new password or role) or its token was revoked | not reconnect as it is: sign in (or get a new token) first |
//! | [`CLOSE_ROLE_CHANGED`] 4409 | `role changed; reconnect with since=N` | the role the socket acts with changed (a token's user was given another role) | re-read who it is (`GET /api/v1/session`), reconnect with `since=N` |
//!
//! Access is checked again every [`HubConfig::access_recheck`] (500 ms) while a socket is
//! open, by the same database look-up a request makes; so a sign-out, a revocation or an
//! admin's change made through any instance closes the socket on every instance within about
//! half a second. A socket's checks do not count as use of its session: a page left open and
//! untouched still ends with the session's idle lifetime.
//!
//! In each reason, `N` is the last `seq` the server sent (or, with `job_id`, passed over)
//! before the close frame: everything up to `N` that the client asked for precedes the close
//! frame in the stream, so reconnecting with `since=N` loses and repeats nothing. A connection
//! that breaks without a close frame (network, server restart) resumes with the last `seq`
//! the client received, with the same guarantee.

mod hub;
mod openapi;
mod printers;
mod query;
mod session;

use actix_web::{Resource, web};

pub use hub::{EventHub, HubConfig, WireEvent};
pub use openapi::{CLOSE_CODES, openapi};
pub use printers::PrinterBoard;

/// Where the endpoint is.
pub const WS_PATH: &str = "/api/v1/ws";

/// Close code: the server is shutting down (standard 1001, "going away"); reconnect, to
/// another instance or after a pause, with `since`.
pub const CLOSE_GOING_AWAY: u16 = 1001;

/// Close code: the client could not keep up; reconnect with `since`.
pub const CLOSE_LAGGED: u16 = 4008;

/// Close code: nothing heard from the client (no pong) within the timeout.
pub const CLOSE_HEARTBEAT_TIMEOUT: u16 = 4000;

/// Close code: the credential the socket was opened with no longer gets in (session ended,
/// token revoked): sign in again before reconnecting. After HTTP's 401.
pub const CLOSE_ACCESS_ENDED: u16 = 4401;

/// Close code: the role the socket acts with changed: re-read who one is, then reconnect
/// with `since`.
pub const CLOSE_ROLE_CHANGED: u16 = 4409;

/// Close code: the event log could not be read (standard 1011, "internal error").
pub const CLOSE_LOG_UNAVAILABLE: u16 = 1011;

/// Largest frame a client may send. Clients only need pings, pongs and close frames.
pub const MAX_CLIENT_FRAME: usize = 16 * 1024;

/// The endpoint `GET /api/v1/ws`, with `hub` (job events) and `printers` (printer statuses
/// and changes) as its data. Register it with `App::service` before
/// `printdesk_http::api_scope()` and any catch-all route.
pub fn service(hub: EventHub, printers: PrinterBoard) -> Resource {
    web::resource(WS_PATH)
        .app_data(web::Data::new(hub))
        .app_data(web::Data::new(printers))
        .route(web::get().to(session::connect))
}
