//! Why a database cannot be opened, in one line that names the cause: the SQLite file's path
//! checked before SQLite sees it (SQLite says only "unable to open database file", and
//! Diesel's multi-backend connection only "Invalid connection url for multiconnection"), and
//! libpq's answer read for what it means.

use std::{
    fs,
    io::{self, Read},
    path::Path,
};

/// What an SQLite database file starts with.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Checks that `path` can be an SQLite database printdesk opens for writing: `Err` says why
/// not. A missing file is fine (SQLite creates it) when its directory lets it be created.
pub(crate) fn sqlite_path(path: &str) -> Result<(), String> {
    if path == ":memory:" || path.starts_with("file:") {
        return Ok(());
    }
    let file = Path::new(path);
    let shown = file.display();
    let dir = match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    match fs::metadata(dir) {
        Ok(meta) if !meta.is_dir() => {
            return Err(format!(
                "the database file {shown} cannot be created: {} is not a directory",
                dir.display()
            ));
        }
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(format!(
                "the directory {} of the database file {shown} does not exist; create it \
                 first",
                dir.display()
            ));
        }
        Err(e) => return Err(format!("cannot reach the directory {}: {e}", dir.display())),
    }
    match fs::metadata(file) {
        Ok(meta) if meta.is_dir() => Err(format!(
            "the database path {shown} is a directory, not a file: name a file in it, e.g. \
             {}",
            file.join("printdesk.db").display()
        )),
        Ok(_) => existing_file(file),
        Err(e) if e.kind() == io::ErrorKind::NotFound => creatable(file, dir),
        Err(e) => Err(format!("cannot reach the database file {shown}: {e}")),
    }
}

fn existing_file(file: &Path) -> Result<(), String> {
    let shown = file.display();
    let mut header = Vec::with_capacity(SQLITE_HEADER.len());
    fs::File::open(file)
        .and_then(|f| f.take(SQLITE_HEADER.len() as u64).read_to_end(&mut header))
        .map_err(|e| describe_io(&e, &format!("cannot read the database file {shown}")))?;
    if !header.is_empty() && header != SQLITE_HEADER {
        return Err(format!(
            "the file {shown} is not an SQLite database (it does not start with SQLite's \
             header): is it the right file?"
        ));
    }
    fs::OpenOptions::new()
        .write(true)
        .open(file)
        .map(drop)
        .map_err(|e| describe_io(&e, &format!("cannot write the database file {shown}")))
}

fn creatable(file: &Path, dir: &Path) -> Result<(), String> {
    match fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(file)
    {
        // SQLite takes an empty file as a new database; it is removed so that SQLite makes
        // it the way it makes its files.
        Ok(_) => {
            let _ = fs::remove_file(file);
            Ok(())
        }
        // Made by someone else meanwhile: SQLite will find it.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(describe_io(
            &e,
            &format!(
                "cannot create the database file {} in {}",
                file.display(),
                dir.display()
            ),
        )),
    }
}

fn describe_io(e: &io::Error, what: &str) -> String {
    match e.kind() {
        io::ErrorKind::PermissionDenied => {
            format!("{what}: permission denied (printdesk needs to read and write it)")
        }
        io::ErrorKind::ReadOnlyFilesystem => format!("{what}: the file system is read-only"),
        _ => format!("{what}: {e}"),
    }
}

/// Where a PostgreSQL URL points: `host:port` and the database's name, for messages. Never
/// the password.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct PgTarget {
    pub(crate) address: String,
    pub(crate) database: String,
    pub(crate) user: Option<String>,
}

impl PgTarget {
    pub(crate) fn parse(url: &str) -> Self {
        let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((userinfo, hostport)) => (Some(userinfo), hostport),
            None => (None, authority),
        };
        let user = userinfo
            .map(|u| u.split_once(':').map_or(u, |(user, _)| user).to_owned())
            .filter(|u| !u.is_empty());
        let hostport = if hostport.is_empty() {
            "localhost"
        } else {
            hostport
        };
        let has_port = match hostport.rfind(']') {
            Some(end) => hostport[end..].contains(':'),
            None => hostport.contains(':'),
        };
        let address = if has_port {
            hostport.to_owned()
        } else {
            format!("{hostport}:5432")
        };
        let database = path.split('?').next().unwrap_or_default();
        let database = if database.is_empty() {
            user.clone().unwrap_or_else(|| "postgres".into())
        } else {
            database.to_owned()
        };
        Self {
            address,
            database,
            user,
        }
    }
}

/// libpq's connection error, as one line that says what is wrong.
pub(crate) fn postgres_error(url: &str, message: &str) -> String {
    let target = PgTarget::parse(url);
    let address = &target.address;
    let database = &target.database;
    let user = target.user.as_deref().unwrap_or("(default user)");
    let said = one_line(message);
    let lower = said.to_lowercase();
    if lower.contains("connection refused")
        || lower.contains("could not translate host name")
        || lower.contains("no route to host")
        || lower.contains("network is unreachable")
        || lower.contains("timeout expired")
        || lower.contains("could not connect to server")
    {
        format!("PostgreSQL at {address} is unreachable: {said}")
    } else if lower.contains("database \"") && lower.contains("does not exist") {
        format!(
            "the PostgreSQL database \"{database}\" does not exist on {address}: create it \
             (createdb {database}) or name another one"
        )
    } else if lower.contains("password authentication failed")
        || lower.contains("authentication failed")
        || lower.contains("no password supplied")
        || lower.contains("no pg_hba.conf entry")
    {
        format!("PostgreSQL at {address} refused user {user}: authentication failed ({said})")
    } else if lower.contains("role \"") && lower.contains("does not exist") {
        format!("PostgreSQL at {address} has no user {user}: {said}")
    } else {
        format!("cannot connect to PostgreSQL at {address} (database \"{database}\"): {said}")
    }
}

/// An SQLite error at open or in the first statements, as one line naming the file.
pub(crate) fn sqlite_error(path: &str, message: &str) -> String {
    let said = one_line(message);
    if said.contains("file is not a database") {
        format!("the file {path} is not an SQLite database: is it the right file?")
    } else if said.contains("readonly") || said.contains("read-only") {
        format!(
            "the database file {path} cannot be written ({said}): check the permissions of \
             the file and its directory"
        )
    } else {
        format!("cannot open the database file {path}: {said}")
    }
}

/// libpq's messages run over several lines (`FATAL: …`, a tab-indented hint), and say it
/// twice when libpq tried twice (with TLS, then without): one line, said once.
fn one_line(message: &str) -> String {
    const ATTEMPT: &str = "connection to server at ";
    let flat = message.split_whitespace().collect::<Vec<_>>().join(" ");
    let line = match flat.split_once(&format!(" {ATTEMPT}")) {
        Some((first, second)) if first == format!("{ATTEMPT}{second}") => first,
        _ => flat.as_str(),
    };
    line.trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_urls_name_host_port_and_database_never_the_password() {
        assert_eq!(
            PgTarget::parse("postgres://app:secret@db.local:6543/farm?sslmode=require"),
            PgTarget {
                address: "db.local:6543".into(),
                database: "farm".into(),
                user: Some("app".into()),
            }
        );
        assert_eq!(
            PgTarget::parse("postgres://db.local/farm").address,
            "db.local:5432"
        );
        assert_eq!(
            PgTarget::parse("postgresql://app@[::1]/x").address,
            "[::1]:5432"
        );
        assert_eq!(PgTarget::parse("postgres://app@h").database, "app");
    }

    #[test]
    fn libpq_errors_say_what_is_wrong() {
        let url = "postgres://app:hunter2@db.local:5433/farm";
        let refused = postgres_error(
            url,
            "connection to server at \"127.0.0.1\", port 5433 failed: Connection refused\n\
             \tIs the server running on that host and accepting TCP/IP connections?\n",
        );
        assert!(
            refused.starts_with("PostgreSQL at db.local:5433 is unreachable: "),
            "{refused}"
        );
        let missing = postgres_error(
            url,
            "connection to server at \"127.0.0.1\", port 5433 failed: FATAL:  database \
             \"farm\" does not exist\n",
        );
        assert!(
            missing.starts_with("the PostgreSQL database \"farm\" does not exist on db.local:5433"),
            "{missing}"
        );
        let auth = postgres_error(
            url,
            "connection to server at \"127.0.0.1\", port 5433 failed: FATAL:  password \
             authentication failed for user \"app\"\n",
        );
        assert!(
            auth.starts_with("PostgreSQL at db.local:5433 refused user app: authentication failed"),
            "{auth}"
        );
        let twice = postgres_error(
            url,
            "connection to server at \"127.0.0.1\", port 5499 failed: FATAL:  password \
             authentication failed for user \"app\"\nconnection to server at \"127.0.0.1\", port \
             5499 failed: FATAL:  password authentication failed for user \"app\"\n",
        );
        assert_eq!(
            twice,
            "PostgreSQL at db.local:5433 refused user app: authentication failed (connection to \
             server at \"127.0.0.1\", port 5499 failed: FATAL: password authentication failed \
             for user \"app\")"
        );
        for line in [refused, missing, auth, twice] {
            assert!(!line.contains('\n') && !line.contains("hunter2"), "{line}");
        }
    }
}
