//! Fresh, throw-away databases for tests: one per test, so tests never see each other's data.

use diesel::{Connection, RunQueryDsl, pg::PgConnection};

/// The environment variable naming the PostgreSQL server the PostgreSQL tests use.
pub const POSTGRES_URL_VAR: &str = "PRINTDESK_TEST_POSTGRES_URL";

/// A database that exists for as long as this value lives.
#[derive(Debug)]
pub struct TestDatabase {
    /// The URL to pass to [`crate::Store::connect`].
    pub url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Dir(std::path::PathBuf),
    Postgres { admin_url: String, name: String },
}

impl TestDatabase {
    /// A new SQLite file in a new temporary directory.
    pub fn sqlite() -> Self {
        let dir =
            std::env::temp_dir().join(format!("printdesk-test-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("create a temporary directory");
        Self {
            url: format!("sqlite://{}", dir.join("printdesk.db").display()),
            cleanup: Cleanup::Dir(dir),
        }
    }

    /// A new, empty database on the server named by `PRINTDESK_TEST_POSTGRES_URL`, or `None`
    /// (with a line on stderr saying the test is skipped) when the variable is unset.
    pub fn postgres(test_name: &str) -> Option<Self> {
        let Ok(admin_url) = std::env::var(POSTGRES_URL_VAR) else {
            eprintln!("SKIPPED {test_name} on PostgreSQL: {POSTGRES_URL_VAR} is not set");
            return None;
        };
        Some(Self::postgres_on(admin_url))
    }

    /// A new, empty database on the PostgreSQL server `admin_url` names (for benchmarks and
    /// tools that take the server from elsewhere than `PRINTDESK_TEST_POSTGRES_URL`).
    pub fn postgres_on(admin_url: String) -> Self {
        crate::connection::init_tls();
        let name = format!("printdesk_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::establish(&admin_url)
            .unwrap_or_else(|e| panic!("{admin_url} is unreachable: {e}"));
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .expect("create a test database");
        let url = match admin_url.rsplit_once('/') {
            Some((server, _db)) if server.contains("://") && !server.ends_with('/') => {
                format!("{server}/{name}")
            }
            _ => format!("{}/{name}", admin_url.trim_end_matches('/')),
        };
        Self {
            url,
            cleanup: Cleanup::Postgres { admin_url, name },
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Postgres { admin_url, name } => {
                if let Ok(mut admin) = PgConnection::establish(admin_url) {
                    let _ =
                        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .execute(&mut admin);
                }
            }
        }
    }
}
