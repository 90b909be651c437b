//! Logging via `tracing`, to stderr through [`LogWriter`] (never blocking, never failing a
//! request). The level comes from `RUST_LOG` (default `info`).
//!
//! What actix's HTTP/1 and HTTP/2 dispatchers log at ERROR is about one client's connection
//! (a malformed head, a head too large, a peer gone mid-response): anyone could fill the
//! error log with it. Those lines are counted (`printdesk_http_transport_errors_total`) and
//! logged at WARN, at most one line per [`TRANSPORT_LOG_INTERVAL`], with how many there were.

use std::{
    fmt::Write as _,
    io::IsTerminal,
    sync::{Arc, Mutex},
    thread,
    time::Duration,
};

use prometheus::IntCounter;
use tracing::{
    Event, Level, Metadata, Subscriber,
    field::{Field, Visit},
};
use tracing_subscriber::{
    EnvFilter, Layer,
    filter::filter_fn,
    layer::{Context, SubscriberExt},
    util::SubscriberInitExt,
};

use crate::{config::LogFormat, log_writer::LogWriter};

/// The most often a WARN line about connection errors is written.
pub const TRANSPORT_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// The actix modules whose ERROR lines are about one client's connection.
const TRANSPORT_TARGETS: [&str; 3] = [
    "actix_http::h1::dispatcher",
    "actix_http::h1::decoder",
    "actix_http::h2::dispatcher",
];

fn is_transport_error(meta: &Metadata<'_>) -> bool {
    *meta.level() == Level::ERROR && TRANSPORT_TARGETS.contains(&meta.target())
}

/// The counter behind `printdesk_http_transport_errors_total`.
pub fn transport_error_counter() -> IntCounter {
    IntCounter::new(
        "printdesk_http_transport_errors_total",
        "Connections the HTTP library gave up on (a malformed or oversized request head, a \
         peer gone mid-response), as it logged them.",
    )
    .expect("a valid metric")
}

/// Installs the global subscriber, writing through `writer`; `transport_errors` counts what
/// actix's dispatchers report.
pub fn init(format: LogFormat, writer: LogWriter, transport_errors: IntCounter) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let summary = Arc::new(Mutex::new(Summary::default()));
    let ansi = std::io::stderr().is_terminal();
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        // Its default reports a failed write with `eprintln!`, which panics when stderr is
        // gone; the writer never fails anyway.
        .log_internal_errors(false)
        // Colour codes only for a person at a terminal: not in files or journald, and not
        // paid for on every request line there (measured: 1% of a request's CPU).
        .with_ansi(ansi);
    let fmt = match format {
        LogFormat::Text => fmt.boxed(),
        LogFormat::Json => fmt.json().flatten_event(true).boxed(),
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(fmt.with_filter(filter_fn(|meta| !is_transport_error(meta))))
        .with(TransportErrors {
            counter: transport_errors,
            summary: summary.clone(),
        })
        .init();
    // Without it, the errors are still counted.
    let _ = thread::Builder::new()
        .name("transport-log".into())
        .spawn(move || summarise(summary));
}

/// Counts actix's connection errors; [`summarise`] writes the WARN lines.
struct TransportErrors {
    counter: IntCounter,
    summary: Arc<Mutex<Summary>>,
}

/// What came since the last WARN line.
#[derive(Default)]
struct Summary {
    since: u64,
    last: String,
}

impl<S: Subscriber> Layer<S> for TransportErrors {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        if !is_transport_error(event.metadata()) {
            return;
        }
        self.counter.inc();
        let mut message = Message(String::new());
        event.record(&mut message);
        let mut summary = self.summary.lock().unwrap_or_else(|p| p.into_inner());
        summary.since += 1;
        summary.last = message.0;
    }
}

/// Every [`TRANSPORT_LOG_INTERVAL`], one WARN line if connection errors came. From a thread
/// of its own: an event logged from inside the subscriber's handling of another would
/// re-enter it.
fn summarise(summary: Arc<Mutex<Summary>>) {
    loop {
        thread::sleep(TRANSPORT_LOG_INTERVAL);
        let Summary { since, last } =
            std::mem::take(&mut *summary.lock().unwrap_or_else(|p| p.into_inner()));
        if since > 0 {
            tracing::warn!(
                target: "printdesk::transport",
                errors = since,
                last = %last,
                "HTTP connections failed before a request could be served (malformed or \
                 oversized request heads, clients gone); one such line at most every 10 s"
            );
        }
    }
}

/// An event's `message` field, as text.
struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        }
    }
}

/// `url` with any password replaced by `***`, for logs: `postgres://app:secret@db/x` →
/// `postgres://app:***@db/x`.
pub fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_owned();
    };
    match rest[..at].split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***{}", &rest[at..]),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_password;

    #[test]
    fn passwords_never_reach_the_log() {
        assert_eq!(
            redact_password("postgres://app:s3cr@t@db.local:5432/printdesk"),
            "postgres://app:***@db.local:5432/printdesk"
        );
        assert_eq!(
            redact_password("postgres://app@db.local/printdesk"),
            "postgres://app@db.local/printdesk"
        );
        assert_eq!(
            redact_password("sqlite://printdesk.db"),
            "sqlite://printdesk.db"
        );
        assert_eq!(redact_password("sqlite:jobs.db"), "sqlite:jobs.db");
    }
}
