//! The schema migrations, embedded in the binary and run at start-up.

use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::connection::AnyConnection;

const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// Brings the schema up to date, then fills in what the store derives in Rust for jobs that
/// lack it (the search documents and sort keys of jobs written before they existed); returns
/// how many migrations ran.
pub(crate) fn run_pending(
    conn: &mut AnyConnection,
) -> Result<usize, Box<dyn std::error::Error + Send + Sync>> {
    let applied = match conn {
        AnyConnection::Sqlite(_) => {
            let applied = migrate(conn);
            crate::derived_columns::build_missing(conn)?;
            applied?
        }
        AnyConnection::Postgres(_) => {
            // Instances starting together on one database would otherwise run the same
            // migration at once, and all but one fail (e.g. "duplicate key value violates
            // unique constraint pg_type_typname_nsp_index"). The lock is the session's: it
            // is released below, or when the connection closes however the start ends.
            // The derived columns are filled in under the same lock, so that two instances
            // do not fill them in at once.
            use diesel::RunQueryDsl;
            diesel::sql_query("SELECT pg_advisory_lock(1886545253)").execute(conn)?;
            let applied = migrate(conn).and_then(|applied| {
                crate::derived_columns::build_missing(conn)?;
                Ok(applied)
            });
            diesel::sql_query("SELECT pg_advisory_unlock(1886545253)").execute(conn)?;
            applied?
        }
    };
    Ok(applied)
}

fn migrate(conn: &mut AnyConnection) -> Result<usize, Box<dyn std::error::Error + Send + Sync>> {
    Ok(match conn {
        AnyConnection::Sqlite(c) => c.run_pending_migrations(SQLITE)?.len(),
        AnyConnection::Postgres(c) => c.run_pending_migrations(POSTGRES)?.len(),
    })
}
