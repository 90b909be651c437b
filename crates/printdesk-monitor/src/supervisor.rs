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
    moonraker::{self, MoonrakerSettings},
    octoprint::{self, OctoPrintSettings},
    prusalink::{self, PrusaLinkAuth, PrusaLinkSettings},
};

/// How to reach a printer, per protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    /// Bambu Lab LAN MQTT.
    Bambu(BambuSettings),
    /// OctoPrint REST + push socket.
    OctoPrint(OctoPrintSettings),
    /// PrusaLink, polled over HTTP.
    Prusalink(PrusaLinkSettings),
    /// Klipper through Moonraker's JSON-RPC WebSocket.
    Moonraker(MoonrakerSettings),
}

impl Connection {
    /// The name of the credential the printer may refuse, for status sentences.
    pub fn credential(&self) -> &'static str {
        match self {
            Self::Bambu(_) => "access code",
            Self::OctoPrint(_) | Self::Moonraker(_) => "API key",
            Self::Prusalink(settings) => match settings.auth {
                PrusaLinkAuth::Digest { .. } => "credentials",
                PrusaLinkAuth::ApiKey(_) => "API key",
            },
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

impl FollowedPrinter {
    /// Whether a connector following `self` follows `wanted` as it is: the same settings,
    /// except a Bambu certificate fingerprint that appeared since (the connector pinned it
    /// itself on first use and reported it; reconnecting for it would only blink the status).
    fn followed_as(&self, wanted: &FollowedPrinter) -> bool {
        match (&self.connection, &wanted.connection) {
            (Connection::Bambu(running), Connection::Bambu(wanted_settings))
                if matches!(running.trust, bambu::Trust::FirstUse { fingerprint: None })
                    && matches!(
                        wanted_settings.trust,
                        bambu::Trust::FirstUse {
                            fingerprint: Some(_)
                        }
                    ) =>
            {
                self.id == wanted.id
                    && BambuSettings {
                        trust: running.trust.clone(),
                        ..wanted_settings.clone()
                    } == *running
            }
            _ => self == wanted,
        }
    }
}

/// Where the supervisor learns which printers to follow, and who takes each one's events.
#[async_trait]
pub trait MonitorTarget: Send + Sync + fmt::Debug + 'static {
    /// The printers this instance follows now (monitored, with a connection, and — with
    /// several instances — the ones this instance holds the lease of); `None` when that
    /// cannot be told now (the database is away): the supervisor then keeps what it follows.
    async fn printers(&self) -> Option<Vec<FollowedPrinter>>;

    /// Who takes the events of `printer`'s connector while this instance follows it.
    fn watch(&self, printer: &FollowedPrinter) -> Box<dyn PrinterWatch>;
}

/// Takes one followed printer's connector events, in order.
#[async_trait]
pub trait PrinterWatch: Send + fmt::Debug + 'static {
    /// One event of the printer's connector.
    async fn event(&mut self, event: ConnectorEvent);

    /// Called about once a second between events (to send a status the throttle held back).
    async fn tick(&mut self) {}

    /// This instance no longer follows the printer (deleted, paused, settings changed, or
    /// handed over); no event follows.
    async fn stopped(&mut self);
}

/// The running tasks. Dropping the supervisor stops every printer's task.
#[derive(Debug)]
pub struct Supervisor {
    task: Option<JoinHandle<()>>,
    wake: mpsc::Sender<()>,
}

impl Drop for Supervisor {
    // Aborting the supervisor's task drops its `Running`, whose tasks are aborted with it.
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

impl Supervisor {
    /// Starts following `target`'s printers, looking for changes every `interval` and
    /// whenever [`Supervisor::wake`] is called.
    pub fn spawn(target: Arc<dyn MonitorTarget>, interval: Duration) -> Self {
        let (wake, mut woken) = mpsc::channel(1);
        let task = tokio::spawn(async move {
            let mut running = Running {
                printers: HashMap::new(),
                http: crate::http_client(),
            };
            loop {
                if let Some(wanted) = target.printers().await {
                    running.converge(&target, wanted).await;
                }
                tokio::select! {
                    () = tokio::time::sleep(interval) => {}
                    Some(()) = woken.recv() => {}
                }
            }
        });
        Self {
            task: Some(task),
            wake,
        }
    }

    /// Looks for changes now (a printer was added, changed or deleted on this instance).
    pub fn wake(&self) {
        let _ = self.wake.try_send(());
    }

    /// Stops following every printer and waits until the tasks have ended.
    pub async fn stop(mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }
}

/// A printer's connector task and the task that hands its events on.
#[derive(Debug)]
struct Following {
    printer: FollowedPrinter,
    connector: JoinHandle<()>,
    relay: JoinHandle<Box<dyn PrinterWatch>>,
}

#[derive(Debug)]
struct Running {
    printers: HashMap<PrinterId, Following>,
    /// The HTTP client every printer asked over HTTP shares; made in the supervisor's runtime.
    http: Result<reqwest::Client, crate::ConnectionProblem>,
}

impl Drop for Running {
    fn drop(&mut self) {
        for following in self.printers.values() {
            following.connector.abort();
            following.relay.abort();
        }
    }
}

impl Running {
    async fn converge(&mut self, target: &Arc<dyn MonitorTarget>, wanted: Vec<FollowedPrinter>) {
        let wanted: HashMap<PrinterId, FollowedPrinter> =
            wanted.into_iter().map(|p| (p.id.clone(), p)).collect();
        let stale: Vec<PrinterId> = self
            .printers
            .iter()
            .filter(|(id, f)| !wanted.get(*id).is_some_and(|w| f.printer.followed_as(w)))
            .map(|(id, _)| id.clone())
            .collect();
        for id in stale {
            if let Some(following) = self.printers.remove(&id) {
                tracing::info!(printer = %id, "no longer following printer");
                stop(following).await;
            }
        }
        for (id, printer) in wanted {
            if let Some(following) = self.printers.get_mut(&id) {
                // Followed as it is (a fingerprint the connector pinned itself): remember the
                // settings as stored, so that clearing the fingerprint later is a change.
                following.printer = printer;
                continue;
            }
            if let std::collections::hash_map::Entry::Vacant(slot) = self.printers.entry(id) {
                tracing::info!(printer = %printer.id, "following printer");
                let watch = target.watch(&printer);
                slot.insert(follow(printer, &self.http, watch));
            }
        }
    }
}

/// Stops the connector, lets the relay hand on what the connector had already said, then
/// tells the watch.
async fn stop(following: Following) {
    following.connector.abort();
    // The connector's sender is gone once it is aborted, so the relay ends.
    let _ = following.connector.await;
    if let Ok(mut watch) = following.relay.await {
        watch.stopped().await;
    }
}

fn follow(
    printer: FollowedPrinter,
    http: &Result<reqwest::Client, crate::ConnectionProblem>,
    mut watch: Box<dyn PrinterWatch>,
) -> Following {
    let (tx, mut rx) = mpsc::channel(64);
    let connector = match (printer.connection.clone(), http) {
        (Connection::Bambu(settings), _) => tokio::spawn(bambu::follow(settings, tx)),
        (Connection::OctoPrint(settings), Ok(http)) => {
            tokio::spawn(octoprint::follow_with(settings, http.clone(), tx))
        }
        (Connection::Prusalink(settings), Ok(http)) => {
            tokio::spawn(prusalink::follow_with(settings, http.clone(), tx))
        }
        // No HTTP client could be made: each printer asked over HTTP says why in its status.
        (Connection::OctoPrint(_) | Connection::Prusalink(_), Err(problem)) => {
            let problem = problem.clone();
            tokio::spawn(async move {
                let _ = tx.send(ConnectorEvent::Disconnected(problem)).await;
            })
        }
        (Connection::Moonraker(settings), _) => tokio::spawn(moonraker::follow(settings, tx)),
    };
    let relay = tokio::spawn(async move {
        let mut ticks = tokio::time::interval(Duration::from_secs(1));
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                event = rx.recv() => match event {
                    Some(event) => watch.event(event).await,
                    None => break,
                },
                _ = ticks.tick() => watch.tick().await,
            }
        }
        watch
    });
    Following {
        printer,
        connector,
        relay,
    }
}
