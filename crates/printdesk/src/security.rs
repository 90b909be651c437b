//! Who may use the server: the API tokens (a tokens file and `PRINTDESK_API_TOKENS`, each an
//! admin), the refusal to serve a network without an admin user or a token, the CORS origins,
//! the reverse proxy; and `printdesk token create`, `printdesk user create`.

use std::{
    fmt, fs,
    io::{self, Write},
    path::{Path, PathBuf},
};

use printdesk_app::{AccessSettings, Argon2Params};
use printdesk_domain::access::{CreateUserError, Role, User, UserDraft};
use printdesk_http::{
    Authenticator, CorsOrigins, Security,
    auth::{InvalidTokenName, TokenHash, TokenName, TokenSet, generate_token},
};

use crate::config::{Argon2Args, Config, DEFAULT_TOKENS_FILE};

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
    /// A non-loopback address without tokens: the server may start only if the database has
    /// an admin user ([`require_admin`]).
    pub needs_admin: bool,
}

/// The Argon2id parameters of the flags, checked.
pub fn argon2_params(args: &Argon2Args) -> Result<Argon2Params, Refusal> {
    Argon2Params {
        memory_kib: args.argon2_memory_kib,
        iterations: args.argon2_iterations,
        parallelism: args.argon2_parallelism,
    }
    .check()
    .map_err(|e| Refusal(format!("Argon2 parameters: {e}")))
}

fn no_admin(config: &Config) -> Refusal {
    Refusal(format!(
        "refusing to serve on {} without an admin user or an API token, as anyone on the \
         network could change every job: create an admin with `printdesk user create NAME \
         --role admin` or a token with `printdesk token create NAME` (or pass \
         --insecure-no-auth to serve without authentication anyway)",
        config.bind
    ))
}

/// For a non-loopback address without tokens: refuses unless the database has an admin user.
/// An SQLite file that does not exist yet has none (and is not created).
pub async fn require_admin(config: &Config, access: AccessSettings) -> Result<(), Refusal> {
    if let Some(path) = config
        .database_url
        .strip_prefix("sqlite://")
        .or_else(|| config.database_url.strip_prefix("sqlite:"))
        && !Path::new(path).exists()
    {
        return Err(no_admin(config));
    }
    let service = printdesk_app::open_access(&config.database_url, access)
        .await
        .map_err(|e| Refusal(e.to_string()))?;
    let users = service
        .list_users()
        .await
        .map_err(|e| Refusal(e.to_string()))?;
    if users.iter().any(|u| u.role == Role::Admin) {
        Ok(())
    } else {
        Err(no_admin(config))
    }
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
    let needs_admin = tokens.is_empty() && !ip.is_loopback() && !config.insecure_no_auth;

    let cors_origins = CorsOrigins::parse(&config.cors_origins)
        .map_err(|e| Refusal(format!("--cors-origins: {e}")))?;
    Ok(Settings {
        security: Security {
            authenticator: Authenticator::new(tokens).trust_proxy(config.trust_proxy),
            cors_origins,
        },
        tokens_file,
        needs_admin,
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
        if settings.needs_admin {
            tracing::info!(
                tokens = 0,
                bind = %config.bind,
                "no API tokens: /api/v1 needs a signed-in user or a user's token"
            );
        } else if config.bind.ip().to_canonical().is_loopback() {
            tracing::info!(
                tokens = 0,
                "no API tokens: until a user exists, the API is open to every program on this machine"
            );
        } else {
            tracing::warn!(
                tokens = 0,
                bind = %config.bind,
                "no API tokens (--insecure-no-auth): until a user exists, the API is open to the whole network"
            );
        }
    } else {
        tracing::info!(
            tokens = tokens.len(),
            tokens_file = file,
            "API tokens loaded (admins): /api/v1 needs a token or a signed-in user"
        );
    }
    if config.trust_proxy {
        tracing::info!("trusting X-Forwarded-For/-Proto/-Host from a reverse proxy");
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

/// `printdesk user create NAME --role ROLE`: creates the user in the database.
pub async fn create_user(
    database_url: &str,
    access: AccessSettings,
    draft: UserDraft,
) -> Result<User, String> {
    let service = printdesk_app::open_access(database_url, access)
        .await
        .map_err(|e| e.to_string())?;
    service.create_user(draft).await.map_err(|e| match e {
        CreateUserError::Invalid(errors) => errors.to_string(),
        other => other.to_string(),
    })
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
            trust_proxy: false,
            argon2: crate::config::Argon2Args {
                argon2_memory_kib: 64,
                argon2_iterations: 1,
                argon2_parallelism: 1,
            },
        }
    }

    fn token_entry(name: &str, token: &str) -> String {
        format!("{name}:{}", TokenHash::of(token).to_hex())
    }

    #[tokio::test]
    async fn a_network_address_needs_tokens_an_admin_or_the_insecure_flag() {
        let mut open = config("0.0.0.0:8080");
        open.tokens_file = None;
        assert!(settings(&open).unwrap().needs_admin);
        // No database yet: no admin, and nothing is created.
        open.database_url = "sqlite:///nonexistent/dir/printdesk.db".into();
        let refusal = require_admin(&open, AccessSettings::default())
            .await
            .unwrap_err()
            .to_string();
        assert!(refusal.contains("0.0.0.0:8080"), "{refusal}");
        assert!(
            refusal.contains("printdesk user create NAME --role admin"),
            "{refusal}"
        );
        assert!(refusal.contains("printdesk token create"), "{refusal}");
        assert!(refusal.contains("--insecure-no-auth"), "{refusal}");
        assert!(!refusal.contains('\n'));

        open.insecure_no_auth = true;
        assert!(!settings(&open).unwrap().needs_admin);
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
        assert!(!settings(&guarded).unwrap().needs_admin);
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
            assert!(!settings(&local).unwrap().needs_admin, "{loopback}");
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
