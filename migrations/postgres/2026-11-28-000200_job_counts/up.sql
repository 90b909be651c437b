-- How many jobs there are per (status, printer, business flag), kept up to date by a trigger
-- in the same transaction as the change: the job list's `total_count` for any filter without
-- a text search is a sum over a few of these rows instead of a count over the jobs (see
-- docs/performance.md). `printer_key` is '' for jobs without a printer (a printer id is
-- never empty), so that the key can be unique.
--
-- Writers take the event counter (event_seq) before they change a job, so at most one
-- transaction at a time updates these rows: two edits moving jobs between the same statuses
-- in opposite directions cannot deadlock here.
CREATE TABLE job_counts (
    status      TEXT NOT NULL,
    printer_key TEXT NOT NULL,
    is_business BOOLEAN NOT NULL,
    n           BIGINT NOT NULL,
    PRIMARY KEY (status, printer_key, is_business)
);

INSERT INTO job_counts (status, printer_key, is_business, n)
SELECT status, COALESCE(printer_id, ''), is_business, COUNT(*)
FROM jobs
GROUP BY status, COALESCE(printer_id, ''), is_business;

CREATE FUNCTION count_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE job_counts SET n = n - 1
        WHERE status = OLD.status
          AND printer_key = COALESCE(OLD.printer_id, '')
          AND is_business = OLD.is_business;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO job_counts (status, printer_key, is_business, n)
        VALUES (NEW.status, COALESCE(NEW.printer_id, ''), NEW.is_business, 1)
        ON CONFLICT (status, printer_key, is_business) DO UPDATE SET n = job_counts.n + 1;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER jobs_counted AFTER INSERT OR DELETE ON jobs
FOR EACH ROW EXECUTE FUNCTION count_jobs();

CREATE TRIGGER jobs_counted_on_update AFTER UPDATE OF status, printer_id, is_business ON jobs
FOR EACH ROW
WHEN (OLD.status IS DISTINCT FROM NEW.status
   OR OLD.printer_id IS DISTINCT FROM NEW.printer_id
   OR OLD.is_business IS DISTINCT FROM NEW.is_business)
EXECUTE FUNCTION count_jobs();
