//! Who may use the server: the API tokens (a tokens file and `PRINTDESK_API_TOKENS`), the
//! refusal to serve a network without them, the CORS origins; and `printdesk token create`.

use std::{
    fmt, fs,
    io::{self, Write},
    path::{Path, PathBuf},
};

use printdesk_http::{
    Authenticator, CorsOrigins, Security,
    auth::{InvalidTokenName, TokenHash, TokenName, TokenSet, generate_token},
};

use crate::config::{Config, DEFAULT_TOKENS_FILE};

/// What the first line of a new tokens file says.
const FILE_HEADER: &str = "# printdesk API tokens: one NAME:SHA256 line per token, where SHA256 \
                           is the token's SHA-256 in hex (never the token itself).\n\
                           # Add one with `printdesk token create NAME`; delete its line to revoke \
                           it, then restart printdesk.\n";

/// Why the server will not start with this configuration. One line, for stderr.
#[derive(Debug)]
pub struct Refusal(String);

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The tokens, where they came from, and the CORS origins; or why the server must not start.
#[derive(Debug)]
pub struct Settings {
    /// For the app.
    pub security: Security,
    /// The tokens file read, if any.
    pub tokens_file: Option<PathBuf>,
}

/// Reads the tokens and the CORS origins, and refuses to serve a non-loopback address without
/// tokens unless told to.
pub fn settings(config: &Config) -> Result<Settings, Refusal> {
    let mut tokens = TokenSet::new();
    let tokens_file = match &config.tokens_file {
        Some(path) => Some(path.clone()),
        None => Some(PathBuf::from(DEFAULT_TOKENS_FILE)).filter(|p| p.exists()),
    };
    if let Some(path) = &tokens_file {
        let text = fs::read_to_string(path).map_err(|e| {
            Refusal(format!(
                "cannot read the tokens file {}: {e}",
                path.display()
            ))
        })?;
        tokens
            .add_file(&text)
            .map_err(|e| Refusal(format!("tokens file {}, {e}", path.display())))?;
    }
    if let Some(list) = &config.api_tokens {
        tokens
            .add_list(list)
            .map_err(|e| Refusal(format!("PRINTDESK_API_TOKENS, {e}")))?;
    }

    let ip = config.bind.ip().to_canonical();
    if tokens.is_empty() && !ip.is_loopback() && !config.insecure_no_auth {
        return Err(Refusal(format!(
            "refusing to serve on {} without API tokens, as anyone on the network could \
             change every job: create one with `printdesk token create NAME` (or pass \
             --insecure-no-auth to serve without authentication anyway)",
            config.bind
        )));
    }

    let cors_origins = CorsOrigins::parse(&config.cors_origins)
        .map_err(|e| Refusal(format!("--cors-origins: {e}")))?;
    Ok(Settings {
        security: Security {
            authenticator: Authenticator::new(tokens),
            cors_origins,
        },
        tokens_file,
    })
}

/// Logs how the server is guarded: the number of tokens (never their hashes), the CORS origins.
pub fn log(config: &Config, settings: &Settings) {
    let tokens = settings.security.authenticator.tokens();
    let file = settings
        .tokens_file
        .as_ref()
        .map(|p| p.display().to_string());
    if tokens.is_empty() {
        if config.bind.ip().to_canonical().is_loopback() {
            tracing::info!(
                tokens = 0,
                "no API tokens: the API is open to every program on this machine"
            );
        } else {
            tracing::warn!(
                tokens = 0,
                bind = %config.bind,
                "no API tokens (--insecure-no-auth): the API is open to the whole network"
            );
        }
    } else {
        tracing::info!(
            tokens = tokens.len(),
            tokens_file = file,
            "API tokens loaded: /api/v1 needs one"
        );
    }
    let origins = &settings.security.cors_origins;
    if !origins.is_empty() {
        let origins: Vec<&str> = origins.iter().collect();
        tracing::info!(?origins, "CORS open to these origins");
    }
}

/// Why `token create` failed.
#[derive(Debug)]
pub enum CreateError {
    /// The name breaks the rule.
    InvalidName(String, InvalidTokenName),
    /// A token of that name exists.
    Duplicate(String, String),
    /// The existing file cannot be used.
    BadFile(String),
    /// Reading or writing failed.
    Io(PathBuf, io::Error),
    /// No randomness.
    Random(String),
}

impl fmt::Display for CreateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidName(name, e) => write!(f, "'{name}' cannot be a token name: {e}"),
            Self::Duplicate(name, place) => write!(
                f,
                "a token named '{name}' exists already ({place}); choose another name, or \
                 delete its line first to replace it"
            ),
            Self::BadFile(e) => write!(f, "{e}; fix it before adding a token"),
            Self::Io(path, e) => write!(f, "{}: {e}", path.display()),
            Self::Random(e) => write!(f, "cannot generate a token: {e}"),
        }
    }
}

/// `printdesk token create NAME`: makes a token, appends `NAME:SHA256` to `file` (created
/// with mode 0600, headed by a comment), and returns the token. The name must be new in the
/// file and in `env_list` (`PRINTDESK_API_TOKENS`, which a server would read as well).
pub fn create_token(
    name: &str,
    file: &Path,
    env_list: Option<&str>,
) -> Result<String, CreateError> {
    let name = TokenName::parse(name).map_err(|e| CreateError::InvalidName(name.to_owned(), e))?;
    let existing = match fs::read_to_string(file) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(CreateError::Io(file.to_owned(), e)),
    };
    let mut tokens = TokenSet::new();
    if let Some(text) = &existing {
        tokens
            .add_file(text)
            .map_err(|e| CreateError::BadFile(format!("tokens file {}, {e}", file.display())))?;
    }
    if tokens.contains_name(name.as_str()) {
        let place = format!("in {}", file.display());
        return Err(CreateError::Duplicate(name.to_string(), place));
    }
    let mut env_tokens = TokenSet::new();
    if env_list.is_some_and(|list| {
        env_tokens.add_list(list).is_ok() && env_tokens.contains_name(name.as_str())
    }) {
        let place = "in PRINTDESK_API_TOKENS".to_owned();
        return Err(CreateError::Duplicate(name.to_string(), place));
    }

    let token = generate_token().map_err(|e| CreateError::Random(e.to_string()))?;
    let mut text = String::new();
    match &existing {
        None => text.push_str(FILE_HEADER),
        Some(old) if !old.is_empty() && !old.ends_with('\n') => text.push('\n'),
        Some(_) => {}
    }
    text.push_str(&format!("{name}:{}\n", TokenHash::of(&token).to_hex()));
    append(file, &text).map_err(|e| CreateError::Io(file.to_owned(), e))?;
    Ok(token)
}

fn append(file: &Path, text: &str) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Hashes are not secrets, but nobody else has any business reading the list.
        options.mode(0o600);
    }
    let mut out = options.open(file)?;
    out.write_all(text.as_bytes())?;
    out.sync_all()
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::*;

    fn config(bind: &str) -> Config {
        Config {
            database_url: "sqlite://unused.db".into(),
            bind: bind.parse::<SocketAddr>().unwrap(),
            log_format: crate::config::LogFormat::Text,
            workers: None,
            tokens_file: Some(PathBuf::from("/nonexistent/printdesk.tokens")),
            api_tokens: None,
            insecure_no_auth: false,
            cors_origins: Vec::new(),
            secret_key_file: None,
            body_timeout: 10,
            max_connections: None,
            monitor: true,
        }
    }

    fn token_entry(name: &str, token: &str) -> String {
        format!("{name}:{}", TokenHash::of(token).to_hex())
    }

    #[test]
    fn a_network_address_needs_tokens_or_the_insecure_flag() {
        let mut open = config("0.0.0.0:8080");
        open.tokens_file = None;
        let refusal = settings(&open).unwrap_err().to_string();
        assert!(refusal.contains("0.0.0.0:8080"), "{refusal}");
        assert!(refusal.contains("printdesk token create"), "{refusal}");
        assert!(refusal.contains("--insecure-no-auth"), "{refusal}");
        assert!(!refusal.contains('\n'));

        open.insecure_no_auth = true;
        assert!(
            settings(&open)
                .unwrap()
                .security
                .authenticator
                .tokens()
                .is_empty()
        );

        let mut guarded = config("192.168.1.10:8080");
        guarded.tokens_file = None;
        guarded.api_tokens = Some(token_entry("till", "t"));
        assert_eq!(
            settings(&guarded)
                .unwrap()
                .security
                .authenticator
                .tokens()
                .len(),
            1
        );

        for loopback in [
            "127.0.0.1:8080",
            "127.0.0.2:80",
            "[::1]:8080",
            "[::ffff:127.0.0.1]:1",
        ] {
            let mut local = config(loopback);
            local.tokens_file = None;
            assert!(settings(&local).is_ok(), "{loopback}");
        }
    }

    #[test]
    fn a_named_tokens_file_must_exist() {
        let refusal = settings(&config("127.0.0.1:8080")).unwrap_err().to_string();
        assert!(
            refusal.starts_with("cannot read the tokens file /nonexistent/printdesk.tokens"),
            "{refusal}"
        );
    }

    #[test]
    fn bad_entries_and_origins_are_refused_with_where_they_are() {
        let mut c = config("127.0.0.1:8080");
        c.tokens_file = None;
        c.api_tokens = Some(format!("{},oops", token_entry("till", "t")));
        assert_eq!(
            settings(&c).unwrap_err().to_string(),
            "PRINTDESK_API_TOKENS, entry 2: expected NAME:SHA256 (a token name, a colon, and \
             the 64 hex digits of the token's SHA-256 hash)"
        );
        c.api_tokens = None;
        c.cors_origins = vec!["*".into()];
        let refusal = settings(&c).unwrap_err().to_string();
        assert!(
            refusal.starts_with("--cors-origins: '*' is not an origin"),
            "{refusal}"
        );
    }
}
