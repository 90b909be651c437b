//! Printers for WebSocket clients: each printer's live status (`printer_status`) and
//! printers created, changed or deleted (`printer_changed`), on every instance.
//!
//! Only one instance monitors a printer, but every instance's clients see its status. The
//! monitoring instance hands each new status to its [`PrinterBoard`] (the domain's
//! [`PrinterStatusPublisher`]), which stores it and sends it to its own clients at once; every
//! board also reads the printers from the store once a second and sends what changed there
//! (another instance's statuses, and printers added, edited or deleted anywhere). So a status
//! reaches this instance's clients at once and other instances' clients within a second, and
//! a client that connects later gets the latest status of every monitored printer after
//! `hello`.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard, Weak},
    time::Duration,
};

use async_trait::async_trait;
use bytestring::ByteString;
use printdesk_domain::{
    Clock, Printer, PrinterId, PrinterRepository,
    monitoring::{PrinterStatus, PrinterStatusPublisher},
};
use serde::Serialize;
use tokio::{
    sync::{Notify, broadcast},
    task::JoinHandle,
};

/// How many printer messages the broadcast keeps for a client that has not taken them yet.
/// A client further behind misses some; each printer's next status supersedes them.
const CAPACITY: usize = 1024;

/// `{"type":"printer_status","printer_id":"…","status":{…}}`
#[derive(Serialize)]
struct StatusMessage<'a> {
    r#type: &'static str,
    printer_id: &'a PrinterId,
    status: &'a PrinterStatus,
}

/// `{"type":"printer_changed","printer_id":"…","printer":{…} | null}` (null: deleted).
#[derive(Serialize)]
struct ChangedMessage<'a> {
    r#type: &'static str,
    printer_id: &'a PrinterId,
    printer: Option<&'a Printer>,
}

fn status_frame(printer_id: &PrinterId, status: &PrinterStatus) -> Option<ByteString> {
    let message = StatusMessage {
        r#type: "printer_status",
        printer_id,
        status,
    };
    serde_json::to_string(&message).ok().map(ByteString::from)
}

fn changed_frame(printer_id: &PrinterId, printer: Option<&Printer>) -> Option<ByteString> {
    let message = ChangedMessage {
        r#type: "printer_changed",
        printer_id,
        printer,
    };
    serde_json::to_string(&message).ok().map(ByteString::from)
}

/// The printers as this instance's clients last heard of them, and the channel to them.
/// Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct PrinterBoard {
    inner: Arc<Inner>,
}

struct Inner {
    printers: Arc<dyn PrinterRepository>,
    clock: Arc<dyn Clock>,
    known: Mutex<Known>,
    sender: broadcast::Sender<ByteString>,
    wake: Notify,
    poll_interval: Duration,
}

#[derive(Default)]
struct Known {
    /// Every printer as last read or changed, status included.
    printers: HashMap<PrinterId, Printer>,
    /// Whether the printers were read once (before that, nothing is "new").
    loaded: bool,
}

impl std::fmt::Debug for PrinterBoard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrinterBoard")
            .field("printers", &self.known().printers.len())
            .field("clients", &self.inner.sender.receiver_count())
            .finish_non_exhaustive()
    }
}

impl PrinterBoard {
    /// A board over the printers in `printers`, reading them every `poll_interval`. Start
    /// its poller with [`PrinterBoard::spawn_poller`].
    pub fn new(
        printers: Arc<dyn PrinterRepository>,
        clock: Arc<dyn Clock>,
        poll_interval: Duration,
    ) -> Self {
        let (sender, _) = broadcast::channel(CAPACITY);
        Self {
            inner: Arc::new(Inner {
                printers,
                clock,
                known: Mutex::new(Known::default()),
                sender,
                wake: Notify::new(),
                poll_interval,
            }),
        }
    }

    /// Starts reading the printers once a poll interval (and when [`PrinterBoard::changed`]
    /// wakes it). Ends by itself once every clone of the board is gone.
    pub fn spawn_poller(&self) -> JoinHandle<()> {
        tokio::spawn(poll(Arc::downgrade(&self.inner)))
    }

    /// A printer was created, edited or deleted on this instance: tell the clients now rather
    /// than at the next poll.
    pub fn changed(&self) {
        self.inner.wake.notify_one();
    }

    /// The latest status of every monitored printer, as messages, and a receiver of every
    /// printer message after them.
    pub(crate) fn subscribe(&self) -> (Vec<ByteString>, broadcast::Receiver<ByteString>) {
        let known = self.known();
        let receiver = self.inner.sender.subscribe();
        let mut monitored: Vec<&Printer> =
            known.printers.values().filter(|p| p.monitoring).collect();
        monitored.sort_by(|a, b| a.id.cmp(&b.id));
        let current = monitored
            .into_iter()
            .filter_map(|p| status_frame(&p.id, &p.status))
            .collect();
        (current, receiver)
    }

    fn known(&self) -> MutexGuard<'_, Known> {
        self.inner.known()
    }
}

impl Inner {
    fn known(&self) -> MutexGuard<'_, Known> {
        self.known.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn send(&self, frame: Option<ByteString>) {
        if let Some(frame) = frame {
            // An error only means that no client is connected.
            let _ = self.sender.send(frame);
        }
    }

    /// Reads every printer and sends what changed since the last read.
    async fn refresh(&self) -> Result<(), printdesk_domain::StoreError> {
        let printers = self.printers.list().await?;
        let mut known = self.known();
        let first = !known.loaded;
        known.loaded = true;
        let mut gone: HashMap<PrinterId, Printer> = std::mem::take(&mut known.printers);
        for printer in printers {
            let before = gone.remove(&printer.id);
            if !first {
                match &before {
                    None => self.send(changed_frame(&printer.id, Some(&printer))),
                    Some(before) => {
                        let settings_changed = Printer {
                            status: printer.status.clone(),
                            ..before.clone()
                        } != printer;
                        if settings_changed {
                            self.send(changed_frame(&printer.id, Some(&printer)));
                        }
                        if before.status != printer.status && printer.monitoring {
                            self.send(status_frame(&printer.id, &printer.status));
                        }
                    }
                }
            }
            known.printers.insert(printer.id.clone(), printer);
        }
        if !first {
            for id in gone.keys() {
                self.send(changed_frame(id, None));
            }
        }
        Ok(())
    }
}

async fn poll(board: Weak<Inner>) {
    let mut failing = false;
    loop {
        let Some(inner) = board.upgrade() else {
            return;
        };
        match inner.refresh().await {
            Ok(()) => failing = false,
            Err(e) => {
                if !failing {
                    tracing::warn!(error = %e, "cannot read the printers; retrying");
                }
                failing = true;
            }
        }
        tokio::select! {
            () = inner.wake.notified() => {}
            () = tokio::time::sleep(inner.poll_interval) => {}
        }
    }
}

#[async_trait]
impl PrinterStatusPublisher for PrinterBoard {
    /// Stores the status (for the API and the other instances) and sends it to this
    /// instance's clients at once. A store failure is logged; the clients still get it.
    async fn publish(&self, printer: &PrinterId, status: &PrinterStatus) {
        let now = self.inner.clock.now();
        if let Err(e) = self.inner.printers.save_status(printer, status, now).await {
            tracing::warn!(%printer, error = %e, "cannot store a printer's status");
        }
        {
            let mut known = self.known();
            if let Some(known) = known.printers.get_mut(printer) {
                if known.status == *status {
                    return;
                }
                known.status = status.clone();
            }
        }
        self.inner.send(status_frame(printer, status));
    }
}
