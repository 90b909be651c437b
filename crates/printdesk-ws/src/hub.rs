//! The hub: one tailer per process reads the event log and broadcasts each event, serialised
//! once, to every connected client.

use std::{
    fmt,
    sync::{Arc, Mutex, MutexGuard, Weak},
    time::Duration,
};

use async_trait::async_trait;
use bytestring::ByteString;
use printdesk_domain::{EventLog, EventPublisher, JobEvent, JobId, Seq, StoreError};
use tokio::{
    sync::{Notify, broadcast, mpsc, watch},
    task::JoinHandle,
};

/// Settings of an [`EventHub`]. `HubConfig::default()` is what the server uses; tests shrink
/// the numbers.
#[derive(Debug, Clone)]
pub struct HubConfig {
    /// How many events the broadcast keeps for clients that have not taken them yet. A client
    /// that falls further behind is closed with [`CLOSE_LAGGED`](crate::CLOSE_LAGGED). This
    /// bounds the memory live fan-out uses, however slow the clients.
    pub capacity: usize,
    /// At most this many events per read of the log by the tailer (clamped to a quarter of
    /// `capacity`, so one read cannot by itself push a keeping-up client over the edge).
    pub tail_batch: u32,
    /// Events per page when a client replays the log (`?since=`).
    pub replay_page: u32,
    /// The tailer reads the log at least this often even when nothing woke it, so a lost
    /// wake-up (a missed PostgreSQL notification) delays an event by at most this much.
    pub poll_interval: Duration,
    /// How often the server pings each client.
    pub ping_interval: Duration,
    /// A client from which nothing (not even a pong) arrived for this long is dropped.
    pub client_timeout: Duration,
    /// A client whose connection accepts no data for this long while an event waits to be
    /// sent is slow: it is closed with [`CLOSE_LAGGED`](crate::CLOSE_LAGGED).
    pub send_timeout: Duration,
    /// How often each client's credential is asked again whether it still gets in (its
    /// session live, its token not revoked, its role unchanged); one that no longer does is
    /// closed with [`CLOSE_ACCESS_ENDED`](crate::CLOSE_ACCESS_ENDED) or
    /// [`CLOSE_ROLE_CHANGED`](crate::CLOSE_ROLE_CHANGED). The ask is a request's own look-up
    /// in the database (one indexed read, no write), so a change made through any instance
    /// closes the sockets of every instance within this long.
    pub access_recheck: Duration,
}

impl Default for HubConfig {
    fn default() -> Self {
        Self {
            capacity: 4096,
            tail_batch: 512,
            replay_page: 500,
            poll_interval: Duration::from_secs(1),
            ping_interval: Duration::from_secs(10),
            client_timeout: Duration::from_secs(30),
            send_timeout: Duration::from_secs(10),
            access_recheck: Duration::from_millis(500),
        }
    }
}

/// One committed event as the clients get it: its JSON (the contract's event shape), made
/// once and shared by every client, with the fields clients are filtered and resumed by.
#[derive(Debug, Clone)]
pub struct WireEvent {
    /// Position in the global log.
    pub seq: Seq,
    /// The job it is about.
    pub job_id: JobId,
    /// The event as JSON text. Cloning it shares the bytes.
    pub json: ByteString,
}

impl WireEvent {
    /// Serialises `event`.
    pub fn new(event: &JobEvent) -> Result<Self, serde_json::Error> {
        Ok(Self {
            seq: event.seq,
            job_id: event.job_id,
            json: ByteString::from(serde_json::to_string(event)?),
        })
    }
}

/// Live fan-out of the event log to WebSocket clients.
///
/// - As the [`EventPublisher`] given to the domain's services, it only wakes the tailer: the
///   event itself is read back from the log, the source of truth, so every event reaches the
///   clients exactly once and in `seq` order whichever instance committed it.
/// - [`EventHub::spawn_tailer`] starts the one task that reads the log after the last
///   delivered `seq` whenever it is woken (by [`EventPublisher::publish`], by the store's
///   PostgreSQL notifications, or by its periodic poll) and broadcasts what it finds.
/// - [`crate::service`] is the WebSocket endpoint that subscribes clients to it.
///
/// Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct EventHub {
    inner: Arc<Inner>,
}

struct Inner {
    log: Arc<dyn EventLog>,
    config: HubConfig,
    wake: Notify,
    tail: Mutex<Tail>,
    /// `true` once the server is stopping: connections close with 1001.
    stopping: watch::Sender<bool>,
}

/// What the tailer has broadcast. Behind one lock so that a subscriber learns the last
/// delivered `seq` and subscribes atomically: every later event reaches its receiver.
struct Tail {
    delivered: Seq,
    sender: broadcast::Sender<WireEvent>,
}

impl fmt::Debug for EventHub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventHub")
            .field("delivered", &self.delivered())
            .field("clients", &self.clients())
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl EventHub {
    /// A hub over the event `log`. Live delivery starts after the newest event stored now
    /// (older ones are for clients that ask with `?since=`). Spawn its tailer next.
    pub async fn new(log: Arc<dyn EventLog>, config: HubConfig) -> Result<Self, StoreError> {
        let start = log.latest_seq().await?;
        Ok(Self::starting_at(log, config, start))
    }

    /// A hub whose live delivery starts after `start`.
    pub fn starting_at(log: Arc<dyn EventLog>, config: HubConfig, start: Seq) -> Self {
        let (sender, _) = broadcast::channel(config.capacity.max(1));
        Self {
            inner: Arc::new(Inner {
                log,
                config,
                wake: Notify::new(),
                tail: Mutex::new(Tail {
                    delivered: start,
                    sender,
                }),
                stopping: watch::Sender::new(false),
            }),
        }
    }

    /// Starts the tailer on the current tokio runtime. `wakeups` is an extra wake-up source,
    /// such as [`Store::event_notifications`] on PostgreSQL, so that events committed by
    /// other instances arrive without waiting for the periodic poll.
    ///
    /// Call it once per hub. The task ends by itself once every clone of the hub is gone.
    ///
    /// [`Store::event_notifications`]: https://docs.rs/printdesk-store-diesel
    pub fn spawn_tailer(&self, wakeups: Option<mpsc::Receiver<()>>) -> JoinHandle<()> {
        tokio::spawn(tail(Arc::downgrade(&self.inner), wakeups))
    }

    /// Closes every connection with [`CLOSE_GOING_AWAY`](crate::CLOSE_GOING_AWAY) (reason
    /// `server shutting down; reconnect with since=N`) and refuses new ones the same way.
    /// Call it when the server is asked to stop: open WebSockets would otherwise hold a
    /// graceful shutdown for its whole timeout.
    pub fn shut_down(&self) {
        self.inner.stopping.send_replace(true);
    }

    /// Whether [`EventHub::shut_down`] was called.
    pub fn is_shutting_down(&self) -> bool {
        *self.inner.stopping.borrow()
    }

    /// A receiver that changes to `true` when the hub shuts down.
    pub(crate) fn stopping(&self) -> watch::Receiver<bool> {
        self.inner.stopping.subscribe()
    }

    /// The newest `seq` broadcast so far.
    pub fn delivered(&self) -> Seq {
        self.lock().delivered
    }

    /// How many clients are subscribed now.
    pub fn clients(&self) -> usize {
        self.lock().sender.receiver_count()
    }

    /// The settings.
    pub fn config(&self) -> &HubConfig {
        &self.inner.config
    }

    /// The event log, for replays.
    pub(crate) fn event_log(&self) -> &Arc<dyn EventLog> {
        &self.inner.log
    }

    /// The last delivered `seq` and a receiver of every event after it.
    pub(crate) fn subscribe(&self) -> (Seq, broadcast::Receiver<WireEvent>) {
        let tail = self.lock();
        (tail.delivered, tail.sender.subscribe())
    }

    fn lock(&self) -> MutexGuard<'_, Tail> {
        self.inner.lock()
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, Tail> {
        // The lock guards two plain values that are always consistent; a panic elsewhere
        // cannot leave them half-written.
        self.tail.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Broadcasts every stored event after the last delivered one.
    async fn catch_up(&self) -> Result<(), StoreError> {
        let batch = self
            .config
            .tail_batch
            .min(u32::try_from(self.config.capacity / 4).unwrap_or(u32::MAX))
            .max(1);
        loop {
            let after = self.lock().delivered;
            let events = self.log.events_after(after, batch).await?;
            for event in &events {
                self.deliver(event);
            }
            if events.len() < batch as usize {
                return Ok(());
            }
        }
    }

    fn deliver(&self, event: &JobEvent) {
        let wire = match WireEvent::new(event) {
            Ok(wire) => wire,
            Err(e) => {
                // Cannot happen for the domain's types; if it did, clients would see a gap,
                // and reconnecting with `since` would not help either.
                tracing::error!(seq = %event.seq, error = %e, "cannot serialise an event; skipped");
                return;
            }
        };
        let mut tail = self.lock();
        if event.seq <= tail.delivered {
            return;
        }
        if event.seq.get() != tail.delivered.get() + 1 {
            tracing::warn!(
                after = %tail.delivered,
                seq = %event.seq,
                "the event log skipped a seq; delivering what it holds"
            );
        }
        tail.delivered = event.seq;
        // An error only means that nobody is subscribed right now.
        let _ = tail.sender.send(wire);
    }
}

/// The tailer: catch up, then sleep until something wakes it or the poll interval passes.
async fn tail(hub: Weak<Inner>, mut wakeups: Option<mpsc::Receiver<()>>) {
    let mut failing = false;
    loop {
        let Some(inner) = hub.upgrade() else {
            return;
        };
        match inner.catch_up().await {
            Ok(()) => {
                if failing {
                    tracing::info!("the event log is readable again");
                }
                failing = false;
            }
            Err(e) => {
                // Clients keep their connections and get the events once the log is back.
                if !failing {
                    tracing::warn!(error = %e, "cannot read the event log; retrying");
                }
                failing = true;
            }
        }
        tokio::select! {
            () = inner.wake.notified() => {}
            woken = next(&mut wakeups) => {
                if woken.is_none() {
                    tracing::warn!("the store's wake-ups stopped; relying on polling");
                    wakeups = None;
                }
            }
            () = tokio::time::sleep(inner.config.poll_interval) => {}
        }
    }
}

async fn next(wakeups: &mut Option<mpsc::Receiver<()>>) -> Option<()> {
    match wakeups {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

#[async_trait]
impl EventPublisher for EventHub {
    /// Wakes the tailer, which reads the event from the log. Never blocks, never fails.
    ///
    /// With no client connected there is nobody to deliver to, and reading the event back
    /// would be wasted (a store read per edit, measured at a tenth of an edit's CPU): the
    /// hub only notes that everything up to `event.seq` is delivered. That is sound because
    /// `seq` order is commit order, so every earlier event is committed too; and because the
    /// check and the update happen under the lock `subscribe` takes, a client connecting
    /// meanwhile either is counted here or learns the new `seq` as its starting point.
    async fn publish(&self, event: &JobEvent) {
        {
            let mut tail = self.inner.lock();
            if tail.sender.receiver_count() == 0 {
                tail.delivered = tail.delivered.max(event.seq);
                return;
            }
        }
        self.inner.wake.notify_one();
    }
}
