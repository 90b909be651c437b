//! `UPDATE` statements that stay prepared.

use diesel::{
    Column, QueryResult, Table,
    backend::Backend,
    expression::Expression,
    query_builder::AsChangeset,
    query_builder::{AstPass, Query, QueryFragment, QueryId},
    query_dsl::RunQueryDsl,
    query_source::QuerySource,
};

/// `UPDATE <table> SET <changes> WHERE <filter>`, optionally `RETURNING <column>`, put
/// together from Diesel's own pieces (a changeset, a filter expression).
///
/// Diesel's `UPDATE` marks itself as never to be kept prepared, because a changeset of
/// optional values can produce a different statement for every combination of present
/// fields. The edits' statements produce few (one per set of changed columns, and a farm's
/// edits use a handful: notes; status with its timestamps; …), so this one is kept in the
/// connection's statement cache under its SQL text, like any `SELECT`. Parsing and planning
/// the job `UPDATE` again for every edit cost about a tenth of an edit's CPU on SQLite, and a
/// server-side parse per edit on PostgreSQL.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CachedUpdate<F, C, W, R = NoReturning> {
    from: F,
    changes: C,
    filter: W,
    returning: R,
}

/// No `RETURNING` clause.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NoReturning;

/// `RETURNING <column>`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Returning<E>(E);

impl<F, C, W> CachedUpdate<F, C, W> {
    /// `UPDATE table SET changes WHERE filter`: `changes` as for Diesel's `set` (a struct
    /// deriving `AsChangeset`, `column.eq(value)`, a tuple of those), `filter` a boolean
    /// expression on the table.
    pub(crate) fn new<T, S>(table: T, changes: S, filter: W) -> Self
    where
        T: Table<FromClause = F>,
        S: AsChangeset<Target = T, Changeset = C>,
    {
        Self {
            from: table.from_clause(),
            changes: changes.as_changeset(),
            filter,
            returning: NoReturning,
        }
    }

    /// The same statement, returning `column` of the updated row.
    pub(crate) fn returning<E: Column>(self, column: E) -> CachedUpdate<F, C, W, Returning<E>> {
        CachedUpdate {
            from: self.from,
            changes: self.changes,
            filter: self.filter,
            returning: Returning(column),
        }
    }
}

impl<F, C, W, R, DB> QueryFragment<DB> for CachedUpdate<F, C, W, R>
where
    DB: Backend,
    F: QueryFragment<DB>,
    C: QueryFragment<DB>,
    W: QueryFragment<DB>,
    R: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("UPDATE ");
        self.from.walk_ast(out.reborrow())?;
        out.push_sql(" SET ");
        self.changes.walk_ast(out.reborrow())?;
        out.push_sql(" WHERE ");
        self.filter.walk_ast(out.reborrow())?;
        self.returning.walk_ast(out.reborrow())
    }
}

impl<DB: Backend> QueryFragment<DB> for NoReturning {
    fn walk_ast<'b>(&'b self, _out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        Ok(())
    }
}

impl<E: Column, DB: Backend> QueryFragment<DB> for Returning<E> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        // Unqualified: SQLite's RETURNING names the updated table's columns as they are.
        out.push_sql(" RETURNING ");
        out.push_identifier(E::NAME)
    }
}

impl<F, C, W, R> QueryId for CachedUpdate<F, C, W, R> {
    type QueryId = ();
    // Cached under its SQL text: the same type renders different SQL when a changeset leaves
    // out absent fields.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<F, C, W, E> Query for CachedUpdate<F, C, W, Returning<E>>
where
    E: Column + Expression,
    E::Table: QuerySource,
{
    type SqlType = <E as Expression>::SqlType;
}

impl<F, C, W, R, Conn> RunQueryDsl<Conn> for CachedUpdate<F, C, W, R> {}

#[cfg(test)]
mod tests {
    use diesel::{BoolExpressionMethods, ExpressionMethods, debug_query, pg::Pg, sqlite::Sqlite};

    use super::*;
    use crate::schema::{event_seq, jobs};

    #[test]
    fn renders_diesels_update_and_may_be_cached() {
        let take_seq = CachedUpdate::new(
            event_seq::table,
            event_seq::last.eq(event_seq::last + 1),
            event_seq::id.eq(1),
        )
        .returning(event_seq::last);
        assert_eq!(
            debug_query::<Sqlite, _>(&take_seq).to_string(),
            r#"UPDATE `event_seq` SET `last` = (`event_seq`.`last` + ?) WHERE (`event_seq`.`id` = ?) RETURNING `last` -- binds: [1, 1]"#
        );
        assert_eq!(
            debug_query::<Pg, _>(&take_seq).to_string(),
            r#"UPDATE "event_seq" SET "last" = ("event_seq"."last" + $1) WHERE ("event_seq"."id" = $2) RETURNING "last" -- binds: [1, 1]"#
        );
        // Through a reference, as Diesel's connections pass it: the default AST walk must not
        // find anything that marks the statement as not to be cached.
        assert!(QueryFragment::<Sqlite>::is_safe_to_cache_prepared(&&take_seq, &Sqlite).unwrap());

        let write = CachedUpdate::new(
            jobs::table,
            (jobs::notes.eq(Some("n")), jobs::version.eq(2_i64)),
            jobs::id.eq("j").and(jobs::version.eq(1_i64)),
        );
        assert_eq!(
            debug_query::<Pg, _>(&write).to_string(),
            r#"UPDATE "jobs" SET "notes" = $1, "version" = $2 WHERE (("jobs"."id" = $3) AND ("jobs"."version" = $4)) -- binds: [Some("n"), 2, "j", 1]"#
        );
    }
}
