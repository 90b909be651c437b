//! Authentication and authorisation: who a request is ([`authenticate`]) and whether its role
//! may do what it asks ([`allow`], the domain's permission table).
//!
//! ## Who a request is
//!
//! A request is recognised, in this order, by
//!
//! 1. `Authorization: Bearer <token>` (on a WebSocket upgrade also the subprotocol
//!    `printdesk.bearer.<token>`, as browsers cannot set headers there; the endpoint echoes it,
//!    see [`bearer_subprotocol`]): a token of the server's configuration ([`TokenSet`]: the
//!    tokens file and `PRINTDESK_API_TOKENS`, acting as admins under their names), else an API
//!    token a user made (`/api/v1/tokens`, with the token's role, under the token's name);
//! 2. the session cookie ([`SESSION_COOKIE`]) a sign-in set (`POST /api/v1/session`): the
//!    user, under their display name, with their role.
//!
//! Tokens in query strings are not accepted: they end up in logs and browser histories. A
//! bearer token that is none of these is refused (`401`, `WWW-Authenticate: Bearer
//! realm="printdesk", error="invalid_token"`), a session that has ended is as good as none.
//!
//! While the server has no configured token and no user, it is *open*: every request is the
//! anonymous admin ([`Principal::open`]), as before users existed (the binary refuses to
//! serve anything but loopback that way unless told to). Once a user exists (or tokens are
//! configured), every request to a protected path needs one of the credentials above, else
//! `401` problem+json (`urn:printdesk:problem:unauthorized`). Whether a user exists is asked
//! of the database at most once a second while none does, and never again once one does.
//!
//! ## Cross-site requests
//!
//! A request that carries the session cookie and changes something (any method but `GET`,
//! `HEAD`, `OPTIONS`; and every WebSocket upgrade) must come from the page's own origin: its
//! `Origin` header must name this server's host (the `Host` header, or with `trust_proxy` the
//! proxy's `X-Forwarded-Host`) or one of the CORS origins; without an `Origin`,
//! `Sec-Fetch-Site` must say `same-origin` or `none`. Anything else is refused with `403`
//! before any handler runs. Bearer tokens are not sent by browsers on their own, so requests
//! with them are not checked. The cookie is `HttpOnly; SameSite=Strict` too.
//!
//! ## Which paths need credentials
//!
//! [`AuthPolicy`]: every path under one of [`PROTECTED_PREFIXES`] (`/api/v1`, which includes
//! the WebSocket `/api/v1/ws`), except the exact paths in [`PUBLIC_PATHS`] (signing in, the
//! first-run set-up). Everything else is public: the page and its files, `/healthz`,
//! `/readyz`, `/metrics`, and the API description under `/api/` outside `/api/v1`. Prefixes
//! match whole path segments (`/api/v1` covers `/api/v1/jobs`, not `/api/v10`), on the
//! percent-decoded path that routing uses.
//!
//! ## Roles
//!
//! Each API route is registered with the [`Operation`] it performs, through [`allow`]; the
//! route's middleware asks [`Principal::may`] and answers `403`
//! (`urn:printdesk:problem:forbidden`, naming the role needed in `detail` and in
//! `role_needed`) when the role is too low.
//!
//! ## Mounting
//!
//! Register an [`Authenticator`] as `web::Data<Authenticator>` (with
//! [`Authenticator::with_access`] for users, sessions and stored tokens) and wrap the app in
//! `from_fn(authenticate)`, inside the CORS middleware (so that preflights, which carry no
//! credentials, are answered, and a 401 carries CORS headers); handlers that record who acted
//! take a [`RequestActor`], those that need the role or the user a [`RequestPrincipal`].

pub(crate) mod api_tokens;
mod client;
pub(crate) mod session;
mod tokens;
pub(crate) mod users;

use std::{
    future::Ready,
    ops::Deref,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use actix_web::{
    Error, FromRequest, HttpMessage, HttpRequest, ResponseError, Route,
    body::{BoxBody, EitherBody, MessageBody},
    dev::{Payload, ServiceRequest, ServiceResponse},
    http::{
        Method,
        header::{self, HeaderMap, HeaderValue},
    },
    middleware::{Next, from_fn},
    web,
};
use printdesk_domain::{
    Actor, StoreError,
    access::{AccessService, Forbidden, Operation, Principal},
};

pub use client::{SESSION_COOKIE, client_ip, is_https};
pub use tokens::{
    InvalidTokenName, Position, TOKEN_PREFIX, TokenEntryError, TokenEntryProblem, TokenHash,
    TokenName, TokenSet, generate_token,
};

use crate::{
    API_PREFIX,
    problem::{Problem, ProblemKind},
};

/// Path prefixes that need credentials once the server has users or tokens.
pub const PROTECTED_PREFIXES: &[&str] = &[API_PREFIX];

/// Exact paths under a protected prefix that need none all the same: signing in (and asking
/// who one is), and the first-run set-up.
pub const PUBLIC_PATHS: &[&str] = &["/api/v1/session", "/api/v1/setup"];

/// The WebSocket subprotocol that carries a token: `printdesk.bearer.<token>`.
pub const BEARER_SUBPROTOCOL_PREFIX: &str = "printdesk.bearer.";

/// The `realm` of the `WWW-Authenticate` challenge.
pub const REALM: &str = "printdesk";

/// How long "no user exists" is believed before the database is asked again (a user created
/// through another instance closes this one within it).
const OPEN_RECHECK: Duration = Duration::from_secs(1);

/// Which paths need credentials.
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

    /// Lets the exact `path` through without credentials, even under a protected prefix.
    pub fn allow(mut self, path: impl Into<String>) -> Self {
        self.public.push(path.into());
        self
    }

    /// Whether `path` (percent-decoded, as routing sees it) needs credentials.
    pub fn needs_token(&self, path: &str) -> bool {
        self.covers(path) && !self.public.iter().any(|p| p == path)
    }

    /// Whether `path` is under a protected prefix at all (its public exceptions included):
    /// only there are credentials looked at. The page, the probes and the API description
    /// never touch the database for them (they keep working while it is down).
    pub fn covers(&self, path: &str) -> bool {
        self.protected.iter().any(|prefix| {
            path.strip_prefix(prefix.trim_end_matches('/'))
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
    }
}

/// Whether a user has been seen in the database: once one has, for good.
#[derive(Debug, Default)]
struct UsersSeen {
    seen: AtomicBool,
    checked: Mutex<Option<Instant>>,
}

/// What [`authenticate`] checks requests against: the configured tokens, the policy, the
/// access use cases (users, sessions, stored tokens) and how the server is reached. Register
/// it as `web::Data<Authenticator>`. The default has nothing: every request is the open
/// server's anonymous admin.
#[derive(Debug, Clone, Default)]
pub struct Authenticator {
    tokens: Arc<TokenSet>,
    policy: AuthPolicy,
    access: Option<AccessService>,
    users_seen: Arc<UsersSeen>,
    trust_proxy: bool,
    origins: Arc<Vec<String>>,
}

impl Authenticator {
    /// Checks requests against `tokens` (the configured ones) under the default policy.
    pub fn new(tokens: TokenSet) -> Self {
        Self {
            tokens: Arc::new(tokens),
            ..Self::default()
        }
    }

    /// With another policy.
    pub fn with_policy(mut self, policy: AuthPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// With users, sessions and stored tokens.
    pub fn with_access(mut self, access: AccessService) -> Self {
        self.access = Some(access);
        self
    }

    /// Trusts `X-Forwarded-For` (its last address is the client), `X-Forwarded-Proto` and
    /// `X-Forwarded-Host`: only behind a reverse proxy that sets them, as anyone else could
    /// claim any address (and so pass for loopback).
    pub fn trust_proxy(mut self, trust: bool) -> Self {
        self.trust_proxy = trust;
        self
    }

    /// Origins besides the server's own from which a signed-in page may change things (the
    /// CORS origins).
    pub fn allow_origins(mut self, origins: impl IntoIterator<Item = String>) -> Self {
        self.origins = Arc::new(origins.into_iter().collect());
        self
    }

    /// Whether tokens are configured.
    pub fn is_enabled(&self) -> bool {
        !self.tokens.is_empty()
    }

    /// The configured tokens.
    pub fn tokens(&self) -> &TokenSet {
        &self.tokens
    }

    /// The policy.
    pub fn policy(&self) -> &AuthPolicy {
        &self.policy
    }

    /// Whether `X-Forwarded-*` headers are trusted.
    pub fn trusts_proxy(&self) -> bool {
        self.trust_proxy
    }

    /// The access use cases; a 500 when the app was put together without them.
    pub(crate) fn access(&self) -> Result<&AccessService, Problem> {
        self.access.as_ref().ok_or_else(|| {
            tracing::error!("users and sessions were not wired into the authenticator");
            Problem::internal()
        })
    }

    /// Notes that a user exists now (the first-run set-up on this instance).
    pub(crate) fn users_exist(&self) {
        self.users_seen.seen.store(true, Ordering::Relaxed);
    }

    /// Whether requests need credentials: tokens are configured or a user exists.
    pub(crate) async fn is_closed(&self) -> Result<bool, StoreError> {
        if self.is_enabled() || self.users_seen.seen.load(Ordering::Relaxed) {
            return Ok(true);
        }
        let Some(access) = &self.access else {
            return Ok(false);
        };
        let fresh = |checked: &Option<Instant>| checked.is_some_and(|t| t.elapsed() < OPEN_RECHECK);
        if fresh(
            &self
                .users_seen
                .checked
                .lock()
                .unwrap_or_else(|p| p.into_inner()),
        ) {
            return Ok(false);
        }
        let any = access.any_user().await?;
        if any {
            self.users_exist();
        }
        *self
            .users_seen
            .checked
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
        Ok(any)
    }

    /// Who `req` is: `Some` with what it presented, `None` for nobody on a public path; or
    /// why it is refused.
    async fn identify(
        &self,
        req: &ServiceRequest,
    ) -> Result<Option<(Principal, Credential)>, Refusal> {
        if !self.policy.covers(req.match_info().as_str()) {
            return Ok(None);
        }
        if !self.is_closed().await.map_err(Refusal::Store)? {
            return Ok(Some((Principal::open(), Credential::Open)));
        }
        let protected = self.policy.needs_token(req.match_info().as_str());
        let bearer = match req.headers().get(header::AUTHORIZATION) {
            Some(value) => Some(bearer_token(value)?),
            None => bearer_subprotocol(req.headers())
                .and_then(|protocol| protocol.strip_prefix(BEARER_SUBPROTOCOL_PREFIX))
                .filter(|_| is_websocket_upgrade(req.headers())),
        };
        if let Some(token) = bearer {
            if let Some(name) = self.tokens.verify(token) {
                return Ok(Some((
                    Principal::configured_token(name.as_str()),
                    Credential::Configured(name.as_str().to_owned()),
                )));
            }
            if let Some(access) = &self.access
                && let Some(principal) =
                    access.resolve_token(token).await.map_err(Refusal::Store)?
            {
                return Ok(Some((principal, Credential::Token(token.to_owned()))));
            }
            return Err(Refusal::Invalid);
        }
        let mut ended = false;
        if let (Some(secret), Some(access)) = (client::session_cookie(req.headers()), &self.access)
        {
            match access
                .resolve_session(&secret)
                .await
                .map_err(Refusal::Store)?
            {
                Some(principal) => return Ok(Some((principal, Credential::Session(secret)))),
                None => ended = true,
            }
        }
        match (protected, ended) {
            (false, _) => Ok(None),
            (true, true) => Err(Refusal::Ended),
            (true, false) => Err(Refusal::Missing),
        }
    }

    /// Whether a request that carries the session cookie comes from an origin allowed to
    /// change things (see the module's documentation).
    pub(crate) fn same_origin(&self, req: &HttpRequest) -> bool {
        client::same_origin(req, self.trust_proxy, &self.origins)
    }

    /// Who `credential` (what a request presented earlier) is now: `None` once it no longer
    /// gets in — the session ended (signed out, expired, ended by an admin, its user deleted
    /// or given a new password or role), the token was revoked, or an open server got its
    /// first user. Asks the database as a request would (so it sees a change made through
    /// any instance at once), but writes nothing: asking is no use of a session. For a
    /// connection that outlives its request, the WebSocket, to ask again and again.
    pub async fn recheck(
        &self,
        credential: &RequestCredential,
    ) -> Result<Option<Principal>, StoreError> {
        match &credential.0 {
            Credential::Open => Ok((!self.is_closed().await?).then(Principal::open)),
            // The configured tokens change only with a restart.
            Credential::Configured(name) => Ok(Some(Principal::configured_token(name))),
            Credential::Token(secret) => match &self.access {
                Some(access) => access.resolve_token(secret).await,
                None => Ok(None),
            },
            Credential::Session(secret) => match &self.access {
                Some(access) => access.check_session(secret).await,
                None => Ok(None),
            },
        }
    }
}

/// What a request was recognised by. Its `Debug` shows nothing of a secret.
#[derive(Clone)]
enum Credential {
    /// Nothing: the server was open.
    Open,
    /// A token of the configuration, by its name.
    Configured(String),
    /// A user's API token (the secret).
    Token(String),
    /// A session cookie (the secret).
    Session(String),
}

/// What the request was recognised by, for [`Authenticator::recheck`]: the middleware puts it
/// in the request's extensions next to its [`RequestPrincipal`].
#[derive(Clone)]
pub struct RequestCredential(Credential);

impl std::fmt::Debug for RequestCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.0 {
            Credential::Open => "RequestCredential(open)",
            Credential::Configured(_) => "RequestCredential(configured token)",
            Credential::Token(_) => "RequestCredential(token ..)",
            Credential::Session(_) => "RequestCredential(session ..)",
        })
    }
}

impl RequestCredential {
    /// What `req` was recognised by, if the middleware recognised it.
    pub fn of(req: &HttpRequest) -> Option<Self> {
        req.extensions().get::<Self>().cloned()
    }

    /// The session cookie's secret, when the request came by one.
    pub(crate) fn session_secret(&self) -> Option<&str> {
        match &self.0 {
            Credential::Session(secret) => Some(secret),
            _ => None,
        }
    }
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Refusal {
    /// No credentials at all.
    Missing,
    /// The session cookie names a session that has ended.
    Ended,
    /// An `Authorization` header of another scheme.
    OtherScheme,
    /// A token that is none of the configured or stored ones.
    Invalid,
    /// A state-changing request with the session cookie from another site.
    CrossSite,
    /// The store failed while checking.
    Store(StoreError),
}

fn challenge(error: Option<&str>) -> HeaderValue {
    let value = match error {
        None => format!("Bearer realm=\"{REALM}\""),
        Some(error) => format!("Bearer realm=\"{REALM}\", error=\"{error}\""),
    };
    HeaderValue::from_str(&value).expect("a valid header value")
}

/// A 401 with the bearer challenge.
pub(crate) fn unauthorized(detail: &str, error: Option<&str>) -> Problem {
    Problem::new(ProblemKind::Unauthorized, detail)
        .with_header(header::WWW_AUTHENTICATE, challenge(error))
}

impl Refusal {
    fn problem(self) -> Problem {
        match self {
            Self::Missing => unauthorized(
                "Sign in first (POST /api/v1/session), or send an API token as \
                 'Authorization: Bearer <token>'.",
                None,
            ),
            Self::Ended => unauthorized(
                "Your session has ended (signed out, expired, or ended by an admin); sign in \
                 again.",
                None,
            ),
            Self::OtherScheme => unauthorized(
                "Only bearer tokens are accepted: send the token as \
                 'Authorization: Bearer <token>'.",
                None,
            ),
            Self::Invalid => unauthorized(
                "The token is not valid: it is mistyped, or it was revoked. \
                 Check it, or ask an admin for a new one.",
                Some("invalid_token"),
            ),
            Self::CrossSite => cross_site(),
            Self::Store(e) => e.into(),
        }
    }
}

/// The 403 for a request with the session cookie from another site.
pub(crate) fn cross_site() -> Problem {
    Problem::new(
        ProblemKind::Forbidden,
        "This request carries your session but comes from another site, so it was refused. \
         Use printdesk's own page (or an API token for programs).",
    )
}

/// The 403 for a role that is too low, naming the role needed.
pub(crate) fn forbidden(refusal: Forbidden) -> Problem {
    Problem::new(
        ProblemKind::Forbidden,
        format!(
            "This needs the {} role; you are signed in as {}. Ask an admin if you need it.",
            refusal.needed, refusal.had
        ),
    )
    .with_extension("role_needed", refusal.needed.as_str())
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

/// Whether a request changes something (so that the session cookie needs its own origin).
fn changes_state(req: &ServiceRequest) -> bool {
    !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        || is_websocket_upgrade(req.headers())
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

/// The middleware function: recognises the request's credentials (see the module's
/// documentation), refuses requests to protected paths without valid ones and cross-site
/// requests with the session cookie, and records who it is as the request's
/// [`RequestPrincipal`] and [`RequestActor`] (and as `actor` in the request's span). Mount it
/// with `actix_web::middleware::from_fn(authenticate)`, with `web::Data<Authenticator>` in the
/// app; without that data every request fails, so a missing setup is never an open door.
pub async fn authenticate<B: MessageBody>(
    auth: web::Data<Authenticator>,
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, Error> {
    let refused = match auth.identify(&req).await {
        Ok(None) => None,
        Ok(Some((_, Credential::Session(_))))
            if changes_state(&req) && !auth.same_origin(req.request()) =>
        {
            Some(Refusal::CrossSite)
        }
        Ok(Some((principal, credential))) => {
            req.extensions_mut().insert(RequestCredential(credential));
            if let Some(name) = principal.actor().name() {
                tracing::Span::current().record("actor", name);
            }
            req.extensions_mut()
                .insert(RequestActor(principal.actor().clone()));
            req.extensions_mut().insert(RequestPrincipal(principal));
            None
        }
        Err(refusal) => Some(refusal),
    };
    if let Some(refusal) = refused {
        match &refusal {
            Refusal::Missing | Refusal::Ended => tracing::debug!("no credentials; refused"),
            Refusal::OtherScheme => tracing::info!("not a bearer token; refused"),
            Refusal::Invalid => tracing::info!("invalid token; refused"),
            Refusal::CrossSite => {
                tracing::warn!("a cross-site request with the session cookie; refused")
            }
            Refusal::Store(_) => {}
        }
        let response = refusal.problem().error_response();
        return Ok(req.into_response(response).map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// `route`, allowed only to callers whose role may do `operation` (the domain's
/// [`printdesk_domain::access::PERMISSIONS`]): `403` naming the role needed otherwise, `401`
/// when nobody is signed in.
pub fn allow(operation: Operation, route: Route) -> Route {
    route.wrap(from_fn(move |req: ServiceRequest, next: Next<BoxBody>| {
        let verdict = match req.extensions().get::<RequestPrincipal>() {
            None => Err(Refusal::Missing.problem()),
            Some(principal) => principal.0.may(operation).map_err(forbidden),
        };
        async move {
            match verdict {
                Ok(()) => next.call(req).await,
                Err(problem) => {
                    tracing::info!(?operation, "role too low; refused");
                    Ok(req.into_response(problem.error_response()))
                }
            }
        }
    }))
}

/// Who is making the request, with the role it acts with: for handlers that need more than
/// the name (the token and user endpoints).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestPrincipal(pub Principal);

impl RequestPrincipal {
    /// The principal of a request, if the middleware recognised one.
    pub(crate) fn of(req: &HttpRequest) -> Option<Principal> {
        req.extensions().get::<Self>().map(|p| p.0.clone())
    }
}

impl FromRequest for RequestPrincipal {
    type Error = Problem;
    type Future = Ready<Result<Self, Problem>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(
            Self::of(req)
                .map(Self)
                .ok_or_else(|| Refusal::Missing.problem()),
        )
    }
}

/// Who is making the request: the display name of the signed-in user, the name of the token
/// it was authenticated with, or the anonymous actor of an open server. A handler takes it as
/// an argument and passes `&actor` where the domain wants an [`Actor`].
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
        // The middleware records an actor for every request it lets through with credentials
        // (or on an open server); a handler reached without one is on a public path, or the
        // app was put together wrongly. Refuse rather than record a change as nobody's.
        let actor = req.extensions().get::<Self>().cloned();
        std::future::ready(actor.ok_or_else(|| {
            tracing::error!("a handler that records an actor was reached without one");
            Refusal::Missing.problem()
        }))
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
        // Signing in needs no credentials, but is where they are looked at; the probes are not.
        assert!(!policy.needs_token("/api/v1/session") && policy.covers("/api/v1/session"));
        assert!(!policy.covers("/healthz") && !policy.covers("/index.html"));
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
