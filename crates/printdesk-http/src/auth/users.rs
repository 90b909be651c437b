//! `/users`: list and create users, change or delete one, end a user's sessions (admins
//! only); `/account`: signed-in users change their own display name and password.

use actix_web::{HttpResponse, http::header, web};
use printdesk_domain::access::{
    AccountEdit, DeleteUserError, Role, UpdateUserError, User, UserEdit, Via,
};
use serde::Serialize;
use utoipa::ToSchema;

use super::{Authenticator, RequestCredential, RequestPrincipal, session::user_draft};
use crate::{
    API_PREFIX,
    json_body::{JsonObject, ObjectReader},
    problem::{Problem, ProblemKind},
};

impl From<DeleteUserError> for Problem {
    fn from(error: DeleteUserError) -> Self {
        match error {
            DeleteUserError::NotFound => {
                Problem::new(ProblemKind::NotFound, "No user has this username.")
            }
            DeleteUserError::LastAdmin => Problem::new(
                ProblemKind::Duplicate,
                "This is the last admin; make another user an admin first, or nobody could \
                 manage users any more.",
            ),
            DeleteUserError::Store(e) => e.into(),
        }
    }
}

/// The list's wire shape.
#[derive(Serialize, ToSchema)]
pub(crate) struct UserList {
    /// Every user, by username.
    users: Vec<User>,
}

/// List users
#[utoipa::path(
    get,
    path = "/api/v1/users",
    tag = "access",
    operation_id = "listUsers",
    responses(
        (status = 200, description = "Every user, by username.", body = UserList),
        (status = 403, response = crate::openapi::responses::Forbidden),
    ),
)]
pub async fn list(auth: web::Data<Authenticator>) -> Result<HttpResponse, Problem> {
    let users = auth.access()?.list_users().await?;
    Ok(HttpResponse::Ok().json(UserList { users }))
}

/// `POST /users`' body.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // Read by utoipa only: `user_draft` reads the body.
#[schema(example = json!({ "username": "olaf", "display_name": "Olaf Krause",
    "role": "operator", "password": "correct horse battery" }))]
#[serde(deny_unknown_fields)]
pub(crate) struct NewUser {
    /// 1–64 letters, digits, `.`, `_`, `-`, `@`; kept in lower case.
    username: String,
    /// What the history shows (default: the username); 1–100 characters.
    #[schema(required = false)]
    display_name: String,
    /// Default `viewer`.
    #[schema(required = false)]
    role: printdesk_domain::access::Role,
    /// At least 8 characters.
    #[schema(format = Password)]
    password: String,
}

/// Create a user
#[utoipa::path(
    post,
    path = "/api/v1/users",
    tag = "access",
    operation_id = "createUser",
    request_body = NewUser,
    responses(
        (status = 201, description = "The user.", body = User,
            headers(("Location" = String, description = "`/api/v1/users/{username}`"))),
        (status = 400, description = "A rule is broken or a member is unknown; each is named \
            in `errors`.", body = Problem, content_type = "application/problem+json"),
        (status = 403, response = crate::openapi::responses::Forbidden),
        (status = 409, description = "The username is taken (`urn:printdesk:problem:duplicate`).",
            body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn create(
    auth: web::Data<Authenticator>,
    principal: RequestPrincipal,
    body: JsonObject,
) -> Result<HttpResponse, Problem> {
    if matches!(principal.0.via(), Via::Open) {
        return Err(Problem::new(
            ProblemKind::Forbidden,
            "No user exists yet: create the first admin with the page's first-run set-up (on \
             the machine printdesk runs on) or `printdesk user create NAME --role admin`.",
        ));
    }
    let draft = user_draft(body, true)?;
    let user = auth.access()?.create_user(draft).await?;
    tracing::info!(username = %user.username, role = %user.role, "user created");
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("{API_PREFIX}/users/{}", user.username),
        ))
        .json(user))
}

/// Delete a user
///
/// With its sessions and tokens. Never the last admin (409).
#[utoipa::path(
    delete,
    path = "/api/v1/users/{username}",
    tag = "access",
    operation_id = "deleteUser",
    params(("username" = String, Path, description = "The user's username.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 403, response = crate::openapi::responses::Forbidden),
        (status = 404, description = "No user has this username.", body = Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "The last admin.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
pub async fn delete(
    auth: web::Data<Authenticator>,
    username: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let user = auth.access()?.delete_user(&username).await?;
    tracing::info!(username = %user.username, "user deleted");
    Ok(HttpResponse::NoContent().finish())
}

/// How many sessions were ended.
#[derive(Serialize, ToSchema)]
pub(crate) struct SessionsEnded {
    /// How many.
    ended: usize,
}

/// End a user's sessions
///
/// Signs the user out everywhere (a lost phone): every instance refuses those sessions from
/// the next request on.
#[utoipa::path(
    delete,
    path = "/api/v1/users/{username}/sessions",
    tag = "access",
    operation_id = "endUserSessions",
    params(("username" = String, Path, description = "The user's username.")),
    responses(
        (status = 200, description = "How many sessions were ended.", body = SessionsEnded),
        (status = 403, response = crate::openapi::responses::Forbidden),
        (status = 404, description = "No user has this username.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
pub async fn end_sessions(
    auth: web::Data<Authenticator>,
    username: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let ended = auth.access()?.end_sessions_of(&username).await?;
    tracing::info!(username = %username, ended, "sessions ended");
    Ok(HttpResponse::Ok().json(SessionsEnded { ended }))
}

impl From<UpdateUserError> for Problem {
    fn from(error: UpdateUserError) -> Self {
        match error {
            UpdateUserError::Invalid(errors) => Problem::validation(&errors),
            UpdateUserError::NotFound => {
                Problem::new(ProblemKind::NotFound, "No user has this username.")
            }
            UpdateUserError::LastAdmin => Problem::new(
                ProblemKind::Duplicate,
                "This is the last admin, who must stay an admin: make another user an admin \
                 first, or nobody could manage users any more.",
            ),
            UpdateUserError::WrongPassword => Problem::new(
                ProblemKind::Forbidden,
                "The current password is wrong, so the password was not changed.",
            )
            .with_errors([printdesk_domain::FieldViolation::new(
                "current_password",
                "is not your current password",
            )]),
            UpdateUserError::Throttled(wait) => {
                let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
                Problem::new(
                    ProblemKind::TooManyRequests,
                    format!("Too many wrong passwords for this user; try again in {secs} s."),
                )
                .with_header(header::RETRY_AFTER, header::HeaderValue::from(secs))
            }
            UpdateUserError::NotSignedIn => Problem::new(
                ProblemKind::Forbidden,
                "Only a user signed in with a password can change their account (not an API \
                 token).",
            ),
            UpdateUserError::Crypto(e) => {
                tracing::error!(error = %e, "hashing a password failed");
                Problem::internal()
            }
            UpdateUserError::Store(e) => e.into(),
        }
    }
}

fn only(keys: &'static [&'static str]) -> impl Fn(&str) -> Option<&'static str> {
    move |key| (!keys.contains(&key)).then_some("is not accepted here")
}

/// `PATCH /users/{username}`' body: every member optional.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // Read by utoipa only: `user_edit` reads the body.
#[schema(example = json!({ "role": "viewer" }))]
#[serde(deny_unknown_fields)]
pub(crate) struct UserChange {
    /// What the history shows; 1–100 characters.
    #[schema(required = false)]
    display_name: String,
    /// The new role.
    #[schema(required = false)]
    role: Role,
    /// A new password, at least 8 characters.
    #[schema(required = false, format = Password)]
    password: String,
}

/// Reads `{"display_name"?, "role"?, "password"?}`: other keys 400, wrong types 422.
fn user_edit(body: JsonObject) -> Result<UserEdit, Problem> {
    let mut reader = ObjectReader::new(body);
    reader.refuse_keys(only(&["display_name", "role", "password"]))?;
    let display_name = reader.string("display_name");
    let role = reader.parsed("role", "must be one of viewer, operator, admin", |v| {
        v.as_str().and_then(|s| Role::parse(s).ok())
    });
    let password = reader.string("password");
    reader.finish()?;
    Ok(UserEdit {
        display_name,
        role,
        password,
    })
}

/// The session secret of a request that came by its session cookie: the session a change
/// keeps when it ends the user's others.
fn own_session(credential: Option<&RequestCredential>) -> Option<&str> {
    credential.and_then(RequestCredential::session_secret)
}

/// Change a user
///
/// Its display name, role or password; members not given keep their values. A new password
/// or a different role signs the user out everywhere (every session but the one making the
/// change; open live connections close within a second). The last admin stays an admin (409).
#[utoipa::path(
    patch,
    path = "/api/v1/users/{username}",
    tag = "access",
    operation_id = "updateUser",
    params(("username" = String, Path, description = "The user's username.")),
    request_body = UserChange,
    responses(
        (status = 200, description = "The user as changed.", body = User),
        (status = 400, description = "A rule is broken or a member is unknown; each is named \
            in `errors`.", body = Problem, content_type = "application/problem+json"),
        (status = 403, response = crate::openapi::responses::Forbidden),
        (status = 404, description = "No user has this username.", body = Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "It would take the admin role from the last admin.",
            body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A member has the wrong type, or `role` is not one of \
            the roles.", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn update(
    auth: web::Data<Authenticator>,
    username: web::Path<String>,
    credential: Option<web::ReqData<RequestCredential>>,
    body: JsonObject,
) -> Result<HttpResponse, Problem> {
    let edit = user_edit(body)?;
    let credential = credential.map(web::ReqData::into_inner);
    let user = auth
        .access()?
        .update_user(&username, edit, own_session(credential.as_ref()))
        .await?;
    tracing::info!(username = %user.username, role = %user.role, "user changed");
    Ok(HttpResponse::Ok().json(user))
}

/// `PATCH /account`'s body: every member optional; `current_password` with `password`.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // Read by utoipa only: `account_edit` reads the body.
#[schema(example = json!({ "password": "a new long one", "current_password": "correct horse battery" }))]
#[serde(deny_unknown_fields)]
pub(crate) struct AccountChange {
    /// What the history shows; 1–100 characters.
    #[schema(required = false)]
    display_name: String,
    /// A new password, at least 8 characters.
    #[schema(required = false, format = Password)]
    password: String,
    /// The password now: required with `password`.
    #[schema(required = false, format = Password)]
    current_password: String,
}

fn account_edit(body: JsonObject) -> Result<AccountEdit, Problem> {
    let mut reader = ObjectReader::new(body);
    reader.refuse_keys(|key| match key {
        "display_name" | "password" | "current_password" => None,
        "role" => Some("is not yours to change; an admin changes roles"),
        _ => Some("is not accepted here"),
    })?;
    let display_name = reader.string("display_name");
    let password = reader.string("password");
    let current_password = reader.string("current_password");
    reader.finish()?;
    Ok(AccountEdit {
        display_name,
        password,
        current_password,
    })
}

/// Change my account
///
/// The signed-in user's own display name or password (any role; only with a session, not an
/// API token). A new password needs the current one (`current_password`; wrong ones are
/// slowed down as sign-ins are) and signs the user out everywhere else: every other session
/// ends, this one stays.
#[utoipa::path(
    patch,
    path = "/api/v1/account",
    tag = "access",
    operation_id = "updateAccount",
    request_body = AccountChange,
    responses(
        (status = 200, description = "The user as changed.", body = User),
        (status = 400, description = "A rule is broken, `current_password` is missing, or a \
            member is unknown (`role` included); each is named in `errors`.", body = Problem,
            content_type = "application/problem+json"),
        (status = 401, description = "Not signed in.", body = Problem,
            content_type = "application/problem+json"),
        (status = 403, description = "`current_password` is wrong, or the request uses an API \
            token.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A member has the wrong type.", body = Problem,
            content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong passwords; wait `Retry-After` seconds.",
            body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u32, description = "Seconds to wait."))),
    ),
)]
pub async fn update_account(
    auth: web::Data<Authenticator>,
    principal: RequestPrincipal,
    credential: Option<web::ReqData<RequestCredential>>,
    body: JsonObject,
) -> Result<HttpResponse, Problem> {
    let edit = account_edit(body)?;
    let credential = credential.map(web::ReqData::into_inner);
    let user = auth
        .access()?
        .update_account(&principal.0, own_session(credential.as_ref()), edit)
        .await?;
    tracing::info!(username = %user.username, "account changed");
    Ok(HttpResponse::Ok().json(user))
}
