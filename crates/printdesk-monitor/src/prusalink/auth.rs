//! Authenticated GETs against PrusaLink: HTTP digest (RFC 7616 / 2617, MD5 or SHA-256,
//! `qop=auth`) with the printer's user and password, or the `X-Api-Key` header of older
//! firmware.
//!
//! A digest challenge is answered once and its nonce then reused, the nonce count going up
//! with every request, until the printer asks again: a 401 with `stale=true` (the nonce
//! expired; the password was right) or a new challenge (it forgot the nonce, e.g. after a
//! reboot). Only a 401 to an answer of the challenge just received means the credentials are
//! wrong.

use std::fmt;

use digest_auth::{AuthContext, WwwAuthenticateHeader};
use reqwest::{
    StatusCode,
    header::{AUTHORIZATION, WWW_AUTHENTICATE},
};

use super::PrusaLinkAuth;
use crate::connector::{ConnectionProblem, describe};

/// Answers to a challenge before giving up: the first request (without a nonce, or with an
/// old one), its retry with the new challenge, and one more when that nonce was already stale.
const ATTEMPTS: usize = 3;

/// The digest challenge being answered, kept across connections: after a reboot the firmware
/// calls a right answer with the old nonce stale, and the retry needs no fresh start.
#[derive(Debug, Default)]
pub struct DigestSession(Option<WwwAuthenticateHeader>);

/// A client for one connection to one printer.
pub struct Authenticated<'a> {
    http: reqwest::Client,
    base_url: &'a str,
    auth: &'a PrusaLinkAuth,
    session: &'a mut DigestSession,
}

impl fmt::Debug for Authenticated<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticated")
            .field("base_url", &self.base_url)
            .field("auth", self.auth)
            .finish_non_exhaustive()
    }
}

/// The strongest digest challenge among a 401's `WWW-Authenticate` headers (RFC 7616 §3.7: a
/// server may offer SHA-256 and MD5 side by side).
fn strongest_challenge(response: &reqwest::Response) -> Option<WwwAuthenticateHeader> {
    response
        .headers()
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter(|value| value.trim_start().starts_with("Digest"))
        .filter_map(|value| digest_auth::parse(value).ok())
        .max_by_key(|challenge| {
            matches!(
                challenge.algorithm.algo,
                digest_auth::AlgorithmType::SHA2_256 | digest_auth::AlgorithmType::SHA2_512_256
            )
        })
}

impl<'a> Authenticated<'a> {
    pub fn new(
        http: reqwest::Client,
        base_url: &'a str,
        auth: &'a PrusaLinkAuth,
        session: &'a mut DigestSession,
    ) -> Self {
        Self {
            http,
            base_url: base_url.trim_end_matches('/'),
            auth,
            session,
        }
    }

    /// `GET path`, authenticated; any answer but 401 is the caller's to read.
    pub async fn get(&mut self, path: &str) -> Result<reqwest::Response, ConnectionProblem> {
        let url = format!("{}{path}", self.base_url);
        let (username, password) = match self.auth {
            PrusaLinkAuth::ApiKey(key) => {
                let response = self
                    .http
                    .get(&url)
                    .header("X-Api-Key", key)
                    .send()
                    .await
                    .map_err(|e| ConnectionProblem::Unreachable(describe(&e)))?;
                return match response.status() {
                    StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                        Err(ConnectionProblem::CredentialsRefused)
                    }
                    _ => Ok(response),
                };
            }
            PrusaLinkAuth::Digest { username, password } => (username, password),
        };
        // The digest covers the request target: with a proxy's path prefix that is more than
        // `path`.
        let target = reqwest::Url::parse(&url)
            .map(|u| u.path().to_owned())
            .map_err(|e| ConnectionProblem::Protocol(format!("{url} is not an address: {e}")))?;
        // Whether the challenge answered in this attempt came with the previous answer.
        let mut fresh = false;
        for _ in 0..ATTEMPTS {
            let mut request = self.http.get(&url);
            if let Some(challenge) = self.session.0.as_mut() {
                let context =
                    AuthContext::new(username.as_str(), password.as_str(), target.as_str());
                let answer = challenge.respond(&context).map_err(|e| {
                    ConnectionProblem::Protocol(format!(
                        "a digest challenge printdesk cannot answer: {e}"
                    ))
                })?;
                request = request.header(AUTHORIZATION, answer.to_header_string());
            }
            let response = request
                .send()
                .await
                .map_err(|e| ConnectionProblem::Unreachable(describe(&e)))?;
            if response.status() != StatusCode::UNAUTHORIZED {
                return Ok(response);
            }
            let Some(challenge) = strongest_challenge(&response) else {
                return Err(no_digest_challenge(&response, path));
            };
            if fresh && !challenge.stale {
                return Err(ConnectionProblem::CredentialsRefused);
            }
            tracing::debug!(stale = challenge.stale, "PrusaLink asked for a new digest");
            self.session.0 = Some(challenge);
            fresh = true;
        }
        Err(ConnectionProblem::Protocol(format!(
            "{path}: the printer keeps calling the nonce stale"
        )))
    }
}

/// A 401 without a digest challenge: the firmware wants an API key (`WWW-Authenticate:
/// ApiKey`), or the answer makes no sense.
fn no_digest_challenge(response: &reqwest::Response, path: &str) -> ConnectionProblem {
    let asks_for_a_key = response
        .headers()
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| value.trim_start().starts_with("ApiKey"));
    ConnectionProblem::Protocol(if asks_for_a_key {
        "it asks for an API key (older firmware), not a password".to_owned()
    } else {
        format!("{path} answered 401 without a digest challenge")
    })
}
