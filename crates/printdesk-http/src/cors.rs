//! CORS, closed unless origins are configured; and the headers every response carries.
//!
//! With no origins (the default) no CORS header is ever sent, so browsers let only pages of
//! printdesk's own origin read the API. Each configured origin may call the API from a browser
//! with the methods and request headers the API uses (`Authorization`, `If-Match`,
//! `Content-Type`) and read the response headers it sets ([`EXPOSED_HEADERS`]). Requests from
//! other origins are served as usual but without CORS headers, so a browser keeps their
//! responses from the calling page; a preflight from another origin is refused (400).

use std::fmt;

use actix_cors::Cors;
use actix_web::{
    http::{
        Method, Uri,
        header::{self, HeaderName},
    },
    middleware::{Condition, DefaultHeaders},
};

use crate::REQUEST_ID_HEADER;

/// Response headers a cross-origin page may read.
pub const EXPOSED_HEADERS: [HeaderName; 6] = [
    header::ETAG,
    header::LOCATION,
    REQUEST_ID_HEADER,
    header::RETRY_AFTER,
    header::WWW_AUTHENTICATE,
    header::CONTENT_DISPOSITION,
];

/// How long a browser may cache a preflight's answer, in seconds.
const PREFLIGHT_MAX_AGE_SECS: usize = 3600;

/// The origins allowed to call the API from a browser: `scheme://host[:port]`, as browsers
/// send them in `Origin`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorsOrigins(Vec<String>);

impl CorsOrigins {
    /// None: CORS closed.
    pub fn none() -> Self {
        Self::default()
    }

    /// Checks and normalises each origin (`http` or `https`, a host, an optional port, nothing
    /// else; lower-case; a trailing `/` dropped). Blank entries are skipped; `*` is refused,
    /// as the API's data is not for every site on the web.
    pub fn parse<S: AsRef<str>>(
        origins: impl IntoIterator<Item = S>,
    ) -> Result<Self, InvalidOrigin> {
        let mut parsed = Vec::new();
        for origin in origins {
            let origin = origin.as_ref().trim();
            if origin.is_empty() {
                continue;
            }
            let invalid = || InvalidOrigin(origin.to_owned());
            let bare = origin.strip_suffix('/').unwrap_or(origin);
            let uri: Uri = bare.parse().map_err(|_| invalid())?;
            let scheme = uri.scheme_str().ok_or_else(invalid)?;
            let authority = uri.authority().ok_or_else(invalid)?;
            let plain = matches!(scheme, "http" | "https")
                && !authority.as_str().contains('@')
                && !authority.host().is_empty()
                && matches!(uri.path(), "" | "/")
                && uri.query().is_none()
                && !bare.ends_with('/')
                && !bare.contains('#');
            if !plain {
                return Err(invalid());
            }
            let normal = format!("{scheme}://{}", authority.as_str().to_ascii_lowercase());
            if !parsed.contains(&normal) {
                parsed.push(normal);
            }
        }
        Ok(Self(parsed))
    }

    /// Whether none is configured.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The origins.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

/// An origin [`CorsOrigins::parse`] refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidOrigin(pub String);

impl fmt::Display for InvalidOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "'{}' is not an origin: write it as a browser sends it, scheme://host[:port] \
             (for example https://ha.local:8123), with no path and no wildcard",
            self.0
        )
    }
}

impl std::error::Error for InvalidOrigin {}

/// The CORS middleware for `origins`; does nothing when there are none. Build it in the
/// `HttpServer::new` factory (it is per worker), and wrap it outside the authentication (a
/// preflight carries no token, and a 401 needs CORS headers for the page to read it) and
/// inside [`problem_errors`](crate::problem_errors) (so that its refusals are problem+json).
pub fn cors(origins: &CorsOrigins) -> Condition<Cors> {
    let mut cors = Cors::default()
        .allowed_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allowed_headers([
            header::AUTHORIZATION,
            header::IF_MATCH,
            header::CONTENT_TYPE,
        ])
        .expose_headers(EXPOSED_HEADERS)
        .max_age(PREFLIGHT_MAX_AGE_SECS)
        // Serve other origins without CORS headers rather than refuse them: the page's own
        // requests carry an `Origin` too, and the browser is what enforces CORS.
        .block_on_origin_mismatch(false);
    for origin in origins.iter() {
        cors = cors.allowed_origin(origin);
    }
    Condition::new(!origins.is_empty(), cors)
}

/// Headers for every response: `X-Content-Type-Options: nosniff`, so that no browser reads a
/// JSON body (or an error echoing a path) as HTML or script. A handler's own value wins.
pub fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new().add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_checked_and_normalised() {
        let origins = CorsOrigins::parse([
            " https://HA.local:8123 ",
            "http://192.168.1.20:3000/",
            "",
            "https://ha.local:8123",
        ])
        .unwrap();
        assert_eq!(
            origins.iter().collect::<Vec<_>>(),
            ["https://ha.local:8123", "http://192.168.1.20:3000"]
        );
        assert!(CorsOrigins::parse([""; 0]).unwrap().is_empty());
        for bad in [
            "*",
            "null",
            "ha.local",
            "ha.local:8123",
            "ftp://ha.local",
            "https://ha.local/app",
            "https://ha.local?x=1",
            "https://user@ha.local",
            "https://ha.local//",
            "https://",
        ] {
            assert_eq!(
                CorsOrigins::parse([bad]),
                Err(InvalidOrigin(bad.to_owned())),
                "{bad}"
            );
        }
    }
}
