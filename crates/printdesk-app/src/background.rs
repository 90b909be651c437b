//! Inbound adapters that run beside the HTTP server: tasks that receive from outside (another
//! instance's notifications, a printer) and act through the hub or the domain's services.
//!
//! [`start_background_adapters`] is where each one is started, with everything the
//! application is made of at hand ([`Components`]: the store, the services, the hub); and
//! [`BackgroundAdapters::stop`] where each is stopped, after the server has stopped. An
//! adapter crate that watches printers plugs in here: it starts from the services (to record
//! what it sees through the use cases, as the HTTP handlers do) and stops with the rest.

use std::sync::Arc;

use printdesk_domain::monitoring::PrinterMonitor;
use printdesk_monitor::{FleetMonitor, FleetParts, MonitorMetrics};
use tokio::task::JoinHandle;

use crate::{Components, Config};

/// The running background adapters.
#[derive(Debug)]
pub(crate) struct BackgroundAdapters {
    /// Each adapter's task, by name (for the log).
    tasks: Vec<(&'static str, JoinHandle<()>)>,
    /// The printer monitor, when it runs.
    monitor: Option<Arc<FleetMonitor>>,
}

/// Starts every adapter that runs beside the server.
pub(crate) fn start_background_adapters(
    components: &Components,
    config: &Config,
) -> BackgroundAdapters {
    let mut tasks = Vec::new();

    // The event-log tailer: wakes on this instance's commits (through the hub as publisher),
    // on PostgreSQL on every other instance's NOTIFY, and on a periodic poll.
    let notifications = if config.event_notifications {
        components.store.event_notifications()
    } else {
        None
    };
    tasks.push((
        "event-log tailer",
        components.hub.spawn_tailer(notifications),
    ));

    // Printers' statuses and changes for the WebSocket clients.
    tasks.push(("printer board", components.board.spawn_poller()));

    // The printer monitor: follows the monitored printers this instance holds the lease of,
    // and records what they print through the monitoring use case.
    let monitor = config.monitor_printers.then(|| {
        let metrics = MonitorMetrics::new();
        if let Err(e) = metrics.register(components.ops.registry()) {
            tracing::error!("cannot register the printer metrics: {e}");
        }
        let parts = FleetParts {
            printers: components.services.printers.clone(),
            monitor: PrinterMonitor::new(
                Arc::new(components.store.clone()),
                Arc::new(components.hub.clone()),
                Arc::new(components.board.clone()),
                components.clock.clone(),
            ),
            statuses: Arc::new(components.board.clone()),
            leases: Arc::new(components.store.clone()),
            clock: components.clock.clone(),
            metrics,
        };
        Arc::new(FleetMonitor::start(
            parts,
            format!("printdesk-{}", uuid::Uuid::new_v4()),
        ))
    });

    // A printer changed through this instance's API: the board and the monitor look now.
    let changes = components.printer_changes.clone();
    let board = components.board.clone();
    let followed = monitor.clone();
    tasks.push((
        "printer changes",
        tokio::spawn(async move {
            loop {
                changes.notified().await;
                board.changed();
                if let Some(monitor) = &followed {
                    monitor.wake();
                }
            }
        }),
    ));

    BackgroundAdapters { tasks, monitor }
}

impl BackgroundAdapters {
    /// Stops every adapter and waits until each has ended.
    pub(crate) async fn stop(self) {
        for (name, task) in self.tasks {
            task.abort();
            match task.await {
                Ok(()) => {}
                Err(e) if e.is_cancelled() => {}
                Err(e) => tracing::error!("the {name} failed: {e}"),
            }
        }
        // Last, once the tasks holding it are gone: its connectors stop and its leases are
        // given up, so another instance takes its printers at once.
        if let Some(monitor) = self.monitor.and_then(|m| Arc::try_unwrap(m).ok()) {
            monitor.stop().await;
        }
    }
}
