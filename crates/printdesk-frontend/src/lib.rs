//! # printdesk-frontend
//!
//! The jobs page (`frontend/` at the top of the repository), compiled into the binary so that a
//! server works on a LAN with no internet and no files beside it. Debug builds read the files
//! from disk, so editing the page needs no rebuild.

use actix_web::{HttpRequest, HttpResponse, http::header, web};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "../../frontend/"]
#[exclude = "node_modules/*"]
#[exclude = "tests/*"]
#[exclude = "package*.json"]
#[exclude = "*.md"]
struct Assets;

/// Registers `GET /` and `GET /{file}` for the page's files; for `App::configure`, after the
/// API so that API paths win.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(index))
        .route("/{file:.*}", web::get().to(asset));
}

async fn index() -> HttpResponse {
    serve("index.html").unwrap_or_else(|| HttpResponse::NotFound().finish())
}

async fn asset(req: HttpRequest) -> HttpResponse {
    let path = req.match_info().query("file");
    serve(path).unwrap_or_else(|| {
        HttpResponse::NotFound()
            .content_type("application/problem+json")
            .body(format!(
                r#"{{"type":"urn:printdesk:problem:not-found","title":"Not found","status":404,"detail":"There is no page or file at /{}."}}"#,
                path.replace(['"', '\\'], "")
            ))
    })
}

fn serve(path: &str) -> Option<HttpResponse> {
    let file = Assets::get(path)?;
    let mime = file.metadata.mimetype();
    Some(
        HttpResponse::Ok()
            .content_type(mime)
            // Pages are small and change with the binary; always revalidate.
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .insert_header((
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
            ))
            .insert_header((header::REFERRER_POLICY, "no-referrer"))
            // For browsers that predate CSP's frame-ancestors: never inside a frame.
            .insert_header((header::X_FRAME_OPTIONS, "DENY"))
            // No window opened from elsewhere keeps a handle on this one (the page holds a token).
            .insert_header((
                header::HeaderName::from_static("cross-origin-opener-policy"),
                "same-origin",
            ))
            .body(file.data.into_owned()),
    )
}

#[cfg(test)]
mod tests {
    use actix_web::{App, test};

    #[actix_rt::test]
    async fn serves_the_page_at_root_with_security_headers() {
        let app = test::init_service(App::new().configure(super::configure)).await;
        let res = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
        assert!(res.status().is_success());
        assert_eq!(res.headers().get("content-type").unwrap(), "text/html");
        assert!(res.headers().contains_key("content-security-policy"));
        for (name, value) in [
            ("x-frame-options", "DENY"),
            ("x-content-type-options", "nosniff"),
            ("referrer-policy", "no-referrer"),
            ("cross-origin-opener-policy", "same-origin"),
        ] {
            assert_eq!(res.headers().get(name).unwrap(), value, "{name}");
        }
        let body = test::read_body(res).await;
        assert!(std::str::from_utf8(&body).unwrap().contains("printdesk"));
    }

    #[actix_rt::test]
    async fn unknown_file_is_a_problem_404() {
        let app = test::init_service(App::new().configure(super::configure)).await;
        let res =
            test::call_service(&app, test::TestRequest::get().uri("/nope.js").to_request()).await;
        assert_eq!(res.status(), 404);
        assert_eq!(
            res.headers().get("content-type").unwrap(),
            "application/problem+json"
        );
    }
}
