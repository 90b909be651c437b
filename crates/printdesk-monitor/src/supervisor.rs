//! One task per monitored printer: started when a printer is to be followed, restarted when its
//! connection settings change, stopped when it is deleted, paused or handed to another
//! instance — all without a restart of printdesk.

use std::{collections::HashMap, fmt, sync::Arc, time::Duration};

use async_trait::async_trait;
use printdesk_domain::PrinterId;
use tokio::{sync::mpsc, task::JoinHandle};

use crate::{
    ConnectorEvent,
    bambu::{self, BambuSettings},
    octoprint::{self, OctoPrintSettings},
};

/// How to reach a printer, per protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    /// Bambu Lab LAN MQTT.
    Bambu(BambuSettings),
    /// OctoPrint REST + push socket.
    OctoPrint(OctoPrintSettings),
}

impl Connection {
    /// The name of the credential the printer may refuse, for status sentences.
    pub fn credential(&self) -> &'static str {
        match self {
            Self::Bambu(_) => "access code",
            Self::OctoPrint(_) => "API key",
        }
    }
}

/// A printer this instance is to follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowedPrinter {
    /// The printer.
    pub id: PrinterId,
    /// How to reach it.
    pub connection: Connection,
}

/// Where the supervisor learns which printers to follow and hands their events.
#[async_trait]
pub trait MonitorTarget: Send + Sync + fmt::Debug + 'static {
    /// The printers this instance follows now (monitored, with a connection, and — with
    /// several instances — the ones this instance holds the lease of).
    async fn printers(&self) -> Vec<FollowedPrinter>;

    /// One event of one printer's connector, in order per printer.
    async fn on_event(&self, printer: &FollowedPrinter, event: ConnectorEvent);

    /// The printer is no longer followed by this instance (deleted, paused, settings
    /// changed, or handed over).
    async fn on_unfollowed(&self, printer: &PrinterId);
}

/// The running tasks. Dropping the supervisor stops every printer's task.
#[derive(Debug)]
pub struct Supervisor {
    task: JoinHandle<()>,
    wake: mpsc::Sender<()>,
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Supervisor {
    /// Starts following `target`'s printers, looking for changes every `interval` and
    /// whenever [`Supervisor::wake`] is called.
    pub fn spawn(target: Arc<dyn MonitorTarget>, interval: Duration) -> Self {
        let (wake, mut woken) = mpsc::channel(1);
        let task = tokio::spawn(async move {
            let mut running = Running::default();
            loop {
                let wanted = target.printers().await;
                running.converge(&target, wanted).await;
                tokio::select! {
                    () = tokio::time::sleep(interval) => {}
                    Some(()) = woken.recv() => {}
                }
            }
        });
        Self { task, wake }
    }

    /// Looks for changes now (a printer was added, changed or deleted on this instance).
    pub fn wake(&self) {
        let _ = self.wake.try_send(());
    }
}

/// A printer's connector task and the task that hands its events on.
#[derive(Debug)]
struct Following {
    printer: FollowedPrinter,
    connector: JoinHandle<()>,
    relay: JoinHandle<()>,
}

impl Drop for Following {
    fn drop(&mut self) {
        self.connector.abort();
        self.relay.abort();
    }
}

#[derive(Debug, Default)]
struct Running {
    printers: HashMap<PrinterId, Following>,
}

impl Running {
    async fn converge(&mut self, target: &Arc<dyn MonitorTarget>, wanted: Vec<FollowedPrinter>) {
        let wanted: HashMap<PrinterId, FollowedPrinter> =
            wanted.into_iter().map(|p| (p.id.clone(), p)).collect();
        let stale: Vec<PrinterId> = self
            .printers
            .iter()
            .filter(|(id, f)| wanted.get(*id) != Some(&f.printer))
            .map(|(id, _)| id.clone())
            .collect();
        for id in stale {
            drop(self.printers.remove(&id));
            target.on_unfollowed(&id).await;
        }
        for (id, printer) in wanted {
            if let std::collections::hash_map::Entry::Vacant(slot) = self.printers.entry(id) {
                tracing::info!(printer = %printer.id, "following printer");
                slot.insert(follow(target.clone(), printer));
            }
        }
    }
}

fn follow(target: Arc<dyn MonitorTarget>, printer: FollowedPrinter) -> Following {
    let (tx, mut rx) = mpsc::channel(64);
    let connector = match printer.connection.clone() {
        Connection::Bambu(settings) => tokio::spawn(bambu::follow(settings, tx)),
        Connection::OctoPrint(settings) => tokio::spawn(octoprint::follow(settings, tx)),
    };
    let relay = {
        let printer = printer.clone();
        tokio::spawn(async move {
            while let Some(event) = rx.recv().await {
                target.on_event(&printer, event).await;
            }
        })
    };
    Following {
        printer,
        connector,
        relay,
    }
}
