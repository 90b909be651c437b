//! Bounded connections: a deadline for the whole request body, and room for new connections
//! when a worker is nearly full.
//!
//! actix's own timeout covers the request head only: a client that sends a head and then part
//! of a body holds its connection (and a file descriptor) for as long as it likes, and a
//! thousand such clients took every descriptor. Here, [`body_deadline`] gives each body
//! [`BodyTimeout`] from the request's arrival; a body not complete by then ends in `408`
//! (problem+json) and the connection is closed.
//!
//! And the cap on connections per worker (`HttpServer::max_connections`) must not lock out
//! everyone else: when a worker's connections pass [`ConnectionRoom::threshold`], each new
//! connection ([`ConnectionRoom::on_connect`]) ends the body that has been arriving longest
//! (`408` too). A slow sender can hold a connection only while nobody else needs it, and a
//! probe's `GET /healthz` (which has no body) is served at once.
//!
//! actix's workers are threads of their own, each with its connections: the counts live in
//! thread-locals.

use std::{
    any::Any,
    cell::{Cell, RefCell},
    collections::BTreeMap,
    future::Future,
    io,
    pin::Pin,
    rc::Rc,
    task::{Context, Poll},
    time::Duration,
};

use actix_web::{
    Error, HttpMessage,
    body::MessageBody,
    dev::{Extensions, Payload, ServiceRequest, ServiceResponse},
    error::PayloadError,
    http::{ConnectionType, header},
    middleware::Next,
    web::{self, Bytes},
};
use futures_util::Stream;
use tokio::{sync::oneshot, time::Sleep};

/// How long a request's body may take to arrive, from the request's arrival. Register it as
/// `web::Data<BodyTimeout>`; without it, bodies have no deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyTimeout(pub Duration);

impl Default for BodyTimeout {
    fn default() -> Self {
        Self(Duration::from_secs(10))
    }
}

/// Why a body read was ended early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cut {
    /// [`BodyTimeout`] passed.
    Deadline,
    /// A new connection needed the room.
    Evicted,
}

/// The message of the `io::Error` (kind `TimedOut`) a cut body ends with; the body reader
/// ([`crate::json_body`]) turns it into a 408.
pub(crate) const BODY_TOO_SLOW: &str = "the request body did not arrive in time";

thread_local! {
    /// This worker's open connections.
    static CONNECTIONS: Cell<usize> = const { Cell::new(0) };
    /// This worker's bodies being read, oldest first: how to end each early.
    static READERS: RefCell<BTreeMap<u64, oneshot::Sender<()>>> = const { RefCell::new(BTreeMap::new()) };
    static NEXT_READER: Cell<u64> = const { Cell::new(0) };
}

/// The per-worker connection accounting, for `HttpServer::on_connect`.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionRoom {
    /// Past this many connections on a worker, each new one ends the oldest body read.
    pub threshold: usize,
}

impl ConnectionRoom {
    /// For a worker capped at `max_connections` (`HttpServer::max_connections`): room is made
    /// from 15/16 of the cap on, so that the cap itself (where actix stops accepting) is not
    /// reached while slow bodies hold connections.
    pub fn for_cap(max_connections: usize) -> Self {
        Self {
            threshold: max_connections.saturating_sub((max_connections / 16).max(1)),
        }
    }

    /// Counts a new connection on this worker (until the connection is dropped) and, past the
    /// threshold, ends the body read that started first.
    pub fn on_connect(&self, _io: &dyn Any, data: &mut Extensions) {
        let open = CONNECTIONS.with(|c| {
            c.set(c.get() + 1);
            c.get()
        });
        data.insert(Counted);
        if open > self.threshold {
            let oldest = READERS.with(|r| r.borrow_mut().pop_first());
            if let Some((_, cut)) = oldest {
                let _ = cut.send(());
            }
        }
    }
}

/// Lives as long as its connection (in the connection's extensions).
struct Counted;

impl Drop for Counted {
    fn drop(&mut self) {
        CONNECTIONS.with(|c| c.set(c.get().saturating_sub(1)));
    }
}

/// The middleware function: puts the deadline on the body of every request that has one, and
/// closes the connection after a body that was cut off (the rest of it is never read).
pub async fn body_deadline(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let timeout = req
        .app_data::<web::Data<BodyTimeout>>()
        .map(|t| t.0)
        .filter(|_| has_body(&req));
    let Some(timeout) = timeout else {
        return next.call(req).await;
    };
    let cut = Rc::new(Cell::new(None));
    let id = NEXT_READER.with(|n| {
        let id = n.get();
        n.set(id + 1);
        id
    });
    let (evict, evicted) = oneshot::channel();
    READERS.with(|r| r.borrow_mut().insert(id, evict));
    let body = Deadlined {
        inner: req.take_payload(),
        deadline: Box::pin(tokio::time::sleep(timeout)),
        evicted: Some(evicted),
        cut: cut.clone(),
        id,
        done: false,
    };
    req.set_payload(Payload::from(
        Box::pin(body) as Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>>
    ));
    let result = next.call(req).await;
    READERS.with(|r| r.borrow_mut().remove(&id));
    let mut res = result?;
    if let Some(why) = cut.get() {
        match why {
            Cut::Deadline => tracing::info!(?timeout, "request body not complete in time"),
            Cut::Evicted => {
                tracing::info!("slow request body ended to make room for a new connection")
            }
        }
        res.response_mut()
            .head_mut()
            .set_connection_type(ConnectionType::Close);
    }
    Ok(res)
}

fn has_body(req: &ServiceRequest) -> bool {
    req.headers().contains_key(header::TRANSFER_ENCODING)
        || req
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0")
}

/// A request body that ends in an error at its deadline or when evicted.
struct Deadlined {
    inner: Payload,
    deadline: Pin<Box<Sleep>>,
    /// `None` once it has answered (a oneshot may not be polled again).
    evicted: Option<oneshot::Receiver<()>>,
    cut: Rc<Cell<Option<Cut>>>,
    id: u64,
    done: bool,
}

impl Deadlined {
    fn end(&mut self, why: Cut) -> Poll<Option<Result<Bytes, PayloadError>>> {
        self.done = true;
        self.cut.set(Some(why));
        READERS.with(|r| r.borrow_mut().remove(&self.id));
        Poll::Ready(Some(Err(PayloadError::Io(io::Error::new(
            io::ErrorKind::TimedOut,
            BODY_TOO_SLOW,
        )))))
    }
}

impl Stream for Deadlined {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        if let Poll::Ready(item) = Pin::new(&mut this.inner).poll_next(cx) {
            if item.is_none() {
                this.done = true;
                READERS.with(|r| r.borrow_mut().remove(&this.id));
            }
            return Poll::Ready(item);
        }
        if this.deadline.as_mut().poll(cx).is_ready() {
            return this.end(Cut::Deadline);
        }
        if let Some(evicted) = &mut this.evicted
            && let Poll::Ready(answer) = Pin::new(evicted).poll(cx)
        {
            this.evicted = None;
            // A dropped sender (the registry let go of this read) is not an eviction.
            if answer.is_ok() {
                return this.end(Cut::Evicted);
            }
        }
        Poll::Pending
    }
}

impl Drop for Deadlined {
    fn drop(&mut self) {
        READERS.with(|r| r.borrow_mut().remove(&self.id));
    }
}
