//! Inbound adapters that run beside the HTTP server: tasks that receive from outside (another
//! instance's notifications, a printer) and act through the hub or the domain's services.
//!
//! [`start_background_adapters`] is where each one is started, with everything the
//! application is made of at hand ([`Components`]: the store, the services, the hub); and
//! [`BackgroundAdapters::stop`] where each is stopped, after the server has stopped. An
//! adapter crate that watches printers plugs in here: it starts from the services (to record
//! what it sees through the use cases, as the HTTP handlers do) and stops with the rest.

use tokio::task::JoinHandle;

use crate::{Components, Config};

/// The running background adapters.
#[derive(Debug)]
pub(crate) struct BackgroundAdapters {
    /// Each adapter's task, by name (for the log).
    tasks: Vec<(&'static str, JoinHandle<()>)>,
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

    BackgroundAdapters { tasks }
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
    }
}
