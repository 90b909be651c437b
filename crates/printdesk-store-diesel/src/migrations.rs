//! The schema migrations, embedded in the binary and run at start-up.

use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::connection::AnyConnection;

const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// Brings the schema up to date; returns how many migrations ran.
pub(crate) fn run_pending(
    conn: &mut AnyConnection,
) -> Result<usize, Box<dyn std::error::Error + Send + Sync>> {
    let applied = match conn {
        AnyConnection::Sqlite(c) => c.run_pending_migrations(SQLITE)?.len(),
        AnyConnection::Postgres(c) => c.run_pending_migrations(POSTGRES)?.len(),
    };
    Ok(applied)
}
