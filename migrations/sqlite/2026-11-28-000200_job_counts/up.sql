-- How many jobs there are per (status, printer, business flag), kept up to date by triggers in
-- the same transaction as the change: the job list's `total_count` for any filter without a
-- text search is a sum over a few of these rows instead of counting up to 100,000 index
-- entries (measured: 1–4 ms per list request on SQLite; see docs/performance.md).
-- `printer_key` is '' for jobs without a printer (a printer id is never empty), so that the
-- key can be unique.
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

CREATE TRIGGER jobs_counted_on_insert AFTER INSERT ON jobs
BEGIN
    INSERT INTO job_counts (status, printer_key, is_business, n)
    VALUES (NEW.status, COALESCE(NEW.printer_id, ''), NEW.is_business, 1)
    ON CONFLICT (status, printer_key, is_business) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER jobs_counted_on_delete AFTER DELETE ON jobs
BEGIN
    UPDATE job_counts SET n = n - 1
    WHERE status = OLD.status
      AND printer_key = COALESCE(OLD.printer_id, '')
      AND is_business = OLD.is_business;
END;

CREATE TRIGGER jobs_counted_on_update AFTER UPDATE OF status, printer_id, is_business ON jobs
WHEN OLD.status IS NOT NEW.status
  OR OLD.printer_id IS NOT NEW.printer_id
  OR OLD.is_business IS NOT NEW.is_business
BEGIN
    UPDATE job_counts SET n = n - 1
    WHERE status = OLD.status
      AND printer_key = COALESCE(OLD.printer_id, '')
      AND is_business = OLD.is_business;
    INSERT INTO job_counts (status, printer_key, is_business, n)
    VALUES (NEW.status, COALESCE(NEW.printer_id, ''), NEW.is_business, 1)
    ON CONFLICT (status, printer_key, is_business) DO UPDATE SET n = n + 1;
END;
