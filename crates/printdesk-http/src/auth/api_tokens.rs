//! `/tokens`: API tokens of users, created and revoked without a restart (admins only).

use actix_web::{HttpResponse, http::header, web};
use printdesk_domain::{
    Timestamp,
    access::{ApiToken, CreateTokenError, Role, TokenId, TokenName, Username},
};
use serde::Serialize;
use utoipa::ToSchema;

use super::{Authenticator, RequestPrincipal};
use crate::{
    API_PREFIX,
    json_body::{JsonObject, ObjectReader},
    problem::{Problem, ProblemKind},
};

impl From<CreateTokenError> for Problem {
    fn from(error: CreateTokenError) -> Self {
        match error {
            CreateTokenError::Invalid(errors) => Problem::validation(&errors),
            CreateTokenError::Duplicate(name) => Problem::new(
                ProblemKind::Duplicate,
                format!("A token named '{name}' exists already; choose another name."),
            ),
            CreateTokenError::RoleTooHigh(role) => Problem::new(
                ProblemKind::Forbidden,
                format!("A token cannot have a role above its user's ({role})."),
            )
            .with_extension("role_needed", "a role no higher than yours"),
            CreateTokenError::NoUser => Problem::new(
                ProblemKind::Forbidden,
                "Tokens belong to users: sign in as an admin user to create one (a token from \
                 the tokens file, or an open server, has no user).",
            ),
            CreateTokenError::Crypto(e) => {
                tracing::error!(error = %e, "making a token failed");
                Problem::internal()
            }
            CreateTokenError::Store(e) => e.into(),
        }
    }
}

/// The list's wire shape.
#[derive(Serialize, ToSchema)]
pub(crate) struct TokenList {
    /// Every token users made, by name (never a secret; the tokens file's are not listed).
    tokens: Vec<ApiToken>,
}

/// List API tokens
#[utoipa::path(
    get,
    path = "/api/v1/tokens",
    tag = "access",
    operation_id = "listTokens",
    responses(
        (status = 200, description = "Every stored token, by name, without secrets.",
            body = TokenList),
        (status = 403, response = crate::openapi::responses::Forbidden),
    ),
)]
pub async fn list(auth: web::Data<Authenticator>) -> Result<HttpResponse, Problem> {
    let tokens = auth.access()?.list_tokens().await?;
    Ok(HttpResponse::Ok().json(TokenList { tokens }))
}

/// `POST /tokens`' body.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // Read by utoipa only.
#[schema(example = json!({ "name": "shop-floor-phone", "role": "operator" }))]
#[serde(deny_unknown_fields)]
pub(crate) struct NewToken {
    /// The actor of its changes: 1–64 letters, digits, `.`, `_`, `-`, `@`; unique.
    name: String,
    /// The role it acts with; default and at most the creator's.
    #[schema(required = false)]
    role: Role,
}

/// A token just made, with its secret: the only time the secret is shown.
#[derive(Serialize, ToSchema)]
pub(crate) struct CreatedToken {
    /// What `DELETE /tokens/{id}` names.
    #[schema(value_type = String, format = "uuid")]
    id: TokenId,
    /// The actor of its changes.
    #[schema(value_type = String, example = "shop-floor-phone")]
    name: TokenName,
    /// The role it acts with.
    role: Role,
    /// The user it belongs to (who created it).
    #[schema(value_type = String, example = "anna")]
    user: Username,
    /// When it was created.
    #[serde(with = "printdesk_domain::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    created_at: Timestamp,
    /// The secret: send it as `Authorization: Bearer <token>`. Shown only here; only its
    /// SHA-256 is stored.
    #[schema(example = "pd_hE3vQ0l6cW9xZkVYbm5sZ2RfX0pUa1hBZ2xBcg")]
    token: String,
}

/// Create an API token
#[utoipa::path(
    post,
    path = "/api/v1/tokens",
    tag = "access",
    operation_id = "createToken",
    request_body = NewToken,
    responses(
        (status = 201, description = "The token with its secret (`token`), shown only now.",
            body = CreatedToken,
            headers(("Location" = String, description = "`/api/v1/tokens/{id}`"))),
        (status = 400, description = "A rule is broken or a member is unknown.", body = Problem,
            content_type = "application/problem+json"),
        (status = 403, response = crate::openapi::responses::Forbidden),
        (status = 409, description = "The name is taken.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
pub async fn create(
    auth: web::Data<Authenticator>,
    principal: RequestPrincipal,
    body: JsonObject,
) -> Result<HttpResponse, Problem> {
    let mut reader = ObjectReader::new(body);
    reader
        .refuse_keys(|key| (!matches!(key, "name" | "role")).then_some("is not accepted here"))?;
    let name = reader.string("name");
    let role = reader.parsed("role", "must be one of viewer, operator, admin", |v| {
        v.as_str().and_then(|s| Role::parse(s).ok())
    });
    reader.finish()?;
    let name = name.ok_or_else(|| {
        Problem::validation(&printdesk_domain::ValidationErrors::single(
            printdesk_domain::FieldViolation::new("name", "is required"),
        ))
    })?;
    let (token, secret) = auth
        .access()?
        .create_token(&principal.0, &name, role)
        .await?;
    tracing::info!(token = %token.name, role = %token.role, user = %token.user, "token created");
    let body = CreatedToken {
        id: token.id,
        name: token.name,
        role: token.role,
        user: token.user,
        created_at: token.created_at,
        token: secret.expose().to_owned(),
    };
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("{API_PREFIX}/tokens/{}", body.id)))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body))
}

/// Revoke an API token
///
/// Every instance refuses it from the next request on.
#[utoipa::path(
    delete,
    path = "/api/v1/tokens/{id}",
    tag = "access",
    operation_id = "revokeToken",
    params(("id" = String, Path, format = Uuid, description = "The token's id.")),
    responses(
        (status = 204, description = "Revoked."),
        (status = 403, response = crate::openapi::responses::Forbidden),
        (status = 404, description = "No token has this id.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
pub async fn revoke(
    auth: web::Data<Authenticator>,
    id: web::Path<String>,
) -> Result<HttpResponse, Problem> {
    let not_found = || Problem::new(ProblemKind::NotFound, "No token has this id.");
    let id = TokenId::parse(&id).map_err(|_| not_found())?;
    if !auth.access()?.revoke_token(&id).await? {
        return Err(not_found());
    }
    tracing::info!(token = %id, "token revoked");
    Ok(HttpResponse::NoContent().finish())
}
