//! What is checked of every request before any route sees it: `HEAD` served as `GET`, a query
//! string that is UTF-8 once percent-decoded (400), and `Upgrade` only where it can happen
//! (`GET /api/v1/ws`, WebSocket version 13). Mount [`edge_checks`] with
//! `actix_web::middleware::from_fn`, inside the metrics and tracing middleware (so that they
//! record the request as sent) and outside the routes.

use actix_web::{
    Error, ResponseError,
    body::{EitherBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::{
        ConnectionType, Method,
        header::{self, HeaderValue},
    },
    middleware::Next,
};

use crate::problem::{Problem, ProblemKind};

/// The one path where a protocol switch (to WebSocket) is accepted.
pub const WEBSOCKET_PATH: &str = "/api/v1/ws";

/// The middleware function.
pub async fn edge_checks(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    if let Err(problem) = valid_query(req.query_string()) {
        return Ok(refuse(req, &problem, false));
    }
    let upgrade = req.headers().contains_key(header::UPGRADE);
    if upgrade && let Err(problem) = upgrade_allowed(&req) {
        return Ok(refuse(req, &problem, true));
    }
    // Every GET route answers HEAD: the same handler, and actix sends the head without the
    // body (it knows the request was a HEAD from the wire, whatever the method is now).
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    let mut res = next.call(req).await?;
    if upgrade && res.status() != actix_web::http::StatusCode::SWITCHING_PROTOCOLS {
        // actix reads what follows a request with `Upgrade` as that request's body until the
        // connection closes: a next request on it would never be read.
        res.response_mut()
            .head_mut()
            .set_connection_type(ConnectionType::Close);
    }
    Ok(res.map_into_left_body())
}

fn refuse<B>(
    req: ServiceRequest,
    problem: &Problem,
    close: bool,
) -> ServiceResponse<EitherBody<B>> {
    let mut response = problem.error_response();
    if close {
        response
            .head_mut()
            .set_connection_type(ConnectionType::Close);
    }
    req.into_response(response).map_into_right_body()
}

/// The query string, percent-decoded, must be UTF-8: `?q=%ff` is not text.
fn valid_query(query: &str) -> Result<(), Problem> {
    let mut bytes = Vec::with_capacity(query.len());
    let mut rest = query.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        match (b, tail) {
            (b'%', [hi, lo, after @ ..]) if hi.is_ascii_hexdigit() && lo.is_ascii_hexdigit() => {
                bytes.push(hex(*hi) << 4 | hex(*lo));
                rest = after;
            }
            _ => {
                bytes.push(b);
                rest = tail;
            }
        }
    }
    match std::str::from_utf8(&bytes) {
        Ok(_) => Ok(()),
        Err(_) => Err(Problem::new(
            ProblemKind::BadRequest,
            "The query string is not UTF-8 text once percent-decoded (e.g. %FF); encode text \
             as UTF-8 before percent-encoding it.",
        )),
    }
}

fn hex(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        _ => digit - b'A' + 10,
    }
}

/// A request asking to switch protocols may do so only as a WebSocket handshake on
/// `GET /api/v1/ws`, version 13. Elsewhere it is served as usual (the `Upgrade` is ignored)
/// when it carries no body; a request with a body is refused, since actix would read that
/// body until the connection closes.
fn upgrade_allowed(req: &ServiceRequest) -> Result<(), Problem> {
    let headers = req.headers();
    let websocket = headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|p| p.trim().eq_ignore_ascii_case("websocket"))
        });
    let is_ws_route = req.path() == WEBSOCKET_PATH;
    if websocket && is_ws_route && req.method() == Method::GET {
        let version = headers
            .get(header::SEC_WEBSOCKET_VERSION)
            .and_then(|v| v.to_str().ok());
        return match version {
            Some("13") => Ok(()),
            _ => Err(Problem::new(
                ProblemKind::Status(actix_web::http::StatusCode::UPGRADE_REQUIRED),
                "This server speaks WebSocket version 13 only (Sec-WebSocket-Version: 13).",
            )
            .with_header(
                header::SEC_WEBSOCKET_VERSION,
                HeaderValue::from_static("13"),
            )),
        };
    }
    let declares_body = headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0");
    let may_have_body =
        declares_body || matches!(*req.method(), Method::POST | Method::PUT | Method::PATCH);
    if may_have_body {
        return Err(Problem::new(
            ProblemKind::BadRequest,
            format!(
                "A request cannot switch protocols (Upgrade) here: only GET {WEBSOCKET_PATH} \
                 upgrades, to WebSocket. Send {} {} without the Upgrade header.",
                req.method(),
                crate::fallback::printable(req.path())
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_must_be_utf8_once_decoded() {
        for ok in [
            "",
            "q=caf%C3%A9",
            "q=%e2%82%ac&limit=5",
            "q=100%",
            "q=%zz",
            "q=a+b",
        ] {
            assert!(valid_query(ok).is_ok(), "{ok}");
        }
        for bad in ["q=%ff", "q=%C3", "status=pending&q=%80abc"] {
            let problem = valid_query(bad).unwrap_err();
            assert_eq!(problem.kind(), ProblemKind::BadRequest, "{bad}");
        }
    }
}
