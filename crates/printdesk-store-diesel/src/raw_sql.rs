//! Conditions written as SQL, for the shapes Diesel's typed builder cannot express for both
//! of `AnyConnection`'s backends at once, kept prepared under their text.

use diesel::{
    QueryResult,
    expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping},
    query_builder::{AstPass, QueryFragment, QueryId},
    sql_types::{Bool, Text},
};

/// A condition's SQL and its text parameters, in order.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawSql {
    pub sql: String,
    pub binds: Vec<String>,
}

impl RawSql {
    pub(crate) fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// A placeholder bound to `value` (marked `\u{0}` in the text, rendered by Diesel as the
    /// backend's own).
    pub(crate) fn bind(&mut self, value: impl Into<String>) -> &mut Self {
        self.sql.push('\u{0}');
        self.binds.push(value.into());
        self
    }
}

/// A [`RawSql`] used as a condition in a Diesel statement over `jobs`: its text, with each
/// placeholder bound in turn.
impl<DB> QueryFragment<DB> for RawSql
where
    DB: diesel::backend::Backend,
    String: diesel::serialize::ToSql<Text, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        let mut binds = self.binds.iter();
        for (i, piece) in self.sql.split('\u{0}').enumerate() {
            if i > 0 {
                let value = binds.next().expect("a value for every placeholder");
                out.push_bind_param::<Text, String>(value)?;
            }
            out.push_sql(piece);
        }
        Ok(())
    }
}

impl Expression for RawSql {
    type SqlType = Bool;
}

impl QueryId for RawSql {
    type QueryId = ();
    // Kept prepared under its SQL text, which its shape (the number of ranges and terms)
    // decides; the terms themselves are parameters.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<QS> AppearsOnTable<QS> for RawSql {}

impl<QS> SelectableExpression<QS> for RawSql {}

impl<GB> ValidGrouping<GB> for RawSql {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}
