//! What the server knows of the client: its address, whether it came over HTTPS, which origin
//! a request comes from, and the session cookie.
//!
//! Without `trust_proxy`, the client is the TCP peer and the scheme is plain HTTP (the server
//! speaks no TLS itself). With it, the server is behind a reverse proxy: the client is the
//! last address of `X-Forwarded-For` (the one the proxy added), the scheme that of
//! `X-Forwarded-Proto`, the host that of `X-Forwarded-Host` (else `Host`).

use std::net::IpAddr;

use actix_web::{
    HttpRequest,
    http::header::{self, HeaderMap, HeaderValue},
};

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "printdesk_session";

fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The client's address (see the module's documentation); `None` when unknown.
pub fn client_ip(req: &HttpRequest, trust_proxy: bool) -> Option<IpAddr> {
    if trust_proxy && let Some(forwarded) = header(req, "x-forwarded-for") {
        return forwarded
            .rsplit(',')
            .next()
            .and_then(|last| last.trim().parse::<IpAddr>().ok())
            .map(|ip| ip.to_canonical());
    }
    req.peer_addr().map(|peer| peer.ip().to_canonical())
}

/// Whether the client reached the server over HTTPS (then the session cookie is `Secure`).
pub fn is_https(req: &HttpRequest, trust_proxy: bool) -> bool {
    req.app_config().secure()
        || (trust_proxy
            && header(req, "x-forwarded-proto")
                .and_then(|p| p.split(',').next())
                .is_some_and(|p| p.trim().eq_ignore_ascii_case("https")))
}

/// The host (and port) the client asked for.
fn requested_host(req: &HttpRequest, trust_proxy: bool) -> Option<&str> {
    let forwarded = trust_proxy
        .then(|| header(req, "x-forwarded-host"))
        .flatten()
        .and_then(|h| h.split(',').next())
        .map(str::trim);
    forwarded.or_else(|| header(req, header::HOST.as_str()))
}

/// Whether a request comes from the server's own origin or one of `origins` (see
/// [`super`]'s documentation on cross-site requests).
pub(crate) fn same_origin(req: &HttpRequest, trust_proxy: bool, origins: &[String]) -> bool {
    match header(req, header::ORIGIN.as_str()) {
        Some(origin) => {
            if origins.iter().any(|o| o.eq_ignore_ascii_case(origin)) {
                return true;
            }
            let authority = origin
                .strip_prefix("https://")
                .or_else(|| origin.strip_prefix("http://"));
            match (authority, requested_host(req, trust_proxy)) {
                (Some(authority), Some(host)) => authority.eq_ignore_ascii_case(host),
                _ => false,
            }
        }
        None => header(req, "sec-fetch-site")
            .is_some_and(|site| site.eq_ignore_ascii_case("same-origin") || site == "none"),
    }
}

/// The session secret the `Cookie` header carries, if any.
pub(crate) fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim_matches('"').to_owned())
        .filter(|value| !value.is_empty())
}

/// The `Set-Cookie` value that starts a session: `HttpOnly`, `SameSite=Strict`, for the
/// whole site, for `max_age_secs`, and `Secure` over HTTPS.
pub(crate) fn session_set_cookie(secret: &str, max_age_secs: u64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}"
    ))
    .expect("a secret is header-safe")
}

/// The `Set-Cookie` value that removes the session cookie.
pub(crate) fn session_clear_cookie(secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}"
    ))
    .expect("a valid header value")
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn request(headers: &[(&str, &str)]) -> HttpRequest {
        let mut req = TestRequest::default().peer_addr("192.0.2.10:5000".parse().unwrap());
        for (name, value) in headers {
            req = req.insert_header((*name, *value));
        }
        req.to_http_request()
    }

    #[test]
    fn the_client_is_the_peer_unless_a_trusted_proxy_says_otherwise() {
        let req = request(&[("x-forwarded-for", "127.0.0.1")]);
        assert_eq!(client_ip(&req, false), Some("192.0.2.10".parse().unwrap()));
        let req = request(&[("x-forwarded-for", "127.0.0.1, 198.51.100.4")]);
        assert_eq!(
            client_ip(&req, true),
            Some("198.51.100.4".parse().unwrap()),
            "the address the proxy added, not one the client claimed"
        );
        assert_eq!(
            client_ip(&request(&[]), true),
            Some("192.0.2.10".parse().unwrap())
        );
    }

    #[test]
    fn https_only_from_a_trusted_proxy() {
        let req = request(&[("x-forwarded-proto", "https")]);
        assert!(!is_https(&req, false));
        assert!(is_https(&req, true));
        assert!(!is_https(&request(&[("x-forwarded-proto", "http")]), true));
    }

    #[test]
    fn the_origin_must_be_the_servers_own_or_a_configured_one() {
        let origins = ["https://ha.local:8123".to_owned()];
        let check =
            |headers: &[(&str, &str)], proxy| same_origin(&request(headers), proxy, &origins);
        assert!(check(
            &[
                ("host", "farm.local:8080"),
                ("origin", "http://farm.local:8080")
            ],
            false
        ));
        assert!(check(
            &[
                ("host", "FARM.local:8080"),
                ("origin", "https://farm.local:8080")
            ],
            false
        ));
        assert!(!check(
            &[
                ("host", "farm.local:8080"),
                ("origin", "https://evil.example")
            ],
            false
        ));
        assert!(!check(
            &[("host", "farm.local:8080"), ("origin", "null")],
            false
        ));
        assert!(!check(
            &[("host", "farm.local"), ("origin", "http://farm.local:8080")],
            false
        ));
        assert!(check(
            &[("host", "farm.local"), ("origin", "https://ha.local:8123")],
            false
        ));
        // Behind a proxy that forwards the host it was asked for.
        let proxied = [
            ("host", "127.0.0.1:8080"),
            ("x-forwarded-host", "print.example.com"),
            ("origin", "https://print.example.com"),
        ];
        assert!(check(&proxied, true));
        assert!(!check(&proxied, false));
        // No Origin: the browser's own word on where the request comes from.
        assert!(check(&[("sec-fetch-site", "same-origin")], false));
        assert!(!check(&[("sec-fetch-site", "cross-site")], false));
        assert!(!check(&[], false), "neither: refused");
    }

    #[test]
    fn the_session_cookie_is_found_among_others_and_set_strictly() {
        let mut headers = HeaderMap::new();
        assert_eq!(session_cookie(&headers), None);
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("theme=dark; printdesk_session=abc123; other=1"),
        );
        assert_eq!(session_cookie(&headers).as_deref(), Some("abc123"));
        let set = session_set_cookie("abc123", 60, true);
        assert_eq!(
            set.to_str().unwrap(),
            "printdesk_session=abc123; Path=/; HttpOnly; SameSite=Strict; Max-Age=60; Secure"
        );
        assert!(
            !session_set_cookie("x", 60, false)
                .to_str()
                .unwrap()
                .contains("Secure")
        );
        assert!(
            session_clear_cookie(false)
                .to_str()
                .unwrap()
                .contains("Max-Age=0")
        );
    }
}
