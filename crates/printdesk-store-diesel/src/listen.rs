//! Wake-ups across instances: PostgreSQL `LISTEN/NOTIFY` on the event log.
//!
//! Several printdesk processes may share one PostgreSQL database. Each keeps its WebSocket
//! clients up to date by tailing the event log (`job_events`), which is the source of truth;
//! a notification only tells the other instances "the log grew, read it now" so they need not
//! wait for their next periodic poll.
//!
//! - Writing: the transaction that appends an event also runs
//!   `SELECT pg_notify('printdesk_events', '<seq>')`. PostgreSQL delivers a notification when,
//!   and only if, its transaction commits, in commit order.
//! - Listening: [`Store::event_notifications`] runs `LISTEN printdesk_events` on a dedicated
//!   connection (not from the pool: a pooled connection would be handed to other work) on a
//!   thread of its own, and turns every batch of notifications into one `()` on a channel.
//!   When the connection breaks (PostgreSQL restarted, network gone) it reconnects with
//!   exponential back-off, 100 ms doubling up to 5 s, and sends a `()` after each reconnect,
//!   since notifications sent while it was away are lost.
//!
//! SQLite has no notifications; one SQLite file is served by one process, whose own
//! publisher wakes its tailer directly.

use std::{
    thread,
    time::{Duration, Instant},
};

use diesel::{
    Connection, RunQueryDsl, pg::PgConnection, result::Error as DieselError, sql_types::Text,
};
use printdesk_domain::Seq;
use tokio::sync::mpsc;

use crate::{
    connection::AnyConnection,
    store::{Backend, Store},
};

/// The PostgreSQL notification channel every event append notifies.
pub const EVENTS_CHANNEL: &str = "printdesk_events";

/// How often the listening thread asks libpq for arrived notifications. Diesel offers no
/// blocking wait on the connection's socket, only a non-blocking `notifications_iter`, so the
/// thread polls; at this interval that costs nothing measurable and adds at most this much
/// latency to a wake-up.
const POLL_INTERVAL: Duration = Duration::from_millis(10);

/// How often the listening connection runs a trivial query. Reading alone notices a closed
/// connection but not a silent one (a vanished host); a query does, within the TCP settings
/// added by [`listener_url`].
const HEALTH_CHECK_INTERVAL: Duration = Duration::from_secs(30);

/// First and longest pause between reconnection attempts.
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The `application_name` of the listening connection, so it can be told apart in
/// `pg_stat_activity`.
pub const LISTENER_APPLICATION_NAME: &str = "printdesk-listener";

/// Notifies listening instances that `seq` is being committed. Runs inside the appending
/// transaction, so PostgreSQL sends it on commit and drops it on rollback.
///
/// Backend-specific because only PostgreSQL has notifications; on SQLite it does nothing.
pub(crate) fn notify_appended(conn: &mut AnyConnection, seq: Seq) -> Result<(), DieselError> {
    if let AnyConnection::Postgres(pg) = conn {
        diesel::sql_query("SELECT pg_notify($1, $2)")
            .bind::<Text, _>(EVENTS_CHANNEL)
            .bind::<Text, _>(seq.to_string())
            .execute(pg)?;
    }
    Ok(())
}

impl Store {
    /// Wake-ups for every event any instance commits to the shared log, or `None` on SQLite
    /// (which has no notifications: its single process wakes itself).
    ///
    /// A `()` arrives after one or more events have been committed (several notifications
    /// that arrive together give one `()`), and once after each (re)connection of the
    /// listener, because notifications sent while it was disconnected are lost. It carries no
    /// data: read the log (`events_after`) to learn what happened. Notifications can still be
    /// lost, so a reader should also poll now and then.
    ///
    /// Starts a thread with its own connection that listens until the receiver is dropped,
    /// reconnecting with back-off (100 ms doubling to 5 s) whenever the connection breaks.
    pub fn event_notifications(&self) -> Option<mpsc::Receiver<()>> {
        if self.backend() != Backend::Postgres {
            return None;
        }
        let url = listener_url(self.target());
        let (tx, rx) = mpsc::channel(1);
        let spawned = thread::Builder::new()
            .name("printdesk-listen".into())
            .spawn(move || listen(&url, &tx));
        match spawned {
            Ok(_) => Some(rx),
            Err(e) => {
                // Without the thread the instance still works, on its periodic poll alone.
                tracing::error!(error = %e, "cannot start the event listener thread");
                None
            }
        }
    }
}

/// The store's URL with TCP keepalives and a user timeout, so that the listening
/// connection notices a silent network failure within about a minute instead of the
/// operating system's default of many minutes. Parameters the URL sets itself are kept.
fn listener_url(url: &str) -> String {
    let extra = [
        ("application_name", LISTENER_APPLICATION_NAME),
        ("keepalives", "1"),
        ("keepalives_idle", "30"),
        ("keepalives_interval", "10"),
        ("keepalives_count", "3"),
        ("tcp_user_timeout", "30000"),
    ];
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let mut out = url.to_owned();
    let mut separator = if url.contains('?') { '&' } else { '?' };
    for (key, value) in extra {
        let present = query
            .split('&')
            .any(|pair| pair.split('=').next() == Some(key));
        if !present {
            out.push(separator);
            out.push_str(key);
            out.push('=');
            out.push_str(value);
            separator = '&';
        }
    }
    out
}

/// The listening thread: connect, `LISTEN`, pump; on failure wait and reconnect.
fn listen(url: &str, tx: &mpsc::Sender<()>) {
    let mut backoff = MIN_BACKOFF;
    let mut failures: u32 = 0;
    loop {
        if tx.is_closed() {
            return;
        }
        match connect(url) {
            Ok(conn) => {
                if failures > 0 {
                    tracing::info!(after_failures = failures, "event listener reconnected");
                } else {
                    tracing::debug!(channel = EVENTS_CHANNEL, "event listener connected");
                }
                failures = 0;
                backoff = MIN_BACKOFF;
                // Whatever was committed while we were not listening was not announced.
                if wake(tx).is_err() {
                    return;
                }
                match pump(conn, tx) {
                    Ok(()) => return,
                    Err(e) => {
                        tracing::warn!(error = %e, "event listener lost its connection; reconnecting");
                    }
                }
            }
            Err(e) => {
                failures += 1;
                // The first failures are expected while PostgreSQL restarts; say so quietly,
                // then loudly if it goes on.
                if failures <= 3 {
                    tracing::info!(error = %e, retry_in_ms = backoff.as_millis() as u64, "event listener cannot connect");
                } else {
                    tracing::warn!(error = %e, failures, retry_in_ms = backoff.as_millis() as u64, "event listener still cannot connect");
                }
            }
        }
        if !sleep_unless_unwanted(backoff, tx) {
            return;
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

fn connect(url: &str) -> Result<PgConnection, String> {
    crate::connection::init_tls();
    let mut conn = PgConnection::establish(url).map_err(|e| e.to_string())?;
    diesel::sql_query(format!("LISTEN {EVENTS_CHANNEL}"))
        .execute(&mut conn)
        .map_err(|e| e.to_string())?;
    Ok(conn)
}

/// Forwards notifications until the connection fails (`Err`) or nobody listens any more
/// (`Ok`).
fn pump(mut conn: PgConnection, tx: &mpsc::Sender<()>) -> Result<(), DieselError> {
    let mut last_check = Instant::now();
    loop {
        let mut arrived = false;
        for notification in conn.notifications_iter() {
            notification?;
            arrived = true;
        }
        if arrived {
            if wake(tx).is_err() {
                return Ok(());
            }
        } else if tx.is_closed() {
            return Ok(());
        }
        if last_check.elapsed() >= HEALTH_CHECK_INTERVAL {
            diesel::sql_query("SELECT 1").execute(&mut conn)?;
            last_check = Instant::now();
        }
        thread::sleep(POLL_INTERVAL);
    }
}

/// Sends one wake-up; a full channel already holds one, which is as good. `Err` when the
/// receiver is gone.
fn wake(tx: &mpsc::Sender<()>) -> Result<(), ()> {
    match tx.try_send(()) {
        Ok(()) | Err(mpsc::error::TrySendError::Full(())) => Ok(()),
        Err(mpsc::error::TrySendError::Closed(())) => Err(()),
    }
}

/// Sleeps `total` in short steps; `false` as soon as the receiver is dropped.
fn sleep_unless_unwanted(total: Duration, tx: &mpsc::Sender<()>) -> bool {
    let deadline = Instant::now() + total;
    while Instant::now() < deadline {
        if tx.is_closed() {
            return false;
        }
        thread::sleep(Duration::from_millis(50).min(total));
    }
    !tx.is_closed()
}

#[cfg(test)]
mod tests {
    use super::listener_url;

    #[test]
    fn listener_url_adds_tcp_settings_and_keeps_the_callers() {
        let url = listener_url("postgres://u@h/db");
        assert!(url.starts_with("postgres://u@h/db?application_name=printdesk-listener&"));
        assert!(url.contains("&tcp_user_timeout=30000"));

        let url = listener_url("postgres://u@h/db?sslmode=require&keepalives_idle=5");
        assert!(url.starts_with("postgres://u@h/db?sslmode=require&keepalives_idle=5&"));
        assert_eq!(url.matches("keepalives_idle").count(), 1);
    }
}
