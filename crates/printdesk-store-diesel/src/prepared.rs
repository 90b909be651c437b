//! Keeping the hot `UPDATE` statements prepared.

use diesel::{
    QueryResult,
    backend::Backend,
    query_builder::{AstPass, Query, QueryFragment, QueryId},
    query_dsl::RunQueryDsl,
};

/// An `UPDATE` that Diesel may keep prepared in its statement cache.
///
/// Diesel never caches `UPDATE` statements, because a changeset of optional values can
/// produce a different statement for every combination of present fields. The statements
/// wrapped here produce few: the event counter's one, and one per set of columns an edit
/// changes, of which a farm's edits use a handful (notes; status and its timestamps; …).
/// The cache is keyed by the SQL text, never by type, so a statement is only reused for the
/// same SQL. Parsing them again for every edit cost about a tenth of an edit's CPU on
/// SQLite (docs/performance.md).
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeepPrepared<Q>(pub(crate) Q);

impl<Q> QueryId for KeepPrepared<Q> {
    type QueryId = ();
    // Keyed by SQL: the same type can produce different SQL (absent fields are left out).
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q, DB> QueryFragment<DB> for KeepPrepared<Q>
where
    Q: QueryFragment<DB>,
    DB: Backend,
{
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &DB) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<Q: Query> Query for KeepPrepared<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, Conn> RunQueryDsl<Conn> for KeepPrepared<Q> {}
