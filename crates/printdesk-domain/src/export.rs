//! The export use case: every job a query's filters select, in its order, read in keyset
//! pages so that reading the last page costs what reading the first did.

use std::{fmt, sync::Arc};

use crate::{errors::ExportJobsError, job::Job, ports::JobRepository, query::JobQuery};

/// A running export, started by [`crate::JobService::export`]: call
/// [`JobExport::next_page`] until it returns `None`.
///
/// Jobs come in the query's order, [`JobExport::PAGE_SIZE`] per page; its paging is ignored.
/// A job created or edited while the export runs is included if it sorts after the last page
/// read.
pub struct JobExport {
    jobs: Arc<dyn JobRepository>,
    query: JobQuery,
    next: Cursor,
}

/// Where the export is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Cursor {
    /// Nothing read yet.
    Start,
    /// The next page starts after this job (as it was read).
    After(Box<Job>),
    /// The last page was short: nothing more.
    Done,
}

impl fmt::Debug for JobExport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobExport")
            .field("query", &self.query)
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

impl JobExport {
    /// Jobs per page.
    pub const PAGE_SIZE: u32 = 1000;

    pub(crate) fn new(jobs: Arc<dyn JobRepository>, query: JobQuery) -> Self {
        Self {
            jobs,
            query,
            next: Cursor::Start,
        }
    }

    /// The next page, or `None` once every job has been read. A page shorter than
    /// [`JobExport::PAGE_SIZE`] is the last one; an empty first page is still a page (an
    /// export of nothing), so the first call never returns `None`.
    ///
    /// A store failure leaves the cursor where it was: calling again retries the same page.
    pub async fn next_page(&mut self) -> Result<Option<Vec<Job>>, ExportJobsError> {
        let after = match &self.next {
            Cursor::Start => None,
            Cursor::After(job) => Some(job.as_ref()),
            Cursor::Done => return Ok(None),
        };
        let page = self.jobs.scan(&self.query, after, Self::PAGE_SIZE).await?;
        if page.is_empty() && after.is_some() {
            self.next = Cursor::Done;
            return Ok(None);
        }
        self.next = match page.last() {
            Some(last) if page.len() >= Self::PAGE_SIZE as usize => {
                Cursor::After(Box::new(last.clone()))
            }
            _ => Cursor::Done,
        };
        Ok(Some(page))
    }
}
