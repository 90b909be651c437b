//! `/users`: list and create users, delete one, end a user's sessions (admins only).

use actix_web::{HttpResponse, http::header, web};
use printdesk_domain::access::{DeleteUserError, User, Via};
use serde::Serialize;
use utoipa::ToSchema;

use super::{Authenticator, RequestPrincipal, session::user_draft};
use crate::{
    API_PREFIX,
    json_body::JsonObject,
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
