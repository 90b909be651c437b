-- The text search's index moves into the server's memory (issue 13, third pass; docs/api.md,
-- "Text search"). Each instance builds it at its first search from the jobs' stored search
-- documents (`jobs.search_text`, kept), applies its own writes to it, and brings it up to date
-- before every search with the jobs the event log names since. An edit no longer writes index rows: the table's ~20 rows per job
-- (200 MB for 100,000 jobs) cost every edit of a searched field a page write per term.
DROP TABLE job_search_terms;
