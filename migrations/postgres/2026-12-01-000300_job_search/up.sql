-- Text search and text order in every language (docs/api.md, "Text search"; issue 13).
--
-- The folding (case, accents, compatibility forms) and the collation (Unicode root order) are
-- the domain's, in Rust, so that SQLite, PostgreSQL and the in-memory store agree exactly:
-- the store writes their results next to the job.
-- - `search_text`: the job's four text fields folded, word starts marked (the domain's
--   SearchDocument). A search checks each candidate against it.
-- - `name_key`, `customer_key`, `file_key`: collation sort keys, compared byte by byte, with
--   an index each, so a sort by name is an index walk like a sort by date.
-- - `job_search_terms`: the index a search finds its candidates in, one row per (term, job):
--   a word's first two letters after a word-start mark, and up to 16 letters from each
--   position inside a word. An edit rewrites only the terms that changed (an edit of the
--   notes from "bench edit 41" to "bench edit 42" deletes 2 rows and inserts 2), and only
--   when a searched field changed at all.
--
-- Existing jobs get NULL here; the store fills in the columns and the terms at start-up, in
-- batches, logging its progress (Store::connect).
ALTER TABLE jobs ADD COLUMN search_text TEXT;
ALTER TABLE jobs ADD COLUMN name_key BYTEA;
ALTER TABLE jobs ADD COLUMN customer_key BYTEA;
ALTER TABLE jobs ADD COLUMN file_key BYTEA;

CREATE INDEX jobs_name_key ON jobs (name_key, id);
CREATE INDEX jobs_customer_key ON jobs (customer_key, id);
CREATE INDEX jobs_file_key ON jobs (file_key, id);

-- No foreign key: the store deletes a job's terms with the job, and a foreign key would need
-- an index on job_id that every term insert pays for.
CREATE TABLE job_search_terms (
    -- "C": byte order, in which a prefix search is one index range.
    term   TEXT COLLATE "C" NOT NULL,
    job_id TEXT NOT NULL,
    PRIMARY KEY (term, job_id)
);

-- The jobs whose derived columns are still to be filled in, so that every start finds them
-- (usually none) without reading every job.
CREATE INDEX jobs_search_pending ON jobs (id) WHERE search_text IS NULL;
