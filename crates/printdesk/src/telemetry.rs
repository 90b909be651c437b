//! Logging via `tracing`, to stderr through [`LogWriter`] (never blocking, never failing a
//! request). The level comes from `RUST_LOG` (default `info`).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::{config::LogFormat, log_writer::LogWriter};

/// Installs the global subscriber, writing through `writer`.
pub fn init(format: LogFormat, writer: LogWriter) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        // Its default reports a failed write with `eprintln!`, which panics when stderr is
        // gone; the writer never fails anyway.
        .log_internal_errors(false)
        // Colour codes only for a person at a terminal: not in files or journald, and not
        // paid for on every request line there (measured: 1% of a request's CPU).
        .with_ansi(std::io::stderr().is_terminal());
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
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
