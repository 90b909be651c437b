//! One WebSocket client: hello, replay, live events, heartbeat, and the ways a connection ends.

use std::{
    pin::pin,
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use actix_web::{
    HttpMessage, HttpRequest, HttpResponse,
    http::header::{self, HeaderValue},
    web,
};
use actix_ws::{CloseCode, CloseReason, Message, MessageStream, Session};
use bytestring::ByteString;
use futures_util::FutureExt;
use printdesk_domain::{Seq, access::Role};
use printdesk_http::{
    Authenticator, Problem, ProblemKind, RequestPrincipal, auth::RequestCredential,
};
use tokio::{
    sync::{broadcast::error::RecvError, oneshot},
    time::{Instant, MissedTickBehavior},
};
use tracing::Instrument;

use crate::{
    CLOSE_ACCESS_ENDED, CLOSE_GOING_AWAY, CLOSE_HEARTBEAT_TIMEOUT, CLOSE_LAGGED,
    CLOSE_LOG_UNAVAILABLE, CLOSE_ROLE_CHANGED, MAX_CLIENT_FRAME, hub::EventHub,
    printers::PrinterBoard, query::Subscription,
};

static NEXT_CLIENT: AtomicU64 = AtomicU64::new(1);

/// How long a closing connection waits for the client's close frame in reply.
const CLOSE_HANDSHAKE_WAIT: Duration = Duration::from_secs(5);

/// How long a stopping server waits for a client's buffer to take the close frame, and then
/// for the client's reply.
const SHUTDOWN_CLOSE_LIMIT: Duration = Duration::from_secs(1);

/// The next printer message, or never for a client that gets none.
async fn next_printer_message(
    messages: &mut Option<tokio::sync::broadcast::Receiver<ByteString>>,
) -> Result<ByteString, RecvError> {
    match messages {
        Some(receiver) => receiver.recv().await,
        None => std::future::pending().await,
    }
}

/// `GET /api/v1/ws`: checks the query, upgrades, and hands the socket to its own task.
pub(crate) async fn connect(
    req: HttpRequest,
    body: web::Payload,
    hub: web::Data<EventHub>,
    printers: web::Data<PrinterBoard>,
) -> Result<HttpResponse, Problem> {
    let subscription = Subscription::parse(req.query_string())?;
    let (mut response, session, messages) = actix_ws::handle(&req, body).map_err(|e| {
        // The handshake error's `status_code()` is the default 500; its response has the real one.
        let status = e.error_response().status();
        Problem::new(
            ProblemKind::for_status(status),
            format!("This is the WebSocket endpoint; connect with a WebSocket client ({e})."),
        )
    })?;
    // A browser offering subprotocols accepts the connection only if one is echoed: echo the
    // `printdesk.bearer.<token>` one, which the authentication middleware has checked.
    let offered = printdesk_http::auth::bearer_subprotocol(req.headers());
    if let Some(value) = offered.and_then(|p| HeaderValue::from_str(p).ok()) {
        response
            .headers_mut()
            .insert(header::SEC_WEBSOCKET_PROTOCOL, value);
    }
    let client = NEXT_CLIENT.fetch_add(1, Ordering::Relaxed);
    let span = tracing::info_span!(
        "ws_client",
        client,
        since = subscription.since.map(Seq::get),
        job_id = subscription.job_id.map(tracing::field::display),
    );
    let access = Access::of(&req);
    let connection = Connection {
        hub: hub.get_ref().clone(),
        printers: printers.get_ref().clone(),
        subscription,
        session,
        access,
    };
    actix_web::rt::spawn(
        connection
            .run(messages.max_frame_size(MAX_CLIENT_FRAME))
            .instrument(span),
    );
    Ok(response)
}

struct Connection {
    hub: EventHub,
    printers: PrinterBoard,
    subscription: Subscription,
    session: Session,
    access: Option<Access>,
}

/// What the socket was let in with, to ask again while it is open: an open socket must not
/// outlive the session or token that opened it, nor act with a role its user no longer has.
struct Access {
    auth: Authenticator,
    credential: RequestCredential,
    role: Role,
}

/// Whether a socket may stay open.
enum Verdict {
    Stays,
    Ended,
    RoleChanged,
}

impl Access {
    /// From the request the authentication middleware let in; `None` when the app has no
    /// authenticator (then nobody is checked at all).
    fn of(req: &HttpRequest) -> Option<Self> {
        let auth = req.app_data::<web::Data<Authenticator>>()?;
        let credential = RequestCredential::of(req)?;
        let role = req.extensions().get::<RequestPrincipal>()?.0.role();
        Some(Self {
            auth: auth.get_ref().clone(),
            credential,
            role,
        })
    }

    async fn verdict(&self) -> Verdict {
        match self.auth.recheck(&self.credential).await {
            Ok(None) => Verdict::Ended,
            Ok(Some(principal)) if principal.role() != self.role => Verdict::RoleChanged,
            Ok(Some(_)) => Verdict::Stays,
            // The database is away: requests fail with 503 meanwhile, and the socket, which
            // needs the database for nothing else, stays until an answer says otherwise.
            Err(e) => {
                tracing::debug!(error = %e, "cannot check the socket's access; it stays");
                Verdict::Stays
            }
        }
    }
}

/// Asks `access` again every `every`, on a task of its own (so that a busy socket cannot
/// starve the checks, nor a slow check hold up events), until it no longer stays: the
/// receiver gets that verdict. The task ends with the socket (the receiver dropped).
fn watch(access: Access, every: Duration) -> oneshot::Receiver<Verdict> {
    let (mut tx, rx) = oneshot::channel();
    actix_web::rt::spawn(async move {
        let mut recheck = tokio::time::interval_at(Instant::now() + every, every);
        recheck.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = tx.closed() => return,
                _ = recheck.tick() => {}
            }
            let verdict = tokio::select! {
                () = tx.closed() => return,
                verdict = access.verdict() => verdict,
            };
            if !matches!(verdict, Verdict::Stays) {
                let _ = tx.send(verdict);
                return;
            }
        }
    });
    rx
}

/// The verdict that closes the socket, or never for a socket nobody checks.
async fn next_verdict(watch: &mut Option<oneshot::Receiver<Verdict>>) -> Verdict {
    match watch {
        Some(receiver) => match receiver.await {
            Ok(verdict) => verdict,
            Err(_) => {
                *watch = None;
                std::future::pending().await
            }
        },
        None => std::future::pending().await,
    }
}

/// Why sending to the client failed.
enum SendError {
    /// The connection is gone.
    Closed,
    /// The connection accepted nothing for [`crate::HubConfig::send_timeout`].
    Stalled,
}

/// How a connection ends, once the loop decides.
enum End {
    /// The client went away or closed; nothing more to send.
    Gone,
    /// Too slow: close with [`CLOSE_LAGGED`].
    Lagged,
    /// Silent for too long: close with [`CLOSE_HEARTBEAT_TIMEOUT`] if it fits, and drop.
    Silent,
    /// The log could not be read for a replay: close with [`CLOSE_LOG_UNAVAILABLE`].
    LogUnavailable,
    /// The server is stopping: close with [`CLOSE_GOING_AWAY`].
    ShuttingDown,
    /// The credential no longer gets in: close with [`CLOSE_ACCESS_ENDED`].
    AccessEnded,
    /// The role changed: close with [`CLOSE_ROLE_CHANGED`].
    RoleChanged,
}

impl Connection {
    async fn run(mut self, mut messages: MessageStream) {
        let config = self.hub.config().clone();
        // Subscribe first: every event after `head` reaches `live`, so the replay only has to
        // cover what came before, and the seam has no gap.
        let (head, mut live) = self.hub.subscribe();
        // Everything up to `cursor` has been sent (or filtered out); anything at or below it
        // that arrives again is skipped, so the seam has no duplicate either.
        let mut cursor = self.subscription.since.unwrap_or(head);
        let mut replaying = cursor < head;
        tracing::debug!(%head, "client connected");

        // Printer messages go to clients that follow everything, not one job's events.
        let (statuses, mut printer_messages) = if self.subscription.job_id.is_none() {
            let (current, receiver) = self.printers.subscribe();
            (current, Some(receiver))
        } else {
            (Vec::new(), None)
        };

        let hello = ByteString::from(format!(r#"{{"type":"hello","seq":{head}}}"#));
        if self.send(hello, config.send_timeout).await.is_err() {
            return;
        }
        // The current status of every monitored printer, right after hello.
        for status in statuses {
            if self.send(status, config.send_timeout).await.is_err() {
                return;
            }
        }

        let mut heartbeat =
            tokio::time::interval_at(Instant::now() + config.ping_interval, config.ping_interval);
        heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut silence = pin!(tokio::time::sleep(config.client_timeout));
        let mut stopping = self.hub.stopping();
        let mut access = self
            .access
            .take()
            .map(|access| watch(access, config.access_recheck));

        let end = loop {
            if *stopping.borrow_and_update() {
                break End::ShuttingDown;
            }
            tokio::select! {
                biased;
                // Only `true` is ever sent; an error means the hub is gone, and then so is
                // the server.
                changed = stopping.changed() => if changed.is_err() { break End::ShuttingDown },
                message = messages.recv() => {
                    silence.as_mut().reset(Instant::now() + config.client_timeout);
                    match message {
                        None => break End::Gone,
                        Some(Err(e)) => {
                            tracing::debug!(error = %e, "client sent an invalid frame");
                            let reason = CloseReason {
                                code: CloseCode::Protocol,
                                description: Some(e.to_string()),
                            };
                            let _ = self.session.clone().close(Some(reason)).now_or_never();
                            break End::Gone;
                        }
                        Some(Ok(Message::Ping(bytes))) => {
                            // A pong that does not fit now is not needed: data is flowing.
                            let _ = self.session.pong(&bytes).now_or_never();
                        }
                        Some(Ok(Message::Close(reason))) => {
                            tracing::debug!(?reason, "client closed");
                            let reply = reason.map(|r| CloseReason { code: r.code, description: None });
                            let _ = tokio::time::timeout(
                                config.send_timeout,
                                self.session.clone().close(reply),
                            )
                            .await;
                            break End::Gone;
                        }
                        // Pongs and anything else a client says only prove it is alive.
                        Some(Ok(_)) => {}
                    }
                }
                () = &mut silence => break End::Silent,
                verdict = next_verdict(&mut access) => match verdict {
                    Verdict::Stays => {}
                    Verdict::Ended => break End::AccessEnded,
                    Verdict::RoleChanged => break End::RoleChanged,
                },
                _ = heartbeat.tick() => {
                    // The ping queues behind any events not yet taken, like an event would.
                    // A failed one also tells that the connection is gone: actix does not
                    // always end the incoming stream when the peer resets the connection.
                    match tokio::time::timeout(config.send_timeout, self.session.ping(b"")).await {
                        Ok(Ok(())) => {}
                        Ok(Err(_closed)) => break End::Gone,
                        Err(_stalled) => break End::Lagged,
                    }
                }
                page = self.hub.event_log().events_after(cursor, config.replay_page), if replaying => {
                    let events = match page {
                        Ok(events) => events,
                        Err(e) => {
                            tracing::warn!(error = %e, "cannot replay the event log");
                            break End::LogUnavailable;
                        }
                    };
                    let mut failed = None;
                    for event in &events {
                        if self.subscription.wants(event.job_id) {
                            let json = match serde_json::to_string(event) {
                                Ok(json) => ByteString::from(json),
                                Err(e) => {
                                    tracing::error!(seq = %event.seq, error = %e, "cannot serialise an event; skipped");
                                    cursor = event.seq;
                                    continue;
                                }
                            };
                            if let Err(e) = self.send(json, config.send_timeout).await {
                                failed = Some(e);
                                break;
                            }
                        }
                        cursor = event.seq;
                    }
                    match failed {
                        Some(SendError::Closed) => break End::Gone,
                        Some(SendError::Stalled) => break End::Lagged,
                        None => {}
                    }
                    // A short page is the end of the log; past `head`, `live` has the rest.
                    if events.len() < config.replay_page as usize || cursor >= head {
                        replaying = false;
                        tracing::debug!(%cursor, "replay done");
                    }
                }
                printer = next_printer_message(&mut printer_messages) => match printer {
                    Ok(frame) => match self.send(frame, config.send_timeout).await {
                        Ok(()) => {}
                        Err(SendError::Closed) => break End::Gone,
                        Err(SendError::Stalled) => break End::Lagged,
                    },
                    // Missed statuses are superseded by the next ones; carry on.
                    Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => printer_messages = None,
                },
                received = live.recv(), if !replaying => match received {
                    Ok(event) => {
                        if event.seq <= cursor {
                            continue;
                        }
                        if self.subscription.wants(event.job_id) {
                            match self.send(event.json, config.send_timeout).await {
                                Ok(()) => {}
                                Err(SendError::Closed) => break End::Gone,
                                Err(SendError::Stalled) => break End::Lagged,
                            }
                        }
                        cursor = event.seq;
                    }
                    Err(RecvError::Lagged(missed)) => {
                        tracing::debug!(missed, "client fell behind the broadcast");
                        break End::Lagged;
                    }
                    // The hub is gone: the server is stopping.
                    Err(RecvError::Closed) => break End::Gone,
                },
            }
        };
        drop(live);

        match end {
            End::Gone => tracing::debug!(%cursor, "client disconnected"),
            End::Lagged => {
                tracing::info!(%cursor, "closing a client that cannot keep up");
                let reason = CloseReason {
                    code: CloseCode::from(CLOSE_LAGGED),
                    description: Some(format!("lagged; reconnect with since={cursor}")),
                };
                // The close frame queues behind what the client has not read yet; it gets as
                // long as a silent client would to read it, then the socket is dropped.
                self.close(
                    reason,
                    config.client_timeout,
                    &mut messages,
                    CLOSE_HANDSHAKE_WAIT,
                )
                .await;
            }
            End::Silent => {
                tracing::info!(
                    timeout_s = config.client_timeout.as_secs(),
                    "dropping a client that stopped answering pings"
                );
                let reason = CloseReason {
                    code: CloseCode::from(CLOSE_HEARTBEAT_TIMEOUT),
                    description: Some(format!("no pong; reconnect with since={cursor}")),
                };
                // Nobody is answering: no point waiting for a reply.
                self.close(reason, Duration::ZERO, &mut messages, Duration::ZERO)
                    .await;
            }
            End::ShuttingDown => {
                tracing::debug!(%cursor, "closing: the server is shutting down");
                let reason = CloseReason {
                    code: CloseCode::from(CLOSE_GOING_AWAY),
                    description: Some(format!(
                        "server shutting down; reconnect with since={cursor}"
                    )),
                };
                self.close(
                    reason,
                    SHUTDOWN_CLOSE_LIMIT,
                    &mut messages,
                    SHUTDOWN_CLOSE_LIMIT,
                )
                .await;
            }
            End::AccessEnded | End::RoleChanged => {
                let (code, reason) = if matches!(end, End::AccessEnded) {
                    tracing::info!(%cursor, "closing a client whose access ended");
                    (
                        CLOSE_ACCESS_ENDED,
                        format!("access ended; sign in again, then reconnect with since={cursor}"),
                    )
                } else {
                    tracing::info!(%cursor, "closing a client whose role changed");
                    (
                        CLOSE_ROLE_CHANGED,
                        format!("role changed; reconnect with since={cursor}"),
                    )
                };
                let reason = CloseReason {
                    code: CloseCode::from(code),
                    description: Some(reason),
                };
                self.close(
                    reason,
                    config.send_timeout,
                    &mut messages,
                    CLOSE_HANDSHAKE_WAIT,
                )
                .await;
            }
            End::LogUnavailable => {
                let reason = CloseReason {
                    code: CloseCode::from(CLOSE_LOG_UNAVAILABLE),
                    description: Some(format!(
                        "event log unavailable; reconnect with since={cursor}"
                    )),
                };
                self.close(
                    reason,
                    config.send_timeout,
                    &mut messages,
                    CLOSE_HANDSHAKE_WAIT,
                )
                .await;
            }
        }
    }

    /// Queues one text frame, waiting at most `limit` for room in the connection's bounded
    /// outgoing buffer. Cancel-safe: a frame that did not fit was not queued.
    async fn send(&mut self, text: ByteString, limit: Duration) -> Result<(), SendError> {
        match tokio::time::timeout(limit, self.session.text(text)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_closed)) => Err(SendError::Closed),
            Err(_elapsed) => Err(SendError::Stalled),
        }
    }

    /// Queues a close frame, waiting at most `limit` for room, then waits at most `linger` for
    /// the client's close frame before the connection ends.
    ///
    /// The wait matters: closing the TCP connection while the client still sends (a pong for
    /// a ping it has just read) makes the server's kernel answer with a reset, and a reset
    /// makes the client's kernel discard what the client has not read yet — the last events
    /// and the close frame with its `since`.
    async fn close(
        self,
        reason: CloseReason,
        limit: Duration,
        messages: &mut MessageStream,
        linger: Duration,
    ) {
        // A clone keeps the outgoing stream (and so the connection) open after the close frame.
        let keep_open = self.session.clone();
        let close = self.session.close(Some(reason));
        let queued = if limit.is_zero() {
            close.now_or_never().is_some()
        } else {
            tokio::time::timeout(limit, close).await.is_ok()
        };
        if !queued {
            tracing::debug!("the close frame did not fit; dropping the connection");
            return;
        }
        let reply = async {
            while let Some(Ok(message)) = messages.recv().await {
                if let Message::Close(_) = message {
                    return;
                }
            }
        };
        if tokio::time::timeout(linger, reply).await.is_err() {
            tracing::debug!("no close frame in reply; dropping the connection");
        }
        drop(keep_open);
    }
}
