//! `/session` (sign in, who am I, sign out) and `/setup` (the first admin, on first run).

use actix_web::{HttpRequest, HttpResponse, http::header, web};
use printdesk_domain::{
    FieldViolation, ValidationErrors,
    access::{CreateUserError, Principal, Role, SignInError, UserDraft, Via},
};
use serde::Serialize;
use utoipa::ToSchema;

use super::{Authenticator, RequestPrincipal, client, cross_site, unauthorized};
use crate::{
    json_body::{JsonObject, ObjectReader},
    problem::{Problem, ProblemKind},
};

/// `POST /session`'s body.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // Read by utoipa only: `credentials` reads the body.
#[schema(example = json!({ "username": "anna", "password": "correct horse battery" }))]
#[serde(deny_unknown_fields)]
pub(crate) struct Credentials {
    /// The username (any case).
    username: String,
    /// The password.
    #[schema(format = Password)]
    password: String,
}

fn required(reader: &mut ObjectReader, key: &str, missing: &mut Vec<FieldViolation>) -> String {
    reader.string(key).unwrap_or_else(|| {
        missing.push(FieldViolation::new(key, "is required"));
        String::new()
    })
}

fn only(keys: &'static [&'static str]) -> impl Fn(&str) -> Option<&'static str> {
    move |key| (!keys.contains(&key)).then_some("is not accepted here")
}

/// Reads `{"username", "password"}`: other keys 400, wrong types 422, missing ones 400.
fn credentials(body: JsonObject) -> Result<(String, String), Problem> {
    let mut reader = ObjectReader::new(body);
    reader.refuse_keys(only(&["username", "password"]))?;
    let mut missing = Vec::new();
    let username = required(&mut reader, "username", &mut missing);
    let password = required(&mut reader, "password", &mut missing);
    reader.finish()?;
    match ValidationErrors::from_violations(missing) {
        Some(errors) => Err(Problem::validation(&errors)),
        None => Ok((username, password)),
    }
}

/// Reads a new user: `username`, `password`, optional `display_name`, and with `with_role`
/// `role` (default `viewer`).
pub(crate) fn user_draft(body: JsonObject, with_role: bool) -> Result<UserDraft, Problem> {
    let keys: &'static [&'static str] = if with_role {
        &["username", "display_name", "password", "role"]
    } else {
        &["username", "display_name", "password"]
    };
    let mut reader = ObjectReader::new(body);
    reader.refuse_keys(only(keys))?;
    let mut missing = Vec::new();
    let username = required(&mut reader, "username", &mut missing);
    let password = required(&mut reader, "password", &mut missing);
    let display_name = reader.string("display_name");
    let role = if with_role {
        reader.parsed("role", "must be one of viewer, operator, admin", |v| {
            v.as_str().and_then(|s| Role::parse(s).ok())
        })
    } else {
        None
    };
    reader.finish()?;
    if let Some(errors) = ValidationErrors::from_violations(missing) {
        return Err(Problem::validation(&errors));
    }
    Ok(UserDraft {
        username,
        display_name,
        role: role.unwrap_or_default(),
        password,
    })
}

impl From<SignInError> for Problem {
    fn from(error: SignInError) -> Self {
        match error {
            SignInError::WrongCredentials => {
                unauthorized("The username or the password is wrong.", None)
            }
            SignInError::Throttled(wait) => {
                let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
                Problem::new(
                    ProblemKind::TooManyRequests,
                    format!(
                        "Too many failed sign-ins for this user or from this address; try \
                         again in {secs} s."
                    ),
                )
                .with_header(header::RETRY_AFTER, header::HeaderValue::from(secs))
            }
            SignInError::Crypto(e) => {
                tracing::error!(error = %e, "signing in failed");
                Problem::internal()
            }
            SignInError::Store(e) => e.into(),
        }
    }
}

impl From<CreateUserError> for Problem {
    fn from(error: CreateUserError) -> Self {
        match error {
            CreateUserError::Invalid(errors) => Problem::validation(&errors),
            CreateUserError::Duplicate(name) => Problem::new(
                ProblemKind::Duplicate,
                format!("A user named '{name}' exists already."),
            ),
            CreateUserError::NotFirst => Problem::new(
                ProblemKind::Forbidden,
                "The first admin exists already; sign in, and have an admin create more users.",
            ),
            CreateUserError::Crypto(e) => {
                tracing::error!(error = %e, "hashing a password failed");
                Problem::internal()
            }
            CreateUserError::Store(e) => e.into(),
        }
    }
}

/// The response that starts a session: `status`, the cookie, and (on a set-up) who signed in.
fn started(
    req: &HttpRequest,
    auth: &Authenticator,
    secret: &str,
    mut response: actix_web::HttpResponseBuilder,
    body: Option<SessionInfo>,
) -> HttpResponse {
    let max_age = auth
        .access
        .as_ref()
        .map_or(0, |access| access.session_policy().absolute.as_secs());
    let secure = client::is_https(req, auth.trust_proxy);
    response
        .insert_header((
            header::SET_COOKIE,
            client::session_set_cookie(secret, max_age, secure),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"));
    match body {
        Some(body) => response.json(body),
        None => response.finish(),
    }
}

/// Sign in
///
/// Checks the username and password and starts a session: the answer sets the session cookie
/// (`printdesk_session`, `HttpOnly; SameSite=Strict`, `Secure` over HTTPS). A wrong password
/// and an unknown user get the same 401 in the same time; after 5 failures for a username (20
/// from an address) further attempts wait 1 s, 2 s, 4 s, … (429 with `Retry-After`).
#[utoipa::path(
    post,
    path = "/api/v1/session",
    tag = "access",
    operation_id = "signIn",
    request_body = Credentials,
    security(()),
    responses(
        (status = 204, description = "Signed in; the session cookie is set. `GET /session` \
            tells who.",
            headers(("Set-Cookie" = String, description = "`printdesk_session=…; Path=/; \
                HttpOnly; SameSite=Strict; Max-Age=604800` (`; Secure` over HTTPS)"))),
        (status = 400, description = "`username` or `password` is missing, or another member \
            is given.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "The username or the password is wrong.", body = Problem,
            content_type = "application/problem+json"),
        (status = 403, description = "The request comes from another site (its `Origin`).",
            body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed sign-ins; wait `Retry-After` seconds.",
            body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u32, description = "Seconds to wait."))),
    ),
)]
pub async fn sign_in(
    req: HttpRequest,
    auth: web::Data<Authenticator>,
    body: JsonObject,
) -> Result<HttpResponse, Problem> {
    // A cross-site sign-in would sign the victim's browser in as the attacker.
    if req.headers().contains_key(header::ORIGIN) && !auth.same_origin(&req) {
        return Err(cross_site());
    }
    let (username, password) = credentials(body)?;
    let client = client::client_ip(&req, auth.trust_proxy).map(|ip| ip.to_string());
    let signed_in = auth
        .access()?
        .sign_in(&username, &password, client.as_deref())
        .await
        .inspect_err(|e| {
            if matches!(e, SignInError::WrongCredentials | SignInError::Throttled(_)) {
                tracing::info!(client, "sign-in refused: {e}");
            }
        })?;
    tracing::info!(username = %signed_in.user.username, "signed in");
    let secret = signed_in.secret.expose();
    Ok(started(
        &req,
        &auth,
        secret,
        HttpResponse::NoContent(),
        None,
    ))
}

/// Sign out
///
/// Ends the session of the cookie sent (if any) and clears the cookie. Always 204.
#[utoipa::path(
    delete,
    path = "/api/v1/session",
    tag = "access",
    operation_id = "signOut",
    security(()),
    responses((status = 204, description = "Signed out; the cookie is cleared.")),
)]
pub async fn sign_out(
    req: HttpRequest,
    auth: web::Data<Authenticator>,
) -> Result<HttpResponse, Problem> {
    if let Some(secret) = client::session_cookie(req.headers()) {
        auth.access()?.sign_out(&secret).await?;
    }
    Ok(HttpResponse::NoContent()
        .insert_header((
            header::SET_COOKIE,
            client::session_clear_cookie(client::is_https(&req, auth.trust_proxy)),
        ))
        .finish())
}

/// Who a request is, as `GET /session` tells it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionInfo {
    /// The user's username; `null` for a configured token or an open server.
    username: Option<String>,
    /// The user's display name; `null` as `username`.
    display_name: Option<String>,
    /// What the history records for changes made now: the display name, or the token's name;
    /// `null` on an open server.
    actor: Option<String>,
    /// The role this request acts with.
    role: Role,
    /// How the request was recognised: `session`, `token` (a user's), `configured_token` (the
    /// tokens file or environment) or `open` (no user and no token exists yet).
    #[schema(example = "session")]
    via: &'static str,
}

impl SessionInfo {
    pub(crate) fn of(principal: &Principal) -> Self {
        let user = principal.user();
        Self {
            username: user.map(|u| u.username.to_string()),
            display_name: user.map(|u| u.display_name.to_string()),
            actor: principal.actor().name().map(str::to_owned),
            role: principal.role(),
            via: match principal.via() {
                Via::Session(_) => "session",
                Via::Token { .. } => "token",
                Via::ConfiguredToken => "configured_token",
                Via::Open => "open",
            },
        }
    }
}

/// Who am I
///
/// Who the request is (its session, token, or the open server's anonymous admin) and its
/// role: what the page shows and which actions it offers.
#[utoipa::path(
    get,
    path = "/api/v1/session",
    tag = "access",
    operation_id = "whoAmI",
    security(()),
    responses(
        (status = 200, description = "Who the request is.", body = SessionInfo),
        (status = 401, description = "Not signed in (or the session has ended).",
            body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn who_am_i(req: HttpRequest) -> Result<HttpResponse, Problem> {
    let principal = RequestPrincipal::of(&req)
        .ok_or_else(|| unauthorized("You are not signed in (or your session has ended).", None))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(SessionInfo::of(&principal)))
}

/// How this client can get in: the first-run set-up, a sign-in, or only a token.
#[derive(Debug, Serialize, ToSchema)]
pub struct SetupStatus {
    /// `true` when no user and no configured token exists yet and the request comes from
    /// this machine (loopback): then `POST /setup` creates the first admin.
    first_run: bool,
    /// `true` when users exist, so that signing in (`POST /session`) can work; `false` means
    /// only API tokens (from the tokens file) open this server, or nothing is needed yet.
    sign_in: bool,
}

/// Whether the first-run set-up is offered here (no user yet, a client on loopback), and
/// whether users exist.
async fn setup_for(req: &HttpRequest, auth: &Authenticator) -> Result<SetupStatus, Problem> {
    let loopback = client::client_ip(req, auth.trust_proxy).is_some_and(|ip| ip.is_loopback());
    let users = auth.access()?.any_user().await?;
    Ok(SetupStatus {
        // A server given tokens is set up already: its tokens make users (`POST /users`).
        first_run: loopback && !users && !auth.is_enabled(),
        sign_in: users,
    })
}

/// First run?
///
/// How this client can get in: the first-run set-up (no user yet, and the request comes from
/// this machine), a sign-in (users exist), or neither (only tokens, or nothing needed yet).
#[utoipa::path(
    get,
    path = "/api/v1/setup",
    tag = "access",
    operation_id = "setupStatus",
    security(()),
    responses((status = 200, description = "Whether the first admin can be created here.",
        body = SetupStatus)),
)]
pub async fn setup_status(
    req: HttpRequest,
    auth: web::Data<Authenticator>,
) -> Result<HttpResponse, Problem> {
    let status = setup_for(&req, &auth).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(status))
}

/// `POST /setup`'s body.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // Read by utoipa only: `user_draft` reads the body.
#[schema(example = json!({ "username": "anna", "display_name": "Anna Berg",
    "password": "correct horse battery" }))]
#[serde(deny_unknown_fields)]
pub(crate) struct FirstAdmin {
    /// 1–64 letters, digits, `.`, `_`, `-`, `@`; kept in lower case.
    username: String,
    /// What the history shows (default: the username); 1–100 characters.
    #[schema(required = false)]
    display_name: String,
    /// At least 8 characters.
    #[schema(format = Password)]
    password: String,
}

/// Create the first admin
///
/// Only while no user exists, on a server without configured tokens, and only from this
/// machine (loopback; behind a trusted proxy, the address it forwards). Creates an admin and
/// signs it in.
#[utoipa::path(
    post,
    path = "/api/v1/setup",
    tag = "access",
    operation_id = "createFirstAdmin",
    request_body = FirstAdmin,
    security(()),
    responses(
        (status = 201, description = "The first admin, signed in.", body = SessionInfo,
            headers(("Set-Cookie" = String, description = "The session cookie."))),
        (status = 400, description = "A rule is broken; each is named in `errors`.",
            body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A user exists already, the server has configured \
            tokens, or the request does not come from this machine.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
pub async fn setup(
    req: HttpRequest,
    auth: web::Data<Authenticator>,
    body: JsonObject,
) -> Result<HttpResponse, Problem> {
    if req.headers().contains_key(header::ORIGIN) && !auth.same_origin(&req) {
        return Err(cross_site());
    }
    if auth.is_enabled() {
        return Err(Problem::new(
            ProblemKind::Forbidden,
            "This server is set up with API tokens: create users with one (POST /api/v1/users) \
             or with `printdesk user create NAME --role admin`.",
        ));
    }
    let loopback = client::client_ip(&req, auth.trust_proxy).is_some_and(|ip| ip.is_loopback());
    if !loopback {
        return Err(Problem::new(
            ProblemKind::Forbidden,
            "The first admin can only be created from the machine printdesk runs on (or with \
             `printdesk user create NAME --role admin`).",
        ));
    }
    let draft = user_draft(body, false)?;
    let password = draft.password.clone();
    let access = auth.access()?;
    let user = access.create_first_admin(draft).await?;
    auth.users_exist();
    tracing::info!(username = %user.username, "first admin created");
    let client = client::client_ip(&req, auth.trust_proxy).map(|ip| ip.to_string());
    let signed_in = access
        .sign_in(user.username.as_str(), &password, client.as_deref())
        .await?;
    let info = SessionInfo::of(&Principal::session(signed_in.user));
    let secret = signed_in.secret.expose();
    Ok(started(
        &req,
        &auth,
        secret,
        HttpResponse::Created(),
        Some(info),
    ))
}
