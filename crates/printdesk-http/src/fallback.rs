//! Errors the handlers never see: an unknown route (404), a known route with the wrong method
//! (405), and any error response that actix or another middleware built itself. All of them
//! leave as problem+json like every other error.

use actix_web::{
    HttpRequest, HttpResponse, ResponseError,
    body::MessageBody,
    dev::ServiceResponse,
    http::header,
    middleware::{ErrorHandlerResponse, ErrorHandlers},
};

use crate::problem::{PROBLEM_JSON, Problem, ProblemKind};

/// The default service: no route matches the path.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    Problem::new(
        ProblemKind::NotFound,
        format!("Nothing exists at {}.", printable(req.path())),
    )
    .error_response()
}

/// `path` as it may appear in a `detail`: control characters (a raw DEL, C1 controls such as
/// U+0085, which JSON does not escape) percent-encoded, so that the text shows them without
/// containing them.
pub(crate) fn printable(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if c.is_control() {
            let mut utf8 = [0; 4];
            for byte in c.encode_utf8(&mut utf8).bytes() {
                out.push_str(&format!("%{byte:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Middleware that rewrites every 4xx and 5xx response that is not already problem+json into
/// one, keeping its status (and its `Allow` header, on a 405).
pub fn problem_errors<B: MessageBody + 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(into_problem)
}

fn is_problem(res: &ServiceResponse<impl MessageBody>) -> bool {
    res.headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|ct| ct.as_bytes().starts_with(PROBLEM_JSON.as_bytes()))
}

fn into_problem<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    if is_problem(&res) {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let kind = ProblemKind::for_status(status);
    let allow = res.headers().get(header::ALLOW).cloned();
    if status.is_server_error() {
        match res.response().error() {
            Some(error) => tracing::error!(%status, error = %error, "request failed"),
            None => tracing::error!(%status, "request failed"),
        }
    }
    let detail = match kind {
        ProblemKind::MethodNotAllowed => {
            let allowed = allow
                .as_ref()
                .and_then(|a| a.to_str().ok())
                .filter(|a| !a.is_empty())
                .map_or_else(String::new, |a| format!(" (allowed: {a})"));
            format!(
                "{} is not allowed on {}{allowed}.",
                res.request().method(),
                printable(res.request().path())
            )
        }
        ProblemKind::NotFound => format!("Nothing exists at {}.", printable(res.request().path())),
        ProblemKind::Internal => return Ok(replace(res, Problem::internal())),
        ProblemKind::Unavailable => {
            "The service is unavailable right now; please try again shortly.".to_owned()
        }
        _ => format!(
            "The request failed: {}.",
            status.canonical_reason().unwrap_or("error").to_lowercase()
        ),
    };
    let mut problem = Problem::new(kind, detail);
    if let Some(allow) = allow {
        problem = problem.with_header(header::ALLOW, allow);
    }
    Ok(replace(res, problem))
}

fn replace<B>(res: ServiceResponse<B>, problem: Problem) -> ErrorHandlerResponse<B> {
    let (req, original) = res.into_parts();
    let mut response = problem.error_response();
    // What the CORS middleware (inside this one) added still holds for the new body.
    for (name, value) in original.headers() {
        if name.as_str().starts_with("access-control-") || name == header::VARY {
            response.headers_mut().append(name.clone(), value.clone());
        }
    }
    ErrorHandlerResponse::Response(ServiceResponse::new(req, response).map_into_right_body())
}

#[cfg(test)]
mod tests {
    use actix_web::{App, HttpResponse, http::StatusCode, test, web};

    use super::*;

    // `test` here is actix's module.
    #[::core::prelude::v1::test]
    fn control_characters_are_shown_percent_encoded() {
        assert_eq!(printable("/a\u{7f}b\u{85}c\u{0}/é"), "/a%7Fb%C2%85c%00/é");
        assert_eq!(printable("/api/v1/jobs/x"), "/api/v1/jobs/x");
    }

    async fn leaky() -> Result<HttpResponse, actix_web::Error> {
        Err(actix_web::error::ErrorInternalServerError(
            "connection to db.internal:5432 refused",
        ))
    }

    async fn teapot() -> HttpResponse {
        HttpResponse::build(StatusCode::IM_A_TEAPOT).body("short and stout")
    }

    #[actix_web::test]
    async fn foreign_errors_become_problems_that_hide_internals() {
        let app = test::init_service(
            App::new()
                .route("/leaky", web::get().to(leaky))
                .route("/teapot", web::get().to(teapot))
                .default_service(web::to(not_found))
                .wrap(problem_errors()),
        )
        .await;

        let res =
            test::call_service(&app, test::TestRequest::get().uri("/leaky").to_request()).await;
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            res.headers().get(header::CONTENT_TYPE).unwrap(),
            PROBLEM_JSON
        );
        let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
        assert!(!body.contains("5432"), "{body}");
        assert!(body.contains("urn:printdesk:problem:internal"), "{body}");

        let res =
            test::call_service(&app, test::TestRequest::get().uri("/teapot").to_request()).await;
        assert_eq!(res.status(), StatusCode::IM_A_TEAPOT);
        assert_eq!(
            res.headers().get(header::CONTENT_TYPE).unwrap(),
            PROBLEM_JSON
        );
        let body: serde_json::Value = test::read_body_json(res).await;
        assert_eq!(body["type"], "about:blank");
        assert_eq!(body["status"], 418);

        let res =
            test::call_service(&app, test::TestRequest::post().uri("/nowhere").to_request()).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            res.headers().get(header::CONTENT_TYPE).unwrap(),
            PROBLEM_JSON
        );
    }
}
