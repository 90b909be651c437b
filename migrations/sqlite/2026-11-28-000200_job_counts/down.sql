DROP TRIGGER jobs_counted_on_update;
DROP TRIGGER jobs_counted_on_delete;
DROP TRIGGER jobs_counted_on_insert;
DROP TABLE job_counts;
