-- The table comes back empty; with `search_text` cleared, the previous version's start-up
-- rebuilds the documents and the terms of every job.
CREATE TABLE job_search_terms (
    term   TEXT NOT NULL,
    job_id TEXT NOT NULL,
    PRIMARY KEY (term, job_id)
) WITHOUT ROWID;
UPDATE jobs SET search_text = NULL;
