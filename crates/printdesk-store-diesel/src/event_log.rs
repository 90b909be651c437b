//! The event log on Diesel: taking the next `seq`, appending an event in the writing
//! transaction, and the [`EventLog`] reads.

use async_trait::async_trait;
use diesel::{dsl::count_star, prelude::*, result::Error as DieselError};
use printdesk_domain::{EventLog, JobEvent, JobHistory, JobId, NewJobEvent, Seq, StoreError};

use crate::{
    cached_update::CachedUpdate,
    connection::{AnyConnection, on_backend},
    rows::EventRow,
    schema::{event_seq, job_events},
    store::{Store, TxError},
};

/// Takes the event log's next `seq`. Every write does this before it changes a job:
/// incrementing the single counter row takes its write lock until commit, so concurrent
/// transactions commit in `seq` order, a rolled back one gives its number back, and only one
/// transaction at a time goes on to change jobs (and, through triggers, the per-status job
/// counts, which therefore cannot deadlock).
pub(crate) fn take_seq(conn: &mut AnyConnection) -> Result<Seq, DieselError> {
    on_backend!(conn, |conn| CachedUpdate::new(
        event_seq::table,
        event_seq::last.eq(event_seq::last + 1),
        event_seq::id.eq(1),
    )
    .returning(event_seq::last)
    .get_result(conn))
    .map(Seq::new)
}

/// Records `event` in the log under `seq` (from [`take_seq`] in the same transaction). On
/// PostgreSQL it also queues `NOTIFY printdesk_events`, which is sent on commit.
pub(crate) fn record_event(
    conn: &mut AnyConnection,
    seq: Seq,
    event: NewJobEvent,
) -> Result<JobEvent, TxError<StoreError>> {
    let row = EventRow::new(&event, seq).map_err(TxError::Domain)?;
    on_backend!(conn, |conn| diesel::insert_into(job_events::table)
        .values(&row)
        .execute(conn))?;
    // PostgreSQL only: wakes the other instances' tailers when (and only if) this commits.
    crate::listen::notify_appended(conn, seq)?;
    Ok(event.committed(seq))
}

#[async_trait]
impl EventLog for Store {
    async fn events_after(&self, after: Seq, limit: u32) -> Result<Vec<JobEvent>, StoreError> {
        let rows = self
            .read(move |conn| {
                on_backend!(conn, |conn| job_events::table
                    .filter(job_events::seq.gt(after.get()))
                    .order_by(job_events::seq.asc())
                    .limit(i64::from(limit))
                    .select(EventRow::as_select())
                    .load(conn))
            })
            .await?;
        rows.into_iter().map(JobEvent::try_from).collect()
    }

    async fn latest_seq(&self) -> Result<Seq, StoreError> {
        let last = self
            .read(|conn| {
                event_seq::table
                    .find(1)
                    .select(event_seq::last)
                    .get_result::<i64>(conn)
            })
            .await?;
        Ok(Seq::new(last))
    }

    async fn history(&self, id: JobId, limit: u32, offset: u64) -> Result<JobHistory, StoreError> {
        let (rows, total) = self
            .read(move |conn| {
                let key = id.to_string();
                let rows: Vec<EventRow> = job_events::table
                    .filter(job_events::job_id.eq(&key))
                    .order_by(job_events::seq.desc())
                    .limit(i64::from(limit))
                    .offset(i64::try_from(offset).unwrap_or(i64::MAX))
                    .select(EventRow::as_select())
                    .load(conn)?;
                let total: i64 = job_events::table
                    .filter(job_events::job_id.eq(&key))
                    .select(count_star())
                    .get_result(conn)?;
                Ok((rows, total))
            })
            .await?;
        Ok(JobHistory {
            events: rows
                .into_iter()
                .map(JobEvent::try_from)
                .collect::<Result<_, _>>()?,
            total_count: u64::try_from(total).unwrap_or_default(),
        })
    }
}
