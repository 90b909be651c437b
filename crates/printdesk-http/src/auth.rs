//! Authentication: bearer tokens on the API, the token's name as the request's [`Actor`].
//!
//! When tokens are configured ([`TokenSet`] not empty), a request to a protected path needs a
//! valid token, given as `Authorization: Bearer <token>`, or, on a WebSocket upgrade only
//! (browsers cannot set headers there), as the subprotocol `printdesk.bearer.<token>`
//! (`Sec-WebSocket-Protocol`; the endpoint then echoes it, see [`bearer_subprotocol`]).
//! Tokens in query strings are not accepted: they end up in logs and browser histories.
//! Without a valid token the answer is `401` problem+json (`urn:printdesk:problem:unauthorized`)
//! with `WWW-Authenticate: Bearer realm="printdesk"`, plus `error="invalid_token"` when a token
//! was given but is not one of them. With no tokens configured every request passes, as the
//! anonymous actor.
//!
//! ## Which paths need a token
//!
//! [`AuthPolicy`]: every path under one of [`PROTECTED_PREFIXES`] (today only `/api/v1`, which
//! includes the WebSocket `/api/v1/ws`), except the exact paths in [`PUBLIC_PATHS`] (none
//! today). Everything else is public: the page and its files (needed to type a token in),
//! `/healthz`, `/readyz`, `/metrics` (aggregate counts, for a Prometheus on the LAN), and the
//! API description under `/api/` outside `/api/v1`. To change that, edit the two lists, or
//! build a policy with [`AuthPolicy::protect`] and [`AuthPolicy::allow`]. Prefixes match whole
//! path segments (`/api/v1` covers `/api/v1/jobs`, not `/api/v10`), on the percent-decoded
//! path that routing uses.
//!
//! ## Mounting
//!
//! Register an [`Authenticator`] as `web::Data<Authenticator>` and wrap the app in
//! `from_fn(authenticate)`, inside the CORS middleware (so that preflights, which carry no
//! token, are answered, and a 401 carries CORS headers); handlers that record who acted take a
//! [`RequestActor`].

mod tokens;

use std::{future::Ready, ops::Deref, sync::Arc};

use actix_web::{
    Error, FromRequest, HttpMessage, HttpRequest, ResponseError,
    body::{EitherBody, MessageBody},
    dev::{Payload, ServiceRequest, ServiceResponse},
    http::header::{self, HeaderMap, HeaderValue},
    middleware::Next,
    web,
};
use printdesk_domain::Actor;

pub use tokens::{
    InvalidTokenName, Position, TOKEN_PREFIX, TokenEntryError, TokenEntryProblem, TokenHash,
    TokenName, TokenSet, generate_token,
};

use crate::{
    API_PREFIX,
    problem::{Problem, ProblemKind},
};

/// Path prefixes that need a token when tokens are configured.
pub const PROTECTED_PREFIXES: &[&str] = &[API_PREFIX];

/// Exact paths under a protected prefix that need no token all the same.
pub const PUBLIC_PATHS: &[&str] = &[];

/// The WebSocket subprotocol that carries a token: `printdesk.bearer.<token>`.
pub const BEARER_SUBPROTOCOL_PREFIX: &str = "printdesk.bearer.";

/// The `realm` of the `WWW-Authenticate` challenge.
pub const REALM: &str = "printdesk";

/// Which paths need a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthPolicy {
    protected: Vec<String>,
    public: Vec<String>,
}

impl Default for AuthPolicy {
    /// [`PROTECTED_PREFIXES`] except [`PUBLIC_PATHS`].
    fn default() -> Self {
        Self {
            protected: PROTECTED_PREFIXES.iter().map(|&p| p.to_owned()).collect(),
            public: PUBLIC_PATHS.iter().map(|&p| p.to_owned()).collect(),
        }
    }
}

impl AuthPolicy {
    /// Also protects `prefix` and every path below it (e.g. `/metrics`).
    pub fn protect(mut self, prefix: impl Into<String>) -> Self {
        self.protected.push(prefix.into());
        self
    }

    /// Lets the exact `path` through without a token, even under a protected prefix.
    pub fn allow(mut self, path: impl Into<String>) -> Self {
        self.public.push(path.into());
        self
    }

    /// Whether `path` (percent-decoded, as routing sees it) needs a token.
    pub fn needs_token(&self, path: &str) -> bool {
        let under = |prefix: &String| {
            path.strip_prefix(prefix.trim_end_matches('/'))
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        };
        self.protected.iter().any(under) && !self.public.iter().any(|p| p == path)
    }
}

/// The tokens and the policy: what [`authenticate`] checks requests against. Register it as
/// `web::Data<Authenticator>`. The default has no tokens: authentication off.
#[derive(Debug, Clone, Default)]
pub struct Authenticator {
    tokens: Arc<TokenSet>,
    policy: AuthPolicy,
}

impl Authenticator {
    /// Checks requests against `tokens` (none: authentication off) under the default policy.
    pub fn new(tokens: TokenSet) -> Self {
        Self {
            tokens: Arc::new(tokens),
            policy: AuthPolicy::default(),
        }
    }

    /// With another policy.
    pub fn with_policy(mut self, policy: AuthPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Whether tokens are configured, so that protected paths need one.
    pub fn is_enabled(&self) -> bool {
        !self.tokens.is_empty()
    }

    /// The tokens.
    pub fn tokens(&self) -> &TokenSet {
        &self.tokens
    }

    /// The policy.
    pub fn policy(&self) -> &AuthPolicy {
        &self.policy
    }

    /// Who `req` is, or why it is refused.
    fn check(&self, req: &ServiceRequest) -> Result<Option<&TokenName>, Refusal> {
        if !self.is_enabled() || !self.policy.needs_token(req.match_info().as_str()) {
            return Ok(None);
        }
        let token = match req.headers().get(header::AUTHORIZATION) {
            Some(value) => bearer_token(value)?,
            None => bearer_subprotocol(req.headers())
                .and_then(|protocol| protocol.strip_prefix(BEARER_SUBPROTOCOL_PREFIX))
                .filter(|_| is_websocket_upgrade(req.headers()))
                .ok_or(Refusal::Missing)?,
        };
        self.tokens.verify(token).map(Some).ok_or(Refusal::Invalid)
    }
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// No token at all.
    Missing,
    /// An `Authorization` header of another scheme.
    OtherScheme,
    /// A token that is none of the configured ones.
    Invalid,
}

impl Refusal {
    fn problem(self) -> Problem {
        let (detail, challenge) = match self {
            Self::Missing => (
                "This API needs a token: send it as 'Authorization: Bearer <token>' \
                 (ask the server's operator for one).",
                format!("Bearer realm=\"{REALM}\""),
            ),
            Self::OtherScheme => (
                "Only bearer tokens are accepted: send the token as \
                 'Authorization: Bearer <token>'.",
                format!("Bearer realm=\"{REALM}\""),
            ),
            Self::Invalid => (
                "The token is not valid: it is mistyped, or it was revoked. \
                 Check it, or ask the server's operator for a new one.",
                format!("Bearer realm=\"{REALM}\", error=\"invalid_token\""),
            ),
        };
        Problem::new(ProblemKind::Unauthorized, detail).with_header(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_str(&challenge).expect("a valid header value"),
        )
    }
}

/// The token of an `Authorization: Bearer <token>` header (scheme in any case).
fn bearer_token(value: &HeaderValue) -> Result<&str, Refusal> {
    let value = value.to_str().map_err(|_| Refusal::Invalid)?.trim();
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(Refusal::OtherScheme);
    }
    Ok(token.trim())
}

fn is_websocket_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// The `printdesk.bearer.<token>` subprotocol a WebSocket client offered, if any (the first,
/// if it offered several). The WebSocket endpoint echoes it in its `101` response, as a
/// server must echo one of the offered subprotocols for a browser to accept the connection;
/// it does so whether or not tokens are configured.
pub fn bearer_subprotocol(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .find(|p| p.starts_with(BEARER_SUBPROTOCOL_PREFIX))
}

/// The middleware function: refuses requests to protected paths without a valid token (when
/// tokens are configured), and records the token's name as the request's [`RequestActor`]
/// (and as `actor` in the request's span). Mount it with
/// `actix_web::middleware::from_fn(authenticate)`, with `web::Data<Authenticator>` in the app;
/// without that data every request fails, so a missing setup is never an open door.
pub async fn authenticate<B: MessageBody>(
    auth: web::Data<Authenticator>,
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, Error> {
    match auth.check(&req) {
        Ok(None) => {}
        Ok(Some(name)) => {
            tracing::Span::current().record("actor", name.as_str());
            req.extensions_mut()
                .insert(RequestActor(Actor::named(name.as_str())));
        }
        Err(refusal) => {
            match refusal {
                Refusal::Missing => tracing::debug!("no token; refused"),
                Refusal::OtherScheme => tracing::info!("not a bearer token; refused"),
                Refusal::Invalid => tracing::info!("invalid token; refused"),
            }
            let response = refusal.problem().error_response();
            return Ok(req.into_response(response).map_into_right_body());
        }
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// Who is making the request: the name of the token it was authenticated with, or the
/// anonymous actor when tokens are off. A handler takes it as an argument and passes `&actor`
/// where the domain wants an [`Actor`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestActor(Actor);

impl RequestActor {
    /// The actor.
    pub fn into_inner(self) -> Actor {
        self.0
    }
}

impl Deref for RequestActor {
    type Target = Actor;

    fn deref(&self) -> &Actor {
        &self.0
    }
}

impl FromRequest for RequestActor {
    type Error = Problem;
    type Future = Ready<Result<Self, Problem>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        if let Some(actor) = req.extensions().get::<Self>() {
            return std::future::ready(Ok(actor.clone()));
        }
        // Tokens configured, yet the middleware let this through without a name: the app was
        // put together wrongly. Refuse rather than record a change as nobody's.
        let enabled = req
            .app_data::<web::Data<Authenticator>>()
            .is_some_and(|auth| auth.is_enabled());
        std::future::ready(if enabled {
            tracing::error!(
                "a handler was reached without authentication although tokens are configured"
            );
            Err(Refusal::Missing.problem())
        } else {
            Ok(Self(Actor::anonymous()))
        })
    }
}

#[cfg(test)]
mod tests {
    use actix_web::{App, HttpResponse, http::StatusCode, middleware::from_fn, test as web_test};

    use super::*;

    #[test]
    fn the_policy_protects_the_api_by_whole_segments() {
        let policy = AuthPolicy::default();
        for path in [
            "/api/v1",
            "/api/v1/",
            "/api/v1/jobs",
            "/api/v1/ws",
            "/api/v1/x/y",
        ] {
            assert!(policy.needs_token(path), "{path}");
        }
        for path in [
            "/",
            "/index.html",
            "/app.js",
            "/healthz",
            "/readyz",
            "/metrics",
            "/api/openapi.json",
            "/api/docs",
            "/api/v10/jobs",
            "/api/v1.js",
        ] {
            assert!(!policy.needs_token(path), "{path}");
        }
        let policy = policy.protect("/metrics").allow("/api/v1/ping");
        assert!(policy.needs_token("/metrics"));
        assert!(!policy.needs_token("/api/v1/ping"));
        assert!(policy.needs_token("/api/v1/ping/x"));
    }

    #[test]
    fn bearer_headers() {
        let token = |v: &'static str| bearer_token(&HeaderValue::from_static(v)).map(str::to_owned);
        assert_eq!(token("Bearer abc"), Ok("abc".into()));
        assert_eq!(token("bearer   abc "), Ok("abc".into()));
        assert_eq!(token("BEARER abc"), Ok("abc".into()));
        assert_eq!(token("Bearer"), Ok(String::new()));
        assert_eq!(token("Basic dXNlcjpwYXNz"), Err(Refusal::OtherScheme));
        assert_eq!(token("abc"), Err(Refusal::OtherScheme));
    }

    #[test]
    fn the_subprotocol_is_found_among_others() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer_subprotocol(&headers), None);
        headers.append(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static("chat, printdesk.bearer.pd_abc"),
        );
        headers.append(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static("printdesk.bearer.second"),
        );
        assert_eq!(
            bearer_subprotocol(&headers),
            Some("printdesk.bearer.pd_abc")
        );
    }

    async fn who(actor: RequestActor) -> HttpResponse {
        HttpResponse::Ok().body(actor.name().unwrap_or("anonymous").to_owned())
    }

    #[actix_web::test]
    async fn the_actor_is_the_tokens_name() {
        let mut tokens = TokenSet::new();
        tokens
            .add_list(&format!("till:{}", TokenHash::of("t1").to_hex()))
            .unwrap();
        let app = web_test::init_service(
            App::new()
                .app_data(web::Data::new(Authenticator::new(tokens)))
                .route("/api/v1/who", web::get().to(who))
                .route("/who", web::get().to(who))
                .wrap(from_fn(authenticate)),
        )
        .await;
        let call = |uri: &'static str, auth: Option<&'static str>| {
            let mut req = web_test::TestRequest::get().uri(uri);
            if let Some(auth) = auth {
                req = req.insert_header((header::AUTHORIZATION, auth));
            }
            web_test::call_service(&app, req.to_request())
        };

        let res = call("/api/v1/who", Some("Bearer t1")).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(web_test::read_body(res).await, "till");
        // Percent-encoding does not get around the check.
        let res = call("/api/%76%31/who", None).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        // A public path reaching a handler that wants an actor: refused, not anonymous.
        let res = call("/who", None).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        // Tokens in the query string are not read.
        let res = call("/api/v1/who?access_token=t1", None).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }

    #[actix_web::test]
    async fn without_tokens_everyone_is_anonymous() {
        let app = web_test::init_service(
            App::new()
                .app_data(web::Data::new(Authenticator::default()))
                .route("/api/v1/who", web::get().to(who))
                .wrap(from_fn(authenticate)),
        )
        .await;
        let req = web_test::TestRequest::get()
            .uri("/api/v1/who")
            .insert_header((header::AUTHORIZATION, "Bearer whatever"))
            .to_request();
        let res = web_test::call_service(&app, req).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(web_test::read_body(res).await, "anonymous");
    }

    #[actix_web::test]
    async fn the_middleware_without_its_data_lets_nothing_through() {
        let app = web_test::init_service(
            App::new()
                .route("/api/v1/who", web::get().to(who))
                .wrap(from_fn(authenticate)),
        )
        .await;
        let req = web_test::TestRequest::get().uri("/api/v1/who").to_request();
        let error = web_test::try_call_service(&app, req).await.unwrap_err();
        assert_eq!(
            error.as_response_error().status_code(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
