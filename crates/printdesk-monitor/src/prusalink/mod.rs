//! PrusaLink (Prusa MK4, XL, MINI, CORE One with Buddy firmware; PrusaLink on MK3): the
//! printer is polled, `GET /api/v1/status` and `GET /api/v1/job` every few seconds, with HTTP
//! digest authentication as user `maker`, or the `X-Api-Key` header of older firmware
//! (`shared/printer-protocols.md` §2.3; Prusa-Link-Web `spec/openapi.yaml`).

mod auth;
mod tracker;

use std::{fmt, time::Duration};

use reqwest::StatusCode;
use tokio::sync::mpsc;

use auth::{Authenticated, DigestSession};
pub use tracker::PrintTracker;
use tracker::{Job, Status};

use crate::{
    backoff::Backoff,
    connector::{
        ConnectionProblem, Connections, ConnectorEvent, describe, http_client, reconnect_forever,
    },
};

/// How often the printer is asked, unless the settings say otherwise: PrusaLink pushes
/// nothing, and a few seconds keep a print's start and end timely without loading the
/// printer's small web server.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(3);

/// The user PrusaLink's digest authentication knows on every printer.
pub const DEFAULT_USERNAME: &str = "maker";

/// How printdesk proves itself to the printer.
#[derive(Clone, PartialEq, Eq)]
pub enum PrusaLinkAuth {
    /// HTTP digest: the user (`maker`) and the password shown on the printer's screen
    /// (Settings → Network → PrusaLink).
    Digest {
        /// The user, `maker` on Prusa's firmware.
        username: String,
        /// The password from the printer's screen.
        password: String,
    },
    /// The API key of older firmware and of PrusaLink on an MK3 (`X-Api-Key`).
    ApiKey(String),
}

impl fmt::Debug for PrusaLinkAuth {
    // Passwords and keys are secrets: never in a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Digest { username, .. } => f
                .debug_struct("Digest")
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
            Self::ApiKey(_) => f.debug_tuple("ApiKey").field(&"<redacted>").finish(),
        }
    }
}

impl PrusaLinkAuth {
    /// Digest authentication as `maker` with the printer's password.
    pub fn maker(password: impl Into<String>) -> Self {
        Self::Digest {
            username: DEFAULT_USERNAME.to_owned(),
            password: password.into(),
        }
    }
}

/// How printdesk reaches one PrusaLink printer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrusaLinkSettings {
    /// `http://host` (plain HTTP on the LAN; a port is kept: `http://host:8080`).
    pub base_url: String,
    /// The password or the API key.
    pub auth: PrusaLinkAuth,
    /// How often the printer is asked (2–5 s suits a printer; tests ask more often).
    pub poll_interval: Duration,
}

impl PrusaLinkSettings {
    /// A printer at `base_url`, asked every [`DEFAULT_POLL_INTERVAL`].
    pub fn new(base_url: impl Into<String>, auth: PrusaLinkAuth) -> Self {
        Self {
            base_url: base_url.into(),
            auth,
            poll_interval: DEFAULT_POLL_INTERVAL,
        }
    }
}

/// Follows one PrusaLink printer until the task is aborted: polls, reports, and reconnects
/// after a back-off whenever the printer cannot be reached. Stops when `events` is closed.
pub async fn follow(settings: PrusaLinkSettings, events: mpsc::Sender<ConnectorEvent>) {
    match http_client() {
        Ok(http) => follow_with(settings, http, events).await,
        Err(problem) => {
            let _ = events.send(ConnectorEvent::Disconnected(problem)).await;
        }
    }
}

/// [`follow`] with an HTTP client shared with other printers ([`crate::http_client`]).
pub async fn follow_with(
    settings: PrusaLinkSettings,
    http: reqwest::Client,
    events: mpsc::Sender<ConnectorEvent>,
) {
    reconnect_forever(connections(settings, http), events).await;
}

/// The printer's connections, as [`follow`] makes them one after the other.
pub(crate) fn connections(settings: PrusaLinkSettings, http: reqwest::Client) -> Followed {
    Followed {
        settings,
        http,
        session: DigestSession::default(),
        tracker: PrintTracker::default(),
    }
}

/// Reads a JSON answer; 204 (no job) is `None`.
async fn json<T: serde::de::DeserializeOwned>(
    response: reqwest::Response,
    path: &str,
) -> Result<Option<T>, ConnectionProblem> {
    match response.status() {
        StatusCode::NO_CONTENT => Ok(None),
        status if status.is_success() => response
            .json::<T>()
            .await
            .map(Some)
            .map_err(|e| ConnectionProblem::Protocol(format!("{path}: {}", describe(&e)))),
        status => Err(ConnectionProblem::Protocol(format!(
            "{path} answered {status}"
        ))),
    }
}

/// One poll: the printer's state and its job (`None`: no job).
async fn poll(client: &mut Authenticated<'_>) -> Result<(Status, Option<Job>), ConnectionProblem> {
    const STATUS: &str = "/api/v1/status";
    const JOB: &str = "/api/v1/job";
    let status = json::<Status>(client.get(STATUS).await?, STATUS)
        .await?
        .ok_or_else(|| ConnectionProblem::Protocol(format!("{STATUS} answered no content")))?;
    let job = json::<Job>(client.get(JOB).await?, JOB).await?;
    Ok((status, job))
}

/// One connection, from the first poll that succeeds to the first that fails. `None` when the
/// monitor stopped listening.
async fn connect_once(
    settings: &PrusaLinkSettings,
    http: &reqwest::Client,
    session: &mut DigestSession,
    tracker: &mut PrintTracker,
    events: &mpsc::Sender<ConnectorEvent>,
    backoff: &mut Backoff,
) -> Option<ConnectionProblem> {
    let mut client = Authenticated::new(http.clone(), &settings.base_url, &settings.auth, session);
    // The interval counts from the start of a poll, so a slow printer is not asked less often
    // than configured; a poll that overran is not made up for with a burst.
    let mut ticks = tokio::time::interval(settings.poll_interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut connected = false;
    loop {
        ticks.tick().await;
        let (status, job) = match poll(&mut client).await {
            Ok(polled) => polled,
            Err(problem) => return Some(problem),
        };
        if !connected {
            connected = true;
            backoff.reset();
            tracker.reconnected();
            events.send(ConnectorEvent::Connected).await.ok()?;
        }
        if let Some(report) = tracker.observe(&status, job.as_ref()) {
            events.send(ConnectorEvent::Report(report)).await.ok()?;
        }
    }
}

/// One printer's connections, with what they learnt: the digest challenge and its print.
pub(crate) struct Followed {
    settings: PrusaLinkSettings,
    http: reqwest::Client,
    session: DigestSession,
    tracker: PrintTracker,
}

impl Connections for Followed {
    async fn connect_once(
        &mut self,
        events: &mpsc::Sender<ConnectorEvent>,
        backoff: &mut Backoff,
    ) -> Option<ConnectionProblem> {
        connect_once(
            &self.settings,
            &self.http,
            &mut self.session,
            &mut self.tracker,
            events,
            backoff,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_keeps_the_secrets_out() {
        let digest = PrusaLinkSettings::new("http://10.0.0.5", PrusaLinkAuth::maker("s3cr3tpw"));
        let key = PrusaLinkSettings::new("http://10.0.0.6", PrusaLinkAuth::ApiKey("k3yk3y".into()));
        let shown = format!("{digest:?} {key:?}");
        assert!(
            !shown.contains("s3cr3tpw") && !shown.contains("k3yk3y"),
            "{shown}"
        );
        assert!(
            shown.contains("maker") && shown.contains("10.0.0.5"),
            "{shown}"
        );
        assert_eq!(digest.poll_interval, Duration::from_secs(3));
    }
}
